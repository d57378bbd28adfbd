"""Check.after(first): a costly check tried only once a cheap one passes
(grading/check.py). A fresh lab must fail at once with first's reason,
whatever the costly check's window; a passing gate must leave the costly
check exactly as it is alone; and nothing in the gate may turn into a pass."""

from __future__ import annotations

import time

import pytest

from v6lab import i18n
from v6lab.grading import Check, CheckFailed, CheckPending, Grader, Step
from v6lab.testing import FakeLab

from .test_check_engine import counting


def test_a_failing_gate_fails_at_once_with_its_reason_and_never_runs_the_check():
    gate_fn, gate_calls = counting([CheckFailed("radvd is not running on r1")])
    wire_fn, wire_calls = counting(["an RA"])
    chk = Check("RA on the wire", wire_fn, within=5, interval=0.01).after(Check("radvd", gate_fn))
    t0 = time.monotonic()
    status, msg, _ = chk.run(FakeLab())
    assert time.monotonic() - t0 < 1.0          # not the 5 s window
    assert (status, msg) == ("fail", "not tried yet: radvd is not running on r1")
    assert (len(gate_calls), len(wire_calls)) == (1, 0)


def test_a_passing_gate_leaves_the_check_its_own_retries_and_messages():
    gate_fn, gate_calls = counting(["radvd runs"])
    wire_fn, wire_calls = counting([CheckFailed("no RA yet"), CheckFailed("no RA yet"), "RA seen"])
    chk = Check("RA", wire_fn, within=2, interval=0.01).after(Check("radvd", gate_fn))
    assert chk.run(FakeLab())[:2] == ("pass", "RA seen")
    assert (len(gate_calls), len(wire_calls)) == (1, 3)   # the gate once, the check retried
    # Its failure is its own message, not the gate's, after its own window.
    wire_fn, _ = counting([CheckFailed("no RA")])
    chk = Check("RA", wire_fn, within=0.1, interval=0.02).after(Check("radvd", lambda lab: "ok"))
    assert chk.run(FakeLab())[:2] == ("fail", "no RA")


def test_retry_pending_is_kept_past_the_gate():
    wire_fn, calls = counting([CheckFailed("settled: wrong")])
    chk = Check("x", wire_fn, within=5, interval=0.01, retry="pending").after(
        Check("g", lambda lab: "ok"))
    assert chk.run(FakeLab())[:2] == ("fail", "settled: wrong")
    assert len(calls) == 1


def test_the_gate_keeps_its_own_window():
    # A pending gate (an address in DAD) is waited for within its window.
    gate_fn, gate_calls = counting([CheckPending("tentative"), "usable"])
    chk = Check("x", lambda lab: "done").after(Check("g", gate_fn, within=2, interval=0.01))
    assert chk.run(FakeLab())[:2] == ("pass", "done")
    assert len(gate_calls) == 2


@pytest.mark.parametrize("where", ["gate", "check"])
def test_an_exception_anywhere_is_an_error_never_a_pass(where):
    boom = counting([KeyError("broken")])[0]
    ok = lambda lab: "fine"  # noqa: E731
    chk = Check("x", boom if where == "check" else ok).after(
        Check("g", boom if where == "gate" else ok))
    status, msg, _ = chk.run(FakeLab())
    assert status == "error" and msg.startswith("grader error: KeyError")


def test_after_returns_a_copy_and_survives_a_step():
    wire = Check("wire", lambda lab: "seen", weight=2)
    gated = wire.after(Check("g", counting([CheckFailed("no daemon")])[0]))
    assert wire.requires is None and gated.requires is not None
    assert (gated.description, gated.weight, gated.fn) == ("wire", 2, wire.fn)
    grader = Grader([Step("s", "S", checks=[gated])])
    rep = grader.grade(FakeLab())
    [cr] = rep.steps[0].checks
    assert (cr.status, cr.message) == ("fail", "not tried yet: no daemon")
    assert rep.steps[0].status == "fail"


def test_the_prefix_is_translated():
    chk = Check("x", lambda lab: "ok").after(Check("g", counting([CheckFailed("r1")])[0]))
    with i18n.using("vi"):
        assert chk.run(FakeLab())[1] == "chưa thử: r1"
