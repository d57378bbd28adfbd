"""Attacks on the checks that fetch a service's answer and attribute it to
the server's cable (checks.http_fetch, checks.dns_answers_on_wire), on the
real lab 11 (dual-stack-services) with Debian's nginx and nsd: a fake HTTP
responder on the edge router answering for web's address, another node
that took web's (or ns1's) address and serves a canned answer, a DNAT to a
fake server inside the client's own namespace, and the token published
while the server does not listen on IPv6. None may pass. Where the same
fetch without attribution passes, the test says so: the attack is real."""

from __future__ import annotations

import shutil

import pytest

from v6lab import wait_until
from v6lab.course import find_lab
from v6lab.grading import checks as c, wire

pytestmark = pytest.mark.skipif(
    any(shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin") is None
        for p in ("nsd", "unbound", "nginx", "python3")),
    reason="needs nsd, unbound and nginx-light (scripts/setup installs them)")

FAKE_HTTP = """
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
body = open(sys.argv[3], "rb").read()
while True:
    conn, _ = s.accept()
    conn.recv(4096)
    conn.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\n" + body)
    conn.close()
"""

# Answers every query with one AAAA record: the address in argv[2].
FAKE_DNS = """
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
while True:
    q, peer = s.recvfrom(512)
    i = 12
    while q[i]:
        i += 1 + q[i]
    question = q[12:i + 5]
    rr = b"\\xc0\\x0c" + struct.pack("!HHIH", 28, 1, 30, 16) + socket.inet_pton(socket.AF_INET6, sys.argv[2])
    s.sendto(q[:2] + b"\\x84\\x00" + struct.pack("!HHHH", 1, 1, 0, 0) + question + rr, peer)
"""


@pytest.fixture
def lab11(lab_factory):
    """Lab 11 built and started as `v6lab start` does."""
    d = find_lab("dual-stack-services")
    lab = lab_factory(d.topology(), name=d.id)
    d.initial_state(lab)
    return d, lab


def nonce_of(lab) -> str:
    return lab["edge"].read_file("/var/lib/v6lab/nonce").decode().strip()


def run_fake(lab, node: str, script: str, *args: str) -> None:
    n = lab[node]
    n.cmd(["sh", "-c", "cat > /tmp/fake.py"], input=script, check=True)
    n.cmd(["sh", "-c", 'python3 /tmp/fake.py "$@" > /tmp/fake.log 2>&1 &', "fake", *args],
          check=True)


def fetch(lab, src: str = "v6only", *, server="web"):
    v = lab.vars
    return c.http_fetch(src, v["web6"], v["nonce_path"], host=v["www"], expect=nonce_of,
                        server=server).run(lab)


def test_a_solved_lab_passes_and_is_attributed_to_web(lab11):
    d, lab = lab11
    d.solve(lab)
    status, message = fetch(lab)[:2]
    assert status == "pass", message
    assert "seen leaving web's cable" in message


def test_the_token_on_a_server_that_does_not_listen_on_ipv6_fails(lab11):
    d, lab = lab11
    v = lab.vars
    d.solution["nonce"](lab)        # the file is there; nginx still says listen 80;
    status, message = fetch(lab)[:2]
    assert status == "fail"
    assert message == f"v6only cannot connect to [{v['web6']}]:80: connection refused"
    # Over IPv4 the same token is served: only IPv6 is missing.
    assert c.http_fetch("v4only", v["web4"], v["nonce_path"], expect=nonce_of).run(lab)[0] == "pass"


def test_a_fake_responder_on_the_edge_router_does_not_pass(lab11):
    """edge takes web's address for itself and answers with the token: the
    grader gets the right text over IPv6, but nothing web sent carried it."""
    d, lab = lab11
    v = lab.vars
    lab["edge"].cmd(["sh", "-c", f"echo {nonce_of(lab)} > /tmp/body; "
                     f"ip -6 addr add {v['web6']}/128 dev lo nodad"], check=True)
    run_fake(lab, "edge", FAKE_HTTP, v["web6"], "80", "/tmp/body")
    wait_until(lambda: lab["v6only"].tcp_connect(v["web6"], 80, timeout=0.5).ok, 3,
               what="the fake responder on edge")
    assert c.http_fetch("v6only", v["web6"], v["nonce_path"], expect=nonce_of).run(lab)[0] == "pass"
    status, message = fetch(lab)[:2]
    assert status == "fail"
    assert message == (f"the answer v6only got from [{v['web6']}]:80 did not come from web: "
                       "nothing web sent carried it")


