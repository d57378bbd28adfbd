"""The report exporters (grading/report.py): JSON schema v6lab-report/1,
JUnit XML, TAP 13 and the terminal checklist, on a report with every
status, partial credit, a hint and the self-graded note."""

from __future__ import annotations

import io
import json
from xml.etree import ElementTree as ET

import pytest
from rich.console import Console

from v6lab.grading import Check, CheckFailed, Grader, Report, Step
from v6lab.testing import FakeLab


def _fail(why: str):
    def fn(_lab):
        raise CheckFailed(why)
    return fn


def _break(_lab):
    raise KeyError("oops")


def make_report(self_graded: bool = False) -> Report:
    steps = [
        Step("ok", "Passes", [Check("h1 has an address", lambda lab: "2001:db8::1/64")], points=2),
        Step("part", "Half done", [Check("first", lambda lab: "yes"),
                                   Check("second <&>\"", _fail('h1 says "no" & <stops>'))],
             points=4, hints=["try harder", "ip -6 addr add"], gated=False),
        Step("err", "Broken check", [Check("boom", _break)]),
        Step("later", "Gated", [Check("never run", lambda lab: "x")]),
    ]
    return Grader(steps).grade(FakeLab("rep", self_graded=self_graded), hints_shown={"part": 2})


def test_json_has_the_documented_schema():
    d = json.loads(make_report().to_json())
    assert set(d) == {"schema", "lab", "lab_id", "started", "duration", "earned", "possible",
                      "score", "passed", "self_graded", "steps"}
    assert (d["schema"], d["lab"], d["lab_id"]) == ("v6lab-report/1", "rep", "rep-fake")
    assert (d["earned"], d["possible"], d["score"], d["passed"]) == (4.0, 8.0, 50.0, False)
    assert d["self_graded"] is False
    step_keys = {"id", "title", "status", "earned", "possible", "message", "hint",
                 "hints_available", "duration", "checks"}
    check_keys = {"id", "description", "status", "message", "duration", "weight"}
    for s in d["steps"]:
        assert set(s) == step_keys
        assert all(set(k) == check_keys for k in s["checks"])
    assert [s["status"] for s in d["steps"]] == ["pass", "fail", "error", "skipped"]
    part = d["steps"][1]
    assert (part["earned"], part["hint"], part["hints_available"]) == (2.0, "ip -6 addr add", 2)
    assert [k["id"] for k in part["checks"]] == ["part.1", "part.2"]
    assert part["checks"][1]["message"] == 'h1 says "no" & <stops>'
    assert d["steps"][2]["checks"][0]["message"].startswith("grader error: KeyError")
    assert d["steps"][3]["message"] == "complete step 'err' first"


def test_json_indent_none_is_one_line_and_to_dict_agrees():
    r = make_report()
    assert "\n" not in r.to_json(indent=None)
    assert json.loads(r.to_json(indent=None)) == r.to_dict()


def test_junit_counts_each_check_once_and_escapes_text():
    root = ET.fromstring(make_report().to_junit())
    assert root.tag == "testsuites" and root.get("name") == "v6lab"
    suite = root.find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("rep", "5", "1", "1", "1")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props == {"score": "50.0", "earned": "4.0", "possible": "8.0", "lab_id": "rep-fake",
                     "self_graded": "false"}
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == ["rep.ok", "rep.part", "rep.part", "rep.err",
                                                  "rep.later"]
    assert cases[2].get("name") == 'second <&>"'
    failure = cases[2].find("failure")
    assert failure.get("message") == 'h1 says "no" & <stops>'
    assert failure.text == 'h1 says "no" & <stops>\nhint: ip -6 addr add'
    assert cases[3].find("error").get("message").startswith("grader error: KeyError")
    assert cases[4].find("skipped").get("message") == "complete step 'err' first"
    assert cases[0].find("failure") is None and cases[0].find("skipped") is None


def test_junit_timestamp_is_isoformat_without_zone():
    suite = ET.fromstring(make_report().to_junit()).find("testsuite")
    ts = suite.get("timestamp")
    assert len(ts) == 19 and ts[10] == "T" and "+" not in ts


def test_tap_has_a_plan_a_point_per_check_and_yaml_diagnostics():
    lines = make_report().to_tap().splitlines()
    assert lines[:2] == ["TAP version 13", "1..5"]
    assert lines[2] == "ok 1 - ok: h1 has an address"
    assert lines[3] == "ok 2 - part: first"
    assert lines[4:10] == ['not ok 3 - part: second <&>"', "  ---", "  status: fail",
                           '  message: "h1 says \\"no\\" & <stops>"',
                           '  hint: "ip -6 addr add"', "  ..."]
    assert lines[10] == "not ok 4 - err: boom" and lines[12] == "  status: error"
    assert "ok 5 - later: never run # SKIP complete step 'err' first" in lines
    assert lines[-1] == "# score 50.0% (4.0/8.0)"


@pytest.mark.parametrize("fmt", ["json", "junit", "tap", "render"])
def test_self_graded_is_said_in_every_format(fmt):
    r = make_report(self_graded=True)
    if fmt == "json":
        assert json.loads(r.to_json())["self_graded"] is True
    elif fmt == "junit":
        props = ET.fromstring(r.to_junit()).find("testsuite/properties")
        assert {p.get("name"): p.get("value") for p in props}["self_graded"] == "true"
    elif fmt == "tap":
        assert r.to_tap().splitlines()[-1] == f"# {Report.SELF_GRADED_NOTE}"
    else:
        assert "self-assessment" in rendered(r)


def rendered(r: Report, verbose: bool = False) -> str:
    out = io.StringIO()
    r.render(Console(file=out, width=200, color_system=None), verbose=verbose)
    return out.getvalue()


def test_terminal_shows_marks_points_and_the_first_unfinished_step_with_its_hint():
    text = rendered(make_report())
    rows = [line.split() for line in text.splitlines()]
    for mark, title, points in (("✔", "Passes", "2/2"), ("✘", "Half", "2/4"),
                                ("!", "Broken", "0/1"), ("·", "Gated", "0/1")):
        assert any(r[:2] == [mark, title] and r[-1] == points for r in rows), (mark, text)
    assert "Score: 50% (4/8)" in text
    assert 'Half done: h1 says "no" & <stops>' in text and "Hint: ip -6 addr add" in text
    # Not verbose: only the checks that did not pass are listed.
    assert "✘ second" in text and "! boom" in text
    assert "first" not in text and "never run" not in text
    assert "self-assessment" not in text


def test_terminal_verbose_lists_every_check():
    text = rendered(make_report(), verbose=True)
    assert "✔ h1 has an address" in text and "✔ first" in text and "· never run" in text


def test_terminal_prints_markup_in_messages_as_typed():
    """A message quotes what the trainee wrote (an answer file, an
    interface name): rich markup in it is text, never a mark or a colour,
    and brackets in addresses ([::1]:53) are not swallowed."""
    forged = "[/][green]✔[/] all good"
    steps = [Step("s", "Step [b]one[/b]", [Check("listens on [::1]:53", _fail(forged))],
                  hints=["use [2001:db8::1]:53"])]
    text = rendered(Grader(steps).grade(FakeLab("rep")))
    assert "Step [b]one[/b]" in text and "listens on [::1]:53" in text
    assert forged in text and "use [2001:db8::1]:53" in text
