"""Address plans (v6lab.grading.plan): the parser and the checks on plans
a trainee writes, pure logic on text and on FakeLab state. Each scripted
mistake of lab 4 gives the problem it should, on the line it is on; every
problem of a plan is reported at once; and a hostile file (a link to a
host file, a FIFO, a huge file, a YAML alias bomb, deep nesting, a Python
tag) is a clear failure, never a hang, a crash or a run of anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from v6lab.course import load_lab, render
from v6lab.grading import Grader, Step
from v6lab.grading import plan as p
from v6lab.testing import FakeLab, without_waiting

ROOT = Path(__file__).resolve().parents[2]
LAB = load_lab(ROOT / "labs" / "address-plan")
V = dict(LAB.vars)
BRIEF = LAB.brief()
PATH = "/root/plan.yaml"


def good() -> str:
    from v6lab_labs.address_plan.solution import PLAN_TEMPLATE
    return render(PLAN_TEMPLATE, V)


def template() -> str:
    return render((LAB.folder / "nodes/r1/root/plan.yaml.tmpl").read_text(), V)


def found(text, brief=BRIEF) -> list[p.Problem]:
    return p.problems(p.parse_plan(text, PATH), brief)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- the format ---------------------------------------------------------------

def test_the_reference_plan_has_no_problem():
    plan = p.parse_plan(good(), PATH)
    assert found(good()) == []
    assert str(plan.network("hanoi", "staff").prefix) == V["hanoi_staff"]
    assert plan.find("loopbacks.r1").line == line_of(good(), "r1: ")
    assert [e.kind for e in plan.entries()].count("network") == 8


def test_the_template_fails_every_plan_check():
    kinds = {x.kind for x in found(template())}
    assert {"format", "missing"} <= kinds
    assert all(x.line > 0 for x in found(template()))
    assert f"{PATH}:{line_of(template(), '    prefix:')}: sites.hanoi.prefix has no prefix yet" in \
        [x.render(PATH) for x in found(template())]


def test_every_problem_is_reported_at_once_with_its_line():
    text = (good().replace(V["hanoi_guest"], "2001:db8:4c00:120::/63")        # not a /64
            .replace(V["r2_loopback"] + "/128", V["r1_loopback"] + "/128")     # duplicate
            .replace("  danang:", "  danang:\n    vlans: 3"))                   # unknown key
    out = [x.render(PATH) for x in found(text)]
    assert out == [
        f"{PATH}:{line_of(text, 'guest:')}: sites.hanoi.networks.guest: a LAN is one /64 "
        "(SLAAC needs exactly /64), not a /63",
        f"{PATH}:{line_of(text, 'vlans')}: sites.danang: unknown key 'vlans' (a site has: prefix, networks)",
        f"{PATH}:{line_of(text, 'r2:')}: loopbacks.r2: {V['r1_loopback']}/128 overlaps loopbacks.r1 "
        f"({V['r1_loopback']}/128, line {line_of(text, 'r1:')})",
    ]


def test_sizes_alignment_and_nibbles():
    text = (good().replace(V["hanoi"], "2001:db8:4c00:100::/57")
            .replace(V["danang"], "2001:db8:4c00:280::/56")
            .replace(V["link_r1_r2"], "2001:db8:4c00:1::/126")
            .replace(V["r1_loopback"] + "/128", V["r1_loopback"] + "/64"))
    msgs = [x.text for x in found(text)]
    assert "sites.hanoi: /57 is not on a nibble boundary: use a length divisible by 4 (/52, /56, " \
           "/60), so that the site is whole hexadecimal digits" in msgs
    assert "sites.danang.prefix: 2001:db8:4c00:280::/56 has bits set after /56: the prefix is " \
           "2001:db8:4c00:200::/56" in msgs
    assert "links.r1-r2: a point-to-point link is a /127 (RFC 6164) or a /64, not a /126" in msgs
    assert "loopbacks.r1: a loopback is one address, a /128, not a /64" in msgs


def test_a_loopback_may_be_written_without_its_length():
    text = good().replace(V["r1_loopback"] + "/128", V["r1_loopback"])
    assert found(text) == []


@pytest.mark.parametrize("text,line,message", [
    ("", 0, "the file is empty: write the plan in it"),
    ("just words\n", 1, "a plan is a YAML mapping that starts with 'allocation:'"),
    ("allocation: 2001:db8:4c00::/48\n\tsites:\n", 2,
     "not valid YAML: while scanning for the next token, found character '\\t'"),
    ("allocation: 2001:db8:4c00::/48\nallocation: 2001:db8:4c00::/48\n", 2,
     "allocation is written twice (first on line 1)"),
    ("allocation: 2001:db8:4c00::/48\nsite:\n", 2, "unknown key 'site' (a plan has: allocation, sites"),
    ("allocation: 10.0.0.0/8\n", 1, "allocation: 10.0.0.0/8 is IPv4, not IPv6"),
    ("allocation: 2001:db8:4c00::/48\nloopbacks:\n  r1: [2001:db8:4c00::1]\n", 3,
     "loopbacks.r1 must be one prefix written as text"),
    ("allocation: 2001:db8:4c00::/48\nlinks:\n  r1-r2: 2001:db8:4c00:1::\n", 3,
     "not valid YAML: mapping values are not allowed here (a value that ends with ':' must be in "
     "quotes: '2001:db8:1::')"),
    ("allocation: 2001:db8:4c00::/48\nlinks:\n  r1-r2: '2001:db8:4c00:1::'\n", 3,
     "links.r1-r2: 2001:db8:4c00:1:: has no prefix length (write it as …/127)"),
    ("sites:\n  hanoi:\n    networks:\n      staff: 2001:db8:4c00:110::/64\n", 2,
     "sites.hanoi has no prefix: write prefix: … under it"),
])
def test_format_problems_name_their_line(text, line, message):
    out = found(text)
    assert any(x.line == line and x.text.startswith(message) for x in out), out


# -- lab 4's mistakes, as plans ------------------------------------------------

def mistake_plan(name: str) -> str:
    """The plan text a plan-step mistake writes (it only writes the file)."""
    class Node:
        def cmd(self, argv, input="", check=False):
            self.text = input

    node = Node()
    fake = type("L", (), {"vars": V, "__getitem__": lambda self, n: node})()
    next(m for m in LAB.mistakes if m.name == name).apply(fake)
    return node.text


def test_sites_60_leaves_no_room_and_is_otherwise_sound():
    text = mistake_plan("sites-60")
    out = found(text)
    assert {x.kind for x in out} == {"room"}
    assert out[0].render(PATH) == (
        f"{PATH}:{line_of(text, '2001:db8:4c00:100::/60')}: sites.hanoi: 2001:db8:4c00:100::/60 holds "
        "16 networks (/64); with 4 planned, it has room for 12 more, and the brief asks for room for 50 more")


def test_a_network_in_another_site_is_outside_its_own_and_overlaps():
    text = mistake_plan("network-in-other-site")
    out = found(text)
    # Not inside hanoi, inside danang's /56, and on danang's guest LAN.
    assert [x.kind for x in out] == ["prefix", "overlap", "overlap"]
    g = line_of(text, "guest:")
    assert out[0].render(PATH) == (f"{PATH}:{g}: sites.hanoi.networks.guest: {V['danang_guest']} is not "
                                   f"inside its site hanoi ({V['hanoi']}, line {line_of(text, V['hanoi'])})")
    assert out[1].text == (f"sites.hanoi.networks.guest: {V['danang_guest']} overlaps sites.danang "
                           f"({V['danang']}, line {line_of(text, V['danang'])})")
    assert out[2].text == (f"sites.danang.networks.guest: {V['danang_guest']} overlaps "
                           f"sites.hanoi.networks.guest ({V['danang_guest']}, line {g})")


def test_a_link_from_a_lan_overlaps_it():
    text = mistake_plan("link-from-lan")
    (x,) = found(text)
    assert x.kind == "overlap" and x.line == line_of(text, "r1-r2:")
    assert x.text == ("links.r1-r2: 2001:db8:4c00:110::/127 overlaps sites.hanoi.networks.staff "
                      f"({V['hanoi_staff']}, line {line_of(text, 'staff:')})")


def test_a_typo_in_the_allocation_puts_every_prefix_outside_it():
    text = mistake_plan("typo-in-allocation")
    out = found(text)
    assert out[0].text == "allocation: 2001:db8:4c0::/48 is not the prefix your ISP gave (2001:db8:4c00::/48)"
    outside = [x for x in out if "is outside the allocation 2001:db8:4c00::/48" in x.text]
    assert len(outside) == len(list(p.parse_plan(text).entries())) == 13


# -- hostile files ---------------------------------------------------------------

def test_an_alias_bomb_is_refused_before_it_expands():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p_}, *{p_}, *{p_}, *{p_}, *{p_}, *{p_}, *{p_}, *{p_}, *{p_}]\n"
        for p_, c in zip("abcdefgh", "bcdefghi"))
    (x,) = found(bomb)
    assert (x.kind, x.line) == ("file", 1)
    assert x.text.startswith("anchors and aliases (&a, *a) are not part of the plan format")


def test_deep_nesting_is_refused_without_recursing():
    (x,) = found("[" * 30000 + "]" * 30000)
    assert x.kind == "file" and "nested deeper than a plan is" in x.text


def test_a_python_tag_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    text = ("allocation: !!python/object/apply:os.system [\"touch " + str(marker) + "\"]\n"
            "sites: !!python/object/new:os.system [\"touch " + str(marker) + "\"]\n")
    out = found(text)
    assert not marker.exists()
    assert [x.line for x in out if x.kind == "format"][:2] == [1, 2]


@pytest.mark.parametrize("data,message", [
    (b"allocation: 2001:db8:4c00::/48\n" + b"#" * p.MAX_BYTES, "larger than 64 KiB"),
    (b"allocation: 2001:db8:4c00::/48\nsites: \xff\n", "not UTF-8 text (byte 38)"),
    ("allocation: 2001:db8:4c00::/48\nsites: \x07\n", "not valid YAML"),
    ("--- {}\n--- {}\n", "not valid YAML: expected a single document in the stream, but found another"),
])
def test_files_that_are_no_plan(data, message):
    (x,) = found(data)
    assert x.kind == "file" and message in x.text


# -- the checks on a node's file ---------------------------------------------------

def fake(plan: str | None = None, **addresses: str) -> FakeLab:
    lab = FakeLab.from_lab(LAB)
    if plan is not None:
        lab["r1"].files[PATH] = plan
    for iface, cidr in addresses.items():
        lab["r1"].add_address(iface, cidr)
    return lab


def grade(lab: FakeLab, step: str):
    return without_waiting(Grader([LAB.grader().step(step)])).grade(lab).step(step)


def deployed(**override: str) -> dict:
    addrs = {"eth1": V["r1_staff"], "eth2": V["r1_guest"], "eth3": V["r1_servers"],
             "eth4": V["r1_management"], "lo": V["r1_loopback"] + "/128"}
    return {**addrs, **override}


def test_plan_step_passes_on_the_reference_plan_and_fails_on_the_template():
    assert grade(fake(good()), "plan").status == "pass"
    s = grade(fake(template()), "plan")
    assert s.status == "fail" and s.earned == 0
    assert all(c.status == "fail" for c in s.checks)
    first = line_of(template(), "    prefix:")
    assert s.message.startswith(f"13 problems in /root/plan.yaml on r1:\n  /root/plan.yaml:{first}: "
                                "sites.hanoi.prefix has no prefix yet\n")


def test_no_plan_yet():
    s = grade(fake(), "plan")
    assert s.message == "no plan yet: write your address plan to /root/plan.yaml on r1"


@pytest.mark.parametrize("setup,message", [
    # A link to a host file: links are not followed, the shadow file is never read.
    (lambda n: n.symlinks.__setitem__(PATH, "/etc/shadow"), "a symbolic link is on the path"),
    (lambda n: n.file_problem(PATH, "not_regular"), "it is not a regular file"),
    (lambda n: n.file_problem(PATH, "too_large"), "larger than 64 KiB"),
    (lambda n: n.files.__setitem__(PATH, b"x" * (1 << 20)), "larger than 64 KiB"),
    (lambda n: n.file_problem(PATH, "timed_out"), "cannot be graded: timed out"),
])
def test_hostile_plan_files_fail_clearly(setup, message):
    lab = fake()
    lab["r1"].files["/etc/shadow"] = "root:$y$secret:19000:0:99999:7:::\n"
    setup(lab["r1"])
    s = grade(lab, "plan")
    assert s.status == "fail" and message in s.message, s.message
    assert "secret" not in s.message and all(c.status == "fail" for c in s.checks)


def test_a_vanished_node_is_a_grader_error_never_a_pass():
    lab = fake()
    lab["r1"].file_problem(PATH, "process_gone")
    assert grade(lab, "plan").status == "error"


def test_deploy_step_passes_when_the_interfaces_match_the_plan():
    lab = fake(good(), **deployed())
    lab["isp"].answer_ping(V["r1_loopback"])
    s = grade(lab, "deploy")
    assert s.status == "pass", s.message
    assert s.checks[-1].message == f"isp reaches {V['r1_loopback']}"


@pytest.mark.parametrize("override,message", [
    ({"eth3": "2001:db8:4c00:13::1/64"},
     "r1:eth3 has 2001:db8:4c00:13::1/64, but the plan gives it sites.hanoi.networks.servers "
     f"2001:db8:4c00:130::/64 (/root/plan.yaml:{line_of(good(), 'servers:')})"),
    ({"lo": V["r1_loopback"] + "/64"},
     f"r1:lo has {V['r1_loopback']}/64, but the plan gives it {V['r1_loopback']}/128 "
     f"(/root/plan.yaml:{line_of(good(), 'r1: ')})"),
    ({"eth1": "2001:db8:4c00:110::1/72"}, "r1:eth1 has 2001:db8:4c00:110::1/72, but the plan gives it"),
])
def test_deploy_step_names_what_differs_from_the_plan(override, message):
    lab = fake(good(), **deployed(**override))
    lab["isp"].answer_ping(V["r1_loopback"])
    s = grade(lab, "deploy")
    assert s.status == "fail" and s.message.startswith(message), s.message


def test_a_stray_address_beside_the_right_one_fails():
    lab = fake(good(), **deployed())
    lab["r1"].add_address("eth2", "2001:db8:4c00:12::1/64")
    lab["isp"].answer_ping(V["r1_loopback"])
    assert "r1:eth2 has " in grade(lab, "deploy").message


def test_the_loopback_must_answer_the_isp():
    lab = fake(good(), **deployed())
    s = grade(lab, "deploy")
    assert s.status == "fail"
    assert s.message == f"isp cannot reach r1's loopback {V['r1_loopback']}: no reply within 0.5 s"


def test_deploy_checks_wait_for_the_plan():
    s = grade(fake(template(), **deployed()), "deploy")
    assert s.message.startswith("/root/plan.yaml on r1 has no usable prefix for sites.hanoi.networks.staff")


def test_a_tentative_address_is_pending_not_wrong():
    lab = fake(good())
    for iface, cidr in deployed().items():
        lab["r1"].add_address(iface, cidr, flags=("permanent", "tentative") if iface == "eth1" else
                              ("permanent",))
    check = LAB.grader().step("deploy").checks[0]
    status, message = check.with_options(within=0.0).run(lab)[:2]
    assert status == "fail" and "still in duplicate address detection" in message


def test_grading_a_plan_parses_it_once():
    lab = fake(good(), **deployed())
    lab["isp"].answer_ping(V["r1_loopback"])
    p._parsed.cache_clear()
    grade(lab, "plan"), grade(lab, "deploy")
    # One parse kept for 9 reads (checks run concurrently: two may both
    # miss at first, and then keep the same result).
    info = p._parsed.cache_info()
    assert info.currsize == 1 and info.hits + info.misses == 9


def test_brief_free_use_checks_against_the_plans_own_allocation():
    text = good().replace(V["hanoi_staff"], "2001:db8:4c01:110::/64")
    (x,) = p.problems(p.parse_plan(text))
    assert x.text == ("sites.hanoi.networks.staff: 2001:db8:4c01:110::/64 is outside the allocation "
                      "2001:db8:4c00::/48")


def test_steps_are_usable_in_a_grader_of_their_own():
    step = Step("mine", "plan", [p.plan_is_sound("r1", PATH, BRIEF)])
    assert Grader([step]).grade(fake(good())).passed
