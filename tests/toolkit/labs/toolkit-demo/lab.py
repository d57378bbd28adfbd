"""A test lab for the lab toolkit (tests/python/test_toolkit.py): lab
variables, a provider node configured from a per-node file template, and a
lab folder added beside the curriculum with V6LAB_LABS."""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_


class Lab(LabDefinition):
    id = "toolkit-demo"
    # Marked for translation (docs/translating.md); this lab ships no
    # catalogue, so it is English in every language.
    title = N_("Connect to ${isp_name}")
    summary = N_("The ISP advertises ${isp_prefix}; make the CPE accept it while forwarding.")
    order = 900
    variables = {"isp_name": "DemoNet", "isp_prefix": "2001:db8:77::/64",
                 "isp_address": "2001:db8:77::1/64"}

    def topology(self) -> Topo:
        t = Topo("toolkit-demo")
        t.add_node("isp", image="ra-router", provider=True)
        t.add_router("cpe")                       # forwarding on: ignores RAs by default
        t.add_link("isp", "cpe", addrs_a=[self.vars["isp_address"]])
        return t

    def setup(self, lab) -> None:
        # The ISP's radvd.conf came from nodes/isp/etc/radvd.conf.tmpl.
        lab["isp"].cmd("radvd", check=True)

    def steps(self) -> list[Step]:
        _ = self._
        return [
            Step("accept-ra", _("Accept the ISP's Router Advertisements on the WAN"), points=1,
                 checks=[c.sysctl_equals("cpe", "net.ipv6.conf.eth0.accept_ra", 2)],
                 hints=[_("With forwarding on, accept_ra must be 2 on the WAN interface.")]),
            Step("address", _("Take an address from ${isp_prefix}"), points=1, checks=[
                c.has_address("cpe", self.vars["isp_prefix"], iface="eth0",
                              flags=("dynamic",), within=8)],
                 hints=[_("The address follows from the RA once accept_ra is 2.")]),
        ]
