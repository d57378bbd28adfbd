"""The service's own records: one directory per trainee uid under the state
directory (root's, mode 0700), never in the trainee's home:

    STATE/users/<uid>/run/          V6LAB_STATE_DIR of the trainee's labs (records)
    STATE/users/<uid>/progress.json V6LAB_PROGRESS: attempts, hints, solves
    STATE/users/<uid>/events.jsonl  what happened when (start, check, hint, solve, reset)
    STATE/users/<uid>/reports/      the last report of each lab, as graded
    STATE/users/<uid>/user          the login name, for the class view

Only the service writes here (its workers run as root with these paths in
their environment): nothing a trainee does outside the service reaches
these files, which is what makes the instructor's view trustworthy
(docs/architecture.md, "The classroom service").

class_rows() turns the events into the instructor's view: per trainee and
lab the step reached, the score, hints and solves used, and the time since
the last progress, from which a trainee is "stuck". Progress is a step
passed that was never passed before (by a check), the lab completed, or a
solve by the instructor (help given: the row stops saying stuck, and says
it again if the trainee stalls on the next step). A start, a reset or a
stop is no progress, nor is the trainee's own solve (its steps count as
passed already): else resetting now and then would hide a trainee who is
stuck. The clock runs only while the lab runs, so a trainee who comes
back to a lab the next day is not stuck from the first minute.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

# A trainee with no progress for this long while a lab runs is stuck
# (running time: a stopped lab's clock waits).
DEFAULT_STUCK_AFTER = 15 * 60
MAX_EVENT_LINE = 64 * 1024


def ensure_private_dir(path: Path) -> Path:
    """path as a directory of root's, closed to everyone else: created 0700,
    and refused if it is a link or someone else's."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise OSError(f"{path} is not a directory of this user")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


@dataclass(frozen=True)
class TraineeDirs:
    """Where the service keeps one trainee's labs and records."""

    base: Path

    @property
    def run(self) -> Path:
        return self.base / "run"

    @property
    def progress(self) -> Path:
        return self.base / "progress.json"

    @property
    def events(self) -> Path:
        return self.base / "events.jsonl"

    @property
    def reports(self) -> Path:
        return self.base / "reports"


def trainee_dirs(state_dir: Path, uid: int, name: str) -> TraineeDirs:
    """The trainee's directories, created (root's, 0700) on first use."""
    users = ensure_private_dir(state_dir / "users")
    d = TraineeDirs(ensure_private_dir(users / str(uid)))
    ensure_private_dir(d.run)
    ensure_private_dir(d.reports)
    user = d.base / "user"
    try:
        same = user.read_text() == name
    except OSError:
        same = False
    if not same:  # atomically: the class view may be reading it
        tmp = d.base / f"user.{threading.get_ident()}.tmp"  # one per thread
        tmp.write_text(name)
        os.replace(tmp, user)
    return d


