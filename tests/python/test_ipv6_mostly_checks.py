"""Attacks on the IPv6-mostly lab's own checks (labs/ipv6-mostly/checks.py):
for each new kind of evidence, the forgery that should fool it, and proof
that it does not. One lab for the module, solved up to the personas; each
test breaks one thing, attacks, grades the check, and puts the lab back.

Forgers run inside nodes with python3 and AF_PACKET, as a root user there
would. The personas are provider nodes (a trainee cannot log into them):
forging from them stands for the strongest attacker, a host on the LAN
under the trainee's control."""

from __future__ import annotations

import importlib
import time

import pytest

from v6lab import Lab
from v6lab.course import find_lab, render
from v6lab.grading import wire as w
from v6lab.proto import dhcp4

pytestmark = pytest.mark.skipif(__import__("os").geteuid() != 0, reason="needs root")

# Answers every Router Solicitation it sees on eth0 with an RA to its
# sender, as r1 (r1's MAC and link-local address), carrying PREF64: the
# fastest forger a host can be. argv: r1's MAC, r1's link-local, the
# ICMPv6 body of the RA (checksum 0), hex.
RA_RACER = r"""import socket, struct, sys
mac, src, body = bytes.fromhex(sys.argv[1].replace(":", "")), sys.argv[2], bytes.fromhex(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
def csum(data):
    data += b"\0" * (len(data) % 2)
    t = sum(struct.unpack(f"!{len(data)//2}H", data))
    while t >> 16: t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF
sa = socket.inet_pton(socket.AF_INET6, src)
while True:
    f = s.recv(2048)
    if f[12:14] != b"\x86\xdd" or f[20] != 58 or f[54] != 133 or f[6:12] == mac:
        continue
    da = f[22:38]
    c = csum(sa + da + struct.pack("!I3xB", len(body), 58) + body)
    icmp = body[:2] + struct.pack("!H", c) + body[4:]
    ip = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + sa + da
    s.send(f[6:12] + mac + b"\x86\xdd" + ip + icmp)
"""

# Answers every DHCPDISCOVER it sees with a canned OFFER as r1 (r1's MAC
# and IPv4 address), the transaction id and chaddr copied in. argv: r1's
# MAC, r1's IPv4 address, the OFFER's DHCP payload, hex.
OFFER_RACER = r"""import socket, struct, sys
mac, src, tmpl = bytes.fromhex(sys.argv[1].replace(":", "")), sys.argv[2], bytes.fromhex(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
def csum(h):
    t = sum(struct.unpack("!10H", h))
    while t >> 16: t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF
while True:
    f = s.recv(2048)
    if f[12:14] != b"\x08\x00" or f[23] != 17 or f[6:12] == mac: continue
    d = f[14 + (f[14] & 15) * 4 + 8:]
    if len(d) < 243 or d[0] != 1 or b"\x35\x01\x01" not in d[240:]: continue
    p = tmpl[:4] + d[4:8] + tmpl[8:28] + d[28:44] + tmpl[44:]
    udp = struct.pack("!HHHH", 67, 68, 8 + len(p), 0) + p
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                    socket.inet_aton(src), b"\xff" * 4)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    s.send(b"\xff" * 6 + mac + b"\x08\x00" + h + udp)
"""


@pytest.fixture(scope="module")
def mostly():
    d = find_lab("ipv6-mostly")
    with Lab(d.topology(), name="l13-attacks") as lab:
        d.initial_state(lab)
        d.solve(lab, upto="personas")
        yield d, lab, importlib.import_module("v6lab_labs.ipv6_mostly.checks"), \
            importlib.import_module("v6lab_labs.ipv6_mostly.solution")


def run(lab: Lab, check) -> tuple[str, str]:
    status, message, _ = check.run(lab)
    return status, message


def identity(lab: Lab, node: str) -> tuple[str, str]:
    mac = lab[node].link("eth0").mac
    ll = next(a.address for a in lab[node].addresses("eth0", 6) if a.scope == "link")
    return mac, ll


def racer(lab: Lab, node: str, script: str, *args: str):
    p = lab[node].popen(["python3", "-c", script, *args], name="racer")
    time.sleep(0.3)                        # its socket is open
    return p


def stop(p, lab: Lab, node: str) -> None:
    p.terminate()                          # relayed into the node (SIGKILL is not)
    p.wait(timeout=5)
    assert not [x for x in lab[node].processes() if x.comm.startswith("python3")], \
        f"a forger still runs on {node}"


