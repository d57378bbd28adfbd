"""Records of running labs, so that one command can find a lab another
command started, and `clean` can tell dead labs from live ones.

A record is /run/v6lab/labs/<id>/lab.json, written by the process that owns
the lab. A lab is alive while that owner process (PID and start time) is:
the kernel removes the lab's namespaces, links and processes when the owner
goes, so a record of a dead owner is the only thing left to remove, and
`clean` removes nothing else.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import re
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from . import paths
from . import _core
from ._core import Error
from .i18n import _


# A record is a few kilobytes per node; anything far bigger is not one.
MAX_RECORD_BYTES = 16 << 20
_PID_MAX = 1 << 22  # the kernel's largest pid_max
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def process_starttime(pid: int) -> int:
    """Start time of a process; 0 if it is gone or a zombie (the core's)."""
    return _core.process_starttime(pid)


def process_alive(pid: int, starttime: int) -> bool:
    return 0 < pid < _PID_MAX and starttime != 0 and process_starttime(pid) == starttime


class RecordError(Error):
    """A record that cannot be used; the message is one sentence."""


@dataclass
class LabRecord:
    """What another process needs to reach a running lab, and the kernel
    identities that prove the processes it names are that lab's: per node
    init (and the switch namespace's) its network and PID namespaces
    ((dev, ino) of /proc/PID/ns/*), and the zygote, parent of every init and
    child of the owner. spec is the owner's resolved spec, typed; in the
    file it is Spec.to_json's form, read back by the core's parser."""

    id: str
    name: str
    owner_pid: int
    owner_starttime: int
    created: float
    detached: bool
    source: str
    spec: _core.Spec
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    switch: Optional[dict[str, Any]] = None  # the switch namespace's init, if the lab has LANs
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"course": "slaac"}
    zygote: dict[str, int] = field(default_factory=dict)  # {"pid", "starttime"}

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
            "nodes": self.nodes, "switch": self.switch, "spec": self.spec.to_dict(),
            "meta": self.meta,
            "zygote": self.zygote,
        }

    @classmethod
    def from_json(cls, d: Any) -> "LabRecord":
        """A record from parsed JSON, checked field by field; RecordError
        names the first wrong field ("field nodes.h1.pid: expected an
        integer")."""
        return _validate(d)


# ------------------------------------------------------------- validation

def _bad(where: str, why: str) -> RecordError:
    return RecordError(f"field {where}: {why}" if where else why)


def _obj(d: Any, where: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise _bad(where, "expected an object")
    return d


def _get(d: dict[str, Any], key: str, where: str) -> Any:
    if key not in d:
        raise _bad(f"{where}.{key}" if where else key, "missing")
    return d[key]


def _str(d: dict[str, Any], key: str, where: str = "") -> str:
    v = _get(d, key, where)
    if not isinstance(v, str):
        raise _bad(f"{where}.{key}" if where else key, "expected a string")
    return v


def _int(d: dict[str, Any], key: str, where: str = "", lo: int = 1, hi: int = 1 << 63) -> int:
    v = _get(d, key, where)
    name = f"{where}.{key}" if where else key
    if not isinstance(v, int) or isinstance(v, bool):
        raise _bad(name, "expected an integer")
    if not lo <= v < hi:
        raise _bad(name, f"{v} is out of range")
    return v


def _nsid(d: dict[str, Any], key: str, where: str) -> list[int]:
    v = _get(d, key, where)
    if (not isinstance(v, list) or len(v) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 1 << 64
                       for x in v)):
        raise _bad(f"{where}.{key}", "expected [device, inode]")
    return v


def _process(d: Any, where: str) -> dict[str, Any]:
    """A node init (or the switch's): pid, start time, namespace identities."""
    d = _obj(d, where)
    out = {"pid": _int(d, "pid", where, hi=_PID_MAX),
           "starttime": _int(d, "starttime", where),
           "netns": _nsid(d, "netns", where), "pidns": _nsid(d, "pidns", where)}
    if "image" in d:
        out["image"] = _str(d, "image", where)
    return out


def _spec(d: dict[str, Any], rec_id: str) -> _core.Spec:
    """The owner's resolved spec, read back by the core, which checks every
    field and that nodes, LANs and links agree with each other (graders
    find switch ports by LAN member position). That a record is the
    owner's rests on who can write the records directory, and verify()."""
    try:
        return _core.Spec.from_json(json.dumps(d), f"record {rec_id}")
    except _core.SpecError as e:
        issues = e.args[1] if len(e.args) > 1 else []
        if not issues:
            raise _bad("spec", str(e)) from None
        where, why = issues[0][1:]
        n = len(issues) - 1
        more = f" (and {n} more problem{'s' if n > 1 else ''})" if n else ""
        raise _bad(f"spec.{where}" if where else "spec", why + more) from None


