"""Lab 13: IPv6-mostly, with PREF64 (RFC 8781) and DHCPv4 option 108 (RFC 8925)."""

import secrets

from v6lab import Topo, paths, wait_until
from v6lab.course import LabDefinition
from v6lab.errors import Error
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_

from .checks import (advertises_pref64, fetches_through_nat64, offers_v6only, persona_ipv6_only,
                     ra_sender_running)

#: The page the IPv4-only server serves: a token drawn at start, read back by
#: the grader from the server's own files (it is a provider node).
PAGE = "/var/www/index.html"
REPLY = "/var/www/reply.http"


class Lab(LabDefinition):
    id = "ipv6-mostly"
    title = N_("IPv6-mostly: PREF64 and DHCPv4 option 108")
    level = "intermediate"
    minutes = 60
    order = 130
    # The ISP's NAT64 (tayga) needs a TUN device: `v6lab start` refuses the
    # lab (exit 7), and tests/labs skips it, where there is none.
    kernel_features = ("tun",)
    variables = {
        "lan_prefix": "2001:db8:1::/64", "r1_lan": "2001:db8:1::1/64",
        "r1_lan_address": "2001:db8:1::1",
        "lan4_prefix": "192.0.2.0/24", "r1_lan4": "192.0.2.1/24", "r1_lan4_address": "192.0.2.1",
        "pool_start": "192.0.2.100", "pool_end": "192.0.2.199",
        "wan_prefix": "2001:db8:ff::/64", "r1_wan": "2001:db8:ff::2/64",
        "isp_wan": "2001:db8:ff::1/64", "isp_dns": "2001:db8:ff::1",
        "nat64_prefix": "2001:db8:64::/96", "nat64_prefix_64": "2001:db8:64::/64",
        "nat64_pool": "198.51.100.0/24",
        "tayga_v4": "198.51.100.1",
        "isp_v4": "203.0.113.1/24", "isp_v4_address": "203.0.113.1",
        "web_v4": "203.0.113.80", "web_v4_cidr": "203.0.113.80/24",
        "web_nat64": "2001:db8:64::cb00:7150", "domain": "internet.example",
        "v6only_wait": "1800",
    }
    summary = N_("Make the office LAN IPv6-mostly: r1 advertises ${lan_prefix}, the ISP's DNS64 "
                 "server and its NAT64 prefix ${nat64_prefix} (PREF64) with v6lab-ra, and offers "
                 "DHCPv4 addresses with option 108, so the laptop goes IPv6-only while the old "
                 "printer keeps IPv4.")

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("ipv6-mostly")
        t.add_lan("lan")      # the office: r1, the laptop and the printer
        t.add_router("r1", image="router", binaries=[{"name": "dnsmasq", "package": "dnsmasq"}])
        dhclient = [{"name": "dhclient", "package": "isc-dhcp-client"}]
        # The personas: devices of the office the lab runs (no login).
        t.add_host("laptop", provider=True, binaries=dhclient)
        t.add_host("printer", provider=True, binaries=dhclient)
        # The ISP: NAT64 (tayga) and a DNS64 resolver (unbound). No DAD on
        # its fixed addresses, so it serves as soon as the lab is up.
        t.add_router("isp", provider=True,
                     binaries=[{"name": "tayga", "package": "tayga"},
                               {"name": "unbound", "package": "unbound"}],
                     sysctls={"net.ipv6.conf.default.accept_dad": 0})
        # An IPv4-only web server on the IPv4 Internet.
        t.add_host("web", provider=True, binaries=[{"name": "socat", "package": "socat"}])
        t.add_link("r1", "lan", addrs_a=[v["r1_lan"], v["r1_lan4"]])      # r1:eth0
        t.add_link("r1", "isp", addrs_a=[v["r1_wan"]], addrs_b=[v["isp_wan"]])  # r1:eth1, isp:eth0
        t.add_link("laptop", "lan")
        t.add_link("printer", "lan")
        t.add_link("isp", "web", addrs_a=[v["isp_v4"]], addrs_b=[v["web_v4_cidr"]])  # isp:eth1
        t.add_route("r1", "default", via=v["isp_wan"].split("/")[0])
        t.add_route("isp", v["lan_prefix"], via=v["r1_wan"].split("/")[0])
        t.add_route("web", "default", via=v["isp_v4_address"])
        return t

    def setup(self, lab) -> None:
        v = lab.vars
        isp, web = lab["isp"], lab["web"]
        if not (paths.LIBEXEC_DIR / "v6lab-ra").is_file():
            raise Error(f"v6lab-ra is missing from {paths.LIBEXEC_DIR}: build v6lab first "
                        "(./scripts/setup)")
        # NAT64: tayga's tun device, its routes, then the daemon.
        r = isp.cmd(f"tayga --mktun -c /etc/tayga.conf && ip link set nat64 up && "
                    f"ip route add {v['nat64_prefix']} dev nat64 && "
                    f"ip route add {v['nat64_pool']} dev nat64 && tayga -c /etc/tayga.conf")
        if r.returncode != 0:
            raise Error("the lab's NAT64 (tayga on isp) did not start: "
                        f"{(r.stderr or r.stdout).strip()}")
        r = isp.cmd("unbound -c /etc/unbound/dns64.conf")
        if r.returncode != 0:
            raise Error(f"the lab's DNS64 (unbound on isp) did not start: "
                        f"{(r.stderr or r.stdout).strip()}")
        token = secrets.token_hex(8)
        page = f"IPv4-only server {v['web_v4']}: {token}\n"
        reply = f"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n{page}"
        web.cmd(["sh", "-c", f"mkdir -p /var/www && cat > {PAGE} && printf '%s' \"$1\" > {REPLY}",
                 "sh", reply], input=page, check=True)
        # socat answers every connection with the reply (its address syntax
        # treats ':' and ',' specially: the text stays in a file).
        web.cmd(f"socat -T2 TCP4-LISTEN:80,fork,reuseaddr SYSTEM:'cat {REPLY}' "
                ">/dev/null 2>&1 &", check=True)
        for p in ("laptop", "printer"):
            lab[p].cmd("dhclient -4 -nw -cf /etc/dhcp/dhclient.conf -sf /etc/dhcp/persona-script "
                       "-lf /run/dhclient.leases -pf /run/dhclient.pid eth0", check=True)
        wait_until(lambda: web.cmd("ss -Hltn 'sport = :80'").stdout.strip(), 2,
                   what="the web server on web")

    def steps(self) -> list[Step]:
        _, v = self._, self.vars
        ra = ra_sender_running(_, "r1")
        dnsmasq = c.daemon_running("r1", "dnsmasq")
        # As the printer (its MAC, the grader's own xid): see offers_v6only.
        offer = dict(v4_prefix=v["lan4_prefix"], as_client=("printer", "eth0"))
        return [
            Step("ra", _("Advertise ${lan_prefix}, RDNSS ${isp_dns} and PREF64 ${nat64_prefix} "
                         "with v6lab-ra"), points=3, checks=[
                ra,
                c.router_advertises("r1", "eth0", prefixes=[v["lan_prefix"]],
                                    rdnss=[v["isp_dns"]]).after(ra),
                advertises_pref64(_, "r1", "eth0", v["nat64_prefix"]).after(ra),
            ], hints=[
                _("The RA on the office LAN must carry three things: the prefix for SLAAC, the "
                  "ISP's DNS64 server (RDNSS) and the ISP's NAT64 prefix (the PREF64 option). "
                  "Debian's radvd 2.19 cannot send PREF64; v6lab-ra reads the same file syntax "
                  "and can. Check the file with v6lab-ra -c, read /var/log/v6lab-ra.log, and "
                  "look at the RA on the wire: tcpdump -ni eth0 -vv icmp6 on r1."),
                _("/etc/v6lab-ra.conf on r1: interface eth0 { AdvSendAdvert on; "
                  "MaxRtrAdvInterval 30; prefix ${lan_prefix} { }; RDNSS ${isp_dns} { }; "
                  "nat64prefix ${nat64_prefix} { }; }; -- the NAT64 prefix is the ISP's: "
                  "exactly ${nat64_prefix}, length included."),
                _("On r1: v6lab-ra -c && v6lab-ra   (to restart after a change: "
                  "kill $(cat /run/v6lab-ra.pid); v6lab-ra)"),
            ]),
            Step("dhcpv4", _("Offer DHCPv4 addresses, with option 108 to clients that ask"),
                 points=3, checks=[
                dnsmasq,
                offers_v6only(_, "r1", "eth0", request_108=True, **offer).after(dnsmasq),
                offers_v6only(_, "r1", "eth0", request_108=False, **offer).after(dnsmasq),
            ], hints=[
                _("Both kinds of client ask DHCPv4 for an address. The server must offer every "
                  "client an address from ${lan4_prefix}, and add option 108 (IPv6-Only "
                  "Preferred) only for clients that put 108 in their request list (RFC 8925): "
                  "then old devices keep IPv4."),
                _("/etc/dnsmasq.conf on r1: port=0, interface=eth0, "
                  "dhcp-range=${pool_start},${pool_end},255.255.255.0,1h, "
                  "dhcp-option=option:router,${r1_lan4_address} and "
                  "dhcp-option=option:ipv6-only,${v6only_wait} (dhcp-option, not "
                  "dhcp-option-force: forced, it reaches clients that did not ask)"),
                _("On r1: dnsmasq --test && dnsmasq   (dnsmasq -d --log-dhcp runs it in the "
                  "foreground and shows each DISCOVER and OFFER)"),
            ]),
            Step("personas", _("The laptop goes IPv6-only; the printer keeps IPv4"), points=2,
                 checks=[
                # All from outside the personas: netlink, and the laptop's
                # lease file (a provider node's: the trainee cannot write it).
                c.has_address("laptop", v["lan_prefix"], iface="eth0", flags=("dynamic",),
                              within=8),
                c.default_route("laptop", via="r1:eth0", protocol="ra", within=5),
                # dnsmasq pings each address it picks for 3 s first, one
                # client at a time: the second lease can take 8 s.
                persona_ipv6_only(_, "laptop", "eth0", within=10),
                c.has_address("printer", v["lan4_prefix"], iface="eth0", flags=("dynamic",),
                              within=10),
            ], hints=[
                _("The laptop and the printer are the lab's devices: you cannot log into them. "
                  "They ask DHCPv4 every second or two. The laptop asks for option 108 and, "
                  "when it gets it, leaves IPv4 off and lives on IPv6 (SLAAC); the printer "
                  "never asks and needs its IPv4 lease. See dnsmasq's leases on r1: "
                  "cat /var/lib/misc/dnsmasq.leases"),
                _("If the printer has no lease, the DHCPv4 pool is missing or full; if the "
                  "laptop has IPv4, option 108 did not reach it; if it has no IPv6 address, "
                  "the RA does not reach the LAN."),
            ]),
            Step("nat64", _("The laptop reaches the IPv4-only server through NAT64"), points=2,
                 checks=[
                fetches_through_nat64(_, "laptop", v["web_nat64"], 80, "web", PAGE, within=3),
            ], hints=[
                _("The grader connects from the laptop to [${web_nat64}]:80: the IPv4-only "
                  "server ${web_v4} written in the NAT64 prefix. The packets go laptop -> r1 -> "
                  "the ISP's NAT64 -> web. r1 must forward IPv6 and route ${nat64_prefix} "
                  "towards the ISP (its default route does)."),
                _("On r1: sysctl net.ipv6.conf.all.forwarding (must be 1); ip -6 route (a "
                  "default route via the ISP); ping ${web_nat64}"),
            ]),
        ]