def test_pref64_forged_from_a_host_port_does_not_count(mostly):
    d, lab, ck, sol = mostly
    v = lab.vars
    check = ck.advertises_pref64(lambda s: s, "r1", "eth0", v["nat64_prefix"])
    assert run(lab, check)[0] == "pass"
    # r1 advertises without PREF64; the laptop's port answers every RS at
    # once with r1's addresses and the right PREF64.
    sol.start_ra(lab, sol.RA_CONF.replace("    nat64prefix ${nat64_prefix} {\n    };\n", ""))
    mac, ll = identity(lab, "r1")
    forged = w.router_advert(mac, ll, prefixes=[w.PrefixInfo(v["lan_prefix"], True, True, 86400,
                                                             14400)],
                             router_lifetime=1800, sllao=True,
                             pref64=[w.Pref64(v["nat64_prefix"], 1800)])[54:]
    p = racer(lab, "laptop", RA_RACER, mac, ll, forged.hex())
    try:
        with w.Tap.switch(lab, types=(w.RA,)) as tap:
            status, message = run(lab, check)
            tap.collect(0.2)
        from_laptop = [s for s in w.sent_by(tap.seen, "laptop", w.RA) if s.packet.body.pref64]
    finally:
        stop(p, lab, "laptop")
        sol.start_ra(lab)
    assert from_laptop, "the forger must really have answered the grader's RS"
    assert from_laptop[0].packet.src == ll               # with r1's address
    assert status == "fail" and "carries no PREF64 option" in message, message
    assert run(lab, check)[0] == "pass"


def test_canned_offer_from_a_persona_port_does_not_count(mostly):
    d, lab, ck, sol = mostly
    v = lab.vars
    check = ck.offers_v6only(lambda s: s, "r1", "eth0", request_108=True,
                             v4_prefix=v["lan4_prefix"], as_client=("printer", "eth0"),
                             timeout=3.0)
    assert run(lab, check)[0] == "pass"
    # No DHCPv4 server on r1 at all; the printer's port answers every
    # DISCOVER at once with a perfect OFFER, as r1 (MAC and address).
    lab["r1"].cmd("kill $(pidof dnsmasq)", check=True)
    mac, _ = identity(lab, "r1")
    offer = dhcp4.encode(dhcp4.Dhcp4Message(
        dhcp4.BOOTREPLY, 0, dhcp4.FLAG_BROADCAST, "0.0.0.0", "192.0.2.150", v["r1_lan4_address"],
        "0.0.0.0", "00:00:00:00:00:00",
        ((dhcp4.OPT_MESSAGE_TYPE, bytes([dhcp4.OFFER])),
         (dhcp4.OPT_SERVER_ID, bytes([192, 0, 2, 1])),
         (dhcp4.OPT_V6ONLY, (1800).to_bytes(4, "big")))))
    p = racer(lab, "printer", OFFER_RACER, mac, v["r1_lan4_address"], offer.hex())
    try:
        status, message = run(lab, check)
        also = ck.dhcp_offer(lab, "r1", "eth0", (1, 3, 6, 108), 1.5)
    finally:
        stop(p, lab, "printer")
        sol.start_dnsmasq(lab)
    assert also[0] is None and also[1] and also[1][0][0] == "printer"   # the forger answered
    assert also[1][0][1].v6only_wait == 1800
    assert status == "fail", message
    assert "no DHCPOFFER came from r1:eth0; one came in on printer's cable instead" in message
    assert run(lab, check)[0] == "pass"


def test_persona_state_is_read_from_netlink_not_files(mostly):
    d, lab, ck, sol = mostly
    v = lab.vars
    laptop = ck.persona_ipv6_only(lambda s: s, "laptop", "eth0")
    assert run(lab, laptop)[0] == "pass"
    # The laptop "was offered 108" (its mark file is there) but has IPv4:
    # netlink decides.
    lab["laptop"].cmd("ip addr add 192.0.2.222/24 dev eth0", check=True)
    try:
        status, message = run(lab, laptop)
    finally:
        lab["laptop"].cmd("ip addr del 192.0.2.222/24 dev eth0", check=True)
    assert status == "fail" and "got option 108 but has IPv4 192.0.2.222/24" in message, message
    # The mark as a link to some other file of the node is refused.
    lab["laptop"].cmd("mv /run/v6only /run/v6only.real && ln -s /etc/hostname /run/v6only",
                      check=True)
    try:
        status, message = run(lab, laptop)
    finally:
        lab["laptop"].cmd("rm /run/v6only && mv /run/v6only.real /run/v6only", check=True)
    assert status == "fail" and "not been offered option 108" in message, message

    # The printer: a lease file and a log written by hand, no address.
    from v6lab.grading import checks as c
    printer = c.has_address("printer", v["lan4_prefix"], iface="eth0", flags=("dynamic",))
    assert run(lab, printer)[0] == "pass"
    lab["printer"].cmd("cp /run/dhclient.leases /run/keep.leases; pid=$(cat /run/dhclient.pid); "
                       "kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.05; done; "
                       "ip -4 addr flush dev eth0 scope global; cp /run/keep.leases "
                       "/run/dhclient.leases; echo 'BOUND: 192.0.2.150' >> "
                       "/var/log/persona-dhcp.log", check=True)
    try:
        status, message = run(lab, printer)
        # An address typed by hand is permanent, not a lease.
        lab["printer"].cmd("ip addr add 192.0.2.150/24 dev eth0", check=True)
        status2, message2 = run(lab, printer)
    finally:
        lab["printer"].cmd("ip -4 addr flush dev eth0 scope global; dhclient -4 -nw "
                           "-cf /etc/dhcp/dhclient.conf -sf /etc/dhcp/persona-script "
                           "-lf /run/dhclient.leases -pf /run/dhclient.pid eth0", check=True)
    assert status == "fail" and "printer:eth0 has no address in 192.0.2.0/24" in message, message
    assert status2 == "fail" and "lacks dynamic" in message2, message2
    assert run(lab, c.has_address("printer", v["lan4_prefix"], iface="eth0",
                                  flags=("dynamic",), within=10))[0] == "pass"