def _validate(d: Any) -> LabRecord:
    d = _obj(d, "")
    rec_id = _str(d, "id")
    if not _ID.fullmatch(rec_id):
        raise _bad("id", "not a lab id")
    created = _get(d, "created", "")
    if not isinstance(created, (int, float)) or isinstance(created, bool) \
            or not math.isfinite(created):
        raise _bad("created", "expected a number")
    detached = _get(d, "detached", "")
    if not isinstance(detached, bool):
        raise _bad("detached", "expected true or false")
    nodes = _obj(_get(d, "nodes", ""), "nodes")
    checked = {}
    for n, v in nodes.items():
        if not _ID.fullmatch(n):
            raise _bad(f"nodes.{n[:40]}", "not a node name")
        checked[n] = _process(v, f"nodes.{n}")
    name = _str(d, "name")
    spec = _spec(_obj(_get(d, "spec", ""), "spec"), rec_id)
    if spec.name != name:
        raise _bad("spec.name", f"{spec.name!r} is not the record's name {name!r}")
    if sorted(spec.node_names()) != sorted(checked):
        raise _bad("nodes", "not the nodes of spec.nodes")
    switch = d.get("switch")
    if switch is not None:
        switch = _process(switch, "switch")
    meta = _obj(d.get("meta") or {}, "meta")
    if "course" in meta and meta["course"] is not None and not isinstance(meta["course"], str):
        raise _bad("meta.course", "expected a string")
    zygote = _obj(_get(d, "zygote", ""), "zygote")
    return LabRecord(
        id=rec_id, name=name, owner_pid=_int(d, "owner_pid", hi=_PID_MAX),
        owner_starttime=_int(d, "owner_starttime"), created=float(created),
        detached=detached, source=_str(d, "source"), spec=spec, nodes=checked, switch=switch,
        meta=meta,
        zygote={"pid": _int(zygote, "pid", "zygote", hi=_PID_MAX),
                "starttime": _int(zygote, "starttime", "zygote")})


# ---------------------------------------------------------------- records

