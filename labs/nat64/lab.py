"""Lab 12: an IPv6-only office reaches IPv4-only servers through NAT64 and
DNS64.

The office LAN has only IPv6 (pc has no IPv4 at all). The trainee makes
gw, the office's dual-stack edge, its translator: unbound with the dns64
module answers AAAA queries for IPv4-only names with addresses inside the
NAT64 prefix, and tayga (userspace, over a TUN interface) turns packets to
that prefix into IPv4, which nftables masquerades to gw's one public IPv4
address. The offline Internet (v6lab.internet) provides the IPv4-only
server, v4only.example.net.

The prefix is a network-specific one (${nat64_prefix}), not the well-known
64:ff9b::/96: tayga 0.9.2 refuses to translate the documentation ranges
this offline Internet uses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)
under the well-known prefix, as RFC 6052 section 3.1 asks of non-global
addresses. That makes RFC 7050 discovery (ipv4only.arpa) worth its step.

Evidence: the grader's own DNS queries from pc (including a name no one
could have prepared for, answered by the grader itself upstream), and the
grader's own sockets in pc and in v4only (a provider node the trainee
cannot enter) for the translation (checks.py).
"""

from __future__ import annotations

import ipaddress

from v6lab import Topo
from v6lab.course import LabDefinition, tun_problem
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_
from v6lab.internet import Internet

from .checks import (client_fetches, dns64_fresh_name, dns64_synthesises, real_aaaa_kept,
                     rfc7050_discovery, translated_source)

INTERNET = Internet()       # without nat64: the trainee builds it

NAT64_PREFIX = "2001:db8:100:64::/96"


def synthesised(prefix: str, v4: str) -> str:
    """The address a DNS64 makes from an A record under a /96 (RFC 6052)."""
    net = ipaddress.IPv6Network(prefix)
    return str(net[int(ipaddress.IPv4Address(v4))])


