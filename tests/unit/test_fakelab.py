"""v6lab.testing.FakeLab itself: it must answer in the real shapes (every
attribute the core's result types have, every reading method Node has,
with the same parameters), or a check tested on it could pass here and
break on a real lab."""

from __future__ import annotations

import inspect

import pytest

from v6lab import _core, lab as real
from v6lab.grading import Check, Grader, Step
from v6lab.testing import (Address, ConnectResult, DnsRecord, DnsResult, FakeLab, FakeLabError,
                           IcmpError, Link, MulticastGroup, NeighbourEntry, NextHop, PingReply,
                           PingResult, Process, RaPrefix, RaRoute, Route, RouterAdvert,
                           TracerouteHop, TracerouteResult, router_advert, without_waiting)

PAIRS = [
    (Link("eth0"), _core.LinkInfo),
    (Address("eth0", "2001:db8::1", 64), _core.AddressInfo),
    (NextHop(), _core.NextHop),
    (Route("::/0"), _core.RouteInfo),
    (NeighbourEntry("eth0", "fe80::1"), _core.NeighbourInfo),
    (Process(1, 1, "/bin/true"), _core.NodeProcess),
    (MulticastGroup("eth0", "ff02::1"), _core.MulticastGroup),
    (PingReply(1, 0.1, "::1"), _core.PingReply),
    (IcmpError("unreachable", "no route"), _core.IcmpError),
    (PingResult("::1", 1), _core.PingResult),
    (TracerouteHop(1, "::1"), _core.TracerouteHop),
    (TracerouteResult("::1", True), _core.TracerouteResult),
    (ConnectResult(True), _core.ConnectResult),
    (DnsRecord("a.", "AAAA", "::1"), _core.DnsRecord),
    (DnsResult(True), _core.DnsResult),
    (RaPrefix("2001:db8::/64"), _core.RaPrefix),
    (RaRoute("::/0"), _core.RaRoute),
    (RouterAdvert("fe80::1"), _core.RouterAdvert),
]


@pytest.mark.parametrize("fake,core", PAIRS, ids=[c.__name__ for _, c in PAIRS])
def test_fake_results_have_every_attribute_of_the_cores(fake, core):
    names = [n for n in dir(core) if not n.startswith("_")]
    assert names, core
    missing = [n for n in names if not hasattr(fake, n)]
    assert missing == [], f"{type(fake).__name__} lacks {missing} of _core.{core.__name__}"


# Node methods a check has no business calling (they run or wait in a node).
NOT_FAKED = {"env", "exec_argv", "wait_addresses_ready"}


def node_api() -> list[str]:
    return sorted(n for n in vars(real.Node) if not n.startswith("_") and n not in NOT_FAKED)


def test_fake_node_has_every_public_member_of_node():
    node = FakeLab().add_node("h1")
    assert [n for n in node_api() if not hasattr(type(node), n)] == []


@pytest.mark.parametrize("name", [n for n in node_api()
                                  if inspect.isfunction(vars(real.Node)[n])
                                  and n not in ("cmd", "popen", "socket")])
def test_fake_node_methods_take_the_real_parameters(name):
    from v6lab.testing import FakeNode
    want = list(inspect.signature(getattr(real.Node, name)).parameters)
    got = list(inspect.signature(getattr(FakeNode, name)).parameters)
    assert got == want, f"FakeNode.{name}{got} != Node.{name}{want}"


def test_fake_lab_has_what_the_grader_and_checks_read_of_a_lab():
    lab = FakeLab("x", vars={"p": "2001:db8::/64"}, self_graded=True)
    lab.add_node("h1")
    assert (lab.name, lab.id, lab.vars, lab.self_graded, lab.running) == \
        ("x", "x-fake", {"p": "2001:db8::/64"}, True, True)
    assert "h1" in lab and "h2" not in lab and [n.name for n in lab] == ["h1"]
    assert list(lab.nodes) == ["h1"] and lab["h1"].name == "h1"
    with pytest.raises(_core.Error, match=r"^lab x has no node 'h9' \(nodes: h1\)$"):
        lab["h9"]


# ------------------------------------------------------------------ state

def test_a_new_node_has_lo_and_an_interface_gets_its_eui64_link_local():
    n = FakeLab().add_node("h1")
    n.add_link("eth0", mac="52:54:00:12:34:56")
    assert [(x.name, x.kind, x.index) for x in n.links()] == [("lo", "loopback", 1),
                                                               ("eth0", "veth", 2)]
    assert [(a.cidr, a.scope) for a in n.addresses()] == [
        ("::1/128", "host"), ("127.0.0.1/8", "host"), ("fe80::5054:ff:fe12:3456/64", "link")]
    assert [a.cidr for a in n.addresses(family=4)] == ["127.0.0.1/8"]
    assert [a.cidr for a in n.addresses("eth0", 6)] == ["fe80::5054:ff:fe12:3456/64"]
    assert n.link("eth0").mac == "52:54:00:12:34:56"
    with pytest.raises(_core.Error, match="h1 has no interface 'eth9'"):
        n.link("eth9")
    assert n.add_link("eth1", up=False).operstate == "down"
    assert n.addresses("eth1") == []   # a down interface has no link-local address


