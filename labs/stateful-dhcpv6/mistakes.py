"""Common mistakes in lab 6, scripted: each is the reference solution with
one thing changed, as trainees (and real deployments) get it wrong."""

from v6lab.course import Mistake
from v6lab.i18n import N_

from .solution import radvd_conf, start_clients, start_radvd, start_relay, variables


def autonomous_on(lab):
    # The prefix block copied from a SLAAC network: hosts form an address of
    # their own as well as the leased one, and central IT no longer knows
    # which address a host uses.
    start_radvd(lab, radvd_conf(lab).replace("AdvAutonomous off", "AdvAutonomous on"))


def no_relay(lab):
    # M=1 is on, so "the router hands out addresses now": the hosts ask,
    # and nobody on lan1 answers. r1 sends the flag; it is no DHCPv6 server.
    start_clients(lab)


def upstream_wrong_interface(lab):
    # The server's address is right, the interface after % is the clients'
    # side: dhcrelay sends the Relay-Forw out of eth0, into lan1.
    start_relay(lab, f"-l eth0 -u {variables(lab)['dhcp']}%eth0")


def upstream_wrong_server(lab):
    # The address of another server of lan2 (www), as when a relay still
    # points at the old DHCP server after central IT moved it.
    start_relay(lab, f"-l eth0 -u {variables(lab)['www']}%eth1")


def downstream_wrong_interface(lab):
    # -l names the server's side: dhcrelay listens on lan2 for clients that
    # are not there, and never hears lan1's Solicits.
    start_relay(lab, f"-l eth1 -u {variables(lab)['dhcp']}%eth1")


def router_lifetime_zero(lab):
    # "DHCPv6 does the addressing, so the RA only needs its flags": with
    # AdvDefaultLifetime 0 no host takes r1 as its default router, and
    # DHCPv6 has no option that gives one.
    start_radvd(lab, radvd_conf(lab).replace("AdvManagedFlag on;",
                                             "AdvManagedFlag on;\n    AdvDefaultLifetime 0;"))
    start_clients(lab)
    from v6lab import wait_until
    from .solution import wait_for_leases
    wait_for_leases(lab)
    # The RA with lifetime 0 takes away the route the first one gave.
    wait_until(lambda: not [r for r in lab["h1"].routes(6) if r.dst == "::/0"], 10,
               what="h1's default route to go")


# Descriptions are marked N_ and translated when the lab is loaded.
MISTAKES = [
    Mistake("autonomous-on", "ra", N_("leaves AdvAutonomous on: hosts make SLAAC addresses too"),
            autonomous_on,
            expect=("RA from r1:eth0", "prefix ${lan1_prefix} has A=1")),
    Mistake("no-relay", "relay", N_("sets M=1 and starts the hosts' clients, but runs no relay"),
            no_relay,
            expect=("dhcrelay is not running on r1",)),
    Mistake("upstream-wrong-interface", "relay",
            N_("relays to the server's address out of eth0 (lan1) instead of eth1"),
            upstream_wrong_interface,
            expect=("no Relay-Forw carrying h1's Solicit reached dhcp:eth0 on lan2",)),
    Mistake("upstream-wrong-server", "relay",
            N_("points the relay at www instead of the DHCPv6 server"), upstream_wrong_server,
            expect=(
                "the Relay-Forw carrying h1's Solicit went to ${www}, which delivered it to www, "
                "not to dhcp",)),
    Mistake("downstream-wrong-interface", "relay",
            N_("listens for clients on eth1 (lan2) instead of eth0"),
            downstream_wrong_interface,
            expect=("no Relay-Forw carrying h1's Solicit reached dhcp:eth0 on lan2",)),
    Mistake("router-lifetime-zero", "hosts",
            N_("sets AdvDefaultLifetime 0: hosts get addresses but no default route"),
            router_lifetime_zero,
            expect=("h1 has no default route",)),
]
