"""A test lab for stateful DHCPv6 through a relay, written from
docs/writing-labs.md and docs/grading.md only (tests/python/test_dhcp6.py
runs it): h1 on lan1 gets its address from Kea on srv, on lan2, through a
relay on r1."""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c


class Lab(LabDefinition):
    id = "dhcp6-relay"
    title = "Stateful DHCPv6 through a relay"
    level = "intermediate"
    minutes = 45
    order = 910
    summary = ("h1 on lan1 takes its address from a DHCPv6 server (Kea) on another LAN: r1 "
               "tells hosts to use DHCPv6 and relays their requests to srv.")
    variables = {"lan1_prefix": "2001:db8:10::/64", "r1_lan1": "2001:db8:10::1",
                 "pool": "2001:db8:10::100-2001:db8:10::1ff", "srv": "2001:db8:20::53",
                 "dns": "2001:db8:20::53"}

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("dhcp6-relay")
        t.add_lan("lan1")
        t.add_lan("lan2")
        t.add_router("r1", image=["ra-router", "dhcp6-relay"])       # radvd and dhcrelay
        t.add_host("h1")
        t.add_host("srv", image="kea-server")
        t.add_host("www")
        t.add_link("r1", "lan1", addrs_a=[v["r1_lan1"] + "/64"])       # r1:eth0
        t.add_link("h1", "lan1")                                       # h1:eth0, bare
        t.add_link("r1", "lan2", addrs_a=["2001:db8:20::1/64"])        # r1:eth1
        t.add_link("srv", "lan2", addrs_a=[v["srv"] + "/64"])          # srv:eth0
        t.add_link("www", "lan2", addrs_a=["2001:db8:20::80/64"])      # www:eth0
        for n in ("srv", "www"):
            t.add_route(n, "default", via="2001:db8:20::1")
        return t

    def steps(self) -> list[Step]:
        v = self.vars
        return [
            Step("ra", "Tell lan1's hosts to use DHCPv6 (M=1, O=1)", points=1, checks=[
                c.daemon_running("r1", "radvd"),
                c.ra_flags_on_wire("lan1", managed=True, other=True, from_node="r1"),
            ], hints=[
                "Hosts learn from the Router Advertisement whether to ask DHCPv6: the M flag "
                "(addresses) and the O flag (other configuration).",
                "In /etc/radvd.conf on r1: AdvManagedFlag on; AdvOtherConfigFlag on; in the "
                "eth0 block, then start radvd.",
            ]),
            Step("server", "Run Kea on srv for ${lan1_prefix}", points=2, checks=[
                c.daemon_running("srv", "kea-dhcp6"),
                c.dhcp6_server_answers_relay("srv", v["r1_lan1"], v["pool"], from_node="r1",
                                             dns_servers=[v["dns"]], within=5),
            ], hints=[
                "Kea needs a subnet6 for the clients' link, ${lan1_prefix}, with the pool "
                "${pool}, and must listen where a relay sends: srv's global address.",
                "\"interfaces\": [\"eth0/${srv}\"], a subnet6 2001:db8:10::/64 with the pool "
                "${pool}; mkdir -p /run/kea /var/lib/kea; kea-dhcp6 -c "
                "/etc/kea/kea-dhcp6.conf > /var/log/kea-dhcp6.log 2>&1 &",
            ]),
            Step("relay", "Relay lan1's DHCPv6 to srv", points=2, checks=[
                c.daemon_running("r1", "dhcrelay"),
                c.dhcp6_relays("h1", "r1", "srv", within=5),
            ], hints=[
                "srv is not on lan1: a relay on r1 must forward the clients' messages to it.",
                "On r1: dhcrelay -6 -l eth0 -u ${srv}%eth1",
            ]),
            Step("lease", "h1 takes an address from ${pool}", points=2, checks=[
                c.dhcp6_offers_address("h1", v["pool"], server="r1", dns_servers=[v["dns"]],
                                       within=3),
                c.has_address("h1", v["lan1_prefix"], iface="eth0", prefix_len=128,
                              flags=("dynamic",), within=8),
            ], hints=[
                "h1 needs a DHCPv6 client that asks for an address (IA_NA), not only for "
                "options.",
                "On h1: dhclient -6 -v -lf /run/dhclient6.leases -pf /run/dhclient6.pid eth0",
            ]),
        ]
