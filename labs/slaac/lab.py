"""Lab 3: SLAAC with router advertisements."""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_


class Lab(LabDefinition):
    id = "slaac"
    title = N_("SLAAC with router advertisements")
    level = "beginner"
    minutes = 40
    order = 30
    # Defined once; the README says ${lan1_prefix}, the solution lab.vars.
    variables = {
        "lan1_prefix": "2001:db8:10::/64", "r1_lan1": "2001:db8:10::1/64",
        "lan2_prefix": "2001:db8:20::/64", "r1_lan2": "2001:db8:20::1/64",
        "r1_lan2_address": "2001:db8:20::1", "srv": "2001:db8:20::80",
        "srv_cidr": "2001:db8:20::80/64",
    }
    summary = N_("Make r1 a router that advertises ${lan1_prefix} with radvd; the hosts "
                 "configure their own addresses and default route (SLAAC) and reach a "
                 "server on another LAN through r1.")

    def topology(self) -> Topo:
        t = Topo("slaac")
        t.add_lan("lan1")
        t.add_lan("lan2")
        # forwarding starts off: turning it on is step 1.
        t.add_router("r1", image="ra-router",
                     sysctls={"net.ipv6.conf.all.forwarding": 0})
        t.add_host("h1")
        t.add_host("h2")
        t.add_host("srv")
        v = self.vars
        t.add_link("r1", "lan1", addrs_a=[v["r1_lan1"]])          # r1:eth0
        t.add_link("r1", "lan2", addrs_a=[v["r1_lan2"]])          # r1:eth1
        t.add_link("h1", "lan1")
        t.add_link("h2", "lan1")
        t.add_link("srv", "lan2", addrs_a=[v["srv_cidr"]])
        t.add_route("srv", "default", via=v["r1_lan2_address"])
        return t

    def steps(self) -> list[Step]:
        _, p = self._, self.vars["lan1_prefix"]
        return [
            Step("forwarding", _("Turn on IPv6 forwarding on r1"), points=1, checks=[
                c.sysctl_equals("r1", "net.ipv6.conf.all.forwarding", 1),
            ], hints=[
                _("A router forwards packets between its interfaces; Linux does that only when "
                  "the sysctl net.ipv6.conf.all.forwarding is 1."),
                _("On r1: sysctl -w net.ipv6.conf.all.forwarding=1"),
            ]),
            Step("radvd", _("Advertise ${lan1_prefix} on lan1 with radvd"), points=3, checks=[
                c.daemon_running("r1", "radvd"),
                # Behaviour, on r1's own cable: radvd answers the grader's
                # solicitation (or advertises twice) with the prefix.
                c.router_advertises("r1", "eth0", prefixes=[p],
                                    autonomous=True, default_router=True),
            ], hints=[
                _("radvd reads /etc/radvd.conf: an interface block with AdvSendAdvert on; and a "
                  "prefix block for ${lan1_prefix}. Which of r1's interfaces is on lan1?"),
                _("interface eth0 { AdvSendAdvert on; prefix ${lan1_prefix} { AdvOnLink on; "
                  "AdvAutonomous on; }; };  then run: radvd"),
                _("radvd -c checks the file; radvd -d 1 -n -m stderr runs it in the foreground "
                  "and shows what it does."),
            ]),
            Step("slaac", _("Hosts configure themselves"), points=3, checks=[
                c.has_address("h1", p, iface="eth0", flags=("dynamic",), within=8),
                c.has_address("h2", p, iface="eth0", flags=("dynamic",), within=8),
                c.default_route("h1", via="r1:eth0", protocol="ra", within=5),
                c.default_route("h2", via="r1:eth0", protocol="ra", within=5),
                # The state above can be written by hand; these provoke SLAAC
                # with an RA no one could have prepared for.
                c.slaac_autoconfigures("h1", "eth0"),
                c.slaac_autoconfigures("h2", "eth0"),
            ], hints=[
                _("Hosts form an address from the advertised /64 and their interface identifier, "
                  "and take the router's link-local address as default gateway. Look at "
                  "ip -6 addr and ip -6 route on h1."),
                _("If the RA arrives but no address forms: is the prefix a /64 and AdvAutonomous on?"),
            ]),
            Step("reach-srv", _("Reach srv on lan2 through r1"), points=2, checks=[
                c.reaches_on_wire("h1", "srv", within=3),
                c.reaches_on_wire("srv", "h2", within=3),
            ], hints=[
                _("From h1: ping -c3 ${srv}. If it fails, is forwarding still on? Does "
                  "srv have a route back (ip -6 route on srv)?"),
            ]),
        ]
