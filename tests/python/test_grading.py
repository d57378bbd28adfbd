"""The grader against real peers: every library check passes on a correct
lab and fails on a wrong one; probes meet a real kernel, radvd, dnsmasq and
a TCP listener, and the negatives (absent address, service down, nftables
drop); fakes inside a node change nothing."""

from __future__ import annotations

import json
import threading
import time
from xml.etree import ElementTree as ET

import pytest

from conftest import ROOT
from v6lab import Lab, Topo
from v6lab.grading import Check, Grader, Step, checks as c

DNSMASQ = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
           "--listen-address=2001:db8:2::30", "--bind-interfaces", "--port=53",
           "--host-record=www.lab.example,2001:db8:2::80,192.0.2.80",
           "--host-record=v4only.lab.example,192.0.2.5", "--local=/lab.example/",
           "--pid-file=/run/dnsmasq-test.pid"]


@pytest.fixture(scope="module")
def lab(v6lab_available):
    lab = Lab(ROOT / "examples" / "small.yaml", name="grading")
    lab.start()
    try:
        for n in lab:
            n.wait_addresses_ready()
        lab["h3"].popen(DNSMASQ, name="dnsmasq")
        lab["h3"].popen(["python3", "-m", "http.server", "--bind", "2001:db8:2::30", "8080"],
                        name="http", cwd="/")
        from v6lab import wait_until
        wait_until(lambda: lab["h1"].tcp_connect("2001:db8:2::30", 8080, timeout=0.5).ok, 10,
                   what="the web server on h3")
        wait_until(lambda: lab["h1"].dns_query("2001:db8:2::30", "www.lab.example").answered, 10,
                   what="dnsmasq on h3")
        yield lab
    finally:
        lab.stop()


def run(check: Check, lab) -> tuple[str, str]:
    status, msg, _ = check.run(lab)
    return status, msg


# (name, passing check, failing check, a part of the failure message)
CASES = [
    ("has_address", c.has_address("h1", "2001:db8:1::/64", iface="eth0"),
     c.has_address("h1", "2001:db8:99::/64"), "h1 has no address in 2001:db8:99::/64 (it has: 2001:db8:1::10/64, fe80::"),
    ("has_address_flags", c.has_address("h1", "2001:db8:1::/64", flags=("permanent",)),
     c.has_address("h1", "2001:db8:1::/64", flags=("dynamic",)), "has 2001:db8:1::10/64 but it lacks dynamic"),
    ("has_address_len", c.has_address("h1", "2001:db8:1::/64", prefix_len=64),
     c.has_address("h1", "2001:db8:1::/64", prefix_len=128), "prefix length /64, expected /128"),
    ("link_local", c.link_local("h1", "eth0", eui64=True),
     c.link_local("h1", "eth0", eui64=False), "is EUI-64 (from the MAC)"),
    ("default_route", c.default_route("h1", via="2001:db8:1::1", protocol="static"),
     c.default_route("h1", protocol="ra"), "h1's default route is not the expected one (it has: via 2001:db8:1::1 proto static)"),
    ("default_route_missing", c.default_route("h2"), c.default_route("r1"), "r1 has no default route"),
    ("route_present", c.route_present("h3", "::/0", via="2001:db8:2::1"),
     c.route_present("h3", "2001:db8:55::/64"), "h3 has no route to 2001:db8:55::/64"),
    ("sysctl_equals", c.sysctl_equals("r1", "net.ipv6.conf.all.forwarding", 1),
     c.sysctl_equals("h1", "net.ipv6.conf.all.forwarding", 1), "h1: net.ipv6.conf.all.forwarding is 0, expected 1"),
    ("link_up", c.link_up("r1", "eth1", mtu=1500), c.link_up("r1", "eth1", mtu=1400),
     "r1:eth1 has MTU 1500, expected 1400"),
    ("daemon_running", c.daemon_running("h3", "dnsmasq"), c.daemon_running("h2", "dnsmasq"),
     "dnsmasq is not running on h2"),
    ("reachable", c.reachable("h1", "h3"), c.reachable("h1", "2001:db8:2::99", timeout=0.5),
     "h1 cannot reach 2001:db8:2::99"),
    ("reachable_no_route", c.reachable("h3", "h1"), c.reachable("h3", "2001:db8:77::1", timeout=0.5),
     "no route from 2001:db8:2::1"),
    ("not_reachable", c.not_reachable("h1", "2001:db8:2::99", timeout=0.5),
     c.not_reachable("h1", "h3"), "h1 still reaches h3"),
    ("tcp_service", c.tcp_service("h1", "h3", 8080, send="GET / HTTP/1.0\r\n\r\n", expect=b"200"),
     c.tcp_service("h1", "h3", 8081), "cannot connect to [2001:db8:2::30]:8081: connection refused"),
    ("dns_answers", c.dns_answers("h1", "h3", "www.lab.example", "AAAA", expect="2001:db8:2::80"),
     c.dns_answers("h1", "h3", "www.lab.example", "AAAA", expect="2001:db8:2::81"),
     "answers www.lab.example AAAA with 2001:db8:2::80, not 2001:db8:2::81"),
    ("dns_answers_a", c.dns_answers("h2", "h3", "www.lab.example", "A", expect="192.0.2.80"),
     c.dns_answers("h1", "h3", "v4only.lab.example"), "h3 has no AAAA record for v4only.lab.example"),
    ("dns_nxdomain", c.dns_answers("h1", "h3", "www.lab.example"),
     c.dns_answers("h1", "h3", "nothere.lab.example"), "h3 answered NXDOMAIN for nothere.lab.example AAAA"),
    ("dns_server_down", c.dns_answers("h1", "h3", "www.lab.example"),
     c.dns_answers("h1", "h2", "www.lab.example", timeout=0.5), "no DNS answer from h2"),
]


