"""Lab 4: an address plan for the /48 the ISP gave, written as YAML and
partly deployed on r1 (docs/grading.md, "Address plans")."""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step
from v6lab.grading import plan as p
from v6lab.i18n import N_

# Where the trainee writes the plan on r1 (placed there as a template).
PLAN = "/root/plan.yaml"
SITES = ("hanoi", "danang")
NETWORKS = ("staff", "guest", "servers", "management")
# r1's LAN interfaces, in the order the topology links them (eth0 is the WAN).
R1_LANS = {"eth1": "staff", "eth2": "guest", "eth3": "servers", "eth4": "management"}


class Lab(LabDefinition):
    id = "address-plan"
    title = N_("An address plan for ${allocation}")
    level = "beginner"
    minutes = 45
    order = 40
    # The allocation and the ISP's link are the lab's; the rest is one plan
    # that satisfies the brief (the reference solution's, shown in hints).
    variables = {
        "allocation": "2001:db8:4c00::/48", "room": "50",
        "wan_prefix": "2001:db8:ff:4c::/64", "isp_wan": "2001:db8:ff:4c::1",
        "r1_wan": "2001:db8:ff:4c::2",
        "r1_loopback": "2001:db8:4c00::1", "r2_loopback": "2001:db8:4c00::2",
        "link_r1_r2": "2001:db8:4c00:1::/127",
        "hanoi": "2001:db8:4c00:100::/56",
        "hanoi_staff": "2001:db8:4c00:110::/64", "hanoi_guest": "2001:db8:4c00:120::/64",
        "hanoi_servers": "2001:db8:4c00:130::/64", "hanoi_management": "2001:db8:4c00:140::/64",
        "danang": "2001:db8:4c00:200::/56",
        "danang_staff": "2001:db8:4c00:210::/64", "danang_guest": "2001:db8:4c00:220::/64",
        "danang_servers": "2001:db8:4c00:230::/64", "danang_management": "2001:db8:4c00:240::/64",
        # r1's addresses on hanoi's LANs in that plan: the first of each /64.
        "r1_staff": "2001:db8:4c00:110::1/64", "r1_guest": "2001:db8:4c00:120::1/64",
        "r1_servers": "2001:db8:4c00:130::1/64", "r1_management": "2001:db8:4c00:140::1/64",
    }
    summary = N_("Plan the /48 the ISP gave (${allocation}) for two sites, their networks, "
                 "the routers' loopbacks and the link between them, in a YAML file the grader "
                 "checks line by line; then number site hanoi's LANs and r1's loopback as planned.")

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("address-plan")
        t.add_node("isp", image="router", provider=True)
        t.add_router("r1")
        # The ISP numbered its link to r1 from its own space, as ISPs do.
        t.add_link("r1", "isp", addrs_a=[v["r1_wan"] + "/64"], addrs_b=[v["isp_wan"] + "/64"])
        for net in R1_LANS.values():                       # r1:eth1 … eth4
            t.add_lan(net)
            t.add_link("r1", net)
        t.add_route("r1", "default", via=v["isp_wan"])
        t.add_route("isp", v["allocation"], via=v["r1_wan"])
        return t

    def brief(self) -> p.Brief:
        """What /root/brief.txt asks for, as the grader checks it."""
        return p.Brief(self.vars["allocation"], {s: NETWORKS for s in SITES},
                       loopbacks=("r1", "r2"), links=("r1-r2",), room=int(self.vars["room"]))

    def steps(self) -> list[Step]:
        _, brief = self._, self.brief()
        return [
            Step("plan", _("Write the plan of ${allocation} in /root/plan.yaml on r1"), points=4, checks=[
                p.plan_is_sound("r1", PLAN, brief).with_options(weight=2),
                p.plan_is_complete("r1", PLAN, brief),
                p.plan_has_room("r1", PLAN, brief),
            ], hints=[
                _("The message names the file and line that is wrong. The rules are in the "
                  "comments of /root/plan.yaml and the needs in /root/brief.txt: every prefix "
                  "inside the allocation, one prefix per site on a nibble boundary with the room "
                  "the brief asks for, one /64 per network inside its site, a /128 per "
                  "loopback, a /127 per link, and nothing overlapping."),
                _("A layout that works: keep the first /56 of the allocation for the backbone "
                  "(loopbacks from its first /64, links from its second) and give each site a "
                  "/56 of its own; a network's /64 then starts with its site's digits."),
                _("For example: hanoi ${hanoi} with staff ${hanoi_staff}, guest ${hanoi_guest}, "
                  "servers ${hanoi_servers}, management ${hanoi_management}; danang ${danang}; "
                  "loopbacks ${r1_loopback} and ${r2_loopback}; link r1-r2 ${link_r1_r2}."),
            ]),
            Step("deploy", _("Number hanoi's LANs and r1's loopback as the plan says"), points=3, checks=[
                *[p.network_deployed("r1", iface, PLAN, f"sites.hanoi.networks.{net}")
                  for iface, net in R1_LANS.items()],
                p.loopback_deployed("r1", PLAN, "r1"),
                # Right after start the link's addresses may still be in DAD,
                # and the ping has no source yet: retry briefly.
                p.loopback_reachable("isp", "r1", PLAN, "r1").with_options(within=2),
            ], hints=[
                _("Compare ip -6 addr on r1 with your plan: eth1 is staff, eth2 guest, eth3 "
                  "servers, eth4 management; each takes the first address of its /64 with "
                  "/64, and lo takes r1's loopback with /128."),
                _("With the example plan: ip -6 addr add ${r1_staff} dev eth1 (and "
                  "so on for eth2 to eth4); ip -6 addr add ${r1_loopback}/128 dev lo. Remove a "
                  "wrong address with ip -6 addr del."),
            ]),
        ]
