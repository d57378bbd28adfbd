"""The check engine (grading/check.py, model.py): what a check's outcome
becomes, when it is retried, and what a grader refuses to be built from."""

from __future__ import annotations

import threading

import pytest

from v6lab.grading import Check, CheckFailed, CheckPending, Grader, Step, checks as c
from v6lab.testing import FakeLab


def counting(outcomes: list):
    """A check function that plays outcomes in order (an exception is
    raised, anything else returned) and counts its calls; the last outcome
    repeats."""
    calls = []

    def fn(_lab):
        calls.append(1)
        o = outcomes[min(len(calls), len(outcomes)) - 1]
        if isinstance(o, BaseException):
            raise o
        return o
    return fn, calls


def test_returned_text_is_a_pass_and_none_an_empty_message():
    assert Check("x", lambda lab: "seen it").run(FakeLab())[:2] == ("pass", "seen it")
    assert Check("x", lambda lab: None).run(FakeLab())[:2] == ("pass", "")


def test_check_failed_is_a_fail_with_its_message():
    fn, calls = counting([CheckFailed("h1 has no address")])
    status, msg, secs = Check("x", fn).run(FakeLab())
    assert (status, msg, len(calls)) == ("fail", "h1 has no address", 1)
    assert secs >= 0


@pytest.mark.parametrize("exc", [KeyError("oops"), ValueError("bad"), ZeroDivisionError(),
                                 AttributeError("no such field"), RuntimeError("broken")])
def test_any_other_exception_is_an_error_never_a_pass(exc):
    fn, _ = counting([exc])
    status, msg, _ = Check("x", fn, within=0.2, interval=0.05).run(FakeLab())
    assert status == "error"
    assert msg.startswith(f"grader error: {type(exc).__name__}")
    # The innermost frame: where the check itself broke.
    assert "test_check_engine.py:" in msg


def test_an_error_is_not_retried_even_within_a_window():
    fn, calls = counting([KeyError("x"), "fine"])
    assert Check("x", fn, within=5, interval=0.01).run(FakeLab())[0] == "error"
    assert len(calls) == 1


def test_unknown_node_is_a_grader_error():
    status, msg, _ = c.sysctl_equals("h9", "net.ipv6.conf.all.forwarding", 1).run(FakeLab())
    assert status == "error" and "has no node 'h9'" in msg


def test_retry_any_retries_every_failure_until_it_passes():
    fn, calls = counting([CheckFailed("not yet"), CheckFailed("not yet"), "now"])
    status, msg, _ = Check("x", fn, within=5, interval=0.01).run(FakeLab())
    assert (status, msg, len(calls)) == ("pass", "now", 3)


def test_retry_any_gives_up_when_the_window_closes():
    fn, calls = counting([CheckFailed("never")])
    status, msg, _ = Check("x", fn, within=0.5, interval=0.01).run(FakeLab())
    assert (status, msg) == ("fail", "never")
    assert len(calls) > 1


def test_retry_pending_answers_a_settled_failure_at_once():
    fn, calls = counting([CheckFailed("no such address"), "late"])
    status, msg, _ = Check("x", fn, within=5, interval=0.01, retry="pending").run(FakeLab())
    assert (status, msg, len(calls)) == ("fail", "no such address", 1)


def test_retry_pending_waits_for_pending_and_says_what_it_waited_for():
    fn, calls = counting([CheckPending("tentative"), CheckPending("tentative"), "ready"])
    status, msg, _ = Check("x", fn, within=5, interval=0.01, retry="pending").run(FakeLab())
    assert status == "pass" and len(calls) == 3
    assert msg.startswith("ready (waited ") and msg.endswith(": tentative)")


def test_still_pending_when_the_window_closes_says_so():
    fn, _ = counting([CheckPending("h1 has 2001:db8::1/64 but it is tentative")])
    status, msg, _ = Check("x", fn, within=0.1, interval=0.02, retry="pending").run(FakeLab())
    assert status == "fail"
    assert msg.startswith("h1 has 2001:db8::1/64 but it is tentative (still so after ")


