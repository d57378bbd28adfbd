"""The training verbs of the v6lab command: labs, start, check, hint, solve,
reset, progress."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import click

from .. import detached, paths, registry
from .._core import Error
from ..i18n import N_, _
from ..lab import Lab, require_root
from ._common import (already_running, attach, console, errors, first_node, free_name,
                      lab_option, require_fds, running_named, show_report)
from ._i18n import command, option
from ._views import _print_inspect

if TYPE_CHECKING:
    from ..course import LabDefinition

# The curriculum, grading and progress modules are imported by the verbs
# that use them, so that `v6lab shell` and `v6lab exec` start fast.

# A lab's level as the trainee reads it (the lab declares the English word).
LEVEL_TEXT = {"beginner": N_("beginner"), "intermediate": N_("intermediate"),
              "advanced": N_("advanced")}


def level_text(level: str) -> str:
    return _(LEVEL_TEXT.get(level, level))


def status_text(status: str) -> str:
    """A progress status (English in JSON) in the trainee's words."""
    from ..progress import status_text as text
    return text(status)


def find_lab(lab_id: str) -> "LabDefinition":
    from ..course import find_lab as find
    return find(lab_id)


def load_labs() -> dict[str, "LabDefinition"]:
    from ..course import load_labs as load
    return load()


def Progress() -> Any:  # noqa: N802 - reads like the class it returns
    from ..progress import Progress as P
    return P()


def _course_lab(lab_name: Optional[str]) -> tuple[Lab, "LabDefinition"]:
    """The running lab and its definition (it must be a curriculum lab)."""
    require_root()
    lab = attach(lab_name)
    course = lab.meta.get("course")
    if not course:
        raise Error(_("lab {name} was started from a topology, not from the curriculum: "
                      "it has nothing to grade (start one with 'v6lab start LAB')").format(
            name=lab.name))
    return lab, find_lab(course)


@command(help=N_("The curriculum, with your status and score in each lab."))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def labs(fmt: str) -> None:
    """Titles and summaries in the trainee's language; the rest (ids,
    level, status, language codes) as a script reads them."""
    from ..course import scan_labs
    prog = Progress()
    defs, broken = scan_labs()
    if fmt == "json":
        click.echo(json.dumps([{"id": d.id, "number": d.number, "title": d.title,
                                "level": d.level, "minutes": d.minutes, "summary": d.summary,
                                "folder": str(d.folder), "languages": d.languages,
                                **prog.summary(d.id)}
                               for d in defs.values()]
                              + [{"broken": line} for line in broken], indent=2))
        return
    from rich.markup import escape
    console().print(_labs_table(defs, prog))
    # TRANSLATORS: under `v6lab labs`: what the codes after a lab's time mean.
    console().print("[dim]" + escape(_("en vi: the languages each lab speaks "
                                      "(choose one with --lang)")) + "[/]")
    # A broken lab is reported and breaks no other.
    for line in broken:
        # TRANSLATORS: {problem} is the lab author's diagnostic, in English.
        click.echo(_("broken lab (not loaded): {problem}").format(problem=line), err=True)


