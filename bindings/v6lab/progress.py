"""A trainee's progress: attempts and scores over time, hints and solutions
used, completion. Stored as JSON in the user's state directory
($XDG_STATE_HOME/v6lab/progress.json, by default ~/.local/state/...). Under
sudo it is the invoking user's file, not root's, and stays owned by them.
"""

from __future__ import annotations

import json
import os
import pwd
import time
from pathlib import Path
from typing import Any, Optional

from ._core import Error
from .grading import Report
from .i18n import N_, _

VERSION = 1

# summary()'s "status" is a machine value (English, in the JSON export);
# status_text() says it in the trainee's language.
STATUS_TEXT = {"not started": N_("not started"), "in progress": N_("in progress"),
               "completed": N_("completed")}


def status_text(status: str) -> str:
    return _(STATUS_TEXT.get(status, status))


def _user_home() -> tuple[Path, Optional[int], Optional[int]]:
    uid = os.environ.get("SUDO_UID")
    if os.geteuid() == 0 and uid and uid.isdigit() and int(uid) != 0:
        pw = pwd.getpwuid(int(uid))
        return Path(pw.pw_dir), pw.pw_uid, pw.pw_gid
    return Path.home(), None, None


def user_name() -> str:
    """The trainee's login name, for an exported record a trainer reads.

    Not the basename of $HOME (a home may be /srv/home/01 or /root under
    sudo -H): the password database's name for the real user, which under
    sudo is the invoking user (SUDO_UID, else SUDO_USER)."""
    sudo_uid = os.environ.get("SUDO_UID")
    if os.geteuid() == 0 and sudo_uid and sudo_uid.isdigit() and int(sudo_uid) != 0:
        try:
            return pwd.getpwuid(int(sudo_uid)).pw_name
        except KeyError:
            return os.environ.get("SUDO_USER") or sudo_uid
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid with no entry (a container): the number says who
        return os.environ.get("USER") or str(os.getuid())


def progress_path() -> Path:
    env = os.environ.get("V6LAB_PROGRESS")
    if env:
        return Path(env)
    home = _user_home()[0]
    state = os.environ.get("XDG_STATE_HOME") if os.environ.get("SUDO_UID") is None else None
    base = Path(state) if state else home / ".local" / "state"
    return base / "v6lab" / "progress.json"


class Progress:
    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = path or progress_path()
        self.data: dict[str, Any] = {"version": VERSION, "labs": {}}
        if self.path.exists() and not self.path.is_file():
            # A FIFO would block the read forever; a directory cannot be
            # replaced by save().
            raise Error(_("progress file {path} is not a regular file "
                          "(set V6LAB_PROGRESS to a file path)").format(path=self.path))
        try:
            loaded = json.loads(self.path.read_text())
            if isinstance(loaded, dict) and isinstance(loaded.get("labs"), dict):
                self.data = loaded
        except (OSError, ValueError):
            pass

    def lab(self, lab_id: str) -> dict[str, Any]:
        return self.data["labs"].setdefault(lab_id, {
            "starts": 0, "attempts": [], "hints": {}, "solves": [], "completed": None})

    def save(self) -> None:
        home, uid, gid = _user_home()
        # Under sudo, what we create inside the user's home becomes theirs;
        # nothing outside it (V6LAB_PROGRESS may point anywhere) is touched.
        own = uid is not None and "V6LAB_PROGRESS" not in os.environ and \
            home in self.path.parents
        created = []
        for d in reversed(self.path.parents):
            if not d.exists():
                d.mkdir()
                created.append(d)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        os.replace(tmp, self.path)
        if own:
            for p in created + [self.path]:
                os.chown(p, uid, gid if gid is not None else -1)

    # -- events ----------------------------------------------------------------
    def record_start(self, lab_id: str) -> None:
        self.lab(lab_id)["starts"] += 1
        self.save()

    def record_attempt(self, lab_id: str, report: Report) -> None:
        entry = self.lab(lab_id)
        entry["attempts"].append({
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "score": report.score,
            "earned": report.earned, "possible": report.possible,
            "steps": {s.id: s.status for s in report.steps}})
        if report.passed and not entry["completed"]:
            entry["completed"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.save()

    def hints_shown(self, lab_id: str) -> dict[str, int]:
        return dict(self.lab(lab_id)["hints"])

    def record_hint(self, lab_id: str, step: str) -> int:
        """Counts one more hint for step; returns how many were shown before."""
        hints = self.lab(lab_id)["hints"]
        before = hints.get(step, 0)
        hints[step] = before + 1
        self.save()
        return before

    def record_solve(self, lab_id: str, steps: list[str]) -> None:
        self.lab(lab_id)["solves"].append({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                           "steps": steps})
        self.save()

    # -- views -----------------------------------------------------------------
    def summary(self, lab_id: str) -> dict[str, Any]:
        e = self.data["labs"].get(lab_id)
        if not e:
            return {"status": "not started", "best": None, "last": None, "attempts": 0,
                    "hints": 0, "solves": 0, "completed": None}
        scores = [a["score"] for a in e["attempts"]]
        status = "completed" if e["completed"] else ("in progress" if e["starts"] or scores
                                                     else "not started")
        return {"status": status, "best": max(scores) if scores else None,
                "last": scores[-1] if scores else None, "attempts": len(scores),
                "hints": sum(e["hints"].values()), "solves": len(e["solves"]),
                "completed": e["completed"]}

    def export(self) -> dict[str, Any]:
        return {"version": VERSION, "user": user_name(),
                "labs": {k: {**v, "summary": self.summary(k)} for k, v in self.data["labs"].items()}}