@contextlib.contextmanager
def name_lock() -> Iterator[None]:
    """Held by `start` and `up` from the check that a name is free until the
    new lab's record is written: without it, two starts of one name at the
    same moment both find it free and both build. One lock per state
    directory (so per user), beside labs/ so that no scan mistakes it for a
    record; never followed if something else sits at its path."""
    base = paths.state_dir()
    base.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(base / "start.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                     | os.O_NONBLOCK, 0o600)
    except OSError as e:
        raise Error(_("cannot lock {path}: {error}").format(path=base / "start.lock",
                                                            error=e.strerror)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Error(_("{path} is not a regular file: remove it").format(path=base / "start.lock"))
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write(rec: LabRecord) -> None:
    rec.dir.mkdir(parents=True, exist_ok=True)
    tmp = rec.dir / "lab.json.tmp"
    tmp.write_text(json.dumps(rec.to_json(), indent=1))
    os.replace(tmp, rec.dir / "lab.json")


def remove(rec: LabRecord) -> None:
    _remove_entry(rec.dir)


def _remove_entry(d: Path) -> None:
    """Removes a record directory, or a symlink in its place (the link, never
    what it points to); shutil.rmtree works through fds and refuses to
    follow a link swapped in meanwhile."""
    try:
        if d.is_symlink() or not d.is_dir():
            d.unlink()
        else:
            shutil.rmtree(d)
    except FileNotFoundError:
        pass


def read_record_file(path: Path) -> bytes:
    """lab.json's bytes: opened without following a link and without
    blocking (a FIFO), a regular file only, at most MAX_RECORD_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as e:
        what = "is a symbolic link" if e.errno == errno.ELOOP else (e.strerror or str(e)).lower()
        raise RecordError(f"lab.json {what}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket",
                    stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}.get(stat.S_IFMT(st.st_mode), "")
            raise RecordError(f"lab.json is not a regular file ({kind or 'special'})")
        if st.st_size > MAX_RECORD_BYTES:
            raise RecordError(f"lab.json is larger than {MAX_RECORD_BYTES} bytes")
        chunks, total = [], 0
        while total <= MAX_RECORD_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_RECORD_BYTES:
            raise RecordError(f"lab.json is larger than {MAX_RECORD_BYTES} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _load(d: Path) -> LabRecord:
    """The record in directory d, or RecordError saying what is wrong."""
    if d.is_symlink():
        raise RecordError("it is a symbolic link, not a directory")
    if not d.is_dir():
        raise RecordError("it is not a directory")
    data = read_record_file(d / "lab.json")
    try:
        parsed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordError("lab.json is not UTF-8") from None
    except (ValueError, RecursionError):
        raise RecordError("lab.json is not valid JSON") from None
    rec = _validate(parsed)
    if rec.id != d.name:
        raise _bad("id", f"{rec.id!r} is not the name of its directory")
    return rec


@dataclass
class Entry:
    """One entry of the records directory: a record, or why it is ignored."""

    path: Path
    record: Optional[LabRecord]
    problem: str = ""


def all_records() -> list[Entry]:
    root = paths.labs_dir()
    if root.is_symlink() or not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        try:
            out.append(Entry(d, _load(d)))
        except RecordError as e:
            out.append(Entry(d, None, str(e)))
        except OSError as e:
            out.append(Entry(d, None, f"cannot read it: {e.strerror or e}"))
    return out


def verify(rec: LabRecord) -> None:
    """Refuses a record whose processes are not its lab's: every node init
    (and the switch's) must still be in the recorded network and PID
    namespaces and be a child of the recorded zygote, which must be a child
    of the owner. A copied record pointed at another lab's inits fails here."""
    refused = RecordError(f"record {rec.id} describes processes that are not its lab's: refused")
    try:
        zygote = _core.process_identity(rec.zygote["pid"], rec.zygote["starttime"])
        inits = list(rec.nodes.values())
        if rec.switch is not None:
            inits.append(rec.switch)
        if zygote.ppid != rec.owner_pid:
            raise refused
        for n in inits:
            ident = _core.process_identity(n["pid"], n["starttime"])
            if (ident.ppid != zygote.pid or list(ident.netns) != n["netns"]
                    or list(ident.pidns) != n["pidns"]):
                raise refused
    except _core.NodeFileError:
        raise refused from None


def scan() -> tuple[list[LabRecord], list[str]]:
    """Live, verified labs (oldest first) and one line per record ignored
    ("ignored record /run/v6lab/labs/X: field nodes.h1.pid: expected an
    integer"). Dead labs' records are neither: `clean` removes them."""
    good, problems = [], []
    for e in all_records():
        if e.record is None:
            problems.append(f"ignored record {e.path}: {e.problem}")
            continue
        if not e.record.alive():
            continue
        try:
            verify(e.record)
            good.append(e.record)
        except RecordError as err:
            problems.append(str(err))
    return sorted(good, key=lambda r: r.created), problems


def running() -> list[LabRecord]:
    """Live labs whose records are valid and verified, oldest first."""
    return scan()[0]


def problems() -> list[str]:
    """One line per record that is ignored, for commands to report."""
    return scan()[1]


def _owner_still_alive(d: Path) -> bool:
    """Whether a record this v6lab refuses still names a live owner. Such a
    record is usually another v6lab version's (an instructor trying a new
    release while a class runs on the old one): removing it would orphan a
    running lab. Only the owner's pid and start time are read, leniently;
    a planted record that names a live process merely stays ignored."""
    try:
        d = json.loads(read_record_file(d / "lab.json").decode("utf-8"))
        pid, start = d["owner_pid"], d["owner_starttime"]
    except (OSError, RecordError, ValueError, RecursionError, TypeError, KeyError):
        return False
    return (type(pid) is int and type(start) is int  # noqa: E721 (not bool)
            and process_alive(pid, start))


def clean(grace: float = 5.0) -> list[str]:
    """Removes the records of dead labs, and nothing else. A directory
    without a usable record is removed only once it is older than `grace`
    seconds (a lab may be writing it right now) and names no live owner
    (another version's record); a symlink in the records
    directory is removed itself, never followed. Returns what was removed."""
    removed = []
    now = time.time()
    for e in all_records():
        rec = e.record
        if rec is not None:
            if rec.alive():
                continue
        else:
            try:
                if now - e.path.lstat().st_mtime < grace:
                    continue
            except OSError:
                continue
            if _owner_still_alive(e.path):
                continue
        try:
            _remove_entry(e.path)
        except OSError:
            continue
        removed.append(e.path.name if rec is None else f"{rec.name} ({rec.id})")
    return removed


def find(name: Optional[str]) -> LabRecord:
    """The running lab called `name` (a name or an id); with no name, the
    only running lab. Errors are one sentence; a record that names `name`
    but was refused says why."""
    labs, issues = scan()
    if name is not None and not any(name in (r.id, r.name) for r in labs):
        for line in issues:
            if f"record {name} " in line or f"/{name}:" in line:
                raise RecordError(line)
    if not labs:
        raise Error(_("no lab is running (start one with 'v6lab start' or 'v6lab up FILE')"))
    if name is None:
        if len(labs) > 1:
            names = ", ".join(f"{r.name} ({r.id})" for r in labs)
            raise Error(_("several labs are running ({labs}): choose one with --lab").format(
                labs=names))
        return labs[0]
    by_id = [r for r in labs if r.id == name]
    if by_id:
        return by_id[0]
    by_name = [r for r in labs if r.name == name]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        ids = ", ".join(r.id for r in by_name)
        raise Error(_("several labs are called '{name}' (ids {ids}): give the id with "
                      "--lab").format(name=name, ids=ids))
    names = ", ".join(f"{r.name} ({r.id})" for r in labs)
    raise Error(_("no running lab is called '{name}' (running: {labs})").format(
        name=name, labs=names))
