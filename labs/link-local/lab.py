"""Lab 1: link-local addresses and neighbour discovery."""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_


class Lab(LabDefinition):
    id = "link-local"
    title = N_("Link-local addresses and neighbour discovery")
    level = "beginner"
    minutes = 25
    order = 10
    # Defined once: lab.py reads self.vars, solution and mistakes lab.vars,
    # the README and nodes/h1/root/question.txt.tmpl ${name}.
    variables = {"answer_file": "/root/answer.txt"}
    summary = N_("Every IPv6 interface has a fe80::/64 address. Turn IPv6 on, compare "
                 "EUI-64 with stable-privacy identifiers, reach a neighbour by its "
                 "link-local address and find its solicited-node multicast group.")

    def topology(self) -> Topo:
        t = Topo("link-local")
        t.add_lan("lan")
        t.add_host("h1", sysctls={"net.ipv6.conf.default.addr_gen_mode": 0})
        t.add_host("h2", sysctls={"net.ipv6.conf.default.addr_gen_mode": 0})
        t.add_link("h1", "lan", mac_a="02:00:00:00:01:01")
        t.add_link("h2", "lan", mac_a="02:00:00:00:02:02")
        return t

    def setup(self, lab) -> None:
        lab["h1"].set_sysctl("net.ipv6.conf.eth0.disable_ipv6", 1)

    def steps(self) -> list[Step]:
        _ = self._
        return [
            Step("ipv6-on", _("Turn IPv6 on for h1's eth0"), points=1, checks=[
                c.sysctl_equals("h1", "net.ipv6.conf.eth0.disable_ipv6", 0),
                c.link_local("h1", "eth0"),
            ], hints=[
                _("IPv6 is disabled on h1's eth0. Look at: sysctl net.ipv6.conf.eth0.disable_ipv6"),
                _("Run on h1: sysctl -w net.ipv6.conf.eth0.disable_ipv6=0, then ip -6 addr show dev eth0"),
            ]),
            Step("stable-privacy", _("Give h2 a stable-privacy link-local address"), points=2, checks=[
                c.sysctl_in("h2", "net.ipv6.conf.eth0.addr_gen_mode", ("2", "3")),
                c.link_local("h2", "eth0", eui64=False),
            ], hints=[
                _("h2's link-local address is built from its MAC address (EUI-64: look for ff:fe in "
                  "the middle)."),
                _("addr_gen_mode 3 makes a random stable-privacy identifier; the interface must be "
                  "brought down and up again to form the new address."),
                _("On h2: sysctl -w net.ipv6.conf.eth0.addr_gen_mode=3; ip link set eth0 down; "
                  "ip link set eth0 up"),
            ]),
            Step("neighbour", _("Ping h2 by its link-local address from h1"), points=2, checks=[
                c.neighbour_present("h1", "h2:eth0", iface="eth0", lladdr_of="h2:eth0"),
            ], hints=[
                _("A link-local address is only meaningful on one link, so ping needs the zone: "
                  "ping fe80::...%eth0"),
                _("On h2: ip -6 addr show dev eth0 scope link. On h1: ping -c1 <that address>%eth0, "
                  "then look at ip -6 neigh: h2's MAC address is there."),
            ]),
            Step("solicited-node", _("Name h2's solicited-node multicast group"), points=2, checks=[
                c.answer_matches("h1", self.vars["answer_file"], c.solicited_node_group("h2", "eth0"),
                                 what=_("h2's solicited-node multicast group")),
            ], hints=[
                _("Neighbour Solicitations go to a solicited-node group: ff02::1:ff plus the last 24 "
                  "bits of the address. ip -6 maddr show dev eth0 on h2 lists the groups it joined."),
                _("Write the group to ${answer_file} on h1, e.g.: echo ff02::1:ffXX:XXXX > ${answer_file} "
                  "(cat question.txt on h1 says what is asked)"),
            ]),
        ]
