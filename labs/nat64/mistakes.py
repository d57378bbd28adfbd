"""Common mistakes in lab 12, scripted: each is the reference solution
with one thing changed, as seen in real NAT64/DNS64 deployments."""

from v6lab.course import Mistake
from v6lab.i18n import N_

from .solution import (TAYGA_TEMPLATE, UNBOUND_TEMPLATE, start_tayga, start_unbound, text,
                       write)


def ipv6_forwarding_only(lab):
    # "The office is IPv6-only, so IPv6 forwarding is all it needs": the
    # packets tayga makes are IPv4, and they must be forwarded too.
    lab["gw"].cmd("sysctl -w net.ipv6.conf.all.forwarding=1", check=True)


def default_dns64_prefix(lab):
    # unbound's dns64-prefix defaults to 64:ff9b::/96; left out, DNS64 and
    # NAT64 disagree: names resolve, connections go nowhere.
    conf = text(lab, UNBOUND_TEMPLATE)
    start_unbound(lab, "\n".join(ln for ln in conf.splitlines() if "dns64-prefix" not in ln) + "\n")


def synthall(lab):
    # Set to "make sure everything goes through the NAT64": real AAAA
    # records are then replaced too.
    conf = text(lab, UNBOUND_TEMPLATE)
    start_unbound(lab, conf.replace('module-config: "dns64 iterator"',
                                    'module-config: "dns64 iterator"\n    dns64-synthall: yes'))


def localhost_only(lab):
    # No interface line: unbound listens on 127.0.0.1 and ::1 only, so it
    # answers on gw itself and nobody else.
    conf = text(lab, UNBOUND_TEMPLATE)
    start_unbound(lab, "\n".join(ln for ln in conf.splitlines() if "interface:" not in ln) + "\n")


def dns64_without_nat64(lab):
    # DNS64 works (names resolve to the prefix) but the translator was
    # never started: tayga.conf written, nothing else.
    write(lab, "gw", "/etc/tayga.conf", text(lab, TAYGA_TEMPLATE))


def no_nat44(lab):
    # tayga translates, but its pool leaves gw unmasqueraded: the IPv4
    # server answers an address the Internet cannot route back.
    start_tayga(lab, text(lab, TAYGA_TEMPLATE), nat44=False)


def tayga_wrong_prefix(lab):
    # tayga set up from a tutorial with its own prefix (2001:db8:1:ffff::/96,
    # Debian's example) while unbound synthesises in the lab's prefix.
    conf = text(lab, TAYGA_TEMPLATE)
    v = lab.vars
    other = "2001:db8:1:ffff::/96"
    start_tayga(lab, conf.replace(v["nat64_prefix"], other))
    lab["gw"].cmd(f"ip -6 route del {v['nat64_prefix']} dev nat64; "
                  f"ip -6 route replace {other} dev nat64", check=True)


def resolver_not_dns64(lab):
    # pc keeps the ISP's resolver: a real resolver, but not a DNS64.
    lab["pc"].cmd("cat /etc/resolv.conf", check=True)


def ipv4_resolver(lab):
    # The ISP's resolver by its IPv4 address, on a host with no IPv4.
    write(lab, "pc", "/etc/resolv.conf", f"nameserver {lab.vars['inet_resolver4']}\n")


MISTAKES = [
    Mistake("ipv6-forwarding-only", "forwarding",
            N_("turns on IPv6 forwarding only: tayga's IPv4 packets are not forwarded"),
            ipv6_forwarding_only,
            expect=("gw: net.ipv4.ip_forward is 0, expected 1",)),
    Mistake("default-dns64-prefix", "dns64",
            N_("leaves unbound's dns64-prefix at its default 64:ff9b::/96, which tayga does "
               "not translate"), default_dns64_prefix,
            expect=("answers ${inet_v4only} AAAA with 64:ff9b::cb00:7128, not ${nat64_v4only}",)),
    Mistake("synthall", "dns64", N_("sets dns64-synthall: yes, which replaces real AAAA records"),
            synthall,
            expect=("answers ${inet_dual} AAAA with ${nat64_dual}, synthesised although "
                    "${inet_dual} has a real AAAA ${inet_dual6}",)),
    Mistake("localhost-only", "dns64",
            N_("leaves out interface:, so unbound answers on localhost only"), localhost_only,
            expect=("no DNS answer from ${gw_lan} to pc for",)),
    Mistake("dns64-without-nat64", "nat64",
            N_("runs the DNS64 but never starts tayga: names resolve, connections time out"),
            dns64_without_nat64,
            expect=("tayga is not running on gw",)),
    Mistake("no-nat44", "nat64",
            N_("forgets the NAT44 masquerade: the IPv4 server's answers cannot come back"),
            no_nat44,
            expect=("arrived at v4only from 192.0.2.", "not from gw's public address ${gw_wan4}")),
    Mistake("tayga-wrong-prefix", "nat64",
            N_("gives tayga another prefix than the DNS64's"), tayga_wrong_prefix,
            expect=("pc cannot connect to [${nat64_v4only}]", "nothing arrived at v4only")),
    Mistake("resolver-not-dns64", "client",
            N_("leaves pc on the ISP's resolver, which is not a DNS64"), resolver_not_dns64,
            expect=("pc's resolver ${inet_resolver6} (/etc/resolv.conf) gives no AAAA",
                    "it is not the DNS64")),
    Mistake("ipv4-resolver", "client",
            N_("gives pc an IPv4 resolver, which an IPv6-only host cannot reach"), ipv4_resolver,
            expect=("pc's resolver ${inet_resolver4} (/etc/resolv.conf) is an IPv4 address",)),
]