@pytest.mark.parametrize("name,good,bad,why", CASES, ids=[x[0] for x in CASES])
def test_check_passes_and_fails(lab, name, good, bad, why):
    assert run(good, lab)[0] == "pass", run(good, lab)
    status, msg = run(bad, lab)
    assert status == "fail", (status, msg)
    assert why in msg, msg


def test_neighbour_and_bad_address_checks(lab):
    ok = c.neighbour_present("h1", "2001:db8:1::20", lladdr_of="h2:eth0")
    assert lab["h1"].ping("2001:db8:1::20").received == 1
    assert run(ok, lab)[0] == "pass"
    status, msg = run(c.neighbour_present("h1", "2001:db8:1::77"), lab)
    assert status == "fail" and "no neighbour entry for 2001:db8:1::77" in msg
    status, msg = run(c.neighbour_present("h1", "2001:db8:1::20", lladdr_of="h3:eth0"), lab)
    assert status == "fail" and "maps 2001:db8:1::20 to" in msg
    # A seeded duplicate: DAD fails on h2's second address.
    lab["h2"].cmd("ip -6 addr add 2001:db8:1::10/64 dev eth0", check=True)
    try:
        status, msg = run(c.no_bad_addresses("h2", within=3), lab)
        assert status == "fail" and "2001:db8:1::10/64 on eth0 (duplicate: DAD failed)" in msg
        assert run(c.no_bad_addresses("h1", within=0), lab)[0] == "pass"
    finally:
        lab["h2"].cmd("ip -6 addr del 2001:db8:1::10/64 dev eth0", check=True)


def test_ping_probe_reports_icmp_errors(lab):
    h1 = lab["h1"]
    r = h1.ping("2001:db8:2::30", count=3)
    assert (r.sent, r.received) == (3, 3) and all(x.rtt_ms > 0 for x in r.replies)
    assert r.replies[0].source == "2001:db8:2::30" and r.replies[0].hop_limit == 63
    te = h1.ping("2001:db8:2::30", hop_limit=1).errors
    assert [(e.kind, e.source) for e in te] == [("time-exceeded", "2001:db8:1::1")]
    un = h1.ping("2001:db8:77::1").errors
    assert [(e.kind, e.detail) for e in un] == [("unreachable", "no route")]
    tr = h1.traceroute("2001:db8:2::30")
    assert tr.reached and [h.source for h in tr.hops] == ["2001:db8:1::1", "2001:db8:2::30"]
    # Path MTU: shrink r1 <-> h3 to 1400; a 1452-byte payload with DF gets
    # Packet Too Big from r1, then the sender's stack knows the path MTU.
    lab["r1"].cmd("ip link set eth1 mtu 1400", check=True)
    lab["h3"].cmd("ip link set eth0 mtu 1400", check=True)
    try:
        r = h1.ping("2001:db8:2::30", size=1452, dont_fragment=True, count=2)
        assert r.received == 0
        ptb = [e for e in r.errors if e.kind == "packet-too-big"]
        assert ptb and ptb[0].mtu == 1400 and ptb[0].source == "2001:db8:1::1"
        assert r.path_mtu == 1400
        assert h1.ping("2001:db8:2::30", size=1352, dont_fragment=True).received == 1
    finally:
        lab["r1"].cmd("ip link set eth1 mtu 1500", check=True)
        lab["h3"].cmd("ip link set eth0 mtu 1500", check=True)
    # Link-local needs a zone; with one it works.
    ll = [a.address for a in lab["h2"].addresses("eth0", 6) if a.scope == "link"][0]
    assert h1.ping(ll, iface="eth0").received == 1
    assert h1.ping(f"{ll}%eth0").received == 1
    with pytest.raises(Exception, match="needs an interface"):
        h1.ping(ll)