def test_nat64_fetch_answered_on_r1_does_not_count(mostly):
    d, lab, ck, sol = mostly
    v = lab.vars
    check = ck.fetches_through_nat64(lambda s: s, "laptop", v["web_nat64"], 80, "web",
                                     "/var/www/index.html")
    assert run(lab, check)[0] == "pass"
    # r1 takes the server's NAT64 address itself and answers with a page
    # that looks right but cannot hold the token drawn at start.
    fake = f"HTTP/1.0 200 OK\r\n\r\nIPv4-only server {v['web_v4']}: 0123456789abcdef\n"
    r1 = lab["r1"]
    r1.cmd(["sh", "-c", "cat > /root/fake.http"], input=fake, check=True)
    r1.cmd(f"ip addr add {v['web_nat64']}/128 dev lo", check=True)
    p = r1.popen(["socat", "TCP6-LISTEN:80,fork,reuseaddr", "SYSTEM:cat /root/fake.http"],
                 name="fake-web")
    time.sleep(0.3)
    try:
        status, message = run(lab, check)
    finally:
        stop(p, lab, "r1")
        r1.cmd(f"ip addr del {v['web_nat64']}/128 dev lo", check=True)
    assert status == "fail" and "answered, but not with web's page" in message, message
    assert run(lab, check)[0] == "pass"


def test_ra_sender_copy_or_namesake_is_not_v6lab_ra(mostly):
    d, lab, ck, sol = mostly
    check = ck.ra_sender_running(lambda s: s, "r1")
    assert run(lab, check)[0] == "pass"
    r1 = lab["r1"]
    r1.cmd("kill $(cat /run/v6lab-ra.pid); sleep 0.2; cp /opt/v6lab/bin/v6lab-ra /root/v6lab-ra",
           check=True)
    try:
        r1.cmd("/root/v6lab-ra", check=True)             # a copy: another inode
        status, message = run(lab, check)
    finally:
        r1.cmd("kill $(cat /run/v6lab-ra.pid); sleep 0.2", check=True)
        sol.start_ra(lab)
    assert status == "fail" and "is not /opt/v6lab/bin/v6lab-ra" in message, message
    assert run(lab, check)[0] == "pass"
    # Frozen, it is the binary but not a daemon.
    r1.cmd("kill -STOP $(cat /run/v6lab-ra.pid)", check=True)
    try:
        status, message = run(lab, check)
    finally:
        r1.cmd("kill -CONT $(cat /run/v6lab-ra.pid)", check=True)
    assert status == "fail" and "its state is T" in message, message


def test_v6lab_ra_config_errors_name_the_line(mostly):
    d, lab, ck, sol = mostly
    bad = render(sol.RA_CONF, lab.vars).replace("nat64prefix 2001:db8:64::/96",
                                                "nat64prefix 2001:db8:64::/95")
    r = lab["r1"].cmd(["sh", "-c", "cat > /root/bad.conf; v6lab-ra -c -C /root/bad.conf"],
                      input=bad)
    assert r.returncode == 1
    assert r.stderr.strip() == ("v6lab-ra: /root/bad.conf:10: nat64prefix /95: the length must "
                                "be 32, 40, 48, 56, 64 or 96 (RFC 8781)")
    r = lab["r1"].cmd("v6lab-ra")                       # one runs already
    assert r.returncode == 1 and "another v6lab-ra is running (pid" in r.stderr
