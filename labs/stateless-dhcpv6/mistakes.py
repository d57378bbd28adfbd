"""Common mistakes in lab 5, scripted: each is the reference solution of
its step with one thing changed, as seen in real deployments."""

from v6lab.course import Mistake
from v6lab.i18n import N_

from .solution import (dnsmasq_conf, radvd_conf, start_dnsmasq, start_radvd, variables,
                       wait_slaac, write)


def o_flag_off(lab):
    # radvd's default: the hosts are never told that DHCPv6 has anything for them.
    start_radvd(lab, radvd_conf(lab).replace("    AdvOtherConfigFlag on;\n", ""))


def m_flag_on(lab):
    # "Managed" sends hosts to DHCPv6 for addresses, which this server has none of.
    start_radvd(lab, radvd_conf(lab).replace("AdvManagedFlag off", "AdvManagedFlag on"))


def rdnss_router_address(lab):
    # As in IPv4 offices where the router relays DNS: r1 runs no DNS server.
    v = variables(lab)
    start_radvd(lab, radvd_conf(lab).replace(f"RDNSS {v['dns']}", f"RDNSS {v['r1_lan1_address']}"))


def dhcp_wrong_interface(lab):
    # Listens on the server LAN, where no client asks.
    start_dnsmasq(lab, dnsmasq_conf(lab).replace("interface=eth0", "interface=eth1")
                  .replace("constructor:eth0", "constructor:eth1"))


def no_search_domain(lab):
    start_dnsmasq(lab, "".join(line for line in dnsmasq_conf(lab).splitlines(keepends=True)
                               if "domain-search" not in line))


def dhclient_stateful(lab):
    # Without -S dhclient Solicits an address (IA_NA): a stateless server
    # has none, so it never configures DNS. -nw: it would wait forever.
    wait_slaac(lab, "h1")
    lab["h1"].cmd("dhclient -6 -nw -v eth0", check=True)


def rdnssd_without_hook(lab):
    # rdnssd writes /run/rdnssd/resolv.conf, which no resolver reads.
    wait_slaac(lab, "h2")
    lab["h2"].cmd("mkdir -p /run/rdnssd; chown nobody /run/rdnssd; rdnssd; "
                  "sleep 0.2; rdisc6 -1 -w 1000 eth0", check=True)


def resolv_conf_by_hand(lab):
    # The state looks right, but nothing on h2 follows the RA.
    wait_slaac(lab, "h2")
    v = variables(lab)
    write(lab, "h2", "/etc/resolv.conf", f"nameserver {v['dns']}\n")
    lab["h2"].cmd("mkdir -p /run/rdnssd; chown nobody /run/rdnssd; rdnssd", check=True)


# Descriptions are marked N_ and translated when the lab is loaded.
MISTAKES = [
    Mistake("o-flag-off", "radvd", N_("leaves AdvOtherConfigFlag off: hosts never ask DHCPv6"),
            o_flag_off,
            expect=("RA from r1:eth0", "O flag is 0")),
    Mistake("m-flag-on", "radvd", N_("sets AdvManagedFlag on with no address pool"), m_flag_on,
            expect=("RA from r1:eth0", "M flag is 1")),
    Mistake("rdnss-router-address", "radvd",
            N_("advertises r1's own address as the DNS server, where none runs"),
            rdnss_router_address,
            expect=("no RDNSS ${dns} (advertised: ${r1_lan1_address})",)),
    Mistake("dhcp-wrong-interface", "dhcpv6",
            N_("runs the DHCPv6 server on eth1 (the server LAN) instead of eth0"),
            dhcp_wrong_interface,
            expect=("no DHCPv6 Reply to the grader's Information-Request from h1:eth0",)),
    Mistake("no-search-domain", "dhcpv6", N_("gives the DNS server but no domain search list"),
            no_search_domain,
            expect=("DHCPv6 Reply from r1 to h1:eth0: no search domain ${domain}",)),
    Mistake("dhclient-stateful", "laptop",
            N_("runs dhclient -6 without -S: it asks for an address nobody gives"),
            dhclient_stateful,
            expect=("h1's /etc/resolv.conf has no nameserver ${dns}",)),
    Mistake("rdnssd-without-hook", "phone",
            N_("runs rdnssd without its merge hook: /etc/resolv.conf never changes"),
            rdnssd_without_hook,
            expect=("h2's /etc/resolv.conf has no nameserver ${dns}",)),
    Mistake("resolv-conf-by-hand", "phone",
            N_("writes /etc/resolv.conf by hand and runs rdnssd without its hook"),
            resolv_conf_by_hand,
            expect=(
                "h2's /etc/resolv.conf did not take in the DNS server",
                "nothing on h2 turns RDNSS options into name servers",)),
]
