"""The check library's logic (grading/library.py) on FakeLab state: each
check passes on the state of a correct configuration, and fails on each
common mistake, and on each forgery a fake can express, with the message
the trainee needs. What the kernel reports is the slow tier's business
(tests/python/test_grading.py); here it is what a check makes of it."""

from __future__ import annotations

from typing import Callable

import pytest

from v6lab.grading import Check, Grader, Step, checks as c
from v6lab.testing import DnsRecord, FakeLab, router_advert, without_waiting

R1_MAC, H2_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01"
R1_LL, H2_LL = "fe80::ff:fe00:101", "fe80::ff:fe00:201"   # EUI-64 of the MACs
PREFIX = "2001:db8:1::/64"
FWD = "net.ipv6.conf.all.forwarding"


def world() -> FakeLab:
    """r1 routes and advertises PREFIX on lan1 with the real radvd; h1 took
    an address and a default route from its RA; h2 is addressed by hand
    and knows r1 as a neighbour; r1 answers pings, web and DNS."""
    lab = FakeLab("world")
    r1 = lab.add_node("r1", "router")
    r1.add_link("eth0", mac=R1_MAC)
    r1.add_address("eth0", "2001:db8:1::1/64")
    r1.sysctls.update({FWD: "1", "net.ipv6.conf.eth0.accept_ra": "0"})
    r1.run_program("radvd")
    h1 = lab.add_node("h1")
    h1.add_link("eth0")
    h1.add_address("eth0", "2001:db8:1::a8/64", flags=("dynamic", "mngtmpaddr"))
    h1.add_route("default", via=R1_LL, dev="eth0", protocol="ra", expires=1700)
    h1.hear_ra("eth0", router_advert(R1_LL, [PREFIX]))
    h1.sysctls[FWD] = "0"
    h2 = lab.add_node("h2")
    h2.add_link("eth0", mac=H2_MAC)
    h2.add_address("eth0", "2001:db8:1::20/64")
    h2.add_route("2001:db8:9::/64", via="2001:db8:1::1")
    h2.add_neighbour("eth0", R1_LL, lladdr=R1_MAC, state="REACHABLE", router=True)
    h2.join_group("eth0", "ff02::1:ff00:201")
    h2.answer_ping("2001:db8:1::1", rtt_ms=0.3)
    h2.answer_tcp("2001:db8:1::1", 80, b"HTTP/1.0 200 OK\r\n\r\n")
    h2.answer_dns("2001:db8:1::1", "www.lab.example", "AAAA", "2001:db8:1::80")
    h1.files["/root/answer.txt"] = "ff02::1:ff00:201\n"
    return lab


ANSWER = c.answer_matches("h1", "/root/answer.txt", c.solicited_node_group("h2", "eth0"),
                          what="h2's solicited-node group")

