"""The v6lab command.

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
 70  internal error (a bug: the message asks for a report)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import click

from . import _core, detached, paths, registry
from ._core import Error, MissingBinaryError, SpecError
from .lab import Lab, NeedsRootError, Node, require_root
from .topo_file import cut
from .errors import ProviderNodeError, exit_code, message




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
DEFAULT_TOPOLOGY = paths.PACKAGE_DIR.parent.parent / "examples" / "small.yaml"


def _fail(message: str, code: int) -> None:
    """One line per problem, each cut to a screen's worth: an error must not
    echo back a megabyte argument."""
    text = "\n".join(cut(line, 400) for line in str(message).splitlines() or [""])
    click.echo(f"v6lab: {text}", err=True)
    sys.exit(code)


def errors(fn: F) -> F:
    """Turns v6lab's exceptions into one line and an exit code."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except SpecError as e:
            issues = e.args[1] if len(e.args) > 1 else []
            if len(issues) > 1:
                click.echo(f"v6lab: {len(issues)} problems:", err=True)
                for src, field, msg in issues[:MAX_LISTED]:
                    click.echo(f"  {src}: {field + ': ' if field else ''}{msg}", err=True)
                if len(issues) > MAX_LISTED:
                    click.echo(f"  … and {len(issues) - MAX_LISTED} more", err=True)
                sys.exit(EXIT_SPEC)
            _fail(str(e.args[0]), EXIT_SPEC)
        except Error as e:  # each kind has its exit code (v6lab.errors)
            _fail(message(e), exit_code(e))
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except click.ClickException:
            raise
        except OSError as e:  # the machine refused something: say what, on what
            what = f" {cut(str(e.filename), 200)}" if e.filename else ""
            _fail(f"{e.strerror or e}{':' if what else ''}{what}", EXIT_FAILED)
        except Exception as e:  # a bug: one line, not a traceback
            _internal(e)
    return wrapper  # type: ignore[return-value]


def _internal(e: BaseException) -> None:
    _fail(f"internal error: {type(e).__name__}: {cut(str(e), 200)}; please report it",
          EXIT_INTERNAL)


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


lab_option = click.option("--lab", "lab_name", metavar="NAME",
                          help="Lab name or id (default: the only running lab).")


def pick_lab(lab_name: Optional[str]) -> Optional[str]:
    """The lab a verb should act on, checked before it is attached.

    Which lab to use is the trainee's choice, not a failed step: when the
    choice is ambiguous (no --lab and several labs, or a name two labs
    share) this is a usage error (exit 2) that lists the ids to pass with
    --lab. registry.find says the same with exit 1; it is not changed here,
    so the check is made first and the verb then attaches as before."""
    labs, _ = registry.scan()
    if lab_name is None and len(labs) > 1:
        ids = ", ".join(f"{r.id} ({r.name})" for r in labs)
        _fail(f"several labs are running: {ids}; say which one with --lab ID "
              f"(e.g. --lab {labs[0].id}), or stop the ones you do not need "
              "with 'v6lab stop --lab ID'", EXIT_USAGE)
    if lab_name is not None and not any(r.id == lab_name for r in labs):
        same = [r for r in labs if r.name == lab_name]
        if len(same) > 1:
            _fail(f"several labs are called '{lab_name}': "
                  f"{', '.join(r.id for r in same)}; give the id with --lab ID", EXIT_USAGE)
    return lab_name


def attach(lab_name: Optional[str]) -> Lab:
    """Lab.attach after pick_lab: an ambiguous choice is a usage error."""
    return Lab.attach(pick_lab(lab_name))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=None, version="0.1.0", prog_name="v6lab")
@click.pass_context
def main(ctx: click.Context) -> None:
    """v6lab: IPv6 training labs on real Linux networking."""
    _check_environment(ctx.invoked_subcommand)


def run(argv: Optional[list[str]] = None) -> int:
    """The command's entry point: click's own handling of usage errors, and
    a last guard that turns an unexpected exception into one line."""
    try:
        main.main(args=argv, prog_name="v6lab", standalone_mode=True)
    except SystemExit as e:
        code = e.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_FAILED)
    except Exception as e:  # noqa: BLE001 - the last resort, reported as a bug
        try:
            _internal(e)
        except SystemExit as done:
            return int(done.code or EXIT_INTERNAL)
    return 0