class Lab(LabDefinition):
    id = "nat64"
    title = N_("IPv6-only with NAT64 and DNS64")
    level = "intermediate"
    minutes = 60
    order = 120
    # tayga is userspace over /dev/net/tun, which a rootless lab may not
    # open (mode 0600 on some hosts).
    kernel_features = ("tun",)
    # The block's variables first (the lab overrides none of them), then the lab's.
    variables = {
        **INTERNET.variables,
        "office_prefix": "2001:db8:100::/48", "lan_prefix": "2001:db8:100:1::/64",
        "gw_lan": "2001:db8:100:1::1", "pc_lan": "2001:db8:100:1::10",
        "wan6_prefix": "2001:db8:ff00::/64", "isp_wan6": "2001:db8:ff00::1",
        "gw_wan6": "2001:db8:ff00::2",
        "wan4_prefix": "198.51.100.0/24", "isp_wan4": "198.51.100.1", "gw_wan4": "198.51.100.2",
        "nat64_prefix": NAT64_PREFIX,
        "nat64_v4only": synthesised(NAT64_PREFIX, INTERNET.variables["inet_v4only4"]),
        "nat64_dual": synthesised(NAT64_PREFIX, INTERNET.variables["inet_dual4"]),
        "discovery_aa": synthesised(NAT64_PREFIX, "192.0.0.170"),
        "discovery_ab": synthesised(NAT64_PREFIX, "192.0.0.171"),
        "pool4": "192.0.2.0/24", "tayga4": "192.0.2.1",
        # A zone the Internet's resolver asks the grader about (checks.py):
        # served at v4only's address while a check runs, by the grader alone.
        "probe_zone": "nat64-probe.example",
    }
    summary = N_("The office LAN is IPv6-only; make gw its NAT64 (tayga and nftables) and "
                 "DNS64 (unbound) so that pc reaches the IPv4-only server ${inet_v4only} "
                 "through ${nat64_prefix}.")

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("nat64")
        t.add_lan("office")                   # IPv6 only
        t.add_lan("wan")                      # gw's uplink to the ISP (the block's transit)
        t.add_host("pc")
        # The edge starts as a plain dual-stack host: forwarding is step 1.
        t.add_router("gw", sysctls={"net.ipv6.conf.all.forwarding": 0, "net.ipv4.ip_forward": 0},
                     binaries=[{"name": "tayga", "package": "tayga"},
                               {"name": "unbound", "package": "unbound"},
                               {"name": "nft", "package": "nftables"}])
        t.add_link("pc", "office", addrs_a=[v["pc_lan"] + "/64"])                  # pc:eth0
        t.add_link("gw", "office", addrs_a=[v["gw_lan"] + "/64"])                  # gw:eth0
        t.add_link("gw", "wan", addrs_a=[v["gw_wan6"] + "/64", v["gw_wan4"] + "/24"])  # gw:eth1
        t.add_route("pc", "default", via=v["gw_lan"])
        t.add_route("gw", "default", via=v["isp_wan6"])
        t.add_route("gw", "0.0.0.0/0", via=v["isp_wan4"])
        INTERNET.add_to(t, uplink="wan", v6=v["isp_wan6"] + "/64", v4=v["isp_wan4"] + "/24",
                        routes=[(v["office_prefix"], v["gw_wan6"])],
                        delegate={v["probe_zone"]: [v["inet_v4only4"]]})
        return t

    def setup(self, lab) -> None:
        INTERNET.start(lab)
        # The refusal of kernel_features' "tun", from inside gw: the node's
        # own view of the device is what tayga will get.
        why = tun_problem(lab["gw"])
        if why:
            raise self.unsupported(why)

    def steps(self) -> list[Step]:
        _, v = self._, self.vars
        unbound, tayga = c.daemon_running("gw", "unbound"), c.daemon_running("gw", "tayga")
        return [
            Step("forwarding", _("Let gw forward IPv6 and IPv4"), points=1, checks=[
                c.sysctl_equals("gw", "net.ipv6.conf.all.forwarding", 1),
                c.sysctl_equals("gw", "net.ipv4.ip_forward", 1),
            ], hints=[
                _("A translator is a router twice over: IPv6 packets from the office go into "
                  "tayga's interface, and the IPv4 packets tayga makes go out to the ISP. "
                  "Linux forwards each family only when its own sysctl says so."),
                _("On gw: sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1"),
            ]),
            Step("dns64", _("Run a DNS64 resolver on gw for the office"), points=3, checks=[
                unbound,
                # Each query waits up to 2 s for an answer: asked only once
                # the real unbound runs, so a lab without it fails at once.
                dns64_synthesises("pc", v["gw_lan"], v["inet_v4only"],
                                  v["nat64_v4only"], _).after(unbound),
                real_aaaa_kept("pc", v["gw_lan"], v["inet_dual"], v["inet_dual6"],
                               v["nat64_prefix"], _).after(unbound),
                rfc7050_discovery("pc", v["gw_lan"], [v["discovery_aa"], v["discovery_ab"]],
                                  _).after(unbound),
                # The grader's own name, answered upstream by the grader:
                # no canned answer can know it.
                dns64_fresh_name("pc", v["gw_lan"], v["nat64_prefix"], v["probe_zone"],
                                 "v4only", v["inet_v4only4"], _).after(unbound),
            ], hints=[
                _("A DNS64 answers AAAA queries for names that have only an A record with an "
                  "address made of the NAT64 prefix and the IPv4 address; real AAAA records "
                  "stay as they are. Ask it yourself from pc: dig @${gw_lan} ${inet_v4only} AAAA, "
                  "then the same for ${inet_dual} and ipv4only.arpa."),
                _("In /etc/unbound/unbound.conf on gw: interface: ${gw_lan}, access-control: "
                  "${office_prefix} allow, module-config: \"dns64 iterator\", dns64-prefix: "
                  "${nat64_prefix}, and a forward-zone for \".\" to the ISP's resolver "
                  "${inet_resolver6}. Then: unbound-checkconf && unbound"),
                _("unbound's dns64-prefix defaults to 64:ff9b::/96, which must match tayga's "
                  "prefix; dns64-synthall: yes would also replace real AAAA records. After "
                  "changing the file, restart it: kill $(pidof unbound); unbound"),
            ]),
            Step("nat64", _("Translate ${nat64_prefix} to IPv4 with tayga and NAT44"), points=3,
                 checks=[
                tayga,
                translated_source("pc", "v4only", v["nat64_prefix"], v["inet_v4only4"], "gw",
                                  v["gw_wan4"], _).after(tayga),
            ], hints=[
                _("tayga gives each office address one IPv4 address from its pool ${pool4} and "
                  "swaps the headers; nftables must then masquerade the pool to gw's public "
                  "${gw_wan4}, because the Internet has no route back to ${pool4}. The kernel "
                  "must send ${nat64_prefix} into tayga's interface and the pool out of it."),
                _("In /etc/tayga.conf: tun-device nat64, ipv4-addr ${tayga4}, prefix "
                  "${nat64_prefix}, dynamic-pool ${pool4}, data-dir /var/lib/tayga. Then: "
                  "mkdir -p /var/lib/tayga; tayga --mktun; ip link set nat64 up; ip route add "
                  "${pool4} dev nat64; ip -6 route add ${nat64_prefix} dev nat64; tayga"),
                _("NAT44 with nftables: nft add table ip nat; nft 'add chain ip nat postrouting "
                  "{ type nat hook postrouting priority srcnat; }'; nft add rule ip nat "
                  "postrouting oifname eth1 ip saddr ${pool4} masquerade. tayga -d runs it in "
                  "the foreground and shows what it does."),
            ]),
            Step("client", _("pc uses the DNS64 and reaches ${inet_v4only}"), points=2, checks=[
                client_fetches("pc", v["inet_v4only"], v["nat64_prefix"], "v4only",
                               v["inet_v4only4"], "gw", v["gw_wan4"],
                               "hello from " + v["inet_v4only"], _),
            ], hints=[
                _("pc finds addresses through the resolver named in its /etc/resolv.conf. An "
                  "IPv6-only host needs a resolver it can reach over IPv6 that synthesises AAAA "
                  "records: which one is it using now?"),
                _("On pc: echo 'nameserver ${gw_lan}' > /etc/resolv.conf; then "
                  "curl http://${inet_v4only}/"),
            ]),
        ]