def test_another_node_that_took_webs_address_does_not_pass(lab11):
    """ns1 (on web's LAN) takes web's address and serves the token: the
    answer came in on ns1's cable."""
    d, lab = lab11
    v = lab.vars
    lab["web"].cmd(f"ip -6 addr del {v['web6']}/64 dev eth0", check=True)
    lab["ns1"].cmd(["sh", "-c", f"echo {nonce_of(lab)} > /tmp/body; "
                    f"ip -6 addr add {v['web6']}/64 dev eth0 nodad"], check=True)
    # What an attacker's unsolicited Neighbour Advertisement would do.
    lab["edge"].cmd(f"ip -6 neigh flush to {v['web6']}", check=True)
    run_fake(lab, "ns1", FAKE_HTTP, v["web6"], "80", "/tmp/body")
    wait_until(lambda: lab["v6only"].tcp_connect(v["web6"], 80, timeout=0.5).ok, 3,
               what="the fake responder on ns1")
    status, message = fetch(lab)[:2]
    assert status == "fail"
    assert message == (f"the answer v6only got from [{v['web6']}]:80 did not come from web: "
                       "it came in on ns1's cable")


def test_a_dnat_to_a_fake_server_inside_the_client_does_not_pass(lab11):
    """A client the trainee controls redirects port 80 to a server of its
    own: the grader's socket there gets the token, web sent nothing."""
    d, lab = lab11
    v = lab.vars
    ds = lab["dsclient"]
    ds.cmd(["sh", "-c", f"echo {nonce_of(lab)} > /tmp/body"], check=True)
    run_fake(lab, "dsclient", FAKE_HTTP, "::1", "8080", "/tmp/body")
    ds.cmd(["nft", "-f", "-"], input=(
        "table ip6 fake {\n chain out {\n  type nat hook output priority -100; policy accept;\n"
        "  tcp dport 80 dnat to [::1]:8080\n }\n}\n"), check=True)
    wait_until(lambda: ds.tcp_connect("::1", 8080, timeout=0.5).ok, 3, what="the fake server")
    plain = c.http_fetch("dsclient", v["web6"], v["nonce_path"], expect=nonce_of).run(lab)
    assert plain[0] == "pass", plain[1]
    status, message = fetch(lab, "dsclient")[:2]
    assert status == "fail"
    assert message.startswith(f"the answer dsclient got from [{v['web6']}]:80 did not come from "
                              "web")


def test_a_fake_dns_answer_from_another_node_does_not_pass(lab11):
    """web takes ns1's address and answers www AAAA itself: the probe that
    trusts the asking namespace passes, the attributed one does not."""
    d, lab = lab11
    v = lab.vars
    lab["ns1"].cmd(f"ip -6 addr del {v['ns1_6']}/64 dev eth0", check=True)
    lab["web"].cmd(f"ip -6 addr add {v['ns1_6']}/64 dev eth0 nodad", check=True)
    lab["edge"].cmd(f"ip -6 neigh flush to {v['ns1_6']}", check=True)
    run_fake(lab, "web", FAKE_DNS, v["ns1_6"], v["web6"])
    wait_until(lambda: lab["v6only"].dns_query(v["ns1_6"], v["www"], "AAAA", timeout=0.5).answers,
               3, what="the fake DNS server on web")
    plain = c.dns_answers("v6only", v["ns1_6"], v["www"], "AAAA", expect=v["web6"]).run(lab)
    assert plain[0] == "pass", plain[1]
    status, message = c.dns_answers_on_wire("v6only", "ns1", v["www"], "AAAA", expect=v["web6"],
                                            address=v["ns1_6"]).run(lab)[:2]
    assert status == "fail"
    assert message == (f"the DNS answer v6only got from {v['ns1_6']} for {v['www']} AAAA did not "
                       "come from ns1: it came in on web's cable")


def test_tcp_segments_decode():
    """decode_tcp on a hand-made frame: ports, flags, sequence numbers and
    the payload after the options; a runt or a bad data offset is None."""
    import struct
    ip6 = bytes(16)
    tcp = struct.pack("!HHIIBBHHH", 80, 40000, 1000, 2000, 6 << 4, 0x18, 65535, 0, 0) + \
        b"\x01\x01\x01\x01" + b"HTTP/1.0 200 OK\r\n"
    ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + ip6 + ip6
    frame = b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd" + ip + tcp
    p = wire.decode_tcp(frame)
    assert (p.sport, p.dport, p.seq, p.ack, p.flags) == (80, 40000, 1000, 2000, 0x18)
    assert p.payload == b"HTTP/1.0 200 OK\r\n"
    assert wire.decode_tcp(frame[:60]) is None
    bad = frame[:54] + tcp[:12] + bytes([15 << 4]) + tcp[13:]
    assert wire.decode_tcp(bad) is None
    assert wire.decode(frame) is None and wire.decode_udp(frame) is None
