"""The progress store (progress.py) in a temporary directory: attempts,
hints, solves, completion, summaries and export, and a file that is
damaged or not a file at all."""

from __future__ import annotations

import json
import os

import pytest

from v6lab import _core
from v6lab.grading import Check, CheckFailed, Grader, Step
from v6lab.progress import VERSION, Progress, progress_path
from v6lab.testing import FakeLab


def _no(_lab):
    raise CheckFailed("no")


def report(passing: bool):
    steps = [Step("a", "A", [Check("ok", lambda lab: "ok")], points=1),
             Step("b", "B", [Check("b", (lambda lab: "ok") if passing else _no)], points=3)]
    return Grader(steps).grade(FakeLab())


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "state" / "v6lab" / "progress.json"
    monkeypatch.setenv("V6LAB_PROGRESS", str(path))
    return path


def test_progress_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.setenv("V6LAB_PROGRESS", str(tmp_path / "p.json"))
    assert progress_path() == tmp_path / "p.json"
    monkeypatch.delenv("V6LAB_PROGRESS")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert progress_path() == tmp_path / "xdg" / "v6lab" / "progress.json"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert progress_path() == tmp_path / "home" / ".local" / "state" / "v6lab" / "progress.json"


def test_a_new_store_says_not_started_and_creates_nothing(store):
    p = Progress()
    assert p.path == store
    assert p.summary("slaac") == {"status": "not started", "best": None, "last": None,
                                  "attempts": 0, "hints": 0, "solves": 0, "completed": None}
    assert not store.exists()


def test_events_are_saved_and_summarised(store):
    p = Progress()
    p.record_start("slaac")
    assert p.summary("slaac")["status"] == "in progress"
    p.record_attempt("slaac", report(False))
    assert p.record_hint("slaac", "b") == 0
    assert p.record_hint("slaac", "b") == 1
    p.record_solve("slaac", ["a"])
    p.record_attempt("slaac", report(True))
    p.record_attempt("slaac", report(False))

    again = Progress()   # what was saved, read back
    s = again.summary("slaac")
    assert (s["status"], s["best"], s["last"], s["attempts"], s["hints"], s["solves"]) == \
        ("completed", 100.0, 25.0, 3, 2, 1)
    assert s["completed"] and again.hints_shown("slaac") == {"b": 2}
    first = again.data["labs"]["slaac"]["attempts"][0]
    assert (first["score"], first["earned"], first["possible"], first["steps"]) == \
        (25.0, 1.0, 4.0, {"a": "pass", "b": "fail"})
    assert again.data["labs"]["slaac"]["solves"][0]["steps"] == ["a"]
    assert not store.with_suffix(".tmp").exists()   # written whole, then renamed


def test_completion_is_recorded_once(store):
    p = Progress()
    p.record_attempt("x", report(True))
    when = p.summary("x")["completed"]
    p.data["labs"]["x"]["completed"] = "2000-01-01T00:00:00+0000"
    p.record_attempt("x", report(True))
    assert p.summary("x")["completed"] == "2000-01-01T00:00:00+0000" and when


def test_export_names_the_user_and_adds_summaries(store):
    p = Progress()
    p.record_start("a")
    p.record_attempt("b", report(True))
    out = p.export()
    assert out["version"] == VERSION and isinstance(out["user"], str) and out["user"]
    assert out["labs"]["a"]["summary"]["status"] == "in progress"
    assert out["labs"]["b"]["summary"]["status"] == "completed"
    json.dumps(out)   # what `v6lab progress --export` prints


@pytest.mark.parametrize("content", ["{not json", "[]", '{"labs": []}', "\xff\xfe",
                                     '{"version": 1}'])
def test_a_damaged_file_starts_afresh_and_is_repaired_on_save(store, content):
    store.parent.mkdir(parents=True)
    store.write_text(content, errors="surrogateescape")
    p = Progress()
    assert p.data == {"version": VERSION, "labs": {}}
    p.record_start("a")
    assert json.loads(store.read_text())["labs"]["a"]["starts"] == 1


def test_a_directory_or_fifo_in_place_of_the_file_is_an_error(store):
    store.parent.mkdir(parents=True)
    store.mkdir()
    with pytest.raises(_core.Error, match="is not a regular file"):
        Progress()
    store.rmdir()
    os.mkfifo(store)
    with pytest.raises(_core.Error, match=r"set V6LAB_PROGRESS to a file path"):
        Progress()   # and it does not block on the FIFO
