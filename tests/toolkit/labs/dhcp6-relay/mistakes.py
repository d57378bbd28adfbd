from v6lab.course import Mistake

from .solution import kea_conf, radvd_conf, start_client, start_kea, start_radvd, start_relay


def managed_off(lab):
    start_radvd(lab, radvd_conf(managed="off"))


def subnet_typo(lab):
    # 2001:db8:11:: instead of 2001:db8:10::: the pool is outside lan1's prefix.
    start_kea(lab, kea_conf(lab, subnet="2001:db8:11::/64",
                            pool="2001:db8:11::100-2001:db8:11::1ff"))


def listen_link_local(lab):
    start_kea(lab, kea_conf(lab, listen="eth0"))


def relay_to_www(lab):
    start_relay(lab, "2001:db8:20::80")


def stateless_client(lab):
    start_client(lab, "-S ")


MISTAKES = [
    Mistake("managed-off", "ra", "leaves AdvManagedFlag off (stateless only)", managed_off),
    Mistake("subnet-typo", "server", "declares the subnet and pool in 2001:db8:11::/64",
            subnet_typo),
    Mistake("listen-link-local", "server", "lets Kea listen on eth0's link-local address only",
            listen_link_local),
    Mistake("relay-to-www", "relay", "points the relay at www (2001:db8:20::80)", relay_to_www),
    Mistake("stateless-client", "lease", "runs dhclient -6 -S, which asks for options only",
            stateless_client),
]
