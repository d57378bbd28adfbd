"""Attacks on the pmtud lab's checks (labs/pmtud/pmtuchecks.py): a trainee
who is root on r1 and pc tries to pass without letting the provider's
Packet Too Big through. Each test builds the real lab, leaves r1's seeded
firewall dropping Packet Too Big, attacks, runs the check it targets and
asserts a failure (never a pass, never a grader error) that names what
happened. The honest path is tests/labs/test_labs.py's solution test.

Forgeries run inside the nodes with python3 and AF_PACKET, as a trainee's
would."""

from __future__ import annotations

import time

import pytest

from v6lab import Lab
from v6lab.course import find_lab

# On r1: for every 1500-byte echo request pc sends through eth0, answer at
# once with a Packet Too Big "from isp" (its address, MTU 1400), quoting
# the packet as r1 saw it, sent back to pc's MAC on eth0. It runs until
# killed.
FORGE_PTB = r"""
import socket, struct, sys
ISP = socket.inet_pton(socket.AF_INET6, sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
s.bind(("eth0", 0))
my_mac = open("/sys/class/net/eth0/address").read().strip()
def csum(src, dst, msg):
    data = src + dst + struct.pack("!I3xB", len(msg), 58) + msg + b"\0" * (len(msg) % 2)
    t = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF
print("ready", flush=True)
while True:
    frame, addr = s.recvfrom(65535)
    if addr[2] == 4 or len(frame) < 1514 or frame[20] != 58 or frame[54] != 128:
        continue
    ip = frame[14:]
    quoted = ip[:1280 - 48]
    body = bytes([2, 0, 0, 0]) + struct.pack("!I", 1400) + quoted
    c = csum(ISP, ip[8:24], body)
    body = body[:2] + struct.pack("!H", c) + body[4:]
    hdr = struct.pack("!IHBB", 6 << 28, len(body), 58, 64) + ISP + ip[8:24]
    s.send(frame[6:12] + bytes.fromhex(my_mac.replace(":", "")) + b"\x86\xdd" + hdr + body)
"""


@pytest.fixture
def pmtud(lab_factory):
    """The lab as a trainee finds it, with the answer of step 1 written
    (the checks below are of later steps)."""
    d = find_lab("pmtud")
    lab = lab_factory(d.topology(), name=d.id)
    d.initial_state(lab)
    d.solution["diagnose"](lab)
    return d, lab


def check(d, step: str, index: int):
    return next(s for s in d.steps() if s.id == step).checks[index]


def run(lab: Lab, chk) -> tuple[str, str]:
    status, message, _seconds = chk.run(lab)
    return status, message


def test_the_seeded_firewall_fails_every_pmtud_check(pmtud):
    d, lab = pmtud
    for step, i, words in [("ptb", 0, "r1 drops it"), ("ptb", 1, "r1's input rules drop it"),
                           ("pmtu", 0, "no Packet Too Big reached pc's kernel"),
                           ("upload", 0, "stalled")]:
        status, message = run(lab, check(d, step, i))
        assert status == "fail" and words in message, (step, i, message)


def test_a_ptb_forged_on_r1_does_not_pass(pmtud):
    d, lab = pmtud
    forger = lab["r1"].popen(["python3", "-c", FORGE_PTB, lab.vars["isp_uplink"]],
                             name="forger")
    try:
        time.sleep(0.5)   # the forger's socket is bound
        # The forgery works: pc's kernel believes it (a large ping learns 1400).
        target = lab.vars["service_prefix"].split("/")[0] + "5"
        lab["pc"].cmd(f"ping -6 -c1 -W1 -M do -s 1452 {target}")
        learned = lab["pc"].cmd(f"ip -6 route get {target}").stdout
        assert "mtu 1400" in learned, learned
        status, message = run(lab, check(d, "ptb", 0))
        assert status == "fail", message
        assert "not the one isp sent (its bytes differ)" in message, message
    finally:
        forger.kill()


@pytest.mark.parametrize("lock", ["lock ", ""])
def test_a_hand_made_route_mtu_is_not_a_learned_path_mtu(pmtud, lock):
    d, lab = pmtud
    v = lab.vars
    lab["pc"].cmd(f"ip -6 route add {v['srv']}/128 via {v['r1_office']} dev eth0 mtu {lock}1400",
                  check=True)
    status, message = run(lab, check(d, "pmtu", 0))
    assert status == "fail", message
    assert f"has its MTU set by hand (mtu 1400{' lock' if lock else ''})" in message, message


def test_a_fake_server_on_r1_does_not_complete_the_upload(pmtud):
    """r1 takes over every TCP connection toward the provider's server
    prefix (a redirect to a sink of its own) while Packet Too Big is still
    dropped: pc's upload "succeeds" into r1, and the grader's listener in
    srv, which is what counts, never sees it."""
    d, lab = pmtud
    v = lab.vars
    r1 = lab["r1"]
    r1.cmd("nft add table ip6 fake && nft add chain ip6 fake pre "
           "'{ type nat hook prerouting priority dstnat; }' && "
           f"nft add rule ip6 fake pre ip6 daddr {v['service_prefix']} tcp dport 1-65535 "
           "redirect to :7777 && "
           "nft insert rule inet edge input tcp dport 7777 accept", check=True)
    sink = r1.popen(["socat", "TCP6-LISTEN:7777,reuseaddr,fork", "OPEN:/dev/null"], name="sink")
    try:
        time.sleep(0.3)
        status, message = run(lab, check(d, "upload", 0))
        assert status == "fail", message
        assert "stalled: srv had 0 bytes" in message, message
    finally:
        sink.kill()


def test_a_firewall_that_will_not_load_is_a_clear_refusal(lab_factory):
    """Where r1 cannot load its rule set (a kernel without nftables, here
    simulated by a rule nft rejects), setup stops with one sentence naming
    nft's reason and the kernel options, not a traceback."""
    from v6lab import Error
    d = find_lab("pmtud")
    lab = lab_factory(d.topology(), name=d.id)
    d.initial_state(lab)
    lab["r1"].cmd("echo 'table inet edge { chain input { type filter hook nowhere priority 0; } }'"
                  " > /etc/nftables.conf", check=True)
    with pytest.raises(Error) as e:
        d.setup(lab)
    text = str(e.value)
    assert text.startswith("lab pmtud cannot run on this machine: r1 could not load its firewall")
    assert "CONFIG_NF_TABLES" in text and "nft -f /etc/nftables.conf: " in text