def _labs_table(defs: dict[str, "LabDefinition"], prog: Any) -> Any:
    """The curriculum table. The id is what a trainee types, so it is never
    cut or wrapped; level, time and the lab's languages go under the title
    (dim) so that at 80 columns the title has room and wraps to two or three
    lines, not seven. The status is the one `progress` shows, word for word
    (solves are a column of `progress`). The number is the curriculum's
    (README.md's), not the row's: labs yet to come leave gaps, and a lab
    with no place of its own has none."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    t.add_column("#", justify="right", no_wrap=True)
    # TRANSLATORS: column headings of `v6lab labs`: the lab's id, its title,
    # the trainee's status in it and their best score.
    t.add_column(_("lab"), no_wrap=True, min_width=max((len(i) for i in defs), default=3))
    t.add_column(_("title"), overflow="fold", ratio=1)
    t.add_column(_("status"), no_wrap=True)
    t.add_column(_("best"), justify="right", no_wrap=True)
    for d in defs.values():
        s = prog.summary(d.id)
        best = f"{s['best']:g} %" if s["best"] is not None else ""
        # TRANSLATORS: under a lab's title: "beginner · 25 min · en vi" ({languages}
        # are codes, as --lang takes them; the line under the table says so).
        # Short, so that it fits one line at 80 columns.
        about = _("{level} · {minutes} min · {languages}").format(
            level=level_text(d.level), minutes=d.minutes, languages=" ".join(d.languages))
        number = "" if d.number is None else str(d.number)
        t.add_row(number, d.id, f"{escape(d.title)}\n[dim]{escape(about)}[/]",
                  status_text(s["status"]), best)
    return t


@command(help=N_("Start a lab of the curriculum (LAB, default: the first) and show how to "
                 "begin.\n\n"
                 "If a lab of that name is already running, say so (with its id) instead of "
                 "starting a second one: two labs of one name make every later verb that "
                 "names it ask which one. --new starts another anyway."))
@click.argument("lab_id", required=False, metavar="[LAB]")
@option("--name", help=N_("Name of the running lab (default: the lab's id)."))
@option("--new", "new", is_flag=True,
        help=N_("Start another lab even if one of that name is running "
                "(it is given a free name unless --name says one)."))
@errors
def start(lab_id: Optional[str], name: Optional[str], new: bool) -> None:
    require_root()
    defs = load_labs()
    if not defs:
        raise Error(_("no lab found (the labs/ folder is missing)"))
    d = defs[lab_id] if lab_id in defs else (next(iter(defs.values())) if lab_id is None
                                             else find_lab(lab_id))
    d.require_kernel()
    topo = d.topology()
    con = console()
    t0 = time.monotonic()
    from rich.markup import escape
    with registry.name_lock():
        wanted = name or d.id
        same = running_named(wanted)
        if same and not new:
            raise already_running(same[0], f"v6lab start {d.id}")
        if same and name is None:
            wanted = free_name(d.id)
        require_fds(Lab(topo, name=wanted))  # before any process starts
        with con.status(escape(_("Starting lab {id}: {title}…").format(id=d.id, title=d.title))):
            rec = detached.start(topo, name=wanted, course=d.id)
    Progress().record_start(d.id)
    ms = f"{(time.monotonic() - t0) * 1000:.0f}"
    up_in = _("Lab {name} is up in {ms} ms").format(name=rec.name, ms=ms)
    # TRANSLATORS: after "Lab X is up in N ms": the lab's id, as --lab takes it.
    lab_id = _("id {id}").format(id=rec.id)
    con.print(f"[bold green]{escape(up_in)}[/] [dim]({escape(lab_id)})[/]\n")
    lab = Lab.attach(rec.id)
    with con.status(escape(_("Waiting for duplicate address detection…"))):
        settled = _wait_dad(lab, max(0.0, t0 + START_DAD_WAIT - time.monotonic()))
    _print_inspect(con, lab, mark_tentative=False)
    if not settled:
        con.print("[dim]" + escape(_(
            "Some addresses are still settling (duplicate address detection takes about a "
            "second): 'v6lab inspect' shows them as they are now.")) + "[/]")
    from rich.markdown import Markdown
    con.print(f"\n[bold]{escape(d.title)}[/]\n")
    con.print(Markdown(d.instructions()))
    # The guide with this run's values (addresses, prefixes) filled in.
    guide = d.readme
    try:
        rendered = paths.labs_dir() / rec.id / "README.md"
        rendered.write_text(d.readme_text())
        guide = rendered
    except OSError:
        pass
    con.print("\n" + escape(_("The whole guide: {file}").format(file=guide)))
    first = first_node(rec)
    others = [r for r in registry.running() if r.id != rec.id]
    lab_arg = f" --lab {rec.id}" if others else ""
    con.print()
    # TRANSLATORS: four labels, each followed by the command to type.
    todo = ((_("Open a shell:"), f"shell{lab_arg} {first}"),
            (_("Check your work:"), f"check{lab_arg}"),
            (_("Stuck?"), f"hint{lab_arg}"), (_("Done:"), f"stop{lab_arg}"))
    from rich.cells import cell_len
    width = max(17, *(cell_len(what) + 1 for what, _verb in todo))
    for what, verb in todo:
        con.print(f"{escape(what)}{' ' * (width - cell_len(what))}[bold]v6lab {verb}[/]")
    if others:
        con.print("[yellow]" + escape(_(
            "Other labs are running too ({ids}): give each command --lab ID, or stop the ones "
            "you do not need.").format(ids=", ".join(r.id for r in others))) + "[/]")


# How long after it began building the lab `start` may wait for duplicate
# address detection before it shows the addresses. The kernel delays each
# DAD by up to a second, then probes for a second (link-local settles
# 1.4-1.7 s after `up`, slaac 2.1 s, static-gua 0.6-1.0 s), but a lab must
# be ready to use within 2 s of the command (issue 12): the command returns
# then, and a table taken before DAD ended says, in one sentence, that the
# addresses are still settling (`v6lab inspect` shows them as they are).
START_DAD_WAIT = 1.2


def _wait_dad(lab: Lab, timeout: float) -> bool:
    """True once no IPv6 address of the lab is tentative; False if some still
    are after timeout seconds (never raises: it only decides what to show)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            # A failed DAD stays "tentative" for good (lab 2 seeds one): not settling.
            tentative = any(a.tentative and not a.dadfailed
                            for node in lab for a in node.addresses(family=6))
        except Error:
            return False
        if not tentative:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