def test_nftables_drop_and_reject_are_seen(lab):
    h3 = lab["h3"]
    h3.cmd("nft add table inet v6labtest && nft add chain inet v6labtest in "
           "'{ type filter hook input priority 0; }' && nft add rule inet v6labtest in "
           "icmpv6 type echo-request drop && nft add rule inet v6labtest in tcp dport 8080 drop",
           check=True)
    try:
        status, msg = run(c.reachable("h1", "h3", timeout=0.5), lab)
        assert status == "fail" and "no reply within 0.5 s" in msg
        assert run(c.not_reachable("h1", "h3", timeout=0.5), lab)[0] == "pass"
        status, msg = run(c.tcp_service("h1", "h3", 8080, timeout=0.5), lab)
        assert status == "fail" and msg.endswith("8080: timed out")
        # A reject instead of a drop is reported as what it is.
        h3.cmd("nft flush chain inet v6labtest in && nft add rule inet v6labtest in "
               "icmpv6 type echo-request reject with icmpv6 type admin-prohibited && "
               "nft add rule inet v6labtest in tcp dport 8080 reject with tcp reset", check=True)
        status, msg = run(c.reachable("h1", "h3", timeout=0.5), lab)
        assert status == "fail" and "administratively prohibited from 2001:db8:2::30" in msg
        status, msg = run(c.tcp_service("h1", "h3", 8080, timeout=0.5), lab)
        assert status == "fail" and msg.endswith("8080: connection refused")
    finally:
        h3.cmd("nft delete table inet v6labtest", check=True)
    assert run(c.reachable("h1", "h3"), lab)[0] == "pass"
    assert run(c.tcp_service("h1", "h3", 8080), lab)[0] == "pass"


def test_dns_probe_decodes_answers(lab):
    h1 = lab["h1"]
    r = h1.dns_query("2001:db8:2::30", "www.lab.example", "AAAA")
    assert r.answered and r.rcode == "NOERROR"
    assert [(a.name, a.type, a.data) for a in r.answers] == [("www.lab.example", "AAAA", "2001:db8:2::80")]
    ptr = h1.dns_query("2001:db8:2::30",
                       "0.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR")
    assert [a.data for a in ptr.answers] == ["www.lab.example"]
    nx = h1.dns_query("2001:db8:2::30", "nothere.lab.example", "AAAA")
    assert nx.answered and nx.answers == [] and nx.rcode == "NXDOMAIN"
    down = h1.dns_query("2001:db8:1::20", "www.lab.example", timeout=0.5)
    assert not down.answered and down.error == "connection refused"


