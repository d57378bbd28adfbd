"""The classroom on the command line: `v6lab class …` (the service and the
instructor's view), and the trainee's usual verbs sent to the service when
a class is in force (v6lab.classroom.client decides; docs/classroom.md).

in_class() wraps a verb of the other modules: in a class its arguments, as
click parsed them, go to the service instead of to a lab of the trainee's
own; out of one the verb runs as it always did. A verb that would build a
self-graded lab (up, demo) or read nodes directly (inspect) is refused in a
class with one sentence saying how to practise on one's own instead.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import click

from .._core import Error
from ..classroom import GRADED_BY_SERVICE, client, quick
from ..classroom.protocol import EXPORT_FORMATS
from ..errors import ProviderNodeError, UsageError
from ..i18n import N_, _
from ._common import console, errors
from ._i18n import Command, Group, option


# -- the instructor's verbs -----------------------------------------------------

@click.group("class", cls=Group, help=N_(
    "The classroom: a service that builds, enters and grades trainees' labs, and the "
    "instructor's view of the class (docs/classroom.md)."))
def class_group() -> None:
    """`v6lab class SUBCOMMAND`."""


def _socket(path: Optional[str]) -> Path:
    return Path(path) if path else (client.class_socket() or client.DEFAULT_SOCKET)


socket_option = option("--socket", "socket_path", metavar="PATH",
                       help=N_("The service's socket (default: $V6LAB_CLASS_SOCKET, else "
                               "/run/v6lab-class/class.sock)."))


@class_group.command("serve", cls=Command, help=N_(
    "Run the classroom service in the foreground (root only; systemd runs it as "
    "v6lab-class.service)."))
@socket_option
@option("--state-dir", type=click.Path(file_okay=False), default="/var/lib/v6lab-class",
        show_default=True, help=N_("Where the service keeps labs, progress and reports."))
@option("--instructor-group", default="", metavar="GROUP",
        help=N_("Members of this group see and manage the class (root always may)."))
@option("--max-labs", type=click.IntRange(1, 20), default=2, show_default=True,
        help=N_("Labs a trainee may have running at once."))
@option("--stuck-after", type=click.IntRange(60), default=900, show_default=True,
        help=N_("Seconds without progress after which a trainee shows as stuck."))
@errors
def serve(socket_path: Optional[str], state_dir: str, instructor_group: str,
          max_labs: int, stuck_after: int) -> None:
    from ..classroom import server, service
    sys.exit(service.run(server.Config(
        socket_path=Path(socket_path) if socket_path else server.DEFAULT_SOCKET,
        state_dir=Path(state_dir), instructor_group=instructor_group,
        max_labs=max_labs, stuck_after=stuck_after)))


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@class_group.command("status", cls=Command, help=N_(
    "The class, live: per trainee and lab the step reached, score, hints and solves used, "
    "time since the last progress, and who is stuck."))
@socket_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@option("--watch", type=click.IntRange(1), metavar="SECONDS",
        help=N_("Refresh every SECONDS until interrupted."))
@errors
def status(socket_path: Optional[str], fmt: str, watch: Optional[int]) -> None:
    while True:
        rows = client.call(_socket(socket_path), "class-status")
        if fmt == "json":
            click.echo(json.dumps(rows, indent=2))
        else:
            if watch:
                click.clear()
            console().print(_class_table(rows))
        if not watch:
            return
        time.sleep(watch)


def _class_table(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table
    # TRANSLATORS: column headings of `v6lab class status`.
    t = Table(_("trainee"), _("lab"), _("step"), _("steps"), _("score"), _("hints"),
              _("solves"), _("last progress"), title=_("graded by the classroom service"))
    for r in rows:
        step = r["step_reached"] or _("all done")
        ago = _ago(r["since_progress"])
        # TRANSLATORS: after the time since a trainee's last progress.
        stuck, stopped = _("stuck"), _("not running")
        if r["stuck"]:
            ago = f"[bold red]{ago} ({stuck})[/]"
        elif not r["running"]:
            ago = f"[dim]{ago} ({stopped})[/]"
        solves = str(r["solves"]) + (f" + {r['instructor_solves']}" if r["instructor_solves"]
                                     else "")
        t.add_row(r["trainee"], r["lab"], step, f"{r['steps_passed']}/{r['steps_total']}",
                  "" if r["score"] is None else f"{r['score']:g} %", str(r["hints"]), solves, ago)
    return t


@class_group.command("export", cls=Command, help=N_(
    "Export the class as csv, json, junit, xapi (xAPI statements) or lti-ags (LTI 1.3 "
    "score objects), to a file or stdout."))
@socket_option
@click.argument("fmt", metavar="FORMAT", type=click.Choice(EXPORT_FORMATS))
@option("--output", "-o", default="-", metavar="FILE", help=N_("File to write ('-': stdout)."))
@errors
def export(socket_path: Optional[str], fmt: str, output: str) -> None:
    data = client.call(_socket(socket_path), "class-export", format=fmt)
    if output == "-":
        click.echo(data["text"], nl=False)
    else:
        Path(output).write_text(data["text"])
        click.echo(_("wrote {file}").format(file=output), err=True)


@class_group.command("reset", cls=Command, help=N_(
    "Put one trainee's lab back in its initial state; no other lab is touched."))
@socket_option
@click.argument("trainee")
@click.argument("lab")
@errors
def reset(socket_path: Optional[str], trainee: str, lab: str) -> None:
    r = client.call(_socket(socket_path), "class-reset", trainee=trainee, lab=lab)
    click.echo(_("lab {lab} of {trainee} is back in its initial state (id {id})").format(
        lab=r["lab"], trainee=trainee, id=r["id"]))


@class_group.command("solve", cls=Command, help=N_(
    "Apply the reference solution to one trainee's lab, up to a step (recorded as the "
    "instructor's)."))
@socket_option
@click.argument("trainee")
@click.argument("lab")
@option("--upto", metavar="STEP", help=N_("The last step to solve (default: every step)."))
@errors
def solve(socket_path: Optional[str], trainee: str, lab: str, upto: Optional[str]) -> None:
    r = client.call(_socket(socket_path), "class-solve", trainee=trainee, lab=lab, upto=upto)
    click.echo(_("solved for {trainee}: {steps}").format(trainee=trainee,
                                                         steps=", ".join(r["steps"])))


@class_group.command("whoami", cls=Command, help=N_(
    "Which mode is in force (a class, or labs of your own), and who the service says you are."))
@errors
def whoami() -> None:
    sock = client.class_socket()
    if sock is None:
        click.echo(_("mode: labs of your own (self-graded; no class is configured)"))
        return
    me = client.call(sock, "hello")
    click.echo(_("mode: class (service at {socket}); you are {user} (uid {uid})").format(
        socket=sock, user=me["user"], uid=me["uid"]))
    if me["instructor"]:
        click.echo(_("you are an instructor of this class"))


# -- the trainee's verbs in a class ----------------------------------------------

def _start(sock: Path, lab_id: Optional[str], name: Optional[str] = None,
           new: bool = False, **rest: Any) -> int:
    if lab_id is None:
        raise UsageError(_("in a class, say which lab to start: 'v6lab start LAB' "
                           "('v6lab labs' lists them)"))
    if name or new:
        raise UsageError(_("in a class each lab runs once per trainee: --name and --new "
                           "do not apply"))
    t0 = time.monotonic()
    r = client.call(sock, "start", lab=lab_id)
    from rich.markdown import Markdown
    from rich.markup import escape
    con = console()
    up = _("Lab {name} is up in {ms} ms").format(name=r["name"],
                                                   ms=f"{(time.monotonic() - t0) * 1000:.0f}")
    con.print(f"[bold green]{escape(up)}[/] [dim]({escape(_graded_by_service())})[/]\n")
    con.print(f"[bold]{escape(r['title'])}[/]\n")
    con.print(Markdown(r["instructions"]))
    con.print("\n" + escape(_("Your nodes: {nodes}").format(nodes=", ".join(r["trainee_nodes"]))))
    con.print(escape(_("Open a shell: v6lab shell {node}; check your work: v6lab check; "
                       "stuck? v6lab hint").format(node=r["first"])))
    return 0


def _graded_by_service() -> str:
    return _(GRADED_BY_SERVICE)


def _check(sock: Path, lab_name: Optional[str], fmt: str = "text", verbose: bool = False,
           **rest: Any) -> int:
    """The service grades and draws the report for this terminal (its width,
    colours and language): printed as it comes."""
    data = client.call(sock, "check", **quick.check_args(lab_name, fmt, verbose))
    # color=True: the service drew for this terminal as quick.terminal()
    # judged it (FORCE_COLOR included); click must not strip it again.
    click.echo(data["output"], nl=False, color=True)
    return int(data["exit"])


def _hint(sock: Path, lab_name: Optional[str], step: Optional[str] = None, **rest: Any) -> int:
    r = client.call(sock, "hint", lab=lab_name, step=step)
    if r.get("done"):
        click.echo(_("Every step is done: no hint needed."))
        return 0
    head = _("{title} — hint {k} of {n}:").format(title=r["title"], k=r["k"], n=r["n"])
    click.echo(f"{head}\n{r['hint']}")
    return 0


def _solve(sock: Path, lab_name: Optional[str], step: Optional[str] = None, **rest: Any) -> int:
    r = client.call(sock, "solve", lab=lab_name, upto=step)
    click.echo(_("solved: {steps} (run 'v6lab check' to see the result)").format(
        steps=", ".join(r["steps"])))
    return 0


def _reset(sock: Path, lab_name: Optional[str], **rest: Any) -> int:
    r = client.call(sock, "reset", lab=lab_name)
    click.echo(_("lab {name} is back in its initial state (id {id})").format(
        name=r["name"], id=r["id"]))
    return 0


def _stop(sock: Path, lab_name: Optional[str], all_: bool = False, force: bool = False,
          **rest: Any) -> int:
    labs = [d["course"] or d["name"] for d in client.call(sock, "ls")] if all_ else [lab_name]
    for lab in labs:
        r = client.call(sock, "stop", lab=lab)
        click.echo(_("lab {name} ({id}) stopped").format(name=r["name"], id=r["id"]))
    return 0


def _ls(sock: Path, fmt: str = "table", **rest: Any) -> int:
    labs = client.call(sock, "ls")
    if fmt == "json":
        click.echo(json.dumps(labs, indent=2))
        return 0
    click.echo(_graded_by_service())
    if not labs:
        click.echo(_("no lab is running"))
    for d in labs:
        click.echo(f"{d['course'] or d['name']}  {d['id']}  {', '.join(d['nodes'])}  "
                   f"{time.time() - d['created']:.0f} s")
    return 0


def _progress(sock: Path, export: Optional[str] = None, fmt: str = "table", **rest: Any) -> int:
    data = client.call(sock, "progress")
    text = json.dumps(data, indent=2)
    if export:
        Path(export).write_text(text)
        click.echo(_("progress written to {file}").format(file=export))
    elif fmt == "json":
        click.echo(text)
    else:
        from ..progress import status_text
        from rich.table import Table
        # The same headings as `v6lab progress` out of a class.
        t = Table(_("lab"), _("status"), _("attempts"), _("best"), _("last"), _("hints"),
                  _("solves"), title=_graded_by_service())
        for lab, entry in data["labs"].items():
            s = entry["summary"]
            t.add_row(lab, status_text(s["status"]), str(s["attempts"]),
                      "" if s["best"] is None else f"{s['best']:g} %",
                      "" if s["last"] is None else f"{s['last']:g} %", str(s["hints"]),
                      str(s["solves"]))
        console().print(t)
    return 0


class _ServiceProgress:
    """The service's record of the trainee's progress, read as `labs`
    reads a progress file (summary per lab)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._labs = data.get("labs") or {}

    def summary(self, lab_id: str) -> dict[str, Any]:
        entry = self._labs.get(lab_id)
        if entry:
            return entry["summary"]
        return {"status": "not started", "best": None, "last": None, "attempts": 0,
                "hints": 0, "solves": 0, "completed": None}


