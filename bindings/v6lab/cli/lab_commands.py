"""The verbs that manage labs as a whole: up, down (stop), status (ls),
validate, clean."""

from __future__ import annotations

import json
import time
from typing import Optional

import click

from .. import detached, registry
from ..i18n import N_, _
from ..lab import Lab, require_root
from ._common import (EXIT_FAILED, _fail, _fd_preflight, already_running, console, errors,
                      first_node, free_name, lab_option, pick_lab, require_fds, running_named)
from ._i18n import command, option


NEW_HELP = N_("Start another lab even if one of that name is running "
              "(it is given a free name unless --name says one).")


@command(help=N_("Start a lab from a topology file; it runs until 'v6lab down'.\n\n"
                 "If a lab of that name is already running, say so instead of starting a "
                 "second one (--new starts it anyway)."))
@click.argument("topology")
@option("--name", help=N_("Lab name (default: the topology's name)."))
@option("--new", "new", is_flag=True, help=NEW_HELP)
@errors
def up(topology: str, name: Optional[str], new: bool) -> None:
    """A second lab of a running lab's name is refused: every later verb
    that names it would have to ask which one."""
    lab = Lab(topology, name=name)  # validates; builds nothing
    require_fds(lab)  # fits? before any process starts
    with registry.name_lock():  # from "is the name free?" until the record exists
        wanted = lab.name
        same = running_named(wanted)
        if same and not new:
            raise already_running(same[0], f"v6lab up {topology}")
        if same and name is None:
            wanted = free_name(wanted)
        rec = detached.start(topology, name=wanted)
    click.echo(_("lab {name} is up (id {id}, nodes: {nodes})").format(
        name=rec.name, id=rec.id, nodes=", ".join(rec.nodes)))
    click.echo(_("open a shell with: {command}").format(
        command=f"v6lab shell {first_node(rec)}"))


@command(help=N_("Stop a running lab."))
@lab_option
@option("--all", "all_", is_flag=True, help=N_("Stop every detached lab."))
@option("--force", is_flag=True,
        help=N_("Also stop labs owned by scripts (kills the owning process)."))
@errors
def down(lab_name: Optional[str], all_: bool, force: bool) -> None:
    require_root()
    if all_:
        stopped = detached.stop_all(force=force)
        click.echo(_("stopped: {labs}").format(labs=", ".join(stopped)) if stopped
                   else _("stopped: nothing"))
        return
    rec = registry.find(pick_lab(lab_name))
    detached.stop_owner(rec, force=force)
    click.echo(_("lab {name} ({id}) stopped").format(name=rec.name, id=rec.id))


@command("status", help=N_("List running labs (and, on stderr, records that were ignored)."))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def status(fmt: str) -> None:
    labs, ignored = registry.scan()
    for line in ignored:
        click.echo(f"v6lab: {line}", err=True)
    if fmt == "json":
        click.echo(json.dumps([detached.describe(r) for r in labs], indent=2))
        return
    if not labs:
        click.echo(_("no lab is running"))
        return
    from rich.table import Table

    # TRANSLATORS: column headings of `v6lab status`: the lab's name, its
    # id, what it was started from, how many nodes, who owns it, its age.
    t = Table(_("name"), _("id"), _("source"), _("nodes"), _("owner"), _("age"))
    t.columns[1].no_wrap = True  # the id is what --lab takes
    for r in labs:
        # TRANSLATORS: the owner of a lab started with `v6lab up` or `start`.
        owner = _("supervisor") if r.detached else f"pid {r.owner_pid}"
        t.add_row(r.name, r.id, detached.source_of(r), str(len(r.nodes)), owner,
                  f"{time.time() - r.created:.0f} s")
    console().print(t)


@command(help=N_("Remove what dead labs left behind (their records); never touches a "
                 "running lab."))
@errors
def clean() -> None:
    removed = registry.clean(grace=0 if not registry.running() else 5)
    click.echo(_("removed: {records}").format(records=", ".join(removed)) if removed
               else _("removed: nothing"))


@command(help=N_("Check a topology file without building anything. Exit 3: invalid; "
                 "1: valid, but too big for this machine's open-file limit."))
@click.argument("topology")
@option("--resolved", is_flag=True, help=N_("Print the resolved spec as JSON."))
@errors
def validate(topology: str, resolved: bool) -> None:
    lab = Lab(topology)
    problem = _fd_preflight(lab)
    if problem:
        _fail(_("{file}: valid, but it cannot be built here: {problem}").format(
            file=topology, problem=problem), EXIT_FAILED)
    if resolved:
        click.echo(json.dumps(lab.spec.to_dict(), indent=2))
    else:
        members = sum(len(lan.members) for lan in lab.spec.lans)
        # TRANSLATORS: the counts are numbers; "LANs" and "point-to-point"
        # as the trade says them.
        click.echo(_("{file}: valid ({nodes} nodes, {lans} LANs with {members} members, "
                     "{links} point-to-point links)").format(
            file=topology, nodes=len(lab.spec.nodes), lans=len(lab.spec.lans),
            members=members, links=len(lab.spec.links)))


# Name -> command, for the group in __init__ (stop and ls are aliases).
COMMANDS = {"up": up, "down": down, "stop": down, "status": status, "ls": status,
            "clean": clean, "validate": validate}
