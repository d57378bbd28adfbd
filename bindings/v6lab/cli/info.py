"""The verbs that show rather than manage: demo, doctor, images, graph."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import click

from .. import _core, paths
from .._core import Error, MissingBinaryError
from ..i18n import N_, _
from ..lab import Lab, require_root
from ._common import EXIT_FAILED, EXIT_HOST, attach, console, errors, lab_option, require_fds
from ._i18n import command, option
from ._views import _print_inspect

DEFAULT_TOPOLOGY = paths.PACKAGE_DIR.parent.parent / "examples" / "small.yaml"


@command(help=N_("Build the default lab, show it, prove it forwards IPv6, tear it down."))
@click.argument("topology", required=False)
@errors
def demo(topology: Optional[str]) -> None:
    from rich.markup import escape
    con = console()
    path = topology or str(DEFAULT_TOPOLOGY)
    t0 = time.monotonic()
    built = Lab(path)
    require_fds(built)
    with built as lab:
        con.print(escape(_("Lab {name} from {file} is up in {ms} ms").format(
            name=lab.name, file=path, ms=f"{(time.monotonic() - t0) * 1000:.0f}")))
        for node in lab:
            node.wait_addresses_ready()
        _print_inspect(con, lab)
        con.print("\n" + escape(_("Reachability (pings sent from inside the nodes)")))
        ok = True
        for src, dst, addr in _demo_pings(lab):
            r = lab[src].cmd(["ping", "-c", "1", "-W", "2", addr], timeout=10)
            ok &= r.ok
            # TRANSLATORS: the result of one ping of `v6lab demo`.
            mark = "[green]" + escape(_("ok")) + "[/]" if r.ok else \
                "[red]" + escape(_("FAILED")) + "[/]"
            con.print(f"  {src} -> {dst} ({addr}): {mark}")
    con.print("\n" + escape(_("The lab is gone again. Keep one running with: {up}, then "
                              "{shell}.").format(up=f"v6lab up {path}", shell="v6lab shell h1")))
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


@command(help=N_("What this host lets v6lab do (root or rootless), with the fix for each gap."))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def doctor(fmt: str) -> None:
    """Names and statuses stay English in JSON (scripts test them); what was
    found, the fixes and what needs them are in the trainee's language."""
    from dataclasses import asdict

    from .. import doctor as doc
    items = doc.findings()
    if fmt == "json":
        click.echo(json.dumps([asdict(f) for f in items], indent=2))
    else:
        from rich.markup import escape
        from rich.table import Table
        # TRANSLATORS: column headings of `v6lab doctor`: the prerequisite,
        # ok/limited/missing (left in English), what was found, the fix,
        # and what needs it.
        t = Table(_("check"), _("status"), _("found"), _("fix"), _("needed for"))
        style = {"ok": "green", "limited": "yellow", "missing": "red"}
        for f in items:
            t.add_row(escape(doc.name_text(f.name)), f"[{style[f.status]}]{f.status}[/]", escape(f.found),
                      escape(f.fix), escape(f.needed_for))
        console().print(t)
    sys.exit(0 if doc.ready(items) else EXIT_HOST)


@command(help=N_("List node images."))
@errors
def images() -> None:
    reg = _core.ImageRegistry.load_path([str(p) for p in paths.images_path()])
    for name in reg.names():
        d = reg.describe(name)
        # The role and the description are the image file's own words.
        if d["extends"]:
            line = _("{name} ({role}, extends {base}): {description}").format(
                name=name, role=d["role"], base=d["extends"], description=d["description"])
        else:
            line = _("{name} ({role}): {description}").format(
                name=name, role=d["role"], description=d["description"])
        click.echo(line)


