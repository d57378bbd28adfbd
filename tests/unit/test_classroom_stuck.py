"""The instructor's "stuck" flag (classroom/state.py): no progress for
stuck_after seconds of a running lab. Progress is a step passed that was
never passed before, the lab completed, or the instructor's solve; a start,
a reset, a stop or the trainee's own solve is none. Found by an adversarial
pass: resets counted as progress, so a trainee who reset now and then never
showed as stuck. Events are written as the service's workers write them."""

from __future__ import annotations

import json
from pathlib import Path

from v6lab.classroom import state

STEPS = ["forwarding", "radvd", "slaac", "reach-srv"]
LAB = "slaac"
UID = 1001
STUCK_AFTER = 600


def ev(at: float, kind: str, **more) -> dict:
    return {"at": at, "ev": kind, "lab": LAB, **more}


def check(at: float, passed: list[str]) -> dict:
    return ev(at, "check", score=25.0 * len(passed), steps=STEPS, passed=passed, errors=False)


def row(tmp_path: Path, events: list[dict], now: float, running: bool = True) -> state.Row:
    d = tmp_path / "users" / str(UID)
    d.mkdir(parents=True, exist_ok=True)
    (d / "user").write_text("alice")
    (d / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    (r,) = state.class_rows(tmp_path, {(UID, LAB): running}, stuck_after=STUCK_AFTER, now=now)
    return r


def resets_without_progress(t0: float, until: float) -> list[dict]:
    """A trainee who checks (passing nothing) and resets every 100 s."""
    out = [ev(t0, "start", id="a"), check(t0 + 10, [])]
    t = t0 + 100
    while t < until:
        out += [ev(t, "reset", id="a", by="trainee"), check(t + 5, [])]
        t += 100
    return out


def test_resetting_now_and_then_does_not_hide_a_stuck_trainee(tmp_path):
    events = resets_without_progress(1000.0, 1700.0)   # the last reset at 1600
    r = row(tmp_path, events, now=1650.0)
    assert r.attempts == 7 and r.steps_passed == 0
    assert r.last_progress == 1000.0 and r.since_progress == 650.0
    assert r.stuck, r


def test_restarting_the_lab_does_not_reset_the_clock(tmp_path):
    events = [ev(1000.0, "start", id="a"), check(1010.0, []),
              ev(1300.0, "stop", id="a"), ev(1301.0, "start", id="b"), check(1350.0, [])]
    # Up 300 s, then again since 1301: 300 + 350 s of a running lab.
    assert not row(tmp_path, events, now=1500.0).stuck
    assert row(tmp_path, events, now=1651.0).stuck


def test_a_step_newly_passed_is_progress_and_passing_it_again_is_not(tmp_path):
    events = resets_without_progress(1000.0, 1500.0) + [check(1550.0, ["forwarding"])]
    r = row(tmp_path, events, now=1650.0)
    assert r.last_progress == 1550.0 and not r.stuck, r
    # The same step passed again after each reset moves nothing on.
    events += [ev(1600.0, "reset", id="a", by="trainee"), check(1700.0, ["forwarding"]),
               ev(1900.0, "reset", id="a", by="trainee"), check(2100.0, ["forwarding"])]
    r = row(tmp_path, events, now=2151.0)
    assert r.last_progress == 1550.0 and r.steps_passed == 1 and r.stuck, r
    # A step never passed before is.
    events.append(check(2200.0, ["forwarding", "radvd"]))
    r = row(tmp_path, events, now=2300.0)
    assert r.last_progress == 2200.0 and r.step_reached == "slaac" and not r.stuck, r


def test_the_instructors_solve_resets_the_clock_and_the_trainees_does_not(tmp_path):
    start = [ev(1000.0, "start", id="a"), check(1010.0, [])]
    mine = start + [ev(1500.0, "solve", steps=["forwarding"], by="trainee"),
                    check(1510.0, ["forwarding"])]
    r = row(tmp_path, mine, now=1700.0)
    assert r.solves == 1 and r.last_progress == 1000.0 and r.stuck, r
    helped = start + [ev(1500.0, "solve", steps=["forwarding"], by="instructor"),
                      check(1510.0, ["forwarding"])]
    r = row(tmp_path, helped, now=1700.0)
    assert r.instructor_solves == 1 and r.last_progress == 1500.0 and not r.stuck, r
    # Stalled again on the next step, the trainee is stuck again.
    assert row(tmp_path, helped, now=2101.0).stuck


def test_time_with_the_lab_stopped_does_not_count(tmp_path):
    # 200 s on day one, then back the next day: not stuck from the first minute.
    events = [ev(1000.0, "start", id="a"), check(1100.0, []), ev(1200.0, "stop", id="a"),
              ev(90000.0, "start", id="b")]
    r = row(tmp_path, events, now=90300.0)
    assert r.since_progress == 89300.0 and not r.stuck, r
    assert row(tmp_path, events, now=90401.0).stuck
    # A lab that is not running is never stuck.
    assert not row(tmp_path, events, now=99999.0, running=False).stuck


def test_a_completed_lab_is_not_stuck(tmp_path):
    events = [ev(1000.0, "start", id="a"), check(1100.0, STEPS)]
    r = row(tmp_path, events, now=5000.0)
    assert r.completed == 1100.0 and r.last_progress == 1100.0 and not r.stuck, r
