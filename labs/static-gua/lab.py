"""Lab 2: static global addresses and duplicate address detection."""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_


class Lab(LabDefinition):
    id = "static-gua"
    title = N_("Static global addresses and duplicate address detection")
    level = "beginner"
    minutes = 25
    order = 20
    # Defined once: lab.py reads self.vars, solution and mistakes lab.vars,
    # the README ${name}.
    variables = {"prefix": "2001:db8:10::/64", "r1": "2001:db8:10::1",
                 "duplicate": "2001:db8:10::10", "h2": "2001:db8:10::20",
                 "h1": "2001:db8:10::11"}
    summary = N_("Assign global addresses on a /64 by hand, find out why one of them "
                 "does not work (a duplicate: DAD failed), fix it, and reach the router.")

    def topology(self) -> Topo:
        t = Topo("static-gua")
        t.add_lan("lan")
        t.add_router("r1")
        t.add_host("h1")
        t.add_host("h2")
        # r1 keeps the address h1 will be (wrongly) given in setup: the
        # seeded duplicate.
        v = self.vars
        t.add_link("r1", "lan", addrs_a=[f"{v['r1']}/64", f"{v['duplicate']}/64"])
        t.add_link("h1", "lan")
        t.add_link("h2", "lan")
        return t

    def setup(self, lab) -> None:
        lab["r1"].wait_addresses_ready()
        lab["h1"].wait_addresses_ready()
        # Somebody already configured h1 with an address r1 also has.
        lab["h1"].cmd(f"ip -6 addr add {self.vars['duplicate']}/64 dev eth0", check=True)

    def steps(self) -> list[Step]:
        _, v = self._, self.vars
        return [
            Step("h2-address", _("Give h2 the address ${h2}/64"), points=2, checks=[
                c.has_address("h2", v["h2"], iface="eth0", prefix_len=64,
                              flags=("permanent",), within=3),
            ], hints=[
                _("A static address is added with ip: ip -6 addr add ADDRESS/LENGTH dev INTERFACE"),
                _("On h2: ip -6 addr add ${h2}/64 dev eth0 (the /64 matters: it makes "
                  "the whole ${prefix} on-link)"),
            ]),
            Step("fix-duplicate", _("Fix h1's duplicate address: use ${h1}/64"), points=3, checks=[
                c.no_bad_addresses("h1", "eth0", within=3),
                c.has_address("h1", v["h1"], iface="eth0", prefix_len=64,
                              flags=("permanent",), within=3),
            ], hints=[
                _("Look at h1's addresses: ip -6 addr show dev eth0. One of them says dadfailed."),
                _("dadfailed means Duplicate Address Detection found another node using the address: "
                  "the kernel will never use it. Remove it (ip -6 addr del ...) and add a free one."),
                _("On h1: ip -6 addr del ${duplicate}/64 dev eth0; "
                  "ip -6 addr add ${h1}/64 dev eth0"),
            ]),
            Step("reach-router", _("Reach the router r1 from h1 and h2"), points=1, checks=[
                # On the hosts' own cables: r1 holding the addresses itself
                # (on lo) answers its own probe, which proves nothing.
                c.reaches_on_wire("r1", v["h1"], at="h1:eth0", within=2),
                c.reaches_on_wire("r1", v["h2"], at="h2:eth0", within=2),
            ], hints=[
                _("From h1 and h2: ping -c3 ${r1}. Is the interface up, the address not "
                  "tentative, the prefix length /64?"),
            ]),
        ]
