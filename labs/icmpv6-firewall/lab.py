"""Lab 14: an ICMPv6-aware firewall (RFC 4890) on an nftables edge."""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.errors import Error
from v6lab.grading import Step
from v6lab.i18n import N_

from . import checks as fc, probes

NGINX = [{"name": "nginx", "package": "nginx-light"}]


class Lab(LabDefinition):
    id = "icmpv6-firewall"
    title = N_("An ICMPv6-aware firewall")
    level = "intermediate"
    minutes = 60
    order = 140
    # Defined once; the README says ${srv}, the solution lab.vars["srv"].
    variables = {
        "wan_prefix": "2001:db8:ff::/64",
        "outside_wan": "2001:db8:ff::1", "outside_wan_cidr": "2001:db8:ff::1/64",
        "fw_wan": "2001:db8:ff::2", "fw_wan_cidr": "2001:db8:ff::2/64",
        "site_prefix": "2001:db8:14::/48",
        "inside_prefix": "2001:db8:14::/64",
        "fw_inside": "2001:db8:14::1", "fw_inside_cidr": "2001:db8:14::1/64",
        "srv": "2001:db8:14::80", "srv_cidr": "2001:db8:14::80/64",
        "pc": "2001:db8:14::100", "pc_cidr": "2001:db8:14::100/64",
        # "The Internet": outside answers on every address of this range,
        # so the grader's probes come from addresses drawn at random in it.
        "internet": "3fff:1::/48", "internet_web": "3fff:1::80",
        "web_port": "80",
    }
    summary = N_("Replace fw's firewall, written for IPv4 only, with an nftables inet table "
                 "that follows RFC 4890: new connections from the Internet are blocked except "
                 "the company's web server ${srv} port 80, staff reach out, and neighbour "
                 "discovery, Packet Too Big and ping keep working.")

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("icmpv6-firewall")
        t.add_lan("wan")                        # the provider's link: outside and fw
        t.add_lan("inside")                     # the company: fw, srv, pc
        # outside is the ISP and the whole Internet behind it: it owns
        # ${internet} (a local route, set up below) and may bind any address
        # in it. No DAD on provider nodes: they answer as soon as the lab is up.
        t.add_host("outside", provider=True, binaries=NGINX, sysctls={
            "net.ipv6.conf.default.accept_dad": 0, "net.ipv6.conf.all.accept_dad": 0,
            "net.ipv6.ip_nonlocal_bind": 1, "net.ipv6.conf.default.accept_ra": 0})
        t.add_router("fw", binaries=[{"name": "nft", "package": "nftables"}])
        t.add_host("srv", provider=True, binaries=NGINX, sysctls={
            "net.ipv6.conf.default.accept_dad": 0, "net.ipv6.conf.all.accept_dad": 0,
            "net.ipv6.conf.default.accept_ra": 0})
        t.add_host("pc", sysctls={"net.ipv6.conf.default.accept_ra": 0},
                   binaries=[{"name": "curl", "package": "curl"}])
        t.add_link("outside", "wan", addrs_a=[v["outside_wan_cidr"]])     # outside:eth0
        t.add_link("fw", "wan", addrs_a=[v["fw_wan_cidr"]])               # fw:eth0
        t.add_link("fw", "inside", addrs_a=[v["fw_inside_cidr"]])         # fw:eth1
        t.add_link("srv", "inside", addrs_a=[v["srv_cidr"]])
        t.add_link("pc", "inside", addrs_a=[v["pc_cidr"]])
        t.add_route("outside", v["site_prefix"], via=v["fw_wan"])
        t.add_route("fw", "default", via=v["outside_wan"])
        t.add_route("srv", "default", via=v["fw_inside"])
        t.add_route("pc", "default", via=v["fw_inside"])
        return t

    def setup(self, lab) -> None:
        v = self.vars
        # The Internet's addresses are outside's own (AnyIP), and both web
        # servers start side by side; the lab waits until they serve.
        r = lab["outside"].cmd(f"ip -6 route add local {v['internet']} dev lo")
        if r.returncode != 0:
            raise Error(f"the lab could not give outside the Internet's addresses "
                        f"({v['internet']}): {(r.stderr or r.stdout).strip()}")
        for node in ("srv", "outside"):
            r = lab[node].cmd("mkdir -p /var/log/nginx && nginx -c /etc/nginx/v6lab.conf")
            if r.returncode != 0:
                raise Error(f"the lab's web server (nginx on {node}) did not start: "
                            f"{(r.stderr or r.stdout).strip()}")
        # The previous administrator's IPv4-only firewall (the starting state).
        r = lab["fw"].cmd("nft -f /etc/nftables.conf")
        if r.returncode != 0:
            raise Error(f"nft could not load fw's starting firewall, so this machine cannot "
                        f"run the lab: it needs a kernel with nftables and connection "
                        f"tracking in network namespaces (kernel options CONFIG_NF_TABLES, "
                        f"CONFIG_NF_TABLES_INET, CONFIG_NFT_CT, CONFIG_NF_CONNTRACK): "
                        f"{(r.stderr or r.stdout).strip()}")
        probes.wait_serving(lab, "srv", v["srv"], 80)
        probes.wait_serving(lab, "outside", v["internet_web"], 80)

    def steps(self) -> list[Step]:
        _, v = self._, self.vars
        return [
            Step("block-inbound", _("Block new connections from the Internet with an inet table"),
                 points=3, checks=[
                     # Random ports, from a random Internet address: a firewall
                     # cannot be written for the grader's probes alone.
                     # (ssh on srv too: the service people leave open.)
                     fc.blocks_new_inbound(_, v, [("srv", None), ("srv", 22), ("pc", None),
                                                  ("fw", None)]),
                 ], hints=[
                     _("The grader connects from the Internet to srv, pc and fw itself, on ports "
                       "it picks at random: each connection must be refused or dropped. Look "
                       "at what fw filters now: nft list ruleset. A table of the ip family "
                       "sees IPv4 packets only."),
                     _("In fw's /etc/nftables.conf: flush ruleset, then table inet edge { ... } "
                       "with a chain input and a chain forward, each "
                       "type filter hook <input|forward> priority filter; policy drop; "
                       "(and iif \"lo\" accept in input). Load it with nft -f "
                       "/etc/nftables.conf."),
                     _("The whole file is in the README, task 1. After nft -f /etc/nftables.conf, "
                       "nft list ruleset must show table inet edge and no table ip edge4."),
                 ]),
            Step("ndp", _("Keep neighbour discovery working (RFC 4890)"), points=2, checks=[
                fc.answers_neighbours(_, v, "fw", "eth0", v["fw_wan"]),
                fc.answers_neighbours(_, v, "fw", "eth1", v["fw_inside"]),
            ], hints=[
                _("With policy drop, fw drops every ICMPv6 packet too, and IPv6 needs ICMPv6: "
                  "Neighbour Solicitations and Advertisements are how fw and its neighbours "
                  "find each other's MAC address. Without them nothing crosses fw at all."),
                _("In the input chain, before anything that drops: icmpv6 type { "
                  "nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
                  "nd-neighbor-advert } accept. nftables stops at the first rule that "
                  "matches, so a drop above it wins."),
                _("On fw: nft list chain inet edge input; fix /etc/nftables.conf and "
                  "nft -f /etc/nftables.conf; ip -6 neigh on fw then shows outside, srv "
                  "and pc as REACHABLE or STALE."),
            ]),
            Step("stateful", _("Let staff out, and the replies and ICMPv6 errors back in"),
                 points=3, checks=[
                     fc.reaches_out(_, v, "pc"),
                     fc.passes_packet_too_big(_, v, "srv"),
                 ], hints=[
                     _("Connections from inside to the Internet must work, and what comes back "
                       "for them: the replies (ct state established), and ICMPv6 errors "
                       "about them such as Packet Too Big (ct state related; RFC 4890 says "
                       "never drop them). Try curl http://[${internet_web}]/ on pc."),
                     _("In the forward chain: ct state established,related accept; icmpv6 "
                       "type { destination-unreachable, packet-too-big, time-exceeded, "
                       "parameter-problem } accept; iifname \"eth1\" oifname \"eth0\" accept. "
                       "In the input chain: the same ct state and icmpv6 lines."),
                     _("The README's task 3 has the lines; reload with nft -f "
                       "/etc/nftables.conf and try curl http://[${internet_web}]/ on pc."),
                 ]),
            Step("publish", _("Publish the web server ${srv} port 80, and only it"), points=2,
                 checks=[
                     fc.serves_from_internet(_, v, "srv", 80),
                     fc.blocks_new_inbound(_, v, [("srv", None), ("pc", 80)]),
                 ], hints=[
                     _("The grader fetches http://[${srv}]/ from the Internet; it must answer, "
                       "while other ports of srv, and port 80 of the other inside hosts, stay "
                       "closed. Traffic for srv crosses fw: which chain sees it?"),
                     _("In the forward chain (not input: input is for fw itself): "
                       "ip6 daddr ${srv} tcp dport 80 accept"),
                 ]),
            Step("echo", _("Answer ping from the Internet, as the policy says"), points=1,
                 checks=[
                     fc.answers_echo_from_internet(_, v, "srv", "eth0", v["srv"]),
                     fc.answers_echo_from_internet(_, v, "fw", "eth0", v["fw_wan"]),
                 ], hints=[
                     _("The company's policy (RFC 4890 section 4.3.1): Echo Requests from the "
                       "Internet to fw and to the servers are answered, at a limited rate. Both "
                       "fw itself (input) and srv behind it (forward) must let them in."),
                     _("In both chains: icmpv6 type echo-request limit rate 10/second accept"),
                 ]),
        ]