def test_pending_without_a_window_is_one_try_and_no_wait_note():
    fn, calls = counting([CheckPending("tentative")])
    assert Check("x", fn, retry="pending").run(FakeLab())[:2] == ("fail", "tentative")
    assert len(calls) == 1


def test_a_library_check_waits_for_dad_to_finish_on_a_fake_lab():
    lab = FakeLab()
    h1 = lab.add_node("h1")
    h1.add_link("eth0")
    addr = h1.add_address("eth0", "2001:db8:1::10/64", flags=("permanent", "tentative"))
    lab.after(0.15, lambda: addr.set_flag("tentative", False))
    status, msg, _ = c.has_address("h1", "2001:db8:1::10/128", within=5).run(lab)
    assert status == "pass" and "waited" in msg and "tentative" in msg, msg


def test_with_options_copies_and_leaves_the_original():
    base = Check("x", lambda lab: "ok")
    other = base.with_options(within=3, weight=2, id="s.9", retry="pending")
    assert (other.within, other.weight, other.id, other.retry) == (3, 2, "s.9", "pending")
    assert (base.within, base.weight, base.id, base.retry) == (0.0, 1.0, "", "any")


def test_steps_number_their_checks_and_copy_shared_ones():
    shared = Check("x", lambda lab: "ok")
    a = Step("a", "A", [shared, shared])
    b = Step("b", "B", [shared])
    assert [k.id for k in a.checks] == ["a.1", "a.2"] and [k.id for k in b.checks] == ["b.1"]
    assert shared.id == ""
    assert Step("c", "C", [shared.with_options(id="mine")]).checks[0].id == "mine"


@pytest.mark.parametrize("checks,why", [
    ([], "step s has no checks: it could not fail"),
    ([Check("zero", lambda lab: "", weight=0)], "check weights must be positive (zero)"),
    ([Check("neg", lambda lab: "", weight=-1)], "check weights must be positive (neg)"),
])
def test_a_step_that_cannot_be_graded_is_refused(checks, why):
    with pytest.raises(ValueError) as e:
        Step("s", "S", checks)
    assert why in str(e.value)


def test_two_steps_of_one_id_are_refused():
    ok = [Check("x", lambda lab: "ok")]
    with pytest.raises(ValueError, match="two steps are called s"):
        Grader([Step("s", "one", ok), Step("s", "two", ok)])


def test_unknown_step_is_an_error_not_grade_all():
    g = Grader([Step("s", "S", [Check("x", lambda lab: "ok")])])
    with pytest.raises(KeyError, match=r"no step 'nope' \(steps: s\)"):
        g.grade(FakeLab(), upto="nope")
    with pytest.raises(KeyError, match="no step 'nope'"):
        g.step("nope")


def test_upto_grades_steps_up_to_and_including_it():
    ok = [Check("x", lambda lab: "ok")]
    g = Grader([Step("a", "A", ok), Step("b", "B", ok), Step("c", "C", ok)])
    assert [s.id for s in g.grade(FakeLab(), upto="b").steps] == ["a", "b"]


def test_checks_of_a_step_run_concurrently():
    # Each check waits for the other at a barrier: only concurrent runs pass.
    barrier = threading.Barrier(2, timeout=5)

    def meet(_lab):
        barrier.wait()
        return "met"
    report = Grader([Step("s", "S", [Check("a", meet), Check("b", meet)])]).grade(FakeLab())
    assert [k.status for k in report.step("s").checks] == ["pass", "pass"]


def test_a_check_that_breaks_does_not_stop_the_others():
    def broken(_lab):
        raise KeyError("oops")
    report = Grader([Step("s", "S", [Check("broken", broken), Check("fine", lambda lab: "ok")])]
                    ).grade(FakeLab())
    assert [k.status for k in report.step("s").checks] == ["error", "pass"]