def _labs(sock: Path, fmt: str = "table", **rest: Any) -> int:
    """The curriculum with the status and best score the service recorded
    (not the progress file in the trainee's home)."""
    from ..course import scan_labs
    from .training import _labs_table
    prog = _ServiceProgress(client.call(sock, "progress"))
    defs, _broken = scan_labs()
    if fmt == "json":
        click.echo(json.dumps([{"id": d.id, "number": d.number, "title": d.title,
                                "level": d.level, "minutes": d.minutes, **prog.summary(d.id)}
                               for d in defs.values()], indent=2))
        return 0
    console().print(_labs_table(defs, prog))
    click.echo(_graded_by_service())
    return 0


def _own_node_only(instructor: bool) -> None:
    if instructor:
        raise ProviderNodeError(_("in a class only your own nodes can be entered: "
                                  "--instructor does not apply"))


def _exec(sock: Path, lab_name: Optional[str], node: str, command: tuple[str, ...],
          instructor: bool = False, **rest: Any) -> int:
    _own_node_only(instructor)
    return client.run_in_node(sock, "exec", lab=lab_name, node=node, argv=list(command))


def _shell(sock: Path, lab_name: Optional[str], node: str, instructor: bool = False,
           **rest: Any) -> int:
    _own_node_only(instructor)
    return client.run_in_node(sock, "shell", lab=lab_name, node=node)