def test_tamper_inside_a_node_changes_nothing(lab):
    """The trainee is root in h1: fake ping and ip that always succeed, a
    fake 'radvd' process, and files edited at will. Grades stay the same."""
    h1 = lab["h1"]
    h1.cmd("printf '#!/bin/sh\\necho \"1 packets transmitted, 1 received\"\\nexit 0\\n' > /tmp/fake && "
           "chmod +x /tmp/fake && mount --bind /tmp/fake /usr/bin/ping && "
           "mount --bind /tmp/fake /usr/bin/ip && mount --bind /tmp/fake /usr/sbin/ip", check=True)
    assert "1 received" in h1.cmd("ping -c1 2001:db8:2::99").stdout  # the fake works in the node
    h1.cmd("cp /usr/bin/sleep /tmp/radvd && (/tmp/radvd 60 >/dev/null 2>&1 &)", check=True)
    h1.cmd("echo 'interface eth0 { AdvSendAdvert on; };' > /etc/radvd.conf", check=True)
    grader = Grader([
        Step("reach", "reach", [c.reachable("h1", "2001:db8:2::99", timeout=0.5)], gated=False),
        Step("addr", "addr", [c.has_address("h1", "2001:db8:99::/64")], gated=False),
        Step("radvd", "radvd", [c.daemon_running("h1", "radvd")], gated=False),
        Step("ra", "ra", [c.ra_on_link("h2", "eth0", within=0.5)], gated=False),
    ])
    report = grader.grade(lab)
    assert [s.status for s in report.steps] == ["fail"] * 4, report.to_json()
    assert "is not /usr/sbin/radvd" in report.step("radvd").message
    assert report.score == 0
    # Not vacuous: the same grader passes where the facts hold.
    assert run(c.reachable("h1", "h3"), lab)[0] == "pass"


def test_ra_checks_against_real_radvd(v6lab_available, lab_factory):
    t = Topo("ra")
    t.add_lan("lan")
    t.add_router("r1", image="ra-router")
    t.add_host("h1")
    t.add_link("r1", "lan", addrs_a=["2001:db8:5::1/64"])
    t.add_link("h1", "lan")
    lab = lab_factory(t)
    r1 = lab["r1"]
    r1.wait_addresses_ready()
    r1.cmd("cat > /etc/radvd.conf <<'EOF'\n"
           "interface eth0 { AdvSendAdvert on; AdvManagedFlag on; AdvOtherConfigFlag on;\n"
           "  AdvDefaultPreference high; AdvLinkMTU 1480; MaxRtrAdvInterval 30;\n"
           "  prefix 2001:db8:5::/64 { AdvAutonomous on; AdvValidLifetime 7200; AdvPreferredLifetime 3600; };\n"
           "  prefix 2001:db8:6::/64 { AdvAutonomous off; };\n"
           "  RDNSS 2001:db8:5::53 { AdvRDNSSLifetime 600; };\n"
           "  DNSSL lab.example { };\n"
           "};\nEOF", check=True)
    r1.popen(["radvd", "-n", "-m", "stderr", "-p", "/run/radvd.pid"], name="radvd")
    ras = []
    deadline = time.monotonic() + 10
    while not ras and time.monotonic() < deadline:
        ras = lab["h1"].router_adverts("eth0", duration=1.0)
    assert ras, "no RA from radvd"
    ra = ras[0]
    assert ra.hop_limit == 255 and ra.managed and ra.other and ra.preference == "high"
    assert ra.router_lifetime > 0 and ra.mtu == 1480
    assert ra.source_lladdr == r1.link("eth0").mac
    assert ra.source == [a.address for a in r1.addresses("eth0", 6) if a.scope == "link"][0]
    p = {x.prefix: x for x in ra.prefixes}
    assert p["2001:db8:5::/64"].autonomous and p["2001:db8:5::/64"].on_link
    assert (p["2001:db8:5::/64"].valid_lifetime, p["2001:db8:5::/64"].preferred_lifetime) == (7200, 3600)
    assert not p["2001:db8:6::/64"].autonomous
    assert ra.rdnss == ["2001:db8:5::53"] and ra.rdnss_lifetime == 600
    assert ra.dnssl == ["lab.example"]
    good = c.ra_on_link("h1", "eth0", managed=True, other=True, prefixes=["2001:db8:5::/64"],
                        rdnss=["2001:db8:5::53"])
    assert run(good, lab)[0] == "pass"
    status, msg = run(c.ra_on_link("h1", "eth0", managed=False, prefixes=["2001:db8:6::/64"]), lab)
    assert status == "fail" and "M flag is 1" in msg and "prefix 2001:db8:6::/64 has A=0" in msg
    assert run(c.daemon_running("r1", "radvd"), lab)[0] == "pass"
    # The host really configured itself from it (SLAAC and a default route via RA).
    slaac = c.has_address("h1", "2001:db8:5::/64", flags=("dynamic",), within=10)
    assert run(slaac, lab)[0] == "pass"
    assert run(c.default_route("h1", via="r1:eth0", protocol="ra", within=5), lab)[0] == "pass"


