"""Lab 15: Path MTU troubleshooting.

The office (pc behind the trainee's edge router r1) reaches a server
through a provider whose core has a 1400-byte link (the transit LAN
between the provider nodes isp and gw). r1's firewall drops ICMPv6 Packet
Too Big, "hardening" from an old audit: small packets pass, but the
1500-byte packets of an upload vanish, because the Packet Too Big that
isp sends back never reaches pc (RFC 8201 needs it; RFC 4890 says never
to drop it). The trainee measures the path MTU, lets Packet Too Big
through r1 (forwarded and to r1 itself) while keeping the rest of the
policy, watches pc learn the MTU, and uploads.

The checks (pmtuchecks.py) rest on evidence no trainee node can
forge: Packet Too Big that the provider's isp sent, seen on the wire where
it left isp and where it reached pc or r1; the route cache read by
netlink from outside pc; an upload received by the grader's own socket in
the provider's server, at an address drawn at random for each grade.
"""

from v6lab import Error, Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_

from . import pmtuchecks as pm

# Provider nodes answer at once: their addresses skip DAD, so the lab is
# ready within v6lab start's two seconds.
_PROVIDED = {"net.ipv6.conf.default.accept_dad": 0, "net.ipv6.conf.all.accept_dad": 0}


class Lab(LabDefinition):
    id = "pmtud"
    title = N_("Path MTU troubleshooting")
    level = "intermediate"
    minutes = 45
    order = 150
    variables = {
        "office_prefix": "2001:db8:10::/64", "r1_office": "2001:db8:10::1",
        "pc": "2001:db8:10::10",
        "uplink_prefix": "2001:db8:f0::/64", "r1_uplink": "2001:db8:f0::2",
        "isp_uplink": "2001:db8:f0::1",
        "transit_prefix": "2001:db8:f1::/64", "isp_transit": "2001:db8:f1::1",
        "gw_transit": "2001:db8:f1::2", "transit_mtu": "1400",
        "dc_prefix": "2001:db8:80::/64", "gw_dc": "2001:db8:80::1",
        "srv": "2001:db8:80::80",
        # srv answers on every address of this prefix (a local route): the
        # grader uploads to a fresh one each time, which pc has no cached
        # MTU for.
        "service_prefix": "2001:db8:81::/64",
        "upload_port": "9000", "answer": "/root/path-mtu.txt",
    }
    summary = N_("Uploads from the office hang while small pings work: find the narrow "
                 "link in the provider's path, let ICMPv6 Packet Too Big through the office "
                 "firewall on r1, and watch path MTU discovery do its job.")

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("pmtud")
        for lan in ("office", "uplink", "dc"):
            t.add_lan(lan)
        t.add_lan("transit", mtu=int(v["transit_mtu"]))
        t.add_host("pc")
        t.add_router("r1", binaries=[{"name": "nft", "package": "nftables"}])
        t.add_router("isp", provider=True,
                     sysctls={**_PROVIDED, "net.ipv6.icmp.ratelimit": 0})
        t.add_router("gw", provider=True, sysctls=_PROVIDED)
        t.add_host("srv", provider=True, sysctls=_PROVIDED,
                   binaries=[{"name": "socat", "package": "socat"}])
        t.add_link("pc", "office", addrs_a=[v["pc"] + "/64"])                # pc:eth0
        t.add_link("r1", "office", addrs_a=[v["r1_office"] + "/64"])         # r1:eth0
        t.add_link("r1", "uplink", addrs_a=[v["r1_uplink"] + "/64"])         # r1:eth1
        t.add_link("isp", "uplink", addrs_a=[v["isp_uplink"] + "/64"])       # isp:eth0
        t.add_link("isp", "transit", addrs_a=[v["isp_transit"] + "/64"])     # isp:eth1, 1400
        t.add_link("gw", "transit", addrs_a=[v["gw_transit"] + "/64"])       # gw:eth0, 1400
        t.add_link("gw", "dc", addrs_a=[v["gw_dc"] + "/64"])                 # gw:eth1
        t.add_link("srv", "dc", addrs_a=[v["srv"] + "/64"])                  # srv:eth0
        t.add_route("pc", "default", via=v["r1_office"])
        t.add_route("r1", "default", via=v["isp_uplink"])
        t.add_route("isp", v["office_prefix"], via=v["r1_uplink"])
        t.add_route("isp", "default", via=v["gw_transit"])
        t.add_route("gw", "default", via=v["isp_transit"])
        t.add_route("gw", v["service_prefix"], via=v["srv"])
        t.add_route("srv", "default", via=v["gw_dc"])
        return t

    def setup(self, lab) -> None:
        """The seeded fault (r1's rule set, from nodes/r1/etc/nftables.conf)
        and the provider's upload service on srv: socat hands each
        connection to `wc -c`, which answers with the bytes it received."""
        v = lab.vars
        loaded = lab["r1"].cmd("nft -f /etc/nftables.conf")
        if not loaded.ok:
            why = (loaded.stderr.strip().splitlines() or ["exit " + str(loaded.returncode)])[-1]
            raise Error("lab pmtud cannot run on this machine: r1 could not load its firewall "
                        f"(nft -f /etc/nftables.conf: {why}); the kernel needs nftables with "
                        "the inet family and connection tracking (kernel options "
                        "CONFIG_NF_TABLES, CONFIG_NF_TABLES_INET, CONFIG_NFT_CT)")
        srv = lab["srv"]
        srv.cmd(f"ip -6 route add local {v['service_prefix']} dev lo", check=True)
        srv.cmd(f"socat TCP6-LISTEN:{v['upload_port']},reuseaddr,fork SYSTEM:'wc -c' "
                "> /var/log/upload.log 2>&1 &", check=True)
        pm.wait_listening(lab, "srv", int(v["upload_port"]))

    def steps(self) -> list[Step]:
        _, v = self._, self.vars
        mtu, service = int(v["transit_mtu"]), v["service_prefix"]
        return [
            Step("diagnose", _("Measure the path MTU from pc to srv"), points=1, checks=[
                # From the provider's real link, which the trainee cannot change.
                c.answer_matches("pc", v["answer"], lambda lab: str(lab["isp"].link("eth1").mtu),
                                 what=_("the path MTU from pc to srv (in bytes)")),
            ], hints=[
                _("The path MTU is the largest IPv6 packet (headers included) that gets through "
                  "the whole path. On pc, try ping -6 -M do -s SIZE ${srv}: the packet is SIZE + "
                  "48 bytes (40 of IPv6, 8 of ICMPv6). Write the packet size, in bytes, to "
                  "${answer}."),
                _("ping -M do -s 1452 ${srv} (a packet of 1500 bytes) gets no answer; find the "
                  "largest SIZE that is answered and add 48."),
                _("On pc: echo 1400 > ${answer}  (ping -M do -s 1352 is answered, 1353 is not)"),
            ]),
            Step("ptb", _("Let Packet Too Big through r1's firewall"), points=3, checks=[
                pm.ptb_forwarded("pc", "r1", "isp", service, mtu, _).with_options(weight=2),
                pm.ptb_received("r1", "isp", service, mtu, _),
            ], hints=[
                _("Path MTU discovery needs the ICMPv6 Packet Too Big that the router before the "
                  "narrow link sends back (here the provider's isp). On r1, look at the rule set "
                  "(nft list ruleset) and watch eth1 (tcpdump -ni eth1 icmp6) while pc pings "
                  "with -M do -s 1452."),
                _("Both chains of table inet edge drop icmpv6 type packet-too-big: forward (pc's "
                  "traffic) and input (r1's own). Accept it instead, before ct state; keep the "
                  "rest of the policy."),
                _("On r1: sed -i 's/icmpv6 type packet-too-big drop/icmpv6 type packet-too-big "
                  "accept/' /etc/nftables.conf && nft -f /etc/nftables.conf"),
            ]),
            Step("pmtu", _("pc learns the path MTU to srv"), points=2, checks=[
                pm.path_mtu_learned("pc", "srv", mtu, _),
            ], hints=[
                _("When a Packet Too Big arrives, pc's kernel remembers the smaller MTU for that "
                  "destination in its route cache for 10 minutes. Look: ip -6 route get ${srv} "
                  "on pc, after a large ping. Leave pc's own MTU and routes as they were."),
                _("On pc: ping -6 -c1 -M do -s 1452 ${srv}; then ip -6 route get ${srv} shows "
                  "mtu 1400 and expires. Undo any ip link set mtu or ip route ... mtu you typed."),
            ]),
            Step("upload", _("Upload to srv, with the office still protected"), points=2, checks=[
                pm.upload_completes("pc", "srv", service, _),
                pm.inbound_blocked("srv", "pc", _),
            ], hints=[
                _("An upload through the narrow link (1400 bytes) works once Packet Too Big "
                  "reaches pc, and r1's firewall must still drop what the outside starts. Try: "
                  "head -c 2000000 /dev/zero | timeout 10 socat - TCP6:[${srv}]:${upload_port}  "
                  "(srv answers with the number of bytes it got)."),
                _("If the upload works but this step fails, look at r1's rule set: the forward "
                  "chain's policy must stay drop, with only ct state established,related and "
                  "the office's own traffic accepted."),
            ]),
        ]
