"""Points, partial credit, gating and hints (grading/model.py, report.py):
what a trainee is shown and scored for a given set of check outcomes."""

from __future__ import annotations

import pytest

from v6lab.grading import Check, CheckFailed, Grader, Report, Step
from v6lab.testing import FakeLab


def ok(desc: str = "ok", weight: float = 1.0) -> Check:
    return Check(desc, lambda lab: "fine", weight=weight)


def bad(desc: str = "bad", weight: float = 1.0, why: str = "not done") -> Check:
    def fn(_lab):
        raise CheckFailed(why)
    return Check(desc, fn, weight=weight)


def broken(desc: str = "broken") -> Check:
    def fn(_lab):
        raise KeyError("oops")
    return Check(desc, fn)


def grade(*steps: Step, **kw) -> Report:
    return Grader(list(steps)).grade(FakeLab("scoring"), **kw)


@pytest.mark.parametrize("checks,points,earned", [
    ([ok(), bad()], 4, 2.0),
    ([ok(weight=3), bad(weight=1)], 4, 3.0),
    ([ok(weight=1), bad(weight=3)], 4, 1.0),
    ([ok(), bad(), bad()], 1, 0.333),
    ([ok(), ok(), bad()], 1, 0.667),
    ([bad(), bad()], 4, 0.0),
    ([ok(), ok()], 4, 4.0),
])
def test_partial_credit_is_in_proportion_to_check_weights(checks, points, earned):
    s = grade(Step("s", "S", checks, points=points)).step("s")
    assert (s.earned, s.possible) == (earned, float(points))
    assert s.status == ("pass" if earned == points else "fail")


def test_all_or_nothing_step_gives_no_partial_credit():
    s = grade(Step("s", "S", [ok(), ok(), bad()], points=3, partial=False)).step("s")
    assert (s.status, s.earned) == ("fail", 0.0)
    s = grade(Step("s", "S", [ok(), ok()], points=3, partial=False)).step("s")
    assert (s.status, s.earned) == ("pass", 3.0)


def test_an_error_makes_the_step_an_error_but_keeps_credit_for_what_passed():
    r = grade(Step("s", "S", [broken(), ok(), bad()], points=3))
    s = r.step("s")
    assert s.status == "error" and s.earned == 1.0
    assert r.has_errors and not r.passed
    assert s.message.startswith("grader error: KeyError")   # the first check not passed


def test_the_step_message_is_the_first_check_that_did_not_pass():
    s = grade(Step("s", "S", [ok(), bad(why="first"), bad(why="second")])).step("s")
    assert s.message == "first"
    assert grade(Step("s", "S", [ok()])).step("s").message == ""


def test_a_failed_gated_step_skips_every_later_gated_step():
    r = grade(Step("one", "first", [bad()]),
              Step("two", "second", [ok()], hints=["h"]),
              Step("free", "ungated", [ok()], gated=False),
              Step("three", "third", [ok(), ok()]))
    assert [s.status for s in r.steps] == ["fail", "skipped", "pass", "skipped"]
    two = r.step("two")
    assert two.message == "complete step 'one' first" and two.earned == 0.0
    assert two.hint is None and two.hints_available == 1
    assert [k.status for k in r.step("three").checks] == ["skipped", "skipped"]
    assert all(k.message == "complete step 'one' first" for k in r.step("three").checks)


def test_an_erroring_gated_step_blocks_too():
    r = grade(Step("one", "first", [broken()]), Step("two", "second", [ok()]))
    assert [s.status for s in r.steps] == ["error", "skipped"]


def test_an_ungated_failure_blocks_nothing():
    r = grade(Step("free", "ungated", [bad()], gated=False), Step("two", "second", [ok()]))
    assert [s.status for s in r.steps] == ["fail", "pass"]


def test_skipped_checks_are_never_run():
    ran = []
    r = grade(Step("one", "first", [bad()]),
              Step("two", "second", [Check("spy", lambda lab: ran.append(1) or "ran")]))
    assert r.step("two").status == "skipped" and ran == []


HINTS = ["gentle", "closer", "explicit"]


@pytest.mark.parametrize("shown,hint", [(0, "gentle"), (1, "gentle"), (2, "closer"),
                                        (3, "explicit"), (9, "explicit")])
def test_a_failing_step_shows_the_latest_hint_asked_for(shown, hint):
    s = grade(Step("s", "S", [bad()], hints=HINTS), hints_shown={"s": shown}).step("s")
    assert (s.hint, s.hints_available) == (hint, 3)


def test_hints_are_counted_per_step_and_never_shown_for_a_pass():
    r = grade(Step("a", "A", [ok()], hints=HINTS, gated=False),
              Step("b", "B", [bad()], hints=HINTS, gated=False),
              Step("c", "C", [bad()], gated=False), hints_shown={"a": 3, "b": 2})
    assert [s.hint for s in r.steps] == [None, "closer", None]
    assert [s.hints_available for s in r.steps] == [3, 3, 0]


def test_report_totals_score_and_first_unfinished():
    r = grade(Step("a", "A", [ok()], points=2),
              Step("b", "B", [ok(), bad()], points=4, gated=False),
              Step("c", "C", [ok()], points=1))
    assert (r.earned, r.possible, r.score, r.passed) == (5.0, 7.0, 71.4, False)
    assert r.first_unfinished().id == "b"
    with pytest.raises(KeyError):
        r.step("zz")
    full = grade(Step("a", "A", [ok()], points=2))
    assert (full.score, full.passed, full.first_unfinished()) == (100.0, True, None)


def test_report_knows_the_lab_and_whether_it_is_self_graded():
    lab = FakeLab("mylab", self_graded=True)
    r = Grader([Step("a", "A", [ok()])]).grade(lab)
    assert (r.lab, r.lab_id, r.self_graded) == ("mylab", "mylab-fake", True)
    assert r.started and "T" in r.started and r.duration >= 0
    assert Grader([Step("a", "A", [ok()])]).grade(FakeLab()).self_graded is False