CHECKS: dict[str, Check] = {
    "slaac": c.has_address("h1", PREFIX, iface="eth0", flags=("dynamic",)),
    "static": c.has_address("h2", "2001:db8:1::20/128", prefix_len=64),
    "default": c.default_route("h1", via="r1:eth0", protocol="ra"),
    "route": c.route_present("h2", "2001:db8:9::/64", via="2001:db8:1::1"),
    "forwarding": c.sysctl_equals("r1", FWD, 1),
    "accept_ra": c.sysctl_in("r1", "net.ipv6.conf.eth0.accept_ra", (0, 2)),
    "up": c.link_up("h2", "eth0", mtu=1500),
    "ll": without_waiting(c.link_local("h2", "eth0", eui64=True)),
    "neigh": without_waiting(c.neighbour_present("h2", "r1:eth0", iface="eth0",
                                                 lladdr_of="r1:eth0")),
    "clean": c.no_bad_addresses("h2", "eth0"),
    "radvd": c.daemon_running("r1", "radvd"),
    "ping": c.reachable("h2", "r1"),
    "web": c.tcp_service("h2", "r1", 80, expect=b"200"),
    "dns": c.dns_answers("h2", "r1", "www.lab.example", "AAAA", expect="2001:DB8:1:0::80"),
    "ra": c.ra_on_link("h1", "eth0", prefixes=[PREFIX], managed=False),
    "answer": ANSWER,
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_every_check_passes_on_the_correct_configuration(name):
    status, msg, _ = CHECKS[name].run(world())
    assert status == "pass", msg
    assert msg


def test_the_correct_configuration_scores_full_marks_and_grading_writes_nothing():
    lab = world()
    report = Grader([Step(n, n, [k]) for n, k in CHECKS.items()]).grade(lab)
    assert (report.score, report.passed, report.has_errors) == (100.0, True, False)
    assert lab.writes == []


def _set(node: str, key: str, value: str) -> Callable[[FakeLab], None]:
    return lambda lab: lab[node].sysctls.__setitem__(key, value)


def _readdr(node: str, cidr: str, new: str, **kw) -> Callable[[FakeLab], None]:
    def change(lab: FakeLab) -> None:
        lab[node].remove_address("eth0", cidr)
        if new:
            lab[node].add_address("eth0", new, **kw)
    return change


def _routes(node: str, *routes: dict) -> Callable[[FakeLab], None]:
    def change(lab: FakeLab) -> None:
        n = lab[node]
        n._routes = [r for r in n._routes if r.protocol == "kernel"]
        for r in routes:
            n.add_route(**r)
    return change


def _link(node: str, **attrs) -> Callable[[FakeLab], None]:
    def change(lab: FakeLab) -> None:
        link = lab[node].link("eth0")
        for k, v in attrs.items():
            setattr(link, k, v)
    return change


def _neigh(**attrs) -> Callable[[FakeLab], None]:
    def change(lab: FakeLab) -> None:
        for k, v in attrs.items():
            setattr(lab["h2"].neighbours()[0], k, v)
    return change


def _radvd(how: str) -> Callable[[FakeLab], None]:
    def change(lab: FakeLab) -> None:
        r1 = lab["r1"]
        real = next(p for p in r1.processes() if p.comm == "radvd")
        r1.stop_process(real)
        if how == "impostor":
            r1.run_impostor("radvd", "/usr/local/sbin/radvd")
        elif how == "stopped":
            r1.run_program("radvd", state="T")
    return change


def _hear(**kw) -> Callable[[FakeLab], None]:
    def change(lab: FakeLab) -> None:
        lab["h1"]._ras["eth0"] = [router_advert(R1_LL, kw.pop("prefixes", [PREFIX]), **kw)]
    return change


def _answer(data) -> Callable[[FakeLab], None]:
    return lambda lab: lab["h1"].files.__setitem__("/root/answer.txt", data)


def _answer_problem(kind: str) -> Callable[[FakeLab], None]:
    def change(lab: FakeLab) -> None:
        del lab["h1"].files["/root/answer.txt"]
        lab["h1"].file_problem("/root/answer.txt", kind)
    return change


def _symlinked(lab: FakeLab) -> None:
    h1 = lab["h1"]
    h1.files["/etc/shadow"] = "root:$6$secret:19000:0:99999:7:::"
    del h1.files["/root/answer.txt"]
    h1.symlinks["/root/answer.txt"] = "/etc/shadow"


# (check, mistake, the failure message, or its start when it ends with "…")
MISTAKES = {
    "slaac typed by hand": ("slaac", _readdr("h1", "2001:db8:1::a8/64", "2001:db8:1::a8/64"),
                            "h1:eth0 has 2001:db8:1::a8/64 but it lacks dynamic"),
    "slaac no address": ("slaac", _readdr("h1", "2001:db8:1::a8/64", ""),
                         "h1:eth0 has no address in 2001:db8:1::/64 (it has: fe80::…"),
    "slaac duplicate": ("slaac", lambda lab: lab["h1"].addresses("eth0")[1].set_flag("dadfailed"),
                        "h1:eth0 has 2001:db8:1::a8/64 but it is dadfailed"),
    "static /128": ("static", _readdr("h2", "2001:db8:1::20/64", "2001:db8:1::20/128"),
                    "h2 has 2001:db8:1::20/128 but prefix length /128, expected /64"),
    "default static": ("default", _routes("h1", dict(dst="default", via=R1_LL, dev="eth0")),
                       "h1's default route is not the expected one (it has: via "
                       f"{R1_LL} proto static)"),
    "default elsewhere": ("default", _routes("h1", dict(dst="default", via="fe80::99", dev="eth0",
                                                        protocol="ra")),
                          "h1's default route is not the expected one (it has: via fe80::99 "
                          "proto ra)"),
    "default none": ("default", _routes("h1"), "h1 has no default route"),
    "route none": ("route", _routes("h2"), "h2 has no route to 2001:db8:9::/64"),
    "route via": ("route", _routes("h2", dict(dst="2001:db8:9::/64", via="2001:db8:1::99")),
                  "h2's route to 2001:db8:9::/64 goes via 2001:db8:1::99 (proto static)"),
    "forwarding off": ("forwarding", _set("r1", FWD, "0"),
                       "r1: net.ipv6.conf.all.forwarding is 0, expected 1"),
    "accept_ra 1": ("accept_ra", _set("r1", "net.ipv6.conf.eth0.accept_ra", "1"),
                    "r1: net.ipv6.conf.eth0.accept_ra is 1, expected one of 0, 2"),
    "link down": ("up", _link("h2", up=False), "h2:eth0 is down (ip link set eth0 up)"),
    "link mtu": ("up", _link("h2", mtu=1400), "h2:eth0 has MTU 1400, expected 1500"),
    "link renamed": ("up", _link("h2", name="lan0"),
                     "h2 has no interface eth0 any more (it has: lan0)"),
    "ll stable-privacy": ("ll", _readdr("h2", H2_LL + "/64", "fe80::1234:5678:9abc:def0/64"),
                          "h2:eth0 link-local fe80::1234:5678:9abc:def0 is not EUI-64"),
    "ll none": ("ll", _readdr("h2", H2_LL + "/64", ""),
                "h2:eth0 has 0 link-local addresses (none)"),
    "ll two": ("ll", lambda lab: lab["h2"].add_address("eth0", "fe80::2/64"),
               f"h2:eth0 has 2 link-local addresses ({H2_LL}/64, fe80::2/64)"),
    "ll tentative": ("ll", lambda lab: lab["h2"].addresses("eth0")[0].set_flag("tentative"),
                     f"h2:eth0 link-local {H2_LL}/64 is tentative"),
    "neigh none": ("neigh", lambda lab: lab["h2"]._neighbours.clear(),
                   f"h2 has no neighbour entry for {R1_LL}"),
    "neigh failed": ("neigh", _neigh(state="FAILED", lladdr=""),
                     f"h2's neighbour entry for {R1_LL} is FAILED"),
    "neigh incomplete": ("neigh", _neigh(state="INCOMPLETE", lladdr=""),
                         f"h2's neighbour entry for {R1_LL} is INCOMPLETE"),
    "neigh spoofed": ("neigh", _neigh(lladdr="02:66:66:66:66:66"),
                      f"h2 maps {R1_LL} to 02:66:66:66:66:66, but r1:eth0 is {R1_MAC}"),
    "dad failed": ("clean", lambda lab: lab["h2"].addresses("eth0")[1].set_flag("dadfailed"),
                   "h2:eth0 has 2001:db8:1::20/64 on eth0 (duplicate: DAD failed)"),
    "radvd not run": ("radvd", _radvd("gone"), "radvd is not running on r1"),
    "radvd copy": ("radvd", _radvd("impostor"),
                   "a process called radvd runs on r1, but it is not …"),
    "radvd stopped": ("radvd", _radvd("stopped"),
                      "radvd on r1 is not running: its state is T (stopped or exited)"),
    "ping lost": ("ping", lambda lab: lab["h2"]._pings.clear(),
                  "h2 cannot reach r1 (2001:db8:1::1): no reply within 1 s"),
    "ping no route": ("ping", lambda lab: lab["h2"].ping_error(
        "2001:db8:1::1", "unreachable", "no route", source="2001:db8:1::fe"),
        "h2 cannot reach r1 (2001:db8:1::1): no route from 2001:db8:1::fe"),
    "ping no address": ("ping", _readdr("r1", "2001:db8:1::1/64", ""),
                        "r1 has no usable global IPv6 address (addresses: ::1/128, fe80::…"),
    "web refused": ("web", lambda lab: lab["h2"]._tcp.clear(),
                    "h2 cannot connect to [2001:db8:1::1]:80: connection refused"),
    "web 404": ("web", lambda lab: lab["h2"].answer_tcp("2001:db8:1::1", 80, b"HTTP/1.0 404 x"),
                "[2001:db8:1::1]:80 answered b'HTTP/1.0 404 x', which lacks b'200'"),
    "dns silent": ("dns", lambda lab: lab["h2"]._dns.clear(),
                   "no DNS answer from r1 (2001:db8:1::1) for www.lab.example AAAA: timed out"),
    "dns nxdomain": ("dns", lambda lab: lab["h2"].answer_dns(
        "2001:db8:1::1", "www.lab.example", "AAAA", rcode="NXDOMAIN"),
        "r1 answered NXDOMAIN for www.lab.example AAAA"),
    "dns wrong": ("dns", lambda lab: lab["h2"].answer_dns(
        "2001:db8:1::1", "www.lab.example", "AAAA", "2001:db8:1::81"),
        "r1 answers www.lab.example AAAA with 2001:db8:1::81, not 2001:DB8:1:0::80"),
    "dns cname only": ("dns", lambda lab: lab["h2"].answer_dns(
        "2001:db8:1::1", "www.lab.example", "AAAA",
        answers=[DnsRecord("www.lab.example.", "CNAME", "web.lab.example.")]),
        "r1 has no AAAA record for www.lab.example (answers: CNAME web.lab.example.)"),
    "ra none": ("ra", lambda lab: lab["h1"]._ras.clear(),
                "no Router Advertisement on h1:eth0 within 3 s (is a router running radvd on "
                "this link, with AdvSendAdvert on?)"),
    "ra forged off-link": ("ra", _hear(hop_limit=64),
                           f"RA from {R1_LL} on h1:eth0: hop limit 64 (must be 255)"),
    "ra managed": ("ra", _hear(managed=True), f"RA from {R1_LL} on h1:eth0: M flag is 1"),
    "ra other prefix": ("ra", _hear(prefixes=["2001:db8:2::/64"]),
                        f"RA from {R1_LL} on h1:eth0: no prefix 2001:db8:1::/64 "
                        "(advertised: 2001:db8:2::/64)"),
    "ra not a router": ("ra", _hear(router_lifetime=0),
                        f"RA from {R1_LL} on h1:eth0: router lifetime 0 (not a default router)"),
    "answer missing": ("answer", lambda lab: lab["h1"].files.clear(),
                       "no answer yet: write h2's solicited-node group to /root/answer.txt on h1"),
    "answer empty": ("answer", _answer(" \n"), "/root/answer.txt on h1 is empty: write h2's "
                     "solicited-node group there"),
    "answer wrong": ("answer", _answer("ff02::1\n"),
                     "/root/answer.txt on h1 says ff02::1, which is not h2's solicited-node group"),
    "answer secret not replayed": ("answer", _answer("$6$salt$c2VjcmV0"),
                                   "/root/answer.txt on h1 says something else, which is not h2's "
                                   "solicited-node group"),
    "answer symlink": ("answer", _symlinked,
                       "/root/answer.txt on h1 cannot be graded: a symbolic link is on the path, "
                       "and links are not followed here; write h2's solicited-node group into it "
                       "as a plain text file"),
    "answer fifo": ("answer", _answer_problem("not_regular"),
                    "/root/answer.txt on h1 cannot be graded: not a regular file (a FIFO); …"),
    "answer huge": ("answer", _answer("f" * 5000),
                    "/root/answer.txt on h1 cannot be graded: larger than 4096 bytes; …"),
    "answer group not joined": ("answer", lambda lab: lab["h2"]._groups.clear(),
                                "h2:eth0 has not joined ff02::1:ff00:201"),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_mistake_fails_with_the_message_the_trainee_needs(name):
    check, mistake, want = MISTAKES[name]
    lab = world()
    mistake(lab)
    status, msg, _ = CHECKS[check].run(lab)
    assert status == "fail", (status, msg)
    if want.endswith("…"):
        assert msg.startswith(want[:-1]), msg
    else:
        assert msg == want


def test_every_check_has_a_mistake():
    assert {m[0] for m in MISTAKES.values()} == set(CHECKS)


def test_an_answer_in_another_form_of_the_address_passes():
    lab = world()
    lab["h1"].files["/root/answer.txt"] = "FF02:0:0:0:0:1:FF00:0201  # my answer\n"
    assert ANSWER.run(lab)[0] == "pass"


@pytest.mark.parametrize("kind", ["process_gone", "io"])
def test_an_answer_the_grader_could_not_look_at_is_an_error_not_a_fail(kind):
    lab = world()
    _answer_problem(kind)(lab)
    status, msg, _ = ANSWER.run(lab)
    assert status == "error" and "NodeFileError" in msg


def test_not_reachable_passes_only_when_the_probe_ran_and_nothing_answered():
    check = c.not_reachable("h2", "r1")
    lab = world()
    assert check.run(lab)[:2] == ("fail", "h2 still reaches r1 (2001:db8:1::1)")
    lab["h2"].ping_error("2001:db8:1::1", "unreachable", "administratively prohibited",
                         source="2001:db8:1::1")
    assert check.run(lab)[:2] == ("pass", "no reply (administratively prohibited)")
    # The attack: break the sender so that nothing leaves it.
    lab["h2"].ping_error("2001:db8:1::1", "local", "network unreachable")
    assert check.run(lab)[:2] == ("fail", "the probe could not leave h2 (network unreachable): "
                                          "h2 must work for this check")


def test_daemon_running_on_a_program_this_host_lacks_is_a_grader_error():
    status, msg, _ = c.daemon_running("r1", "no-such-daemon-v6lab").run(world())
    assert status == "error" and "no-such-daemon-v6lab is not installed on this machine" in msg


def test_a_trusted_daemon_is_asked_only_once_it_is_the_real_program():
    asked = []

    def ask(_lab):
        asked.append(1)
        return "radvd says: advertising"
    check = c.trust_daemon_control_socket("r1", "radvd", ask, "radvd advertises")
    assert check.description == "radvd advertises (trusts radvd)"
    assert check.run(world())[:2] == ("pass", "radvd says: advertising")
    lab = world()
    _radvd("impostor")(lab)
    status, msg, _ = check.run(lab)
    assert status == "fail" and msg.startswith("a process called radvd runs on r1") and asked == [1]


def test_global_address_skips_tentative_and_link_local_addresses():
    lab = world()
    assert c.global_address(lab, "h2") == "2001:db8:1::20"
    assert c.global_address(lab, "h2:eth0") == "2001:db8:1::20"
    assert c.global_address(lab, "2001:db8::5") == "2001:db8::5"
    lab["h2"].addresses("eth0")[1].set_flag("tentative")
    with pytest.raises(c.CheckFailed, match=r"h2:eth0 has no usable global IPv6 address"):
        c.global_address(lab, "h2:eth0")


def test_pending_states_are_retried_and_settled_ones_are_not():
    lab = world()
    lab["h2"].neighbours()[0].state = "INCOMPLETE"
    lab.after(0.1, lambda: setattr(lab["h2"].neighbours()[0], "state", "REACHABLE"))
    status, msg, _ = c.neighbour_present("h2", "r1:eth0", iface="eth0").run(lab)
    assert status == "pass" and "(waited" in msg and "INCOMPLETE" in msg
    calls = []
    lab = world()
    real = lab["h2"].neighbours

    def spy(*a, **kw):
        calls.append(1)
        return real(*a, **kw)
    lab["h2"].neighbours = spy
    lab["h2"]._neighbours[0].state = "FAILED"
    assert c.neighbour_present("h2", "r1:eth0", iface="eth0").run(lab)[0] == "fail"
    assert calls == [1]   # FAILED is settled: no retry in the 2 s window


@pytest.mark.parametrize("make", [
    lambda: c.router_advertises("r1", "eth0", prefixes=[PREFIX]),
    lambda: c.slaac_autoconfigures("h1", "eth0"),
    lambda: c.reaches_on_wire("h2", "r1"),
    lambda: c.dhcp6_information_reply("h1", "eth0"),
], ids=["router_advertises", "slaac_autoconfigures", "reaches_on_wire", "dhcp6_information_reply"])
def test_checks_that_need_the_wire_are_an_error_on_a_fake_lab_never_a_pass(make):
    from v6lab.topo import Topo
    t = Topo("world")
    t.add_lan("lan1")
    for i, n in enumerate(("r1", "h1", "h2"), 1):
        t.add_node(n, "router" if n == "r1" else "host")
        t.add_link(n, "lan1", addrs_a=[f"2001:db8:1::{i}/64"])
    lab = FakeLab.from_topology(t)
    status, msg, _ = without_waiting(make()).run(lab)
    assert status == "error", msg
    assert msg.startswith("grader error:") and "FakeLab" in msg
