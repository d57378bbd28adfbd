"""Lab 5: stateless DHCPv6 and RDNSS."""

from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.errors import Error
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_

from .checks import follows_rdnss, information_reply, resolver_names, resolves_through


class Lab(LabDefinition):
    id = "stateless-dhcpv6"
    title = N_("Stateless DHCPv6 and RDNSS")
    level = "beginner"
    minutes = 50
    order = 50
    # Defined once; the README says ${dns}, the solution lab.vars["dns"].
    variables = {
        "lan1_prefix": "2001:db8:10::/64", "r1_lan1": "2001:db8:10::1/64",
        "r1_lan1_address": "2001:db8:10::1",
        "lan2_prefix": "2001:db8:20::/64", "r1_lan2": "2001:db8:20::1/64",
        "r1_lan2_address": "2001:db8:20::1",
        "dns": "2001:db8:20::53", "dns_cidr": "2001:db8:20::53/64",
        "domain": "corp.example", "www": "2001:db8:20::80",
    }
    summary = N_("r1 advertises ${lan1_prefix} with the O flag and the DNS server ${dns} "
                 "(RDNSS); a DHCPv6 server on r1 answers Information-Requests with the DNS "
                 "server and the domain ${domain}; a laptop learns DNS by DHCPv6, a phone by "
                 "RDNSS, and both resolve www.${domain}.")

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("stateless-dhcpv6")
        t.add_lan("lan1")                     # the office: r1, the laptop h1, the phone h2
        t.add_lan("lan2")                     # the servers: r1 and the DNS server ns1
        # radvd and dnsmasq: the router is also the office's DHCPv6 server.
        t.add_router("r1", image=["ra-router", "dhcp6-server"])
        t.add_host("h1", binaries=[{"name": "dhclient", "package": "isc-dhcp-client"}])
        t.add_host("h2", binaries=[{"name": "rdnssd", "package": "rdnssd"},
                                   {"name": "rdisc6", "package": "ndisc6"}])
        # The company's DNS server: set up by the lab (nodes/ns1/etc/corp-dns.conf).
        # No DAD on its address (no one else can hold it): it answers as
        # soon as the lab is up, not a second later.
        t.add_host("ns1", image="dhcp6-server", provider=True,
                   sysctls={"net.ipv6.conf.default.accept_dad": 0})
        t.add_link("r1", "lan1", addrs_a=[v["r1_lan1"]])          # r1:eth0
        t.add_link("r1", "lan2", addrs_a=[v["r1_lan2"]])          # r1:eth1
        t.add_link("h1", "lan1")
        t.add_link("h2", "lan1")
        t.add_link("ns1", "lan2", addrs_a=[v["dns_cidr"]])
        t.add_route("ns1", "default", via=v["r1_lan2_address"])
        return t

    def setup(self, lab) -> None:
        # bind-dynamic: dnsmasq answers once the address has passed DAD,
        # without waiting here for it.
        r = lab["ns1"].cmd("dnsmasq --conf-file=/etc/corp-dns.conf")
        if r.returncode != 0:
            raise Error(f"the lab's DNS server (dnsmasq on ns1) did not start: "
                        f"{(r.stderr or r.stdout).strip()}")

    def steps(self) -> list[Step]:
        _, v = self._, self.vars
        p, dns, domain = v["lan1_prefix"], v["dns"], v["domain"]
        radvd = c.daemon_running("r1", "radvd")
        return [
            Step("radvd", _("Advertise ${lan1_prefix} with O=1, M=0 and RDNSS ${dns}"), points=3,
                 checks=[
                     radvd,
                     # On r1's own cable, answering the grader's solicitation.
                     # Only asked once radvd runs: a silent LAN would cost 1.5 s.
                     c.router_advertises(
                         "r1", "eth0", prefixes=[p], managed=False, other=True,
                         autonomous=True, default_router=True, rdnss=[dns]).after(
                             radvd).with_options(weight=2),
                 ], hints=[
                     # No ${variables} here: tests/labs compares the fresh lab's hint
                     # with the unrendered steps()[0].hints[0].
                     _("radvd on r1 sends the Router Advertisements. Look at what they say with "
                       "rdisc6 eth0 on h1: the office prefix, \"Stateful address conf.: No\" "
                       "(M=0), \"Stateful other conf.: Yes\" (O=1) and a \"Recursive DNS "
                       "server\": the company's DNS server on lan2."),
                     _("In /etc/radvd.conf on r1, inside interface eth0 { ... }: "
                       "AdvSendAdvert on; AdvManagedFlag off; AdvOtherConfigFlag on; a prefix "
                       "block for ${lan1_prefix}; and RDNSS ${dns} { };"),
                     _("radvd -c checks the file; if radvd already runs, restart it: "
                       "kill $(cat /run/radvd.pid); radvd"),
                 ]),
            Step("dhcpv6", _("Answer Information-Requests with DNS ${dns} and domain ${domain}"),
                 points=3, checks=[
                     c.daemon_running("r1", "dnsmasq"),
                     information_reply(_, "h1", "r1", dns_server=dns,
                                       domain=domain).with_options(weight=2),
                 ], hints=[
                     _("A stateless DHCPv6 server must run on r1 and listen on the office LAN "
                       "(eth0); its Reply must carry the DNS server ${dns} and the search domain "
                       "${domain}. dnsmasq reads /etc/dnsmasq.conf."),
                     _("In /etc/dnsmasq.conf on r1: port=0, interface=eth0, "
                       "dhcp-range=::,constructor:eth0,ra-stateless, "
                       "dhcp-option=option6:dns-server,[${dns}] and "
                       "dhcp-option=option6:domain-search,${domain}"),
                     _("dnsmasq --test checks the file; start it with dnsmasq (kill $(pidof "
                       "dnsmasq) first if it runs); dnsmasq -d --log-dhcp runs it in the "
                       "foreground and shows each request."),
                 ]),
            Step("laptop", _("The laptop h1 learns DNS by stateless DHCPv6"), points=2, checks=[
                c.has_address("h1", p, iface="eth0", flags=("dynamic",), within=8),
                # dhclient -S exits once it has written resolv.conf, and asks
                # again only if told to (information-refresh-time, >= 600 s):
                # there is no process to look at and no exchange to provoke.
                # The file can be written by hand (README, for instructors).
                resolver_names(_, "h1", nameserver=dns, search=domain, within=4),
            ], hints=[
                _("h1 takes its address from the RA (SLAAC) and asks DHCPv6 only for "
                  "\"other configuration\": an Information-Request, which dhclient sends with -S. "
                  "Look at h1's /etc/resolv.conf."),
                _("On h1: dhclient -6 -S -v eth0  (without -S, dhclient asks for an address "
                  "that this server does not give)"),
            ]),
            Step("phone", _("The phone h2 learns DNS from the RA (RDNSS)"), points=2, checks=[
                c.has_address("h2", p, iface="eth0", flags=("dynamic",), within=8),
                c.daemon_running("h2", "rdnssd"),
                resolver_names(_, "h2", nameserver=dns, within=4),
                # resolv.conf can be written by hand: the grader's own RDNSS.
                follows_rdnss(_, "h2", "eth0"),
            ], hints=[
                _("Phones learn DNS only from the RA's RDNSS option: on h2, rdnssd does it and "
                  "its merge hook writes the server into /etc/resolv.conf. Look at that file."),
                _("On h2: mkdir -p /run/rdnssd; chown nobody /run/rdnssd; "
                  "rdnssd -H /etc/rdnssd/merge-hook; then rdisc6 eth0 to ask for an RA at once"),
            ]),
            Step("resolve", _("Both resolve www.${domain}"), points=2, checks=[
                resolves_through(_, "h1", f"www.{domain}", v["www"], server_node="ns1"),
                resolves_through(_, "h2", f"www.{domain}", v["www"], server_node="ns1"),
            ], hints=[
                _("The grader asks the first nameserver of each host's /etc/resolv.conf for "
                  "www.${domain}. On h1 and h2: dig www.${domain} AAAA, and "
                  "dig @${dns} www.${domain} AAAA"),
            ]),
        ]