def test_check_that_raises_is_an_error_never_a_pass(lab):
    def broken(_lab):
        raise KeyError("oops")
    grader = Grader([Step("s", "broken", [Check("broken", broken), c.reachable("h1", "h3")],
                          points=2)])
    report = grader.grade(lab)
    s = report.step("s")
    assert s.status == "error" and not report.passed and report.has_errors
    assert s.checks[0].status == "error" and "grader error: KeyError" in s.checks[0].message
    assert s.earned == 1.0  # partial credit for the check that passed


def test_gating_partial_credit_and_hints(lab):
    steps = [
        Step("one", "first", [c.has_address("h1", "2001:db8:1::/64"),
                              c.has_address("h1", "2001:db8:99::/64")], points=4,
             hints=["first hint", "second hint"]),
        Step("two", "gated", [c.reachable("h1", "h3")]),
        Step("three", "free", [c.reachable("h1", "h3")], gated=False),
        Step("four", "all or nothing", [c.reachable("h1", "h3"), c.has_address("h2", "2001:db8:99::/64")],
             gated=False, partial=False),
    ]
    report = Grader(steps).grade(lab, hints_shown={"one": 2})
    one, two, three, four = report.steps
    assert (one.status, one.earned, one.hint) == ("fail", 2.0, "second hint")
    assert two.status == "skipped" and two.message == "complete step 'one' first"
    assert two.checks[0].status == "skipped"
    assert (three.status, three.earned) == ("pass", 1.0)
    assert (four.status, four.earned) == ("fail", 0.0)
    assert (report.earned, report.possible, report.score) == (3.0, 7.0, 42.9)
    with pytest.raises(ValueError, match="could not fail"):
        Step("empty", "no checks", [])


def test_within_waits_for_late_state(lab):
    h2 = lab["h2"]

    def add_later():
        time.sleep(0.5)
        h2.cmd("ip -6 addr add 2001:db8:1::222/64 dev eth0 nodad")
    t = threading.Thread(target=add_later)
    t.start()
    try:
        assert run(c.has_address("h2", "2001:db8:1::222/128"), lab)[0] == "fail"
        # Nothing in flight (no such address, not even tentative): a state
        # check answers at once, whatever its window...
        t0 = time.monotonic()
        assert run(c.has_address("h2", "2001:db8:1::222/128", within=5), lab)[0] == "fail"
        assert time.monotonic() - t0 < 0.3
        # ...unless the lab asks to wait for state whose progress the
        # grader cannot see (an address a daemon will add).
        status, _ = run(c.has_address("h2", "2001:db8:1::222/128", within=5)
                        .with_options(retry="any"), lab)
        assert status == "pass"
    finally:
        t.join()
        h2.cmd("ip -6 addr del 2001:db8:1::222/64 dev eth0")


def test_within_waits_for_dad_and_says_so(lab):
    h2 = lab["h2"]
    h2.cmd("ip -6 addr add 2001:db8:1::223/64 dev eth0", check=True)  # DAD runs ~1 s
    try:
        status, msg = run(c.has_address("h2", "2001:db8:1::223/128", within=5), lab)
        assert status == "pass" and "waited" in msg and "tentative" in msg, msg
    finally:
        h2.cmd("ip -6 addr del 2001:db8:1::223/64 dev eth0")


def test_reports_in_every_format(lab):
    grader = Grader([
        Step("ok", "passes", [c.reachable("h1", "h3")], points=2),
        Step("bad", "fails", [c.has_address("h1", "2001:db8:99::/64")], hints=["add it"]),
        Step("later", "skipped", [c.reachable("h1", "h2")]),
    ])
    report = grader.grade(lab)
    d = json.loads(report.to_json())
    assert d["schema"] == "v6lab-report/1" and d["lab"] == "grading"
    assert (d["earned"], d["possible"], d["score"], d["passed"]) == (2.0, 4.0, 50.0, False)
    assert [s["status"] for s in d["steps"]] == ["pass", "fail", "skipped"]
    assert d["steps"][1]["hint"] == "add it" and d["steps"][1]["checks"][0]["message"].startswith("h1 has no address")
    root = ET.fromstring(report.to_junit())
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("skipped") == "1"
    assert root.find(".//failure").get("message").startswith("h1 has no address")
    tap = report.to_tap().splitlines()
    assert tap[:2] == ["TAP version 13", "1..3"]
    assert tap[2].startswith("ok 1 - ok:") and tap[3].startswith("not ok 2 - bad:")
    assert any("# SKIP" in line for line in tap)


