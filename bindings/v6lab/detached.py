"""Detached labs: a lab started by one command that stays up until another
command stops it.

The lab is owned by a supervisor process (python -m v6lab._supervisor) in
its own session. Killing the supervisor, even with SIGKILL, destroys the lab
(the kernel does it, see v6lab.lab); stopping it with SIGTERM also removes
its record.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from typing import Any, Optional

from . import errors, paths, registry
from ._core import Error
from .i18n import _
from .lab import Lab, TopoSource, raw_spec, require_root

# Errors the supervisor reports by class name, raised here as themselves so
# that the command's exit code stays right (5 for a missing program, 8 for
# a host that refuses rootless mode, ...): every class of v6lab.errors.
_ERRORS = {name: getattr(errors, name) for name in errors.__all__
           if isinstance(getattr(errors, name), type)}


def start(topo: TopoSource, *, name: Optional[str] = None, course: Optional[str] = None,
          timeout: float = 60.0) -> registry.LabRecord:
    """Starts a lab in a supervisor process and returns its record once it
    is up (and, for a graded lab of the curriculum, in its initial state).
    The spec is validated here first, so a bad file fails before any process
    is started; the supervisor gets the raw spec read here, so the file is
    read once."""
    raw, source = raw_spec(topo, name=name)
    lab = Lab(raw, source=source)  # validates; builds nothing
    require_root()
    r, w = os.pipe()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(paths.PACKAGE_DIR.parent)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    request = json.dumps({"spec": raw, "source": source, "id": lab.id,
                          "course": course})
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "v6lab._supervisor", str(w)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, pass_fds=(w,), start_new_session=True,
            env=env, cwd="/")
    finally:
        os.close(w)
    with os.fdopen(r, "rb") as ready:
        assert proc.stdin is not None
        proc.stdin.write(request.encode())
        proc.stdin.close()
        if not select.select([ready], [], [], timeout)[0]:
            proc.kill()
            proc.wait()
            raise Error(f"lab {lab.name} did not come up within {timeout:g} s")
        msg = ready.read().decode(errors="replace").strip()
    if not msg.startswith("ok "):
        proc.wait()
        if msg.startswith("error "):
            kind, text = msg[len("error "):].partition("\n")[::2]
            raise _ERRORS.get(kind, Error)(text)
        raise Error(msg or f"the supervisor of lab {lab.name} exited before the lab was up")
    # The supervisor lives on in its own session; do not keep a zombie of it.
    proc.returncode = 0  # it is not ours to wait for any more
    return registry.find(msg.split()[1])


def stop_owner(rec: registry.LabRecord, *, timeout: float = 10.0,
               force: bool = False) -> None:
    """Stops a lab by stopping the process that owns it. A lab owned by a
    script (not detached) is stopped only with force, since that kills the
    script."""
    if not rec.detached and not force:
        raise Error(_("lab {name} ({id}) belongs to process {pid}, not to a v6lab supervisor: "
                      "stop it there, or use --force to kill that process").format(
                          name=rec.name, id=rec.id, pid=rec.owner_pid))
    try:
        pidfd = os.pidfd_open(rec.owner_pid)
    except ProcessLookupError:
        registry.remove(rec)
        return
    try:
        if registry.process_starttime(rec.owner_pid) != rec.owner_starttime:
            registry.remove(rec)
            return
        signal.pidfd_send_signal(pidfd, signal.SIGTERM)
        if not select.select([pidfd], [], [], timeout)[0]:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            select.select([pidfd], [], [], timeout)
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)
    registry.remove(rec)  # if the owner could not remove it itself


def stop_all(force: bool = False) -> list[str]:
    stopped = []
    for rec in registry.running():
        if rec.detached or force:
            stop_owner(rec, force=force)
            stopped.append(f"{rec.name} ({rec.id})")
    return stopped


def source_of(rec: registry.LabRecord) -> str:
    """Where a lab came from, as a trainee would name it: the curriculum lab's
    id (its Topo class would read "Topo Topo"), else the topology file."""
    course = rec.meta.get("course")
    return course if isinstance(course, str) and course else rec.source


def describe(rec: registry.LabRecord) -> dict[str, Any]:
    return {"id": rec.id, "name": rec.name, "owner_pid": rec.owner_pid,
            "detached": rec.detached, "source": source_of(rec),
            "course": rec.meta.get("course"), "nodes": sorted(rec.nodes)}