@main.command()
@click.argument("topology", required=False)
@errors
def demo(topology: Optional[str]) -> None:
    """Build the default lab, show it, prove it forwards IPv6, tear it down."""
    from rich.console import Console

    con = Console()
    path = topology or str(DEFAULT_TOPOLOGY)
    t0 = time.monotonic()
    built = Lab(path)
    require_fds(built)
    with built as lab:
        con.print(f"[bold]Lab {lab.name}[/] from {path} is up in "
                  f"{(time.monotonic() - t0) * 1000:.0f} ms")
        for node in lab:
            node.wait_addresses_ready()
        _print_inspect(con, lab)
        con.print("\n[bold]Reachability[/] (pings sent from inside the nodes)")
        ok = True
        for src, dst, addr in _demo_pings(lab):
            r = lab[src].cmd(["ping", "-c", "1", "-W", "2", addr], timeout=10)
            ok &= r.ok
            mark = "[green]ok[/]" if r.ok else "[red]FAILED[/]"
            con.print(f"  {src} -> {dst} ({addr}): {mark}")
    con.print(f"\nThe lab is gone again. Keep one running with: "
              f"[bold]v6lab up {path}[/], then [bold]v6lab shell h1[/].")
    sys.exit(0 if ok else EXIT_FAILED)


def _demo_pings(lab: Lab) -> list[tuple[str, str, str]]:
    """Pairs (src, dst, first global IPv6 address of dst): from the first
    host that has a global address to every other node that has one."""
    addrs = {}
    for node in sorted(lab, key=lambda n: n.image != "host"):
        g = [a.address for a in node.addresses(family=6) if a.scope == "global"]
        if g:
            addrs[node.name] = g[0]
    names = list(addrs)
    if not names:
        return []
    src = names[0]
    return [(src, d, addrs[d]) for d in names[1:]]


@main.command()
@click.argument("topology")
@click.option("--name", help="Lab name (default: the topology's name).")
@errors
def up(topology: str, name: Optional[str]) -> None:
    """Start a lab from a topology file; it runs until 'v6lab down'."""
    require_fds(Lab(topology, name=name))  # validates, and fits? before any process starts
    rec = detached.start(topology, name=name)
    click.echo(f"lab {rec.name} is up (id {rec.id}, nodes: {', '.join(rec.nodes)})")
    first = next((n for n in rec.nodes if not rec.spec.node(n).provider),
                 next(iter(rec.nodes)))
    click.echo(f"open a shell with: v6lab shell {first}")


@main.command()
@lab_option
@click.option("--all", "all_", is_flag=True, help="Stop every detached lab.")
@click.option("--force", is_flag=True,
              help="Also stop labs owned by scripts (kills the owning process).")
@errors
def down(lab_name: Optional[str], all_: bool, force: bool) -> None:
    """Stop a running lab."""
    require_root()
    if all_:
        stopped = detached.stop_all(force=force)
        click.echo("stopped: " + (", ".join(stopped) if stopped else "nothing"))
        return
    rec = registry.find(pick_lab(lab_name))
    detached.stop_owner(rec, force=force)
    click.echo(f"lab {rec.name} ({rec.id}) stopped")


main.add_command(down, "stop")


@main.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def status(fmt: str) -> None:
    """List running labs (and, on stderr, records that were ignored)."""
    labs, ignored = registry.scan()
    for line in ignored:
        click.echo(f"v6lab: {line}", err=True)
    if fmt == "json":
        click.echo(json.dumps([detached.describe(r) for r in labs], indent=2))
        return
    if not labs:
        click.echo("no lab is running")
        return
    from rich.console import Console
    from rich.table import Table

    t = Table("name", "id", "source", "nodes", "owner", "age")
    t.columns[1].no_wrap = True  # the id is what --lab takes
    for r in labs:
        owner = "supervisor" if r.detached else f"pid {r.owner_pid}"
        t.add_row(r.name, r.id, detached.source_of(r), str(len(r.nodes)), owner,
                  f"{time.time() - r.created:.0f} s")
    Console().print(t)


main.add_command(status, "ls")


def _inspect_data(lab: Lab) -> dict[str, Any]:
    out: dict[str, Any] = {"name": lab.name, "id": lab.id, "nodes": {}}
    for node in lab:
        ifaces = {}
        addrs = node.addresses()
        for link in sorted(node.links(), key=lambda l: l.name):
            if link.kind == "loopback":
                continue
            spec_if = node.spec.iface(link.name)
            ifaces[link.name] = {
                "state": link.operstate, "mtu": link.mtu, "mac": link.mac,
                "connects": (spec_if.lan or spec_if.peer) if spec_if else "",
                "addresses": [{"address": a.cidr, "scope": a.scope,
                               "flags": a.flag_names}
                              for a in addrs if a.ifname == link.name],
            }
        out["nodes"][node.name] = {"image": node.image, "pid": node.pid,
                                   "roles": node.roles,
                                   "provider": node.provider,
                                   "interfaces": ifaces}
    return out