def test_grading_is_read_only(lab):
    def snapshot():
        return {n.name: (sorted(a.cidr for a in n.addresses()),
                         sorted((r.dst, r.protocol) for r in n.routes()),
                         sorted((link.name, link.up, link.mtu) for link in n.links()),
                         n.sysctl("net.ipv6.conf.all.forwarding"))
                for n in lab}
    before = snapshot()
    grader = Grader([Step("all", "everything", [
        c.reachable("h1", "h3"), c.not_reachable("h1", "2001:db8:2::99", timeout=0.3),
        c.tcp_service("h1", "h3", 8080), c.dns_answers("h2", "h3", "www.lab.example"),
        c.default_route("h3"), c.sysctl_equals("r1", "net.ipv6.conf.all.forwarding", 1),
        c.ra_on_link("h1", "eth0", within=0.3)])])
    grader.grade(lab)
    assert snapshot() == before


def test_trainee_breakage_is_a_failure_not_a_grader_error(lab):
    """A deleted interface or a source that cannot send is the trainee's to
    fix: the checks fail with a message instead of reporting grader errors."""
    h2 = lab["h2"]
    h2.cmd("ip link set eth0 down", check=True)
    try:
        status, msg = run(c.not_reachable("h2", "2001:db8:2::99", timeout=0.3), lab)
        assert status == "fail" and "could not leave h2" in msg, msg
        status, msg = run(c.ra_on_link("h2", "eth0", duration=0.3), lab)
        assert status == "fail", msg
    finally:
        h2.cmd("ip link set eth0 up", check=True)
        h2.wait_addresses_ready()
    status, msg = run(c.link_up("h2", "eth9"), lab)
    assert status == "fail" and "h2 has no interface eth9 any more (it has: eth0)" in msg


def test_traceroute_hops_have_times_and_steps_copy_checks(lab):
    tr = lab["h1"].traceroute("2001:db8:2::30")
    assert tr.hops[0].kind == "time-exceeded" and tr.hops[0].rtt_ms > 0
    shared = c.reachable("h1", "h3")
    a, b = Step("a", "a", [shared]), Step("b", "b", [shared])
    assert (a.checks[0].id, b.checks[0].id) == ("a.1", "b.1")
    with pytest.raises(ValueError, match="weights must be positive"):
        Step("w", "w", [shared.with_options(weight=0)])
    with pytest.raises(KeyError, match="no step 'nope'"):
        Grader([a]).grade(lab, upto="nope")


HOSTILE_DNS = r"""
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("2001:db8:1::20", 5353))
for reply in range(3):
    q, peer = s.recvfrom(512)
    qid = q[:2]
    # header: 1 question, 200 answers; the question's name is a forward
    # pointer, answers point at themselves, labels claim 0x7f bytes.
    body = qid + struct.pack("!HHHHH", 0x8180, 1, 200, 0, 0)
    body += b"\xc0\x40" + b"\x00\x1c\x00\x01"
    for _ in range(200):
        body += b"\x7f" + b"a" * 20 + b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 60, 2) + b"\xc0\x0c"
    s.sendto(body[:1400], peer)
"""


def test_dns_probe_survives_a_hostile_server(lab):
    """A trainee may run any server: malformed names (forward pointers,
    oversized labels) are rejected, not followed."""
    lab["h2"].cmd("ip -6 addr add 2001:db8:1::20/64 dev eth0 nodad 2>/dev/null; true")
    p = lab["h2"].popen(["python3", "-c", HOSTILE_DNS], name="hostile-dns")
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        r = lab["h1"].dns_query("2001:db8:1::20", "www.lab.example", "AAAA", port=5353, timeout=2)
        assert time.monotonic() - t0 < 2
        assert r.answered and all(len(a.name) <= 255 for a in r.answers)
        assert len(r.answers) < 200
    finally:
        p.kill()
        p.wait()
