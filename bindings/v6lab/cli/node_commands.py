"""The verbs that look into a running lab's nodes: inspect, exec, shell,
capture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import click

from .. import _core, paths
from .._core import Error, MissingBinaryError
from ..errors import ProviderNodeError
from ..i18n import N_, _
from ..lab import Node, require_root
from ._common import attach, console, errors, instructor_option, lab_option
from ._i18n import command, option
from ._views import _inspect_data, _print_inspect


@command(help=N_("Show a running lab's nodes, interfaces and addresses (read live)."))
@lab_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def inspect(lab_name: Optional[str], fmt: str) -> None:
    require_root()
    lab = attach(lab_name)
    if fmt == "json":
        click.echo(json.dumps(_inspect_data(lab), indent=2))
        return
    _print_inspect(console(), lab)


def _node(lab_name: Optional[str], node: str, instructor: bool = False) -> Node:
    require_root()
    n = attach(lab_name)[node]
    if n.provider and not instructor:
        raise ProviderNodeError(_(
            "{node} is provided by the lab ({lab}): you cannot log into it, it behaves like "
            "the real service it stands for (an instructor may, with --instructor)").format(
                node=node, lab=n.lab.name))
    return n


@command("exec", context_settings={"ignore_unknown_options": True},
         help=N_("Run COMMAND in NODE (v6lab exec h1 -- ip -6 addr)."))
@lab_option
@instructor_option
@click.argument("node")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@errors
def exec_(lab_name: Optional[str], instructor: bool, node: str, command: tuple[str, ...]) -> None:
    n = _node(lab_name, node, instructor)
    os.execve(str(paths.NSEXEC), n.exec_argv(list(command)), n.env())


@command(help=N_("Open an interactive shell in NODE."))
@lab_option
@instructor_option
@click.argument("node")
@errors
def shell(lab_name: Optional[str], instructor: bool, node: str) -> None:
    n = _node(lab_name, node, instructor)
    env = n.env({"PS1": f"[{n.name}@{n.lab.name}] \\w\\$ "})
    shell_path = "/bin/bash" if Path("/bin/bash").exists() else "/bin/sh"
    args = [shell_path, "--norc", "-i"] if shell_path.endswith("bash") else [shell_path, "-i"]
    os.execve(str(paths.NSEXEC), n.exec_argv(args, cwd="/root"), env)


@command(help=N_("Capture packets on NODE's IFACE as pcap (to a file or stdout)."))
@lab_option
@click.argument("node")
@click.argument("iface")
@option("--write", "-w", "out", default="-",
        help=N_("pcap file to write ('-': stdout, for wireshark -k -i -)."))
@option("--count", "-c", type=click.IntRange(min=0), default=0,
        help=N_("Stop after this many packets."))
@option("--filter", "-f", "bpf", default="", help=N_("A tcpdump filter, e.g. 'icmp6'."))
@errors
def capture(lab_name: Optional[str], node: str, iface: str, out: str, count: int, bpf: str) -> None:
    require_root()
    n = attach(lab_name)[node]
    if iface not in [link.name for link in n.links()]:
        raise Error(_("{node} has no interface '{iface}'").format(node=node, iface=iface))
    if not _core.find_program("tcpdump"):
        raise MissingBinaryError(_("capturing needs tcpdump: install the Debian package tcpdump"))
    args = ["tcpdump", "-i", iface, "-U", "-w", "-", "-s", "0"]
    if count:
        args += ["-c", str(count)]
    if bpf:
        args += bpf.split()
    if out == "-" and sys.stdout.isatty():
        raise Error(_("refusing to write pcap to a terminal: use -w FILE, or pipe into "
                      "wireshark -k -i -"))
    sink = sys.stdout.buffer if out == "-" else open(out, "wb")
    try:
        p = subprocess.Popen(n.exec_argv(args), stdout=sink, stderr=subprocess.PIPE, env=n.env())
        try:
            err = p.communicate()[1]
        except KeyboardInterrupt:
            p.terminate()
            err = p.communicate()[1]
    finally:
        if sink is not sys.stdout.buffer:
            sink.close()
    msg = err.decode(errors="replace").strip().splitlines()
    if p.returncode not in (0, 130, 143, -15) and msg:
        # TRANSLATORS: {error} is what tcpdump said, in English.
        raise Error(_("capture on {node}:{iface}: {error}").format(
            node=node, iface=iface, error=msg[-1]))
    if out != "-":
        click.echo(msg[-1] if msg else _("wrote {file}").format(file=out), err=True)


COMMANDS = {"inspect": inspect, "exec": exec_, "shell": shell, "capture": capture}