def _capture(sock: Path, lab_name: Optional[str], node: str, iface: str, out: str = "-",
             count: int = 0, bpf: str = "", **rest: Any) -> int:
    if out == "-" and sys.stdout.isatty():
        raise Error(_("refusing to write pcap to a terminal: use -w FILE, or pipe into "
                      "wireshark -k -i -"))
    if out == "-":
        return client.run_in_node(sock, "capture", lab=lab_name, node=node, iface=iface,
                                  count=count or None, filter=bpf or None)
    import os
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    saved = os.dup(1)
    try:
        os.dup2(fd, 1)
        return client.run_in_node(sock, "capture", lab=lab_name, node=node, iface=iface,
                                  count=count or None, filter=bpf or None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(fd)


# The click command's name -> what it does in a class.
IN_CLASS: dict[str, Callable[..., int]] = {
    "start": _start, "check": _check, "hint": _hint, "solve": _solve, "reset": _reset,
    "down": _stop, "status": _ls, "progress": _progress, "exec": _exec, "shell": _shell,
    "capture": _capture, "labs": _labs,
}
NOT_IN_CLASS = {"up", "demo", "inspect"}


def in_class(cmd: click.Command) -> click.Command:
    """cmd, made to go through the service when a class is in force (once
    per command: stop and down are one command)."""
    if getattr(cmd, "_v6lab_class", False) or cmd.callback is None:
        return cmd
    original = cmd.callback
    name = cmd.name or ""
    if name not in IN_CLASS and name not in NOT_IN_CLASS:
        return cmd

    @functools.wraps(original)
    @errors
    def callback(**params: Any) -> Any:
        sock = client.class_socket()
        if sock is None:
            return original(**params)
        if name in NOT_IN_CLASS:
            raise UsageError(_(
                "this is a class (service at {socket}): 'v6lab {verb}' works on labs of your "
                "own, which the class does not grade; use 'v6lab start LAB' and "
                "'v6lab exec NODE -- CMD', or practise on your own with V6LAB_CLASS=off").format(
                    socket=sock, verb=name))
        sys.exit(IN_CLASS[name](sock, **params))

    cmd.callback = callback
    setattr(cmd, "_v6lab_class", True)
    return cmd


COMMANDS = {"class": class_group}
