"""Attacks on lab 14's checks (labs/icmpv6-firewall/checks.py): a trainee
who is root on fw answers the grader's probes from fw itself instead of
letting them through, and the check must fail (a failure, not a grader
error). One lab is built for the module with the reference solution; each
test changes fw, grades one check and puts fw back. The fakes run on fw
with python3 and nftables, as a trainee would write them."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from v6lab import Lab
from v6lab.course import find_lab

D = find_lab("icmpv6-firewall")
V = D.vars

NA_FAKE = """import socket, struct, sys, time
target, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex("eth0"))
na = bytes([136, 0, 0, 0, 0xe0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, target) \\
    + bytes([2, 1]) + mac
while True:
    s.sendto(na, ("ff02::1", 0, 0, socket.if_nametoindex("eth0")))
    time.sleep(0.02)
"""

PTB_FAKE = """import os, socket, struct, sys, time
srv, remote = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
inner = struct.pack("!IHBB", 6 << 28, 1400, 6, 63) + socket.inet_pton(socket.AF_INET6, srv) \\
    + socket.inet_pton(socket.AF_INET6, remote) + os.urandom(40)
while True:
    s.sendto(bytes([2, 0, 0, 0]) + struct.pack("!I", 1280) + inner, (srv, 0))
    time.sleep(0.02)
"""

ECHO_SERVER = """import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept()
    try:
        if sys.argv[2] == "http":
            c.recv(4096)
            c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nfake\\n")
        else:
            c.sendall(c.recv(4096))
    except OSError:
        pass
    c.close()
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    from v6lab import _core
    why = _core.namespace_support()
    if why:
        pytest.skip(why)
    with Lab(D.topology(), name="fwcheck") as lab:
        D.initial_state(lab)
        D.solve(lab)
        yield lab


@pytest.fixture
def fw(lab: Lab) -> Iterator[Lab]:
    """The lab with fw as the solution leaves it; afterwards fw's fakes are
    stopped (by their PIDs) and the solution's ruleset is loaded again."""
    started: list = []
    lab.started = started     # type: ignore[attr-defined]
    yield lab
    for p in started:
        p.kill()
        p.wait(5)
    D.solution["echo"](lab)


def load(lab: Lab, text: str) -> None:
    from v6lab_labs.icmpv6_firewall.solution import load as load_ruleset
    load_ruleset(lab, text)


def fake(lab: Lab, script: str, *args: str) -> None:
    p = lab["fw"].popen(["python3", "-c", script, *args], name="fake")
    lab.started.append(p)  # type: ignore[attr-defined]
    time.sleep(0.3)       # python3 starts and opens its socket


def grade(lab: Lab, step: str, index: int) -> tuple[str, str]:
    check = D.grader().step(step).checks[index]
    status, message, _seconds = check.run(lab)
    for p in lab.started:     # type: ignore[attr-defined]
        assert p.poll() is None, f"the fake on fw died: {p.log_path.read_text()}"
    return status, message


def test_solution_passes_every_check(fw: Lab) -> None:
    # The attacks below fail because of the fake, not because the lab is down.
    report = D.grader().grade(fw)
    assert report.score == 100, report.to_json()


def test_canned_neighbour_advertisements_do_not_answer_the_grader(fw: Lab) -> None:
    # All ICMPv6 dropped on input; fw's own program advertises its address
    # to all nodes, 50 times a second, with S and O set.
    from v6lab_labs.icmpv6_firewall.solution import ruleset
    load(fw, ruleset("block-inbound"))
    fake(fw, NA_FAKE, V["fw_wan"], fw["fw"].link("eth0").mac)
    status, message = grade(fw, "ndp", 0)
    assert status == "fail", message
    assert "did not answer the grader's Neighbour Solicitation" in message


def test_canned_packet_too_big_is_not_the_grader_s(fw: Lab) -> None:
    # Forward drops ICMPv6 errors (ct established only); fw itself sends srv
    # Packet Too Big messages of its own.
    from v6lab_labs.icmpv6_firewall.mistakes import established_only
    established_only(fw)
    fake(fw, PTB_FAKE, V["srv"], "3fff:1::1")
    status, message = grade(fw, "stateful", 1)
    assert status == "fail", message
    assert "never left fw toward srv" in message


def test_fake_web_server_on_fw_is_not_srv(fw: Lab) -> None:
    # fw redirects srv's port 80 to a web server of its own, which answers 200.
    from v6lab_labs.icmpv6_firewall.solution import ruleset
    load(fw, ruleset("echo", add=[("input", "tcp dport 8080 accept", None)]) + f"""
table ip6 fake {{
	chain prerouting {{
		type nat hook prerouting priority dstnat;
		ip6 daddr {V['srv']} tcp dport 80 redirect to :8080
	}}
}}
""")
    fake(fw, ECHO_SERVER, "8080", "http")
    status, message = grade(fw, "publish", 0)
    assert status == "fail", message
    assert "web server never saw the grader's request" in message


def test_fake_internet_on_fw_does_not_reach_out(fw: Lab) -> None:
    # pc's new connections are redirected to a server on fw that echoes.
    from v6lab_labs.icmpv6_firewall.solution import ruleset
    load(fw, ruleset("echo", add=[("input", "tcp dport 9000 accept", None)]) + """
table ip6 fake {
	chain prerouting {
		type nat hook prerouting priority dstnat;
		iifname "eth1" tcp dport != 80 redirect to :9000
	}
}
""")
    fake(fw, ECHO_SERVER, "9000", "echo")
    status, message = grade(fw, "stateful", 0)
    assert status == "fail", message
    assert "never saw it: something on the way answered in its place" in message


def test_fw_answering_ping_for_srv_is_not_srv(fw: Lab) -> None:
    # Echo Requests for srv are turned toward fw, which answers them; the
    # reply leaves fw with srv's address as its source.
    from v6lab_labs.icmpv6_firewall.solution import ruleset
    load(fw, ruleset("echo") + f"""
table ip6 fake {{
	chain prerouting {{
		type nat hook prerouting priority dstnat;
		ip6 daddr {V['srv']} icmpv6 type echo-request dnat to {V['fw_inside']}
	}}
}}
""")
    status, message = grade(fw, "echo", 0)
    assert status == "fail", message
    assert "never reached srv's cable" in message
    # The fake works: a ping to srv from the Internet side gets a reply.
    assert fw["outside"].ping(V["srv"], timeout=1.0).received == 1


def test_refusing_with_a_reset_blocks_too(fw: Lab) -> None:
    # Not an attack: a firewall that rejects new inbound connections with a
    # TCP reset (or an ICMPv6 error) blocks them as well as one that drops.
    from v6lab_labs.icmpv6_firewall.solution import ruleset
    text = ruleset("echo")
    text = text.replace('\t\tip6 daddr ${srv} tcp dport 80 accept\n',
                        '\t\tip6 daddr ${srv} tcp dport 80 accept\n'
                        '\t\tiifname "eth0" meta l4proto tcp reject with tcp reset\n')
    text = text.replace("\t\ticmpv6 type echo-request limit rate 10/second accept\n\t}\n\tchain",
                        "\t\ticmpv6 type echo-request limit rate 10/second accept\n"
                        "\t\tmeta l4proto tcp reject with tcp reset\n\t}\n\tchain")
    load(fw, text)
    status, message = grade(fw, "block-inbound", 0)
    assert status == "pass", message
    assert "(refused)" in message


def test_blocking_only_high_ports_leaves_ssh_open(fw: Lab) -> None:
    # "Block everything above 1024": well-known ports such as ssh (22) stay
    # open from the Internet; the grader always tries srv's.
    load(fw, """#!/usr/sbin/nft -f
flush ruleset
table inet edge {
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		iifname "eth0" tcp dport 1024-65535 drop
	}
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
		iifname "eth0" tcp dport 1024-65535 drop
	}
}
""")
    status, message = grade(fw, "block-inbound", 0)
    assert status == "fail", message
    assert "reached" in message and "fw lets new inbound IPv6 connections in" in message