def test_flags_as_the_kernel_names_them():
    n = FakeLab().add_node("h1")
    n.add_link("eth0")
    static = n.add_address("eth0", "2001:db8::1/64")
    slaac = n.add_address("eth0", "2001:db8::2/64", flags=("dynamic", "mngtmpaddr"))
    assert static.flag_names == ["permanent"] and static.permanent and not static.tentative
    assert slaac.flag_names == ["mngtmpaddr", "dynamic"]
    assert (slaac.valid_lft, slaac.preferred_lft) == (86400, 14400)
    assert static.set_flag("tentative").flag_names == ["tentative", "permanent"]
    assert static.tentative and static.set_flag("tentative", False).flag_names == ["permanent"]
    with pytest.raises(ValueError, match="unknown address flag 'bogus'"):
        n.add_address("eth0", "2001:db8::3/64", flags=("bogus",))
    with pytest.raises(ValueError, match="both dynamic and permanent"):
        n.add_address("eth0", "2001:db8::3/64", flags=("dynamic", "permanent"))


def test_an_address_brings_its_connected_route_as_the_kernel_does():
    n = FakeLab().add_node("h1")
    n.add_link("eth0")
    n.add_address("eth0", "2001:db8:1::10/64")
    n.add_address("eth0", "2001:db8:1::11/64")   # the route is there once
    n.add_address("eth0", "2001:db8:2::1/64", flags=("permanent", "noprefixroute"))
    n.add_address("eth0", "192.0.2.1/24")
    gw = n.add_route("default", via="2001:db8:1::1")
    assert gw.nexthops[0].ifname == "eth0" and gw.dst == "::/0"
    assert [(r.dst, r.protocol) for r in n.routes(6)] == [
        ("fe80::/64", "kernel"), ("2001:db8:1::/64", "kernel"), ("::/0", "static")]
    assert [r.dst for r in n.routes(4)] == ["192.0.2.0/24"]
    assert n.add_route("default", via="192.0.2.254").dst == "0.0.0.0/0"
    other = n.add_route("2001:db8:9::/64", via="2001:db8:1::1", table=100)
    assert other not in n.routes() and other in n.routes(all_tables=True)


def test_from_topology_is_the_state_a_lab_starts_in():
    from v6lab import Topo
    t = Topo("start")
    t.add_lan("lan1")
    t.add_router("r1")
    t.add_host("h1")
    t.add_link("r1", "lan1", addrs_a=["2001:db8:1::1/64"], mac_a="02:00:00:00:00:01")
    t.add_link("h1", "lan1", addrs_a=["2001:db8:1::10/64"])
    t.add_route("h1", "default", via="2001:db8:1::1")
    lab = FakeLab.from_topology(t)
    r1, h1 = lab["r1"], lab["h1"]
    assert lab.name == "start" and lab.spec.lan("lan1").members == [("r1", "eth0"), ("h1", "eth0")]
    assert [a.cidr for a in r1.addresses("eth0")] == ["fe80::ff:fe00:1/64", "2001:db8:1::1/64"]
    assert r1.sysctl("net.ipv6.conf.all.forwarding") == "1"
    assert h1.sysctl("net.ipv6.conf.all.forwarding") == "0"
    default = [r for r in h1.routes() if r.dst == "::/0"][0]
    assert (default.protocol, default.nexthops[0].gateway, default.nexthops[0].ifname) == \
        ("static", "2001:db8:1::1", "eth0")
    assert r1.roles == ["router"] and not r1.provider
    with pytest.raises(_core.SpecError):
        FakeLab.from_topology({"nodes": {"h1": {"image": "nope"}}})


def test_later_changes_apply_once_their_time_has_come():
    lab = FakeLab()
    n = lab.add_node("h1")
    n.sysctls["k"] = "0"
    lab.after(0, lambda: n.sysctls.__setitem__("k", "1"))
    lab.after(3600, lambda: n.sysctls.__setitem__("k", "2"))
    assert n.sysctl("k") == "1"
    assert n.sysctl("k") == "1"