def _dot(spec: _core.Spec, live: Optional[dict[str, list[str]]] = None) -> str:
    """Graphviz source for a lab. live maps node names to the addresses read
    from the running lab; without it (a topology file) the topology's own
    addresses are drawn, which miss every SLAAC and link-local address."""
    lines = [f'graph "{spec.name}" {{', "  layout=neato; overlap=false; splines=true;",
             '  node [fontname="Helvetica"];']
    for n in spec.nodes:
        name = n.name
        shape = "box" if n.image in ("router", "cpe", "ra-router") else "ellipse"
        if live is not None:
            addrs = live.get(name, [])
        else:
            addrs = [a.cidr for i in n.interfaces for a in i.addresses]
        shown = addrs[:GRAPH_ADDRESSES] + (
            [f"(+{len(addrs) - GRAPH_ADDRESSES} more)"] if len(addrs) > GRAPH_ADDRESSES else [])
        label = "\\n".join([name, f"({n.image})"] + shown)
        lines.append(f'  "{name}" [shape={shape}, label="{label}"];')
    for lan_spec in spec.lans:
        lan = lan_spec.name
        lines.append(f'  "lan:{lan}" [shape=plaintext, label="{lan}", fontcolor=blue];')
        for node, iface in lan_spec.members:
            lines.append(f'  "{node}" -- "lan:{lan}" [taillabel="{iface}", fontsize=9];')
    for link in spec.links:
        (a, ai), (b, bi) = link.endpoints
        lines.append(f'  "{a}" -- "{b}" [taillabel="{ai}", headlabel="{bi}", fontsize=9];')
    lines.append("}")
    return "\n".join(lines) + "\n"


# Addresses drawn per node: more make the boxes unreadable.
GRAPH_ADDRESSES = 4
# Output formats by file suffix; "dot" is the Graphviz source itself.
GRAPH_FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".pdf": "pdf"}


def _live_addresses(lab: Lab) -> dict[str, list[str]]:
    """Each node's addresses as they are now (interface-qualified, global
    before link-local), loopback left out."""
    out: dict[str, list[str]] = {}
    for node in lab:
        addrs = [a for a in node.addresses() if a.ifname != "lo" and a.scope != "host"]
        addrs.sort(key=lambda a: (a.scope != "global", a.ifname))
        out[node.name] = [f"{a.ifname} {a.cidr}" for a in addrs]
    return out


def _graph_format(output: Optional[str], fmt: Optional[str]) -> str:
    """--format wins; else the suffix of -o; else SVG."""
    if fmt:
        return fmt
    if output:
        suffix = Path(output).suffix.lower()
        if suffix in GRAPH_FORMATS:
            return GRAPH_FORMATS[suffix]
        if suffix:
            raise click.UsageError(_("cannot tell the format from '{suffix}' in {file}: use "
                                     "{suffixes} or --format").format(
                suffix=suffix, file=output, suffixes=", ".join(GRAPH_FORMATS)))
    return "svg"


@command(help=N_("Draw the lab (nodes, links and, for a running lab, its live addresses)."))
@lab_option
@option("--topology", help=N_("Draw a topology file instead of a running lab."))
@option("--output", "-o", default=None, metavar="FILE",
        help=N_("The file to write, exactly (default: NAME.svg here); its suffix "
                "(.svg, .dot, .png, .pdf) sets the format."))
@option("--format", "fmt", type=click.Choice(sorted(set(GRAPH_FORMATS.values()))),
        default=None, help=N_("Output format (default: from FILE's suffix, else svg)."))
@errors
def graph(lab_name: Optional[str], topology: Optional[str], output: Optional[str],
          fmt: Optional[str]) -> None:
    kind = _graph_format(output, fmt)
    if topology:
        spec, live = Lab(topology).spec, None
    else:
        require_root()
        lab = attach(lab_name)
        spec, live = lab.spec, _live_addresses(lab)
    target = Path(output) if output else Path(f"{spec.name}.{kind}")
    dot = _dot(spec, live)
    if kind == "dot":
        target.write_text(dot)
    else:
        dot_bin = _core.find_program("dot")
        if not dot_bin:
            raise MissingBinaryError(_("drawing {format} needs Graphviz: install the Debian "
                                       "package graphviz, or write the source with -o "
                                       "FILE.dot").format(format=kind.upper()))
        r = subprocess.run([dot_bin, f"-T{kind}", "-o", str(target)], input=dot.encode(),
                           capture_output=True)
        if r.returncode != 0:
            err = r.stderr.decode(errors="replace").strip().splitlines()
            # TRANSLATORS: {error} is what Graphviz said, in English, or its exit code.
            raise Error(_("graphviz could not draw {file}: {error}").format(
                file=target, error=err[-1] if err else r.returncode))
    click.echo(_("wrote {file}").format(file=target.resolve()))


COMMANDS = {"demo": demo, "doctor": doctor, "images": images, "graph": graph}
