"""What the classroom service runs for one request, in a process of its
own, as root (forked from the zygote, v6lab.classroom.zygote, which calls
main(); or on its own as python -m v6lab.classroom.worker), with the
trainee's directories of the service in its environment:

    V6LAB_STATE_DIR        STATE/users/<uid>/run  (the trainee's lab records)
    V6LAB_PROGRESS         STATE/users/<uid>/progress.json
    V6LAB_CLASS_EVENTS     STATE/users/<uid>/events.jsonl
    V6LAB_CLASS_REPORTS    STATE/users/<uid>/reports
    V6LAB_CLASS_USER       the trainee's login name
    V6LAB_CLASS_BY         "trainee" or "instructor" (who asked)
    V6LAB_CLASS_MAX_LABS   how many labs the trainee may have running

A process per request keeps the service's own threads out of namespaces
(a worker joins nodes' namespaces, grading uses helper threads), lets one
trainee's grading run beside another's, and turns a crash into one error
for one request. The request comes in V6LAB_CLASS_REQUEST as {"op",
"args"} (stdin may be the client's); the answer goes to stdout as the protocol's answer line. For exec, shell and capture
the worker gets the client's stdin, stdout and stderr as its own, writes
the answer ("ok" or the refusal) to the control fd the service gives it
(V6LAB_CLASS_CONTROL_FD) and then becomes v6lab-nsexec.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

from .. import detached, registry
from .._core import Error, SpecError
from ..errors import ProviderNodeError, exit_code, message
from ..i18n import _
from . import protocol, state


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise Error(f"the classroom worker needs {name} (it is run by the service)")
    return value


def _event(ev: str, lab: str, **more: Any) -> None:
    state.append_event(Path(_env("V6LAB_CLASS_EVENTS")), {"ev": ev, "lab": lab, **more})


def _mine(lab: Optional[str]) -> registry.LabRecord:
    """The trainee's running lab called lab (its curriculum id, its name or
    its id); with none, their only running lab."""
    labs = registry.running()
    if lab is not None:
        labs = [r for r in labs if lab in (r.id, r.name, r.meta.get("course"))]
    if not labs and os.environ.get("V6LAB_CLASS_BY") == "instructor":
        raise Error(_("{user} has no lab {lab} running").format(
            user=os.environ.get("V6LAB_CLASS_USER", "?"), lab=lab))
    if not labs:
        if lab is None:
            raise Error(_("you have no lab running (start one with 'v6lab start LAB')"))
        raise Error(_("you have no lab {lab} running (start it with 'v6lab start {lab}')").format(
            lab=lab))
    if len(labs) > 1:
        raise Error(_("you have several labs running ({labs}): say which one with --lab").format(
            labs=", ".join(str(r.meta.get("course") or r.name) for r in labs)))
    return labs[0]


# The curriculum as the zygote loaded it, per language (a definition's
# texts are in the language it was loaded in): a worker forked from the
# zygote looks its lab up here instead of loading and validating every lab
# again (about 50 ms of CPU a request). Empty in a worker run on its own.
PRELOADED: dict[str, dict[str, Any]] = {}


def find_lab(lab_id: str) -> Any:
    """The curriculum's lab lab_id, in the request's language."""
    from .. import course, i18n
    d = PRELOADED.get(i18n.language(), {}).get(lab_id)
    return d if d is not None else course.find_lab(lab_id)


def _course(lab: Optional[str]) -> tuple[Any, Any]:
    """The running lab (attached) and its curriculum definition."""
    from ..lab import RunningLab
    rec = _mine(lab)
    course = rec.meta.get("course")
    if not isinstance(course, str) or not course:
        raise Error(_("lab {name} has nothing to grade").format(name=rec.name))
    return RunningLab(rec), find_lab(course)


def _progress() -> Any:
    from ..progress import Progress
    return Progress(Path(_env("V6LAB_PROGRESS")))


# -- operations -------------------------------------------------------------

def op_start(args: dict[str, Any]) -> dict[str, Any]:
    from ..lab import RunningLab
    d = find_lab(args["lab"])
    running = registry.running()
    same = [r for r in running if r.meta.get("course") == d.id]
    if same:
        raise Error(_("lab {lab} is already running (carry on with 'v6lab shell', or start it "
                      "over with 'v6lab reset --lab {lab}')").format(lab=d.id))
    limit = int(os.environ.get("V6LAB_CLASS_MAX_LABS", "2"))
    if len(running) >= limit:
        raise Error(_("you have {n} labs running, the most this class allows: stop one first "
                      "('v6lab stop --lab LAB')").format(n=len(running)))
    d.require_kernel()
    rec = detached.start(d.topology(), name=d.id, course=d.id)
    _progress().record_start(d.id)
    _event("start", d.id, id=rec.id)
    lab = RunningLab(rec)
    first = next((n.name for n in lab if not n.provider), next(iter(rec.nodes), ""))
    return {"id": rec.id, "name": rec.name, "lab": d.id, "title": d.title,
            "nodes": sorted(rec.nodes), "trainee_nodes": [n.name for n in lab if not n.provider],
            "first": first, "instructions": d.instructions()}


def op_stop(args: dict[str, Any]) -> dict[str, Any]:
    rec = _mine(args.get("lab"))
    detached.stop_owner(rec)
    _event("stop", str(rec.meta.get("course") or rec.name), id=rec.id)
    return {"id": rec.id, "name": rec.name}


def op_ls(args: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**detached.describe(r), "created": r.created} for r in registry.running()]


def op_check(args: dict[str, Any]) -> dict[str, Any]:
    """The report; with format, also what `v6lab check` prints for it
    ("output", drawn here for the client's terminal: width, colours,
    language) and the exit code ("exit"), so the trainee's command loads
    neither the grading code nor rich."""
    from ..grading.report import text_console
    from . import GRADED_BY_SERVICE
    lab, d = _course(args.get("lab"))
    report, data = _graded(lab, d)
    fmt = args.get("format")
    if fmt is None:
        return data
    con = text_console(args.get("width", 80), args.get("color")) if fmt == "text" else None
    # The JSON text only for --format json: indented, it is written by
    # json's pure-Python encoder.
    text = report.output(fmt, data["lab"], _(GRADED_BY_SERVICE), bool(args.get("verbose")),
                         console=con,
                         json_text=json.dumps(data, indent=2) if fmt == "json" else None)
    return data | {"output": text, "exit": report.exit_code()}


def _graded(lab: Any, d: Any) -> tuple[Any, dict[str, Any]]:
    """Grades the lab and records it as an attempt, whatever asked for the
    grading (check, or hint finding the next step): a grading that left no
    trace would tell a trainee where they stand without the class view
    counting it (found by an adversarial pass). Returns the report and
    what was recorded of it."""
    prog = _progress()
    report = d.grader().grade(lab, hints_shown=prog.hints_shown(d.id))
    prog.record_attempt(d.id, report)
    data = report.to_dict()
    data["graded_by"] = "v6lab classroom service"
    reports = Path(_env("V6LAB_CLASS_REPORTS"))
    tmp = reports / f"{d.id}.json.tmp"
    tmp.write_text(json.dumps(data))  # not indented: json's C encoder
    os.replace(tmp, reports / f"{d.id}.json")
    _event("check", d.id, score=report.score, steps=[s.id for s in report.steps],
           passed=[s.id for s in report.steps if s.status == "pass"],
           errors=report.has_errors)
    return report, data


def op_hint(args: dict[str, Any]) -> dict[str, Any]:
    lab, d = _course(args.get("lab"))
    grader = d.grader()
    step = args.get("step")
    if step is None:
        nxt = _graded(lab, d)[0].first_unfinished()
        if nxt is None:
            return {"done": True}
        step = nxt.id
    ids = [s.id for s in grader.steps]
    if step not in ids:
        raise Error(_("lab {lab} has no step '{step}' (steps: {steps})").format(
            lab=d.id, step=step, steps=", ".join(ids)))
    s = grader.step(step)
    shown = _progress().record_hint(d.id, s.id)
    k = min(shown, len(s.hints) - 1)
    _event("hint", d.id, step=s.id)
    return {"step": s.id, "title": s.title, "k": k + 1, "n": len(s.hints), "hint": s.hints[k]}


def op_solve(args: dict[str, Any]) -> dict[str, Any]:
    lab, d = _course(args.get("lab"))
    upto = args.get("upto")
    ids = [s.id for s in d.steps()]
    if upto is not None and upto not in ids:
        raise Error(_("lab {lab} has no step '{step}' (steps: {steps})").format(
            lab=d.id, step=upto, steps=", ".join(ids)))
    done = d.solve(lab, upto=upto)
    by = os.environ.get("V6LAB_CLASS_BY", "trainee")
    prog = _progress()
    prog.lab(d.id)["solves"].append({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                     "steps": done, "by": by})
    prog.save()
    _event("solve", d.id, steps=done, by=by)
    return {"steps": done}


def op_reset(args: dict[str, Any]) -> dict[str, Any]:
    lab, d = _course(args.get("lab"))
    detached.stop_owner(lab.record)
    rec = detached.start(d.topology(), name=lab.name, course=d.id)
    _event("reset", d.id, id=rec.id, by=os.environ.get("V6LAB_CLASS_BY", "trainee"))
    return {"id": rec.id, "name": rec.name, "lab": d.id}


def op_progress(args: dict[str, Any]) -> dict[str, Any]:
    data = _progress().export()
    data["user"] = os.environ.get("V6LAB_CLASS_USER", "")
    data["graded_by"] = "v6lab classroom service"
    return data


OPS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "start": op_start, "stop": op_stop, "ls": op_ls, "check": op_check, "hint": op_hint,
    "solve": op_solve, "reset": op_reset, "progress": op_progress,
    "class-reset": op_reset, "class-solve": op_solve,
}


# -- running a command in a node -----------------------------------------------

def node_argv(op: str, args: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The v6lab-nsexec argv and environment for exec, shell or capture,
    after the checks a trainee must pass: a node of their own lab that the
    lab does not provide (never a provider node; the switch is no node)."""
    from .. import _core
    from .._core import MissingBinaryError
    from ..lab import RunningLab
    lab = RunningLab(_mine(args.get("lab")))
    name = args["node"]
    if name not in lab:
        raise Error(_("lab {lab} has no node '{node}' (your nodes: {nodes})").format(
            lab=lab.name, node=name, nodes=", ".join(n.name for n in lab if not n.provider)))
    n = lab[name]
    if n.provider:
        raise ProviderNodeError(_(
            "{node} is provided by the lab ({lab}): in a class only your own nodes can be "
            "entered").format(node=name, lab=lab.name))
    if op == "exec":
        return n.exec_argv(list(args["argv"])), n.env()
    if op == "shell":
        shell = "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh"
        argv = [shell, "--norc", "-i"] if shell.endswith("bash") else [shell, "-i"]
        return n.exec_argv(argv, cwd="/root"), n.env({"PS1": f"[{n.name}@{lab.name}] \\w\\$ "})
    if args["iface"] not in [link.name for link in n.links()]:
        raise Error(_("{node} has no interface '{iface}'").format(node=name, iface=args["iface"]))
    if not _core.find_program("tcpdump"):
        raise MissingBinaryError(_("capturing needs tcpdump: install the Debian package tcpdump"))
    argv = ["tcpdump", "-i", args["iface"], "-U", "-w", "-", "-s", "0"]
    if args.get("count"):
        argv += ["-c", str(args["count"])]
    if args.get("filter"):
        argv += args["filter"].split()
    return n.exec_argv(argv), n.env()