def test_files_symlinks_and_the_cores_refusals():
    n = FakeLab().add_node("h1")
    n.files["/root/a"] = "text"
    n.symlinks["/root/link"] = "/root/a"
    n.symlinks["/loop"] = "/loop"
    assert n.read_file("/root/a") == b"text" and n.read_file("/root/link") == b"text"
    for path, kw, kind in (("/root/link", {"follow_symlinks": False}, "refused"),
                           ("/loop", {}, "refused"), ("/root/none", {}, "not_found"),
                           ("/root/a", {"max_bytes": 2}, "too_large")):
        with pytest.raises(_core.NodeFileError) as e:
            n.read_file(path, **kw)
        assert e.value.kind == kind and str(e.value).startswith(f"read {path} on h1: ")
        assert e.value.errno > 0
    with pytest.raises(ValueError, match="unknown kind"):
        n.file_problem("/x", "nope")


def test_processes_include_the_init_and_real_binaries_by_inode():
    import os
    n = FakeLab().add_node("h1")
    assert [p.host_pid for p in n.processes()] == [n.pid]
    sh = n.run_program("sh")
    st = os.stat(_core.find_program("sh"))
    assert (sh.exe_dev, sh.exe_ino, sh.host_ppid, sh.state) == (st.st_dev, st.st_ino, n.pid, "S")
    fake = n.run_impostor("sh")
    assert (fake.exe_dev, fake.exe_ino) != (st.st_dev, st.st_ino) and fake.comm == "sh"
    with pytest.raises(FakeLabError, match="not installed on this machine"):
        n.run_program("no-such-program-v6lab")


def test_probes_answer_only_what_the_test_says():
    n = FakeLab().add_node("h1")
    n.add_link("eth0")
    assert n.ping("2001:db8::1", count=3).received == 0
    n.answer_ping("2001:db8::1")
    r = n.ping("2001:DB8::1", count=3)
    assert (r.sent, r.received, r.replies[0].source) == (3, 3, "2001:db8::1")
    assert n.tcp_connect("2001:db8::1", 80).error == "connection refused"
    assert n.udp_exchange("2001:db8::1", 53, b"x").error == "timed out"
    assert not n.dns_query("2001:db8::1", "a.example").answered
    n.answer_dns("2001:db8::1", "A.example.", "AAAA", "2001:db8::80")
    assert n.dns_query("2001:db8::1", "a.example", "aaaa").answers[0].data == "2001:db8::80"
    n.answer_traceroute("2001:db8::1", ["2001:db8::fe", "", "2001:db8::1"])
    tr = n.traceroute("2001:db8::1")
    assert tr.reached and [h.kind for h in tr.hops] == ["time-exceeded", "", "reply"]
    assert n.router_adverts("eth0") == []
    n.hear_ra("eth0", router_advert("fe80::1", ["2001:db8::/64"], managed=True))
    n.hear_ra("eth0", router_advert("fe80::2"))
    assert [ra.source for ra in n.router_adverts("eth0")] == ["fe80::1"]
    assert len(n.router_adverts("eth0", stop_at_first=False)) == 2
    with pytest.raises(_core.Error, match="No such device"):
        n.router_adverts("eth9")


def test_what_needs_a_kernel_is_a_fakelab_error_and_grades_as_error():
    lab = FakeLab()
    n = lab.add_node("h1")
    for call in (lambda: n.cmd("ip -6 addr"), lambda: n.popen("radvd"), lambda: n.handle,
                 lambda: n.socket(), lab.switch_handle):
        with pytest.raises(FakeLabError):
            call()
    assert not isinstance(FakeLabError("x"), _core.Error)   # no check mistakes it for a failure
    status, msg, _ = Check("runs a command", lambda lab: lab["h1"].cmd("true")).run(lab)
    assert status == "error" and "FakeLabError" in msg


def test_writes_are_applied_and_recorded():
    lab = FakeLab()
    lab.add_node("h1").set_sysctl("net.ipv6.conf.all.forwarding", 1)
    assert lab.writes == [("h1", "sysctl", "net.ipv6.conf.all.forwarding", "1")]
    assert lab["h1"].sysctl("net.ipv6.conf.all.forwarding") == "1"
    with pytest.raises(_core.Error, match="not set in this FakeLab"):
        lab["h1"].sysctl("net.ipv6.conf.eth0.forwarding")


def test_without_waiting_drops_every_window():
    slow = Check("slow", lambda lab: "ok", within=8)
    step = Step("s", "S", [slow, slow.with_options(within=3)], hints=["h"])
    grader = Grader([step], max_workers=3)
    assert without_waiting(slow).within == 0
    assert [k.within for k in without_waiting(step).checks] == [0, 0]
    quick = without_waiting(grader)
    assert [k.within for k in quick.step("s").checks] == [0, 0]
    assert quick.step("s").hints == ["h"] and quick.max_workers == 3
    assert [k.within for k in step.checks] == [8, 3]   # the original is unchanged
    with pytest.raises(TypeError):
        without_waiting("check")
