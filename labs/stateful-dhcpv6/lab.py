"""Lab 6: stateful DHCPv6 through a relay.

Central IT runs one DHCPv6 server (Kea, a provider node) on the server
LAN; the trainee makes r1 tell the staff LAN's hosts to use DHCPv6 for
their addresses (M=1, A=0) and relay their requests to that server. The
hosts get an address from the pool, and their default route still from
the RA: DHCPv6 gives no route.

Steps are ordered, and each step's wire probe is tried only once the
cheap state check before it holds (Check.after), so `v6lab check` on a
fresh lab fails step 1 in milliseconds.
"""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_

from .checks import address_from_pool, server_holds_lease


class Lab(LabDefinition):
    id = "stateful-dhcpv6"
    title = N_("Stateful DHCPv6 through a relay")
    level = "intermediate"
    minutes = 45
    order = 60
    # Defined once: lab.py reads self.vars, the solution and mistakes
    # lab.vars, the README and nodes/dhcp/etc/kea/kea-dhcp6.conf.tmpl ${name}.
    variables = {
        "lan1_prefix": "2001:db8:10::/64", "r1_lan1": "2001:db8:10::1",
        "lan2_prefix": "2001:db8:20::/64", "r1_lan2": "2001:db8:20::1",
        "dhcp": "2001:db8:20::53", "www": "2001:db8:20::80",
        "pool": "2001:db8:10::100-2001:db8:10::1ff",
    }
    summary = N_("Hosts on the staff LAN take their addresses from the company's central "
                 "DHCPv6 server on another LAN: r1 advertises M=1 and A=0 and relays their "
                 "requests; the default route still comes from the RA.")

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("stateful-dhcpv6")
        t.add_lan("lan1")                     # the staff LAN
        t.add_lan("lan2")                     # the server LAN, central IT's
        # r1 routes (forwarding on) and has radvd and dhcrelay; nothing runs yet.
        t.add_router("r1", image=["ra-router", "dhcp6-relay"])
        t.add_host("h1")
        t.add_host("h2")
        # Central IT's: the trainee cannot log into them.
        # No DAD on the server's own addresses: nobody else is given them,
        # and Kea, which binds once at start, can then start at once
        # (DAD would hold the lab's start for about 1.5 s).
        t.add_node("dhcp", image="kea-server", provider=True,
                   sysctls={"net.ipv6.conf.default.accept_dad": 0,
                            "net.ipv6.conf.all.accept_dad": 0})
        t.add_node("www", image="host", provider=True)
        t.add_link("r1", "lan1", addrs_a=[v["r1_lan1"] + "/64"])     # r1:eth0
        t.add_link("r1", "lan2", addrs_a=[v["r1_lan2"] + "/64"])     # r1:eth1
        t.add_link("h1", "lan1")                                     # h1:eth0, bare
        t.add_link("h2", "lan1")                                     # h2:eth0, bare
        t.add_link("dhcp", "lan2", addrs_a=[v["dhcp"] + "/64"])      # dhcp:eth0
        t.add_link("www", "lan2", addrs_a=[v["www"] + "/64"])        # www:eth0
        for n in ("dhcp", "www"):
            t.add_route(n, "default", via=v["r1_lan2"])
        return t

    def setup(self, lab) -> None:
        """Central IT's Kea (its configuration is the per-node file
        nodes/dhcp/etc/kea/kea-dhcp6.conf.tmpl), started once its address
        has passed DAD: Kea binds its sockets once, at start."""
        from v6lab import wait_until
        dhcp = lab["dhcp"]
        dhcp.wait_addresses_ready("eth0")
        dhcp.cmd("mkdir -p /run/kea /var/lib/kea && kea-dhcp6 -t /etc/kea/kea-dhcp6.conf "
                 "> /dev/null && { kea-dhcp6 -c /etc/kea/kea-dhcp6.conf "
                 "> /var/log/kea-dhcp6.log 2>&1 & }", check=True)
        wait_until(lambda: dhcp.cmd("ss -Hlun 'sport = :547'").stdout.strip(), 5,
                   what="Kea listening on dhcp's port 547")

    def steps(self) -> list[Step]:
        _, v = self._, self.vars
        p, pool = v["lan1_prefix"], v["pool"]
        radvd = c.daemon_running("r1", "radvd")
        dhcrelay = c.daemon_running("r1", "dhcrelay")
        hosts = ("h1", "h2")
        return [
            Step("ra", _("Tell lan1's hosts to take addresses from DHCPv6 (M=1, A=0)"),
                 points=2, checks=[
                radvd,
                # On r1's own cable, answering the grader's solicitation: the
                # M flag on, the prefix on-link but not for SLAAC (A=0). The
                # router lifetime is the next steps' business (the classic
                # surprise is graded where the trainee meets it: no route).
                c.router_advertises("r1", "eth0", prefixes=[p], managed=True,
                                    autonomous=False, default_router=None).after(radvd),
            ], hints=[
                _("radvd on r1 must advertise lan1's prefix on eth0 with the M flag on "
                  "(AdvManagedFlag on) and the A flag off (AdvAutonomous off). Is radvd "
                  "running? What does rdisc6 eth0 on h1 show?"),
                _("In /etc/radvd.conf on r1: interface eth0 { AdvSendAdvert on; "
                  "AdvManagedFlag on; prefix ${lan1_prefix} { AdvOnLink on; AdvAutonomous "
                  "off; }; };  then radvd -c and radvd"),
            ]),
            Step("relay", _("Relay lan1's DHCPv6 to the central server ${dhcp}"), points=3,
                 checks=[
                dhcrelay,
                # The grader's own Solicit from h1's cable, followed: a
                # Relay-Forw delivered to dhcp's port on lan2, a Relay-Repl
                # from dhcp's cable, the Advertise handed to h1 by r1.
                c.dhcp6_relays("h1", "r1", "dhcp", pool=pool, timeout=1,
                               within=3).after(dhcrelay),
            ], hints=[
                _("The DHCPv6 server is not on lan1, and a client's Solicit goes to a "
                  "link-local multicast group: a relay on r1 must listen on lan1's interface "
                  "and send to the server's address out of lan2's interface. Which of r1's "
                  "interfaces is on which LAN (ip -6 addr on r1)?"),
                _("On r1: dhcrelay -6 -l eth0 -u ${dhcp}%eth1  (-l: the clients' side, "
                  "-u: the server's address and the interface towards it)"),
                _("dhcrelay -6 -d -l eth0 -u ${dhcp}%eth1 stays in the foreground and prints "
                  "what it relays; tcpdump -ni eth1 port 547 on r1 shows Relay-Forw and "
                  "Relay-Reply."),
            ]),
            Step("hosts", _("h1 and h2 take an address from ${pool} and a default route "
                            "from the RA"), points=3, checks=[
                *[address_from_pool(h, pool, _, within=5) for h in hosts],
                *[server_holds_lease("dhcp", h, pool, _) for h in hosts],
                *[c.default_route(h, via="r1:eth0", protocol="ra", within=3) for h in hosts],
            ], hints=[
                _("Each host needs a DHCPv6 client that asks for an address, and the default "
                  "route comes from the RA, not from DHCPv6. Look at ip -6 addr and "
                  "ip -6 route on h1."),
                _("On h1 and h2: dhclient -6 -nw -v -lf /run/dhclient6.leases -pf "
                  "/run/dhclient6.pid eth0"),
                _("No default route? DHCPv6 has no option for one: the RA's router lifetime "
                  "must not be 0 (AdvDefaultLifetime), and the host must accept RAs."),
            ]),
            Step("reach-www", _("Reach www (${www}) from the DHCPv6 addresses"), points=2,
                 checks=[
                c.reaches_on_wire("h1", "www", within=3),
                c.reaches_on_wire("www", "h2", within=3),
            ], hints=[
                _("From h1: ping -c3 ${www}. The source is h1's DHCPv6 address; www answers "
                  "through r1, which forwards between lan1 and lan2."),
            ]),
        ]