def run_in_node(op: str, args: dict[str, Any]) -> int:
    """Answers on the control fd (V6LAB_CLASS_CONTROL_FD), then becomes
    v6lab-nsexec, whose stdio are the client's."""
    from .. import paths
    ctl = int(_env("V6LAB_CLASS_CONTROL_FD"))
    try:
        argv, env = node_argv(op, args)
    except Exception as e:  # noqa: BLE001 - every refusal is an answer
        os.write(ctl, _refusal(e))
        return 1
    os.write(ctl, protocol.answer({"started": True}))
    os.close(ctl)
    os.execve(str(paths.NSEXEC), argv, env)
    return 127  # not reached


def _refusal(e: BaseException) -> bytes:
    if isinstance(e, SpecError):
        return protocol.refusal(str(e.args[0]), 3)
    if isinstance(e, Error):
        return protocol.refusal(message(e), exit_code(e))
    if isinstance(e, OSError):
        where = f": {e.filename}" if e.filename else ""
        return protocol.refusal(f"{e.strerror or e}{where}", protocol.EXIT_FAILED)
    # The service's log (in a worker for exec, shell or capture, stderr is
    # the trainee's: the zygote points logging elsewhere first).
    logging.getLogger("v6lab.classroom").error("worker: %s", type(e).__name__, exc_info=e)
    return protocol.refusal(f"internal error in the classroom service: {type(e).__name__}: "
                            f"{str(e)[:200]}", protocol.EXIT_INTERNAL)


def main() -> int:
    if os.geteuid() != 0:
        # Only the service runs it; anyone else would at best reach their own files.
        sys.stdout.buffer.write(protocol.refusal(
            "the classroom worker is run by the classroom service, as root", 4))
        return 4
    req = json.loads(_env("V6LAB_CLASS_REQUEST"))
    op, args = req["op"], req["args"]
    if op in ("exec", "shell", "capture"):
        return run_in_node(op, args)
    try:
        out = protocol.answer(OPS[op](args))
    except Exception as e:  # noqa: BLE001 - every failure is an answer
        out = _refusal(e)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