@command(help=N_("Grade the running lab now. Exit 0: every step passed; 1: some failed; "
                 "6: the grader could not evaluate a check."))
@lab_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit", "tap"]), default="text")
@option("--verbose", "-v", is_flag=True, help=N_("List every check, passed or not."))
@errors
def check(lab_name: Optional[str], fmt: str, verbose: bool) -> None:
    lab, d = _course_lab(lab_name)
    prog = Progress()
    report = d.grader().grade(lab, hints_shown=prog.hints_shown(d.id))
    prog.record_attempt(d.id, report)
    sys.exit(show_report(report, fmt, d.title, lab.name, verbose))


@command(help=N_("Show the next hint for STEP (default: the first unfinished step)."))
@lab_option
@click.argument("step", required=False)
@errors
def hint(lab_name: Optional[str], step: Optional[str]) -> None:
    lab, d = _course_lab(lab_name)
    grader = d.grader()
    if step is None:
        nxt = grader.grade(lab).first_unfinished()
        if nxt is None:
            click.echo(_("Every step is done: no hint needed."))
            return
        step = nxt.id
    s = grader.step(step) if step in [x.id for x in grader.steps] else None
    if s is None:
        raise _no_step(d.id, step, [x.id for x in grader.steps])
    # The k-th request shows hint k (then the last one again); `check`
    # shows the latest hint shown, or the first.
    shown = Progress().record_hint(d.id, s.id)
    k = min(shown, len(s.hints) - 1)
    # TRANSLATORS: "{title} — hint 2 of 3:", then the hint on the next line.
    head = _("{title} — hint {k} of {n}:").format(title=s.title, k=k + 1, n=len(s.hints))
    click.echo(f"{head}\n{s.hints[k]}")


def _no_step(lab_id: str, step: str, steps: list[str]) -> Error:
    return Error(_("lab {lab} has no step '{step}' (steps: {steps})").format(
        lab=lab_id, step=step, steps=", ".join(steps)))


@command(help=N_("Apply the reference solution up to STEP (default: every step). Recorded "
                 "in your progress."))
@lab_option
@click.argument("step", required=False)
@errors
def solve(lab_name: Optional[str], step: Optional[str]) -> None:
    lab, d = _course_lab(lab_name)
    if step is not None and step not in [s.id for s in d.steps()]:
        raise _no_step(d.id, step, [s.id for s in d.steps()])
    done = d.solve(lab, upto=step)
    Progress().record_solve(d.id, done)
    click.echo(_("solved: {steps} (run 'v6lab check' to see the result)").format(
        steps=", ".join(done)))


@command(help=N_("Put the lab back in its initial state (rebuilt from scratch)."))
@lab_option
@errors
def reset(lab_name: Optional[str]) -> None:
    lab, d = _course_lab(lab_name)
    rec = registry.find(lab.id)
    detached.stop_owner(rec)
    new = detached.start(d.topology(), name=lab.name, course=d.id)
    click.echo(_("lab {name} is back in its initial state (id {id})").format(
        name=new.name, id=new.id))


@command(help=N_("Your progress: attempts, best and last scores, hints and solves used."))
@option("--export", "export", type=click.Path(dir_okay=False),
        help=N_("Write everything as JSON to this file."))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def progress(export: Optional[str], fmt: str) -> None:
    prog = Progress()
    data = prog.export()
    if export:
        Path(export).write_text(json.dumps(data, indent=2))
        click.echo(_("progress written to {file}").format(file=export))
        return
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    from rich.table import Table
    # TRANSLATORS: column headings of `v6lab progress`: the lab's id, the
    # status, how many times it was graded, best and last score, hints
    # shown, times `v6lab solve` was used.
    t = Table(_("lab"), _("status"), _("attempts"), _("best"), _("last"), _("hints"),
              _("solves"))
    # The id is what a trainee types and the status one phrase: neither is
    # wrapped (headings wrap first, e.g. Vietnamese ones at 80 columns).
    t.columns[0].no_wrap = t.columns[1].no_wrap = True
    for d in load_labs().values():
        s = prog.summary(d.id)
        t.add_row(d.id, status_text(s["status"]), str(s["attempts"]),
                  "" if s["best"] is None else f"{s['best']:g} %",
                  "" if s["last"] is None else f"{s['last']:g} %", str(s["hints"]), str(s["solves"]))
    console().print(t)
    click.echo(_("(stored in {file})").format(file=prog.path))


COMMANDS = {"labs": labs, "start": start, "check": check, "hint": hint, "solve": solve,
            "reset": reset, "progress": progress}
