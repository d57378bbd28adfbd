"""Lab 7: an office behind an ISP with DHCPv6 prefix delegation.

The ISP (a provider node: the trainee cannot log in) advertises a default
route on the WAN link, delegates prefixes with Kea (IA_PD) and routes each
delegated prefix to the router that asked for it; behind it, "the
Internet" holds a web server known by name to the ISP's DNS. The trainee
makes the CPE a router that keeps its WAN (accept_ra=2), asks for a /56,
numbers the staff and guest LANs from it and advertises them."""

from __future__ import annotations

from v6lab import Topo, wait_until
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_

from . import pdchecks


class Lab(LabDefinition):
    id = "prefix-delegation"
    title = N_("An office behind an ISP with DHCPv6 prefix delegation")
    level = "intermediate"
    minutes = 60
    order = 70
    variables = {
        "isp_name": "ExampleNet",
        # The WAN link between the ISP and the office's router (the CPE).
        "wan_prefix": "2001:db8:ff00:1::/64", "isp_wan": "2001:db8:ff00:1::1",
        # What the ISP delegates from: a /56 per customer who asks for one,
        # a /64 to one who asks for a /64.
        "pd_pool": "2001:db8:3000::/40", "pd_pool_56": "2001:db8:3000::", "pd_pool_56_len": "40",
        "pd_pool_64": "2001:db8:3f00::", "pd_pool_64_len": "48", "pd_length": "56",
        # "The Internet" behind the ISP.
        "inet_prefix": "2001:db8:f00::/64", "isp_inet": "2001:db8:f00::1",
        "isp_dns": "2001:db8:f00::53", "www": "2001:db8:f00::80", "www_name": "www.example.net",
    }
    summary = N_("The ISP ${isp_name} delegates prefixes with DHCPv6. Make the office's router "
                 "(the CPE) keep its WAN default route while forwarding, ask for a /56, number "
                 "the staff and guest LANs from it and advertise them, so that the office "
                 "reaches ${www_name}.")

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("prefix-delegation")
        for lan in ("wan", "staff", "guest", "internet"):
            t.add_lan(lan)
        # The ISP: radvd (WAN RA), Kea (prefix delegation), dnsmasq (its
        # DNS). Provider nodes skip DAD so their daemons can bind at once.
        t.add_node("isp", image=["ra-router", "kea-server", "dhcp6-server"], provider=True,
                   sysctls={"net.ipv6.conf.default.accept_dad": 0,
                            "net.ipv6.conf.all.accept_dad": 0})
        # The CPE starts as a box fresh out of its carton: forwarding off,
        # so it still takes the ISP's RA like a host (step 1 changes that).
        t.add_router("cpe", image=["ra-router", "dhcp6-pd-client"],
                     sysctls={"net.ipv6.conf.all.forwarding": 0,
                              "net.ipv6.conf.default.accept_ra": 1})
        t.add_host("staff1")
        t.add_host("guest1")
        t.add_node("www", provider=True, sysctls={"net.ipv6.conf.default.accept_dad": 0,
                                                  "net.ipv6.conf.all.accept_dad": 0})
        t.add_link("isp", "wan", addrs_a=[v["isp_wan"] + "/64"])                # isp:eth0
        t.add_link("isp", "internet", addrs_a=[v["isp_inet"] + "/64",
                                               v["isp_dns"] + "/64"])           # isp:eth1
        t.add_link("cpe", "wan")                                                # cpe:eth0
        t.add_link("cpe", "staff")                                              # cpe:eth1
        t.add_link("cpe", "guest")                                              # cpe:eth2
        t.add_link("staff1", "staff")                                           # staff1:eth0
        t.add_link("guest1", "guest")                                           # guest1:eth0
        t.add_link("www", "internet", addrs_a=[v["www"] + "/64"])              # www:eth0
        t.add_route("www", "default", via=v["isp_inet"])
        return t

    def setup(self, lab) -> None:
        """Starts the ISP's three daemons and waits until each serves: the
        trainee's first `check` must find a working provider."""
        v, isp = self.vars, lab["isp"]
        isp.cmd("mkdir -p /run/kea /var/lib/kea && "
                "kea-dhcp6 -c /etc/kea/kea-dhcp6.conf > /var/log/kea-dhcp6.out 2>&1 & "
                "radvd && "
                f"dnsmasq --port=53 --no-resolv --no-hosts --bind-interfaces "
                f"--listen-address={v['isp_dns']} --host-record={v['www_name']},{v['www']} "
                "--pid-file=/run/dnsmasq.pid", check=True)
        wait_until(lambda: "DHCP6_STARTED" in pdchecks.read_text(isp, "/var/log/kea-dhcp6.log"),
                   5, what="Kea on the ISP to start")

    def steps(self) -> list[Step]:
        _, v = self._, self.vars
        n = int(v["pd_length"])
        return [
            # All or nothing: a fresh CPE (forwarding off) keeps its route like a host.
            Step("wan", _("Make the CPE a router that keeps its WAN default route"), points=2,
                 partial=False,
                 checks=[
                c.sysctl_equals("cpe", "net.ipv6.conf.all.forwarding", 1),
                # Forwarding on with accept_ra 1 drops the RA's default route at once.
                c.default_route("cpe", via="isp:eth0", protocol="ra"),
                # A route can be typed by hand; this RA, from a router no one
                # knew of, is taken only by a kernel that accepts RAs (accept_ra 2).
                c.slaac_autoconfigures("cpe", "eth0"),
            ], hints=[
                _("A router forwards (net.ipv6.conf.all.forwarding=1), and Linux then ignores "
                  "Router Advertisements unless accept_ra is 2 on that interface: the CPE "
                  "must still take its default route from the ISP's RA on eth0. Look at "
                  "ip -6 route on cpe."),
                _("On cpe, in this order: sysctl -w net.ipv6.conf.eth0.accept_ra=2; then "
                  "sysctl -w net.ipv6.conf.all.forwarding=1"),
                _("If the default route is gone already, it comes back with the ISP's next "
                  "RA (within 10 s) once accept_ra is 2: watch ip -6 route show default."),
            ]),
            Step("pd", _("Ask ${isp_name} for a /${pd_length} with DHCPv6"), points=3, checks=[
                pdchecks.prefix_delegated("isp", "cpe", "eth0", n, _).with_options(within=5),
                pdchecks.isp_routes_delegation("isp", "cpe", "eth0", n, _).with_options(
                    within=3),
            ], hints=[
                _("The ISP hands out prefixes by DHCPv6 prefix delegation (IA_PD): a DHCPv6 "
                  "client on cpe must ask for one on eth0, and say it wants a /${pd_length}. "
                  "ip -6 route show type unreachable on cpe shows what dhcpcd received."),
                _("/etc/dhcpcd.conf on cpe: ipv6only, noipv6rs, duid, then interface eth0 "
                  "with ia_pd 1/::/${pd_length} on its own line; then run: dhcpcd -b eth0"),
                _("dhcpcd -U -6 eth0 shows the lease (dhcp6_ia_pd1_prefix1 and its _length). "
                  "Changed the file? dhcpcd -x eth0, then dhcpcd -b eth0 again."),
            ]),
            Step("lans", _("Number the staff and guest LANs from the delegated prefix"),
                 points=2, checks=[
                pdchecks.lan_numbered("isp", "cpe", "eth0", "eth1", ["eth2"], n, _)
                .with_options(within=3, retry="pending"),
                pdchecks.lan_numbered("isp", "cpe", "eth0", "eth2", ["eth1"], n, _)
                .with_options(within=3, retry="pending"),
            ], hints=[
                _("Each LAN gets its own /64 taken from the /${pd_length} the ISP delegated "
                  "(not from the WAN prefix ${wan_prefix}): eth1 is staff, eth2 is guest."),
                _("If the delegation is 2001:db8:3000:100::/56, it holds the /64 prefixes "
                  "2001:db8:3000:100::/64 to 2001:db8:3000:1ff::/64: on cpe, ip -6 addr add "
                  "2001:db8:3000:101::1/64 dev eth1 and ip -6 addr add "
                  "2001:db8:3000:102::1/64 dev eth2 (with your own prefix)."),
            ]),
            Step("radvd", _("Advertise each LAN's /64 with radvd"), points=3, checks=[
                c.daemon_running("cpe", "radvd"),
                pdchecks.advertises_lan_prefix("isp", "cpe", "eth0", "eth1", n, _),
                pdchecks.advertises_lan_prefix("isp", "cpe", "eth0", "eth2", n, _),
            ], hints=[
                _("radvd on cpe must advertise, on eth1 and on eth2, the /64 that interface is "
                  "numbered from, so that the hosts form addresses from the delegation."),
                _("In /etc/radvd.conf, an interface block for eth1 and one for eth2, each with "
                  "AdvSendAdvert on; and prefix ::/64 { }; (::/64 means: the /64 prefixes of this "
                  "interface's addresses); then run: radvd"),
                _("radvd -c checks the file; after changing it: kill $(cat /run/radvd.pid); "
                  "radvd"),
            ]),
            Step("reach", _("Reach ${www_name} from both LANs"), points=2, checks=[
                c.reaches_on_wire("staff1", "www", within=3),
                c.reaches_on_wire("guest1", "www", within=3),
                c.dns_answers("staff1", v["isp_dns"], v["www_name"], "AAAA", expect=v["www"],
                              within=3),
            ], hints=[
                _("From staff1: ping -c3 ${www_name}. Each host needs an address from its LAN's "
                  "/64 and a default route via cpe (ip -6 addr, ip -6 route on the host); the "
                  "ISP needs its route back to the delegated prefix."),
                _("No address on the host: look at step radvd. No reply: is forwarding still "
                  "on, on cpe? ip -6 route get ${www} on cpe shows where it sends."),
            ]),
        ]