def append_event(path: Path, event: dict[str, Any]) -> None:
    """One line appended (O_APPEND: whole lines, also from two workers)."""
    line = json.dumps({"at": time.time(), **event}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """The events of a trainee, oldest first; a line that is not an event
    (a crash mid-write) is skipped."""
    try:
        with open(path, "rb") as f:
            for raw in f:
                if len(raw) > MAX_EVENT_LINE:
                    continue
                try:
                    e = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(e, dict) and isinstance(e.get("ev"), str) \
                        and isinstance(e.get("lab"), str) and isinstance(e.get("at"), (int, float)):
                    yield e
    except FileNotFoundError:
        return


@dataclass
class Row:
    """One trainee's state in one lab, as the instructor sees it."""

    trainee: str
    uid: int
    lab: str
    running: bool
    step_reached: str      # the first step not passed yet, "" when all are
    steps_passed: int
    steps_total: int
    score: Optional[float]  # best, percent
    last_score: Optional[float]
    attempts: int
    hints: int
    solves: int
    instructor_solves: int
    completed: Optional[float]  # epoch seconds
    last_progress: float        # epoch seconds
    since_progress: float       # seconds
    stuck: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Acc:
    """What the events of one (trainee, lab) add up to."""

    def __init__(self) -> None:
        self.best_passed = -1
        self.best_score: Optional[float] = None
        self.last_score: Optional[float] = None
        self.reached = ""
        self.total = 0
        self.attempts = self.hints = self.solves = self.by_instructor = 0
        self.completed: Optional[float] = None
        self.last_progress = 0.0    # the first start until there is progress
        self.ever_passed: set[str] = set()
        # The stuck clock: seconds the lab ran without progress, over the
        # intervals that ended (idle), plus the one that runs since up_at.
        self.idle = 0.0
        self.up = False
        self.up_at = 0.0

    def add(self, e: dict[str, Any]) -> None:
        ev, at = e["ev"], float(e["at"])
        if ev in ("start", "reset"):
            if not self.last_progress:
                self.last_progress = at
            # A reset, or a start of a lab already up (one that died with
            # no stop: its time counts as running), goes on counting.
            if not self.up:
                self.up, self.up_at = True, at
        elif ev == "stop":
            if self.up:
                self.idle += max(0.0, at - self.up_at)
                self.up = False
        elif ev == "solve":
            steps = e.get("steps") if isinstance(e.get("steps"), list) else []
            self.ever_passed.update(s for s in steps if isinstance(s, str))
            if e.get("by") == "instructor":
                self.by_instructor += 1
                self._progress(at)
            else:
                self.solves += 1
        elif ev == "hint":
            self.hints += 1
        elif ev == "check":
            self._check(e, at)

    def _progress(self, at: float) -> None:
        self.last_progress, self.idle = at, 0.0
        if self.up:
            self.up_at = at

    def _check(self, e: dict[str, Any], at: float) -> None:
        self.attempts += 1
        passed = e.get("passed") if isinstance(e.get("passed"), list) else []
        steps = e.get("steps") if isinstance(e.get("steps"), list) else []
        score = e.get("score") if isinstance(e.get("score"), (int, float)) else 0.0
        self.last_score = float(score)
        self.best_score = max(self.best_score or 0.0, float(score))
        self.total = len(steps)
        if len(passed) > self.best_passed:
            self.best_passed = len(passed)
            self.reached = next((s for s in steps if s not in passed), "")
        new = {s for s in passed if isinstance(s, str)} - self.ever_passed
        self.ever_passed |= new
        if new:
            self._progress(at)
        if steps and len(passed) == len(steps) and self.completed is None:
            self.completed = at
            self._progress(at)

    def idle_at(self, now: float) -> float:
        """Seconds the lab ran without progress, until now."""
        return self.idle + (max(0.0, now - self.up_at) if self.up else 0.0)


def class_rows(state_dir: Path, running: dict[tuple[int, str], bool],
               stuck_after: float = DEFAULT_STUCK_AFTER,
               now: Optional[float] = None) -> list[Row]:
    """The class: one row per trainee and lab they started, sorted by
    trainee then lab. running says which (uid, lab) have a lab up now."""
    now = time.time() if now is None else now
    users = state_dir / "users"
    rows = []
    if not users.is_dir():
        return rows
    for d in sorted(users.iterdir(), key=lambda p: p.name):
        if not d.name.isdigit() or d.is_symlink():
            continue
        uid = int(d.name)
        try:
            name = (d / "user").read_text().strip() or d.name
        except OSError:
            name = d.name
        accs: dict[str, _Acc] = {}
        for e in read_events(d / "events.jsonl"):
            accs.setdefault(e["lab"], _Acc()).add(e)
        for lab, a in sorted(accs.items()):
            up = running.get((uid, lab), False)
            since = max(0.0, now - a.last_progress)
            rows.append(Row(
                trainee=name, uid=uid, lab=lab, running=up, step_reached=a.reached,
                steps_passed=max(a.best_passed, 0), steps_total=a.total, score=a.best_score,
                last_score=a.last_score, attempts=a.attempts, hints=a.hints, solves=a.solves,
                instructor_solves=a.by_instructor, completed=a.completed,
                last_progress=a.last_progress, since_progress=round(since, 1),
                stuck=up and a.completed is None and a.idle_at(now) > stuck_after))
    return sorted(rows, key=lambda r: (r.trainee, r.lab))
