"""What every command module of the v6lab command shares: the exit codes,
the decorator that turns v6lab's exceptions into one sentence, and how a
verb picks the lab it acts on.

Every error is one sentence on stderr and a documented exit code, never a
traceback (see docs/cli.md):

  0  success (for check: every step passed)
  1  the operation failed (for check: some step failed)
  2  bad usage
  3  invalid topology, image or lab definition
  4  needs root
  5  a program is missing (the Debian package is named)
  6  grader error (a check could not be evaluated)
  7  the lab needs a kernel feature this machine lacks (named, with its option)
  8  the host does not allow what v6lab needs (user namespaces, id mapping)
 70  internal error (a bug: the message asks for a report)

This module imports nothing of the command package, so that each command
module can import it without going through the package's __init__ (which
imports the command modules: that would be a cycle).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from typing import Any, Callable, Optional, TypeVar

import click

from .. import paths, registry
from .._core import Error, SpecError
from ..errors import exit_code, message
from ..i18n import N_, _, ngettext
from ..lab import Lab
from ..topo_file import cut
from ._i18n import option

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILED, EXIT_USAGE, EXIT_SPEC, EXIT_ROOT, EXIT_MISSING, EXIT_GRADER, EXIT_KERNEL = \
    1, 2, 3, 4, 5, 6, 7
# The host does not allow what v6lab needs (user namespaces, id mapping):
# `v6lab doctor` shows each prerequisite with its fix.
EXIT_HOST = 8
EXIT_INTERNAL = 70
# More problems than this are counted, not listed: a generated file with a
# thousand bad nodes must not scroll the first ones away.
MAX_LISTED = 50


def _fail(message: str, code: int) -> None:
    """One line per problem, each cut to a screen's worth: an error must not
    echo back a megabyte argument."""
    text = "\n".join(cut(line, 400) for line in str(message).splitlines() or [""])
    click.echo(f"v6lab: {text}", err=True)
    sys.exit(code)


def errors(fn: F) -> F:
    """Turns v6lab's exceptions into one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except SpecError as e:
            issues = e.args[1] if len(e.args) > 1 else []
            if len(issues) > 1:
                click.echo("v6lab: " + ngettext("{n} problem:", "{n} problems:",
                                                len(issues)).format(n=len(issues)), err=True)
                for src, field, msg in issues[:MAX_LISTED]:
                    click.echo(f"  {src}: {field + ': ' if field else ''}{msg}", err=True)
                if len(issues) > MAX_LISTED:
                    more = len(issues) - MAX_LISTED
                    click.echo("  " + ngettext("… and {n} more", "… and {n} more",
                                               more).format(n=more), err=True)
                sys.exit(EXIT_SPEC)
            _fail(str(e.args[0]), EXIT_SPEC)
        except Error as e:  # each kind has its exit code (v6lab.errors)
            _fail(message(e), exit_code(e))
        except KeyboardInterrupt:
            _fail(_("interrupted"), 130)
        except click.ClickException:
            raise
        except BrokenPipeError:
            _reader_went_away()
        except OSError as e:  # the machine refused something: say what, on what
            what = f" {cut(str(e.filename), 200)}" if e.filename else ""
            _fail(f"{e.strerror or e}{':' if what else ''}{what}", EXIT_FAILED)
        except Exception as e:  # a bug: one line, not a traceback
            _internal(e)
    return wrapper  # type: ignore[return-value]


def _reader_went_away() -> None:
    """`v6lab labs | head`: the reader closed the pipe. Like any Unix tool,
    stop quietly (no "Broken pipe" line, exit 141 as a shell counts a
    SIGPIPE), with stdout pointed at /dev/null so that Python's own flush
    at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(128 + signal.SIGPIPE)


def _internal(e: BaseException) -> None:
    # TRANSLATORS: {error} is Python's exception, left in English.
    _fail(_("internal error: {error}; please report it").format(
        error=f"{type(e).__name__}: {cut(str(e), 200)}"), EXIT_INTERNAL)


def _check_environment(verb: Optional[str]) -> None:
    """Makes the path variables absolute (a detached lab's supervisor runs
    in /, where a relative V6LAB_IMAGES names nothing) and checks, for verbs
    that keep lab records, that V6LAB_STATE_DIR can hold them."""
    for var in ("V6LAB_IMAGES", "V6LAB_STATE_DIR", "V6LAB_PROGRESS"):
        value = os.environ.get(var)
        if value and "\0" not in value:
            os.environ[var] = os.path.abspath(value)
    if verb in _NO_RECORDS:
        return
    problem = paths.state_dir_problem()
    if problem:
        _fail(problem, EXIT_FAILED)


# Verbs that neither read nor write lab records.
_NO_RECORDS = {None, "validate", "images", "labs", "progress", "graph"}


def _fd_preflight(lab: Lab) -> Optional[str]:
    """One sentence if building lab would run out of file descriptors (the
    core raises the soft limit to the hard one, so the hard one counts).
    The resolved Spec is Lab's own (lab.spec)."""
    return lab.spec.fd_limit_problem() or None


