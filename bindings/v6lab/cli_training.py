"""The training verbs of the v6lab command: labs, start, check, hint, solve,
reset, progress, graph, capture. Registered on the group in cli.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import click

from . import _core, detached, registry
from ._core import Error, MissingBinaryError
from .cli import EXIT_FAILED, EXIT_GRADER, _print_inspect, errors, lab_option, main, require_fds
from .lab import Lab, require_root

if TYPE_CHECKING:
    from .course import LabDefinition

# The curriculum, grading and progress modules are imported by the verbs
# that use them, so that `v6lab shell` and `v6lab exec` start fast.


def find_lab(lab_id: str) -> "LabDefinition":
    from .course import find_lab as find
    return find(lab_id)


def load_labs() -> dict[str, "LabDefinition"]:
    from .course import load_labs as load
    return load()


def Progress() -> Any:  # noqa: N802 - reads like the class it returns
    from .progress import Progress as P
    return P()


def _console() -> Any:
    from rich.console import Console
    return Console()


def _course_lab(lab_name: Optional[str]) -> tuple[Lab, "LabDefinition"]:
    """The running lab and its definition (it must be a curriculum lab)."""
    require_root()
    lab = Lab.attach(lab_name)
    course = lab.meta.get("course")
    if not course:
        raise Error(f"lab {lab.name} was started from a topology, not from the curriculum: "
                    "it has nothing to grade (start one with 'v6lab start LAB')")
    return lab, find_lab(course)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def labs(fmt: str) -> None:
    """The curriculum, with your status and score in each lab."""
    prog = Progress()
    defs = load_labs()
    if fmt == "json":
        click.echo(json.dumps([{"id": d.id, "title": d.title, "level": d.level,
                                "minutes": d.minutes, "summary": d.summary, **prog.summary(d.id)}
                               for d in defs.values()], indent=2))
        return
    from rich.table import Table
    t = Table("#", "lab", "title", "level", "time", "status", "best")
    for i, d in enumerate(defs.values(), 1):
        s = prog.summary(d.id)
        best = f"{s['best']:g} %" if s["best"] is not None else ""
        status = s["status"] + (" (with solve)" if s["solves"] else "")
        t.add_row(str(i), d.id, d.title, d.level, f"{d.minutes} min", status, best)
    _console().print(t)


@main.command()
@click.argument("lab_id", required=False, metavar="LAB")
@click.option("--name", help="Name of the running lab (default: the lab's id).")
@errors
def start(lab_id: Optional[str], name: Optional[str]) -> None:
    """Start a lab of the curriculum (default: the first) and show how to begin."""
    require_root()
    defs = load_labs()
    if not defs:
        raise Error("no lab found (the labs/ folder is missing)")
    d = defs[lab_id] if lab_id in defs else (next(iter(defs.values())) if lab_id is None
                                             else find_lab(lab_id))
    d.require_kernel()
    topo = d.topology()
    require_fds(Lab(topo, name=name or d.id))  # before any process starts
    con = _console()
    t0 = time.monotonic()
    with con.status(f"Starting lab {d.id}: {d.title}…"):
        rec = detached.start(topo, name=name or d.id, course=d.id)
    Progress().record_start(d.id)
    con.print(f"[bold green]Lab {rec.name} is up[/] in {(time.monotonic() - t0) * 1000:.0f} ms "
              f"[dim](id {rec.id})[/]\n")
    _print_inspect(con, Lab.attach(rec.id))
    con.print(f"\n[bold]{d.title}[/]\n")
    con.print(d.instructions(), markup=False, highlight=False)
    con.print(f"\nThe whole guide: {d.readme}")
    first = next(iter(rec.nodes))
    con.print(f"\nOpen a shell: [bold]v6lab shell {first}[/]   Check your work: [bold]v6lab check[/]"
              f"   Stuck? [bold]v6lab hint[/]   Done: [bold]v6lab stop[/]")


@main.command()
@lab_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit", "tap"]), default="text")
@click.option("--verbose", "-v", is_flag=True, help="List every check, passed or not.")
@errors
def check(lab_name: Optional[str], fmt: str, verbose: bool) -> None:
    """Grade the running lab now. Exit 0: every step passed; 1: some failed;
    6: the grader could not evaluate a check."""
    lab, d = _course_lab(lab_name)
    prog = Progress()
    report = d.grader().grade(lab, hints_shown=prog.hints_shown(d.id))
    prog.record_attempt(d.id, report)
    if fmt == "json":
        click.echo(report.to_json())
    elif fmt == "junit":
        click.echo(report.to_junit())
    elif fmt == "tap":
        click.echo(report.to_tap(), nl=False)
    else:
        con = _console()
        con.print(f"[bold]{d.title}[/] [dim]({lab.name})[/]")
        report.render(con, verbose=verbose)
        if report.passed:
            con.print("\n[bold green]All steps done. Well done![/]")
    if report.has_errors:
        sys.exit(EXIT_GRADER)
    sys.exit(0 if report.passed else EXIT_FAILED)


@main.command()
@lab_option
@click.argument("step", required=False)
@errors
def hint(lab_name: Optional[str], step: Optional[str]) -> None:
    """Show the next hint for STEP (default: the first unfinished step)."""
    lab, d = _course_lab(lab_name)
    grader = d.grader()
    if step is None:
        nxt = grader.grade(lab).first_unfinished()
        if nxt is None:
            click.echo("Every step is done: no hint needed.")
            return
        step = nxt.id
    s = grader.step(step) if step in [x.id for x in grader.steps] else None
    if s is None:
        raise Error(f"lab {d.id} has no step '{step}' (steps: {', '.join(x.id for x in grader.steps)})")
    # The k-th request shows hint k (then the last one again); `check`
    # shows the latest hint shown, or the first.
    shown = Progress().record_hint(d.id, s.id)
    k = min(shown, len(s.hints) - 1)
    click.echo(f"{s.title} — hint {k + 1} of {len(s.hints)}:\n{s.hints[k]}")


@main.command()
@lab_option
@click.argument("step", required=False)
@errors
def solve(lab_name: Optional[str], step: Optional[str]) -> None:
    """Apply the reference solution up to STEP (default: every step). Recorded
    in your progress."""
    lab, d = _course_lab(lab_name)
    if step is not None and step not in [s.id for s in d.steps()]:
        raise Error(f"lab {d.id} has no step '{step}' (steps: {', '.join(s.id for s in d.steps())})")
    done = d.solve(lab, upto=step)
    Progress().record_solve(d.id, done)
    click.echo(f"solved: {', '.join(done)} (run 'v6lab check' to see the result)")


@main.command()
@lab_option
@errors
def reset(lab_name: Optional[str]) -> None:
    """Put the lab back in its initial state (rebuilt from scratch)."""
    lab, d = _course_lab(lab_name)
    rec = registry.find(lab.id)
    detached.stop_owner(rec)
    new = detached.start(d.topology(), name=lab.name, course=d.id)
    click.echo(f"lab {new.name} is back in its initial state (id {new.id})")


@main.command()
@click.option("--export", "export", type=click.Path(dir_okay=False), help="Write everything as JSON to this file.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@errors
def progress(export: Optional[str], fmt: str) -> None:
    """Your progress: attempts, best and last scores, hints and solves used."""
    prog = Progress()
    data = prog.export()
    if export:
        Path(export).write_text(json.dumps(data, indent=2))
        click.echo(f"progress written to {export}")
        return
    if fmt == "json":
        click.echo(json.dumps(data, indent=2))
        return
    from rich.table import Table
    t = Table("lab", "status", "attempts", "best", "last", "hints", "solves")
    for d in load_labs().values():
        s = prog.summary(d.id)
        t.add_row(d.id, s["status"], str(s["attempts"]),
                  "" if s["best"] is None else f"{s['best']:g} %",
                  "" if s["last"] is None else f"{s['last']:g} %", str(s["hints"]), str(s["solves"]))
    _console().print(t)
    click.echo(f"(stored in {prog.path})")


def _dot(spec: dict[str, Any]) -> str:
    lines = [f'graph "{spec["name"]}" {{', "  layout=neato; overlap=false; splines=true;",
             '  node [fontname="Helvetica"];']
    for name, n in spec["nodes"].items():
        shape = "box" if n["image"] in ("router", "cpe", "ra-router") else "ellipse"
        addrs = [a for i in n["interfaces"].values() for a in i["addresses"]]
        label = "\\n".join([name, f"({n['image']})"] + addrs[:3])
        lines.append(f'  "{name}" [shape={shape}, label="{label}"];')
    for lan, l in spec["lans"].items():
        lines.append(f'  "lan:{lan}" [shape=plaintext, label="{lan}", fontcolor=blue];')
        for m in l["members"]:
            node, iface = m.split(":")
            lines.append(f'  "{node}" -- "lan:{lan}" [taillabel="{iface}", fontsize=9];')
    for link in spec["links"]:
        (a, ai), (b, bi) = (e.split(":") for e in link["endpoints"])
        lines.append(f'  "{a}" -- "{b}" [taillabel="{ai}", headlabel="{bi}", fontsize=9];')
    lines.append("}")
    return "\n".join(lines) + "\n"


@main.command()
@lab_option
@click.option("--topology", help="Draw a topology file instead of a running lab.")
@click.option("--output", "-o", default=None, help="Output prefix (writes PREFIX.dot and PREFIX.svg).")
@errors
def graph(lab_name: Optional[str], topology: Optional[str], output: Optional[str]) -> None:
    """The topology as Graphviz dot and SVG."""
    if topology:
        spec = Lab(topology).spec
    else:
        require_root()
        spec = Lab.attach(lab_name).spec
    prefix = output or spec["name"]
    dot = _dot(spec)
    Path(f"{prefix}.dot").write_text(dot)
    made = [f"{prefix}.dot"]
    dot_bin = _core.find_program("dot")
    if dot_bin:
        subprocess.run([dot_bin, "-Tsvg", "-o", f"{prefix}.svg", f"{prefix}.dot"], check=True)
        made.append(f"{prefix}.svg")
        click.echo("wrote " + ", ".join(made))
    else:
        click.echo(f"wrote {prefix}.dot (for the SVG, install the Debian package graphviz)")


@main.command()
@lab_option
@click.argument("node")
@click.argument("iface")
@click.option("--write", "-w", "out", default="-", help="pcap file to write ('-': stdout, for wireshark -k -i -).")
@click.option("--count", "-c", type=click.IntRange(min=0), default=0, help="Stop after this many packets.")
@click.option("--filter", "-f", "bpf", default="", help="A tcpdump filter, e.g. 'icmp6'.")
@errors
def capture(lab_name: Optional[str], node: str, iface: str, out: str, count: int, bpf: str) -> None:
    """Capture packets on NODE's IFACE as pcap (to a file or stdout)."""
    require_root()
    n = Lab.attach(lab_name)[node]
    if iface not in [link.name for link in n.links()]:
        raise Error(f"{node} has no interface '{iface}'")
    if not _core.find_program("tcpdump"):
        raise MissingBinaryError("capturing needs tcpdump: install the Debian package tcpdump")
    args = ["tcpdump", "-i", iface, "-U", "-w", "-", "-s", "0"]
    if count:
        args += ["-c", str(count)]
    if bpf:
        args += bpf.split()
    if out == "-" and sys.stdout.isatty():
        raise Error("refusing to write pcap to a terminal: use -w FILE, or pipe into wireshark -k -i -")
    sink = sys.stdout.buffer if out == "-" else open(out, "wb")
    try:
        p = subprocess.Popen(n.exec_argv(args), stdout=sink, stderr=subprocess.PIPE, env=n.env())
        try:
            _, err = p.communicate()
        except KeyboardInterrupt:
            p.terminate()
            _, err = p.communicate()
    finally:
        if sink is not sys.stdout.buffer:
            sink.close()
    msg = err.decode(errors="replace").strip().splitlines()
    if p.returncode not in (0, 130, 143, -15) and msg:
        raise Error(f"capture on {node}:{iface}: {msg[-1]}")
    if out != "-":
        click.echo(msg[-1] if msg else f"wrote {out}", err=True)
