"""Attacks on lab 12's checks (labs/nat64/checks.py), on a real lab: what a
trainee who is root on gw could do to pass without a working DNS64 or
NAT64, and the check that stops it.

- A fake DNS server on gw with canned answers for every fixed name the
  grader asks (and a guess for the rest), the real unbound running beside
  it: only `dns64_fresh_name`, whose A record the grader itself serves on
  the Internet with a random address, can tell, and it does.
- gw answering for the NAT64 prefix itself (an nftables redirect to a
  local server that accepts every port, echoes, and serves "hello from
  v4only.example.net" with a forged whoami), with the real tayga running:
  the grader's listener in v4only gets no connection and its raw socket
  sees no request, so both translation checks fail.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from v6lab.course import load_lab
from v6lab.grading import Grader

pytestmark = pytest.mark.skipif(
    any(shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin") is None
        for p in ("nsd", "unbound", "nginx", "tayga", "nft")),
    reason="needs nsd, unbound, nginx-light, tayga and nftables (scripts/setup installs them)")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def nat64(lab_factory):
    d = load_lab(ROOT / "labs" / "nat64")
    missing = d.missing_kernel_features()
    if missing:
        pytest.skip("; ".join(missing))
    lab = lab_factory(d.topology(), name=d.id)
    d.initial_state(lab)
    return d, lab


def ungated(d, lab):
    """Every check of every step, gating off: {step: {description: (status, message)}}."""
    g = Grader([dataclasses.replace(s, gated=False) for s in d.steps()])
    return {s.id: [(c.status, c.message) for c in s.checks] for s in g.grade(lab).steps}


FAKE_DNS = r'''
# Self-contained: a node sees the host's programs, not this checkout.
import ipaddress, socket, struct, sys
server, v4only, synth, dual, dual6, disc_a, disc_b, guess = sys.argv[1:9]
canned = {v4only: [synth], dual: [dual6], "ipv4only.arpa": [disc_a, disc_b]}
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((server, 53))
while True:
    data, peer = s.recvfrom(4096)
    qid, i, labels = data[:2], 12, []
    while data[i]:
        labels.append(data[i + 1:i + 1 + data[i]].decode().lower())
        i += 1 + data[i]
    qtype = struct.unpack("!H", data[i + 1:i + 3])[0]
    question = data[12:i + 5]
    # Anything else: a plausible synthesised address, as a wildcard would.
    addrs = canned.get(".".join(labels), [guess]) if qtype == 28 else []
    answers = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", 28, 1, 60, 16)
                       + ipaddress.IPv6Address(a).packed for a in addrs)
    s.sendto(qid + struct.pack("!HHHHH", 0x8180, 1, len(addrs), 0, 0) + question + answers,
             peer)
'''


def test_canned_dns64_fails_the_fresh_name(nat64):
    d, lab = nat64
    v = lab.vars
    d.solve(lab, upto="forwarding")
    gw = lab["gw"]
    gw.wait_addresses_ready("eth0")
    # The real unbound runs (on localhost), so daemon_running passes.
    gw.cmd(["sh", "-c", "cat > /etc/unbound/unbound.conf"], check=True,
           input='server:\n    interface: 127.0.0.1\n    pidfile: /run/unbound.pid\n')
    gw.cmd("unbound", check=True)
    gw.cmd(["sh", "-c", "cat > /root/fake-dns.py"], input=FAKE_DNS, check=True)
    guess = v["nat64_prefix"].replace("/96", "") + "cb00:71c8"
    gw.cmd(f"/usr/bin/python3 /root/fake-dns.py {v['gw_lan']} {v['inet_v4only']} "
           f"{v['nat64_v4only']} {v['inet_dual']} {v['inet_dual6']} {v['discovery_aa']} "
           f"{v['discovery_ab']} {guess} > /root/fake-dns.log 2>&1 &", check=True)
    from v6lab import wait_until
    try:
        wait_until(lambda: lab["pc"].dns_query(v["gw_lan"], v["inet_v4only"], "AAAA",
                                               timeout=0.5).answered, 5, what="the fake DNS")
    except Exception:
        print(gw.cmd("cat /root/fake-dns.log; ss -lnup").stdout)
        raise
    checks = ungated(d, lab)["dns64"]
    # The fake fools every fixed name...
    assert [st for st, _m in checks[:4]] == ["pass"] * 4, checks
    # ...but not a name made up for the grade, whose A record only the grader knows.
    status, message = checks[4]
    assert status == "fail", checks
    assert "the grader's own name" in message and "the Internet's resolver was asked for it: -" \
        in message, message
    assert d.grader().grade(lab).step("dns64").status == "fail"


FAKE_NAT64 = r'''
import socket, threading
BODY = b"hello from v4only.example.net\n198.51.100.2\n"
def serve(c):
    with c:
        data = c.recv(4096)
        if data.startswith(b"GET"):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                      % len(BODY) + BODY)
        else:
            while data:              # the grader's data: echo it, as a server might
                c.sendall(data)
                data = c.recv(4096)
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 8080))
s.listen(16)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
'''


def test_gw_answering_for_the_prefix_fails_both_translation_checks(nat64):
    from v6lab import wait_until
    from v6lab_labs.nat64.solution import TAYGA_TEMPLATE, start_tayga, text
    d, lab = nat64
    v = lab.vars
    d.solve(lab, upto="dns64")
    # The real tayga runs and its routes exist: daemon_running passes...
    start_tayga(lab, text(lab, TAYGA_TEMPLATE))
    gw = lab["gw"]
    # ...but every connection to the prefix is redirected to gw itself.
    gw.cmd(["sh", "-c", "cat > /root/fake-nat64.py"], input=FAKE_NAT64, check=True)
    gw.cmd("/usr/bin/python3 /root/fake-nat64.py > /root/fake-nat64.log 2>&1 &", check=True)
    gw.cmd(f"nft add table ip6 fake && nft 'add chain ip6 fake pre {{ type nat hook prerouting "
           f"priority dstnat; }}' && nft add rule ip6 fake pre ip6 daddr {v['nat64_prefix']} "
           f"tcp dport 1-65535 redirect to :8080", check=True)
    lab["pc"].cmd(["sh", "-c", "cat > /etc/resolv.conf"], input=f"nameserver {v['gw_lan']}\n",
                  check=True)
    # The fake answers pc's own fetch, forged whoami and all.
    wait_until(lambda: b"hello from" in lab["pc"].cmd(
        f"curl -s -m 1 http://{v['inet_v4only']}/").stdout.encode(), 5, what="the fake server")
    checks = ungated(d, lab)
    assert checks["nat64"][0][0] == "pass", checks["nat64"]         # tayga is running
    status, message = checks["nat64"][1]
    assert status == "fail" and "nothing reached v4only" in message, message
    status, message = checks["client"][0]
    assert status == "fail" and "never reached v4only" in message, message