def require_fds(lab: Lab) -> None:
    """Raises Error before anything is built if the lab cannot fit."""
    problem = _fd_preflight(lab)
    if problem:
        raise Error(problem)


lab_option = option("--lab", "lab_name", metavar="NAME",
                    help=N_("Lab name or id (default: the only running lab)."))

instructor_option = option(
    "--instructor", is_flag=True,
    help=N_("Also enter nodes the lab provides (the ISP, the Internet), which trainees cannot."))


def pick_lab(lab_name: Optional[str]) -> Optional[str]:
    """The lab a verb should act on, checked before it is attached.

    Which lab to use is the trainee's choice, not a failed step: when the
    choice is ambiguous (no --lab and several labs, or a name two labs
    share) this is a usage error (exit 2) that lists the ids to pass with
    --lab. registry.find says the same with exit 1; it is not changed here,
    so the check is made first and the verb then attaches as before."""
    labs = registry.scan()[0]
    if lab_name is None and len(labs) > 1:
        ids = ", ".join(f"{r.id} ({r.name})" for r in labs)
        _fail(_("several labs are running: {labs}; say which one with --lab ID "
                "(e.g. --lab {id}), or stop the ones you do not need "
                "with 'v6lab stop --lab ID'").format(labs=ids, id=labs[0].id), EXIT_USAGE)
    if lab_name is not None and not any(r.id == lab_name for r in labs):
        same = [r for r in labs if r.name == lab_name]
        if len(same) > 1:
            _fail(_("several labs are called '{name}': {ids}; give the id with --lab ID").format(
                name=lab_name, ids=", ".join(r.id for r in same)), EXIT_USAGE)
    return lab_name


def attach(lab_name: Optional[str]) -> Lab:
    """Lab.attach after pick_lab: an ambiguous choice is a usage error."""
    return Lab.attach(pick_lab(lab_name))


def first_node(rec: registry.LabRecord) -> str:
    """The node a trainee would open a shell on: the first one the lab does
    not provide (a provided node, the ISP, refuses trainees)."""
    return next((n for n in rec.nodes if not rec.spec.node(n).provider),
                next(iter(rec.nodes), "h1"))


def running_named(name: str) -> list[registry.LabRecord]:
    """The running labs called name (oldest first)."""
    return [r for r in registry.running() if r.name == name]


def free_name(base: str) -> str:
    """base-2, base-3, ...: the first name no running lab has."""
    taken = {r.name for r in registry.running()}
    k = 2
    while f"{base}-{k}" in taken:
        k += 1
    return f"{base}-{k}"


def already_running(rec: registry.LabRecord, again: str) -> Error:
    """The one sentence `start` and `up` say instead of building a second
    lab of a running lab's name: two labs of one name make every later verb
    that names it ask which one. again is the command that would start
    another one (with --new appended). The commands it offers name the lab
    by its name, which is short and (unless --new made two) unique."""
    pick = rec.name if len(running_named(rec.name)) == 1 else rec.id
    ways = [_("carry on in it ('{command}')").format(
        command=f"v6lab shell --lab {pick} {first_node(rec)}")]
    if rec.meta.get("course"):  # reset rebuilds curriculum labs only
        ways.append(_("start it over ('{command}')").format(command=f"v6lab reset --lab {pick}"))
    ways.append(_("stop it ('{command}')").format(command=f"v6lab stop --lab {pick}"))
    # TRANSLATORS: {ways} is a list of "carry on in it ('v6lab shell …')",
    # "stop it ('v6lab stop …')"; {command} starts another lab.
    return Error(_("lab {name} is already running (id {id}): {ways}, "
                   "or start another one ('{command}')").format(
        name=rec.name, id=rec.id, ways=", ".join(ways), command=f"{again} --new"))


def console() -> Any:
    """A rich console, imported when a verb prints a table (rich is slow to
    import, and `v6lab exec` should start fast)."""
    from rich.console import Console
    return Console()


def show_report(report: Any, fmt: str, heading: str, where: str, verbose: bool = False) -> int:
    """Prints a grading report as `check` does, in fmt (json, junit, tap or
    the rendered text under heading and where), and returns check's exit
    code (Report.exit_code: EXIT_GRADER if the grader itself failed, else 0
    when every step passed, EXIT_FAILED otherwise)."""
    text = report.output(fmt, heading, where, verbose, console() if fmt == "text" else None)
    if text:
        click.echo(text, nl=False)
    return report.exit_code()