def _print_inspect(con: Any, lab: Lab, mark_tentative: bool = True) -> None:
    """The address table. `start` passes mark_tentative=False: right after a
    build every address is tentative for a second, and a column of
    "(tentative)" reads as a fault; it says once that addresses settle."""
    from rich.table import Table

    t = Table("node", "image", "iface", "to", "state", "addresses")
    for name, n in _inspect_data(lab)["nodes"].items():
        first = True
        for ifn, i in n["interfaces"].items():
            addrs = " ".join(a["address"] + (" (tentative)" if mark_tentative
                                             and "tentative" in a["flags"] else "")
                             for a in i["addresses"])
            image = n["image"] + (" (provided)" if n["provider"] else "")
            t.add_row(name if first else "", image if first else "", ifn,
                      i["connects"], i["state"], addrs)
            first = False
    con.print(t)


@main.command()
@lab_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def inspect(lab_name: Optional[str], fmt: str) -> None:
    """Show a running lab's nodes, interfaces and addresses (read live)."""
    require_root()
    lab = attach(lab_name)
    if fmt == "json":
        click.echo(json.dumps(_inspect_data(lab), indent=2))
        return
    from rich.console import Console

    _print_inspect(Console(), lab)


def _node(lab_name: Optional[str], node: str, instructor: bool = False) -> Node:
    require_root()
    n = attach(lab_name)[node]
    if n.provider and not instructor:
        raise ProviderNodeError(
            f"{node} is provided by the lab ({n.lab.name}): you cannot log into it, it "
            "behaves like the real service it stands for (an instructor may, with --instructor)")
    return n


instructor_option = click.option(
    "--instructor", is_flag=True,
    help="Also enter nodes the lab provides (the ISP, the Internet), which trainees cannot.")


@main.command("exec", context_settings={"ignore_unknown_options": True})
@lab_option
@instructor_option
@click.argument("node")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@errors
def exec_(lab_name: Optional[str], instructor: bool, node: str, command: tuple[str, ...]) -> None:
    """Run COMMAND in NODE (v6lab exec h1 -- ip -6 addr)."""
    n = _node(lab_name, node, instructor)
    os.execve(str(paths.NSEXEC), n.exec_argv(list(command)), n.env())


@main.command()
@lab_option
@instructor_option
@click.argument("node")
@errors
def shell(lab_name: Optional[str], instructor: bool, node: str) -> None:
    """Open an interactive shell in NODE."""
    n = _node(lab_name, node, instructor)
    env = n.env({"PS1": f"[{n.name}@{n.lab.name}] \\w\\$ "})
    shell_path = "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh"
    args = [shell_path, "--norc", "-i"] if shell_path.endswith("bash") else [shell_path, "-i"]
    os.execve(str(paths.NSEXEC), n.exec_argv(args, cwd="/root"), env)


@main.command()
@errors
def clean() -> None:
    """Remove what dead labs left behind (their records); never touches a
    running lab."""
    removed = registry.clean(grace=0 if not registry.running() else 5)
    click.echo("removed: " + (", ".join(removed) if removed else "nothing"))


@main.command()
@click.argument("topology")
@click.option("--resolved", is_flag=True, help="Print the resolved spec as JSON.")
@errors
def validate(topology: str, resolved: bool) -> None:
    """Check a topology file without building anything. Exit 3: invalid;
    1: valid, but too big for this machine's open-file limit."""
    lab = Lab(topology)
    problem = _fd_preflight(lab)
    if problem:
        _fail(f"{topology}: valid, but it cannot be built here: {problem}", EXIT_FAILED)
    if resolved:
        click.echo(json.dumps(lab.spec.to_dict(), indent=2))
    else:
        members = sum(len(lan.members) for lan in lab.spec.lans)
        click.echo(f"{topology}: valid ({len(lab.spec.nodes)} nodes, "
                   f"{len(lab.spec.lans)} LANs with {members} members, "
                   f"{len(lab.spec.links)} point-to-point links)")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def doctor(fmt: str) -> None:
    """What this host lets v6lab do (root or rootless), with the fix for each gap."""
    from dataclasses import asdict

    from . import doctor as doc
    items = doc.findings()
    if fmt == "json":
        click.echo(json.dumps([asdict(f) for f in items], indent=2))
    else:
        from rich.console import Console
        from rich.table import Table
        t = Table("check", "status", "found", "fix", "needed for")
        style = {"ok": "green", "limited": "yellow", "missing": "red"}
        for f in items:
            t.add_row(f.name, f"[{style[f.status]}]{f.status}[/]", f.found, f.fix, f.needed_for)
        Console().print(t)
    sys.exit(0 if doc.ready(items) else EXIT_HOST)


@main.command()
@errors
def images() -> None:
    """List node images."""
    reg = _core.ImageRegistry.load_path([str(p) for p in paths.images_path()])
    for name in reg.names():
        d = reg.describe(name)
        ext = f", extends {d['extends']}" if d["extends"] else ""
        click.echo(f"{name} ({d['role']}{ext}): {d['description']}")


if __name__ == "__main__":
    sys.exit(run())


# The training verbs register themselves on `main`.
from . import cli_training  # noqa: E402,F401
