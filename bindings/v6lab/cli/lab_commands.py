"""The verbs that manage labs as a whole: up, down (stop), status (ls),
validate, clean."""

from __future__ import annotations

import json
import time
from typing import Optional

import click

from .. import detached, registry
from ..lab import Lab, require_root
from ._common import (EXIT_FAILED, _fail, _fd_preflight, already_running, console, errors,
                      first_node, free_name, lab_option, pick_lab, require_fds, running_named)


@click.command()
@click.argument("topology")
@click.option("--name", help="Lab name (default: the topology's name).")
@click.option("--new", "new", is_flag=True,
              help="Start another lab even if one of that name is running "
                   "(it is given a free name unless --name says one).")
@errors
def up(topology: str, name: Optional[str], new: bool) -> None:
    """Start a lab from a topology file; it runs until 'v6lab down'.

    If a lab of that name is already running, say so instead of starting a
    second one (--new starts it anyway)."""
    lab = Lab(topology, name=name)  # validates; builds nothing
    require_fds(lab)  # fits? before any process starts
    wanted = lab.name
    same = running_named(wanted)
    if same and not new:
        raise already_running(same[0], f"v6lab up {topology}")
    if same and name is None:
        wanted = free_name(wanted)
    rec = detached.start(topology, name=wanted)
    click.echo(f"lab {rec.name} is up (id {rec.id}, nodes: {', '.join(rec.nodes)})")
    click.echo(f"open a shell with: v6lab shell {first_node(rec)}")


@click.command()
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


@click.command("status")
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
    from rich.table import Table

    t = Table("name", "id", "source", "nodes", "owner", "age")
    t.columns[1].no_wrap = True  # the id is what --lab takes
    for r in labs:
        owner = "supervisor" if r.detached else f"pid {r.owner_pid}"
        t.add_row(r.name, r.id, detached.source_of(r), str(len(r.nodes)), owner,
                  f"{time.time() - r.created:.0f} s")
    console().print(t)


@click.command()
@errors
def clean() -> None:
    """Remove what dead labs left behind (their records); never touches a
    running lab."""
    removed = registry.clean(grace=0 if not registry.running() else 5)
    click.echo("removed: " + (", ".join(removed) if removed else "nothing"))


@click.command()
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


# Name -> command, for the group in __init__ (stop and ls are aliases).
COMMANDS = {"up": up, "down": down, "stop": down, "status": status, "ls": status,
            "clean": clean, "validate": validate}
