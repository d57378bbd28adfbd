"""Records of running labs, so that one command can find a lab another
command started, and `clean` can tell dead labs from live ones.

A record is /run/v6lab/labs/<id>/lab.json, written by the process that owns
the lab. A lab is alive while that owner process (PID and start time) is:
the kernel removes the lab's namespaces, links and processes when the owner
goes, so a record of a dead owner is the only thing left to remove, and
`clean` removes nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from . import paths
from . import _core
from ._core import Error


def process_starttime(pid: int) -> int:
    """Start time of a process; 0 if it is gone or a zombie (the core's)."""
    return _core.process_starttime(pid)


def process_alive(pid: int, starttime: int) -> bool:
    return pid > 0 and starttime != 0 and process_starttime(pid) == starttime


@dataclass
class LabRecord:
    """What another process needs to reach a running lab."""

    id: str
    name: str
    owner_pid: int
    owner_starttime: int
    created: float
    detached: bool
    source: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"course": "slaac"}

    @property
    def dir(self) -> Path:
        return paths.labs_dir() / self.id

    def alive(self) -> bool:
        return process_alive(self.owner_pid, self.owner_starttime)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "owner_pid": self.owner_pid,
            "owner_starttime": self.owner_starttime, "created": self.created,
            "detached": self.detached, "source": self.source,
            "nodes": self.nodes, "spec": self.spec, "meta": self.meta,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "LabRecord":
        return cls(**{k: d[k] for k in (
            "id", "name", "owner_pid", "owner_starttime", "created",
            "detached", "source", "nodes", "spec")}, meta=d.get("meta") or {})


def write(rec: LabRecord) -> None:
    rec.dir.mkdir(parents=True, exist_ok=True)
    tmp = rec.dir / "lab.json.tmp"
    tmp.write_text(json.dumps(rec.to_json(), indent=1))
    os.replace(tmp, rec.dir / "lab.json")


def remove(rec: LabRecord) -> None:
    shutil.rmtree(rec.dir, ignore_errors=True)


def _load(d: Path) -> Optional[LabRecord]:
    try:
        return LabRecord.from_json(json.loads((d / "lab.json").read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def all_records() -> list[tuple[Path, Optional[LabRecord]]]:
    root = paths.labs_dir()
    if not root.is_dir():
        return []
    return [(d, _load(d)) for d in sorted(root.iterdir()) if d.is_dir()]


def running() -> list[LabRecord]:
    """Live labs, oldest first."""
    recs = [r for _, r in all_records() if r is not None and r.alive()]
    return sorted(recs, key=lambda r: r.created)


def clean(grace: float = 5.0) -> list[str]:
    """Removes the records of dead labs, and nothing else. A directory
    without a readable record is removed only once it is older than `grace`
    seconds (a lab may be writing it right now). Returns what was removed."""
    removed = []
    now = time.time()
    for d, rec in all_records():
        if rec is not None:
            if rec.alive():
                continue
        else:
            try:
                if now - d.stat().st_mtime < grace:
                    continue
            except OSError:
                continue
        shutil.rmtree(d, ignore_errors=True)
        removed.append(d.name if rec is None else f"{rec.name} ({rec.id})")
    return removed


def find(name: Optional[str]) -> LabRecord:
    """The running lab called `name` (a name or an id); with no name, the
    only running lab. Errors are one sentence."""
    labs = running()
    if not labs:
        raise Error("no lab is running (start one with 'v6lab start' or 'v6lab up FILE')")
    if name is None:
        if len(labs) > 1:
            names = ", ".join(f"{r.name} ({r.id})" for r in labs)
            raise Error(f"several labs are running ({names}): choose one with --lab")
        return labs[0]
    by_id = [r for r in labs if r.id == name]
    if by_id:
        return by_id[0]
    by_name = [r for r in labs if r.name == name]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        ids = ", ".join(r.id for r in by_name)
        raise Error(f"several labs are called '{name}' (ids {ids}): give the id with --lab")
    names = ", ".join(f"{r.name} ({r.id})" for r in labs)
    raise Error(f"no running lab is called '{name}' (running: {names})")
