"""What a trainee tripped over in labs 1 to 3, through the real command:
starting a lab (or a topology) twice, "several labs are running", the README and address
table after start, ids cut at 80 columns, graph's file names, progress and
status wording, and scripts/setup hiding a failed build.

Every lab is started with a unique --name, addressed with --lab and stopped
by id, so that other labs on the machine neither disturb these tests nor
are touched by them."""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

from conftest import ROOT

PY = "/usr/bin/python3"
Run = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def v6(tmp_path: Path, v6lab_available: None) -> Iterator[Run]:
    """Runs v6lab; remembers the id of every lab a `start` brought up and
    stops exactly those at the end."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"),
           "V6LAB_PROGRESS": str(tmp_path / "progress.json"), "COLUMNS": "200"}
    started: list[str] = []

    def run(*args: str, check: bool = True, columns: int = 200,
            extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        r = subprocess.run([PY, "-m", "v6lab", *args], capture_output=True, text=True,
                           env={**env, "COLUMNS": str(columns), **(extra or {})},
                           timeout=120, cwd=tmp_path)
        assert "Traceback" not in r.stderr, r.stderr
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        if args and args[0] == "start":
            started.extend(m for m in re.findall(r"is up in \d+ ms \(id (\S+)\)", r.stdout))
        if args and args[0] == "up":
            started.extend(m for m in re.findall(r"is up \(id ([^,\s]+),", r.stdout))
        return r
    yield run
    for lab_id in started:
        run("stop", "--lab", lab_id, check=False)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def lab_id(out: str) -> str:
    m = re.search(r"\(id ([^,\s)]+)", out)
    assert m, out
    return m.group(1)


def test_start_twice_says_running_and_ambiguity_is_a_usage_error(v6):
    name = unique("t-twice")
    out = v6("start", "link-local", "--name", name).stdout
    first = lab_id(out)
    # The README is rendered, not printed as Markdown source.
    assert "Two computers, h1 and h2," in out and "**" not in out and "```" not in out
    # No address is marked one by one: at most one sentence about settling.
    assert "(tentative)" not in out

    # Started again: refused in one sentence that names the running lab and
    # the ways on; nothing is started.
    again = v6("start", "link-local", "--name", name, check=False)
    assert again.returncode == 1 and again.stdout == "", again
    assert again.stderr.startswith(f"v6lab: lab {name} is already running (id {first})")
    assert len(again.stderr.splitlines()) == 1, again.stderr
    for way in (f"'v6lab shell --lab {name} h1'", f"'v6lab reset --lab {name}'",
                f"'v6lab stop --lab {name}'", "'v6lab start link-local --new'"):
        assert way in again.stderr, (way, again.stderr)
    mine = [r for r in json.loads(v6("status", "--format", "json").stdout) if r["name"] == name]
    assert [r["id"] for r in mine] == [first]
    assert mine[0]["source"] == "link-local"  # the lab's id, not "Topo Topo"

    # --new starts another one of the same name; then the name is ambiguous.
    second = lab_id(v6("start", "link-local", "--name", name, "--new").stdout)
    assert second != first
    assert_ambiguous(v6, name, first, second)
    # Once the name is shared, the refusal's commands use the id instead.
    again = v6("start", "link-local", "--name", name, check=False)
    assert again.returncode == 1 and f"'v6lab reset --lab {first}'" in again.stderr
    # The id still picks one.
    assert v6("check", "--lab", first, "--format", "json", check=False).returncode == 1


def test_two_starts_at_once_build_one_lab(v6):
    """Two `start`s of one name at the same moment: the name lock lets one
    build, and the other, which waited, finds it running and refuses."""
    import concurrent.futures
    name = unique("t-race")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _i: v6("start", "link-local", "--name", name, check=False),
                             range(2)))
    ok = [r for r in runs if r.returncode == 0]
    refused = [r for r in runs if r.returncode != 0]
    assert len(ok) == 1 and len(refused) == 1, [(r.returncode, r.stderr) for r in runs]
    first = lab_id(ok[0].stdout)
    assert refused[0].stderr.startswith(f"v6lab: lab {name} is already running (id {first})")
    mine = [r for r in json.loads(v6("status", "--format", "json").stdout) if r["name"] == name]
    assert [r["id"] for r in mine] == [first]


def assert_ambiguous(v6: Run, name: str, first: str, second: str) -> None:
    """Two running labs called name: every verb that picks a lab says so as
    a usage error (exit 2) that lists both ids and how to pick one, whether
    given the shared name or (with these two running) no --lab at all."""
    for verb in (["check"], ["exec", "h1", "--", "true"], ["shell", "h1"], ["stop"]):
        r = v6(verb[0], "--lab", name, *verb[1:], check=False)
        assert r.returncode == 2, (verb, r.stderr)
        assert f"several labs are called '{name}'" in r.stderr, (verb, r.stderr)
        assert first in r.stderr and second in r.stderr and "--lab ID" in r.stderr
        r = v6(*verb, check=False)
        assert r.returncode == 2 and "several labs are running" in r.stderr, (verb, r.stderr)
        assert first in r.stderr and second in r.stderr and "--lab ID" in r.stderr
    assert len(json.loads(v6("status", "--format", "json").stdout)) >= 2  # nothing stopped


def test_up_twice_says_running_and_new_starts_another(v6, tmp_path):
    """`up` of a topology whose lab is running refuses as `start` does (no
    reset: a topology's lab is not a curriculum lab); --new starts another,
    under a free name unless --name says one."""
    name = unique("t-up")
    topo = tmp_path / "twice.yaml"
    topo.write_text(f"name: {name}\nnodes:\n  isp: {{image: router, provider: true}}\n"
                    "  h1: {}\nlinks:\n  - endpoints: [isp, h1]\n")
    first = lab_id(v6("up", str(topo)).stdout)
    again = v6("up", str(topo), check=False)
    assert again.returncode == 1 and again.stdout == "", again
    assert again.stderr.startswith(f"v6lab: lab {name} is already running (id {first})")
    assert len(again.stderr.splitlines()) == 1, again.stderr
    for way in (f"'v6lab shell --lab {name} h1'", f"'v6lab stop --lab {name}'",
                f"'v6lab up {topo} --new'"):
        assert way in again.stderr, (way, again.stderr)
    assert "reset" not in again.stderr
    # --name of a running lab is refused too, whatever the topology.
    again = v6("up", str(ROOT / "examples" / "small.yaml"), "--name", name, check=False)
    assert again.returncode == 1 and f"(id {first})" in again.stderr
    # --new without --name: a free name, so nothing becomes ambiguous.
    out = v6("up", str(topo), "--new").stdout
    assert f"lab {name}-2 is up" in out, out
    # --new with the running lab's name: two labs of one name.
    second = lab_id(v6("up", str(topo), "--name", name, "--new").stdout)
    assert second != first
    assert_ambiguous(v6, name, first, second)


def test_graph_writes_exactly_the_file_named_with_live_addresses(v6, tmp_path):
    name = unique("t-graph")
    first = lab_id(v6("start", "link-local", "--name", name).stdout)
    svg = tmp_path / "out" / "lab.svg"
    svg.parent.mkdir()
    r = v6("graph", "--lab", first, "-o", str(svg))
    assert sorted(p.name for p in svg.parent.iterdir()) == ["lab.svg"]
    assert "<svg" in svg.read_text() and str(svg) in r.stdout
    dot = tmp_path / "out" / "lab.dot"
    v6("graph", "--lab", first, "-o", str(dot))
    assert sorted(p.name for p in svg.parent.iterdir()) == ["lab.dot", "lab.svg"]
    text = dot.read_text()
    assert text.startswith('graph "') and '"h2" -- "lan:lan"' in text
    # h2's link-local address exists only in the running lab, not in the topology.
    assert "eth0 fe80::" in text
    # --format wins over the suffix; no -o: NAME.svg here, and it says where.
    v6("graph", "--lab", first, "-o", str(tmp_path / "out" / "g.txt"), "--format", "dot")
    assert (tmp_path / "out" / "g.txt").read_text().startswith("graph ")
    r = v6("graph", "--lab", first)
    assert r.stdout.strip() == f"wrote {tmp_path / (name + '.svg')}"
    assert (tmp_path / f"{name}.svg").exists()
    r = v6("graph", "--lab", first, "-o", str(tmp_path / "x.jpeg"), check=False)
    assert r.returncode == 2 and "--format" in r.stderr


def write_long_lab(root: Path) -> Path:
    """A lab folder beside the curriculum (V6LAB_LABS adds it) with one lab of
    a long id and title, as the next labs will have."""
    labs = root / "labs"
    labs.mkdir()
    (labs / "ipv6-mostly-pref64").mkdir()
    (labs / "ipv6-mostly-pref64" / "lab.py").write_text(
        "from v6lab import Topo\n"
        "from v6lab.course import LabDefinition\n"
        "from v6lab.grading import Step, checks as c\n\n\n"
        "class Lab(LabDefinition):\n"
        "    title = 'IPv6-mostly: PREF64 and DHCPv4 option 108 beside SLAAC'\n"
        "    level = 'intermediate'\n    minutes = 45\n    order = 40\n\n"
        "    def topology(self):\n"
        "        t = Topo('s')\n        t.add_host('h1')\n        return t\n\n"
        "    def steps(self):\n"
        "        return [Step('one', 'One', [c.link_local('h1', 'eth0')], hints=['x'])]\n")
    return labs


def test_labs_at_80_columns_never_cuts_an_id_and_agrees_with_progress(tmp_path):
    labs = write_long_lab(tmp_path)
    prog = tmp_path / "progress.json"
    prog.write_text(json.dumps({"version": 1, "labs": {"link-local": {
        "starts": 1, "attempts": [{"at": "2024-01-01T00:00:00+0000", "score": 100,
                                   "earned": 4, "possible": 4, "steps": {}}],
        "hints": {}, "solves": [{"at": "2024-01-01T00:00:00+0000", "steps": ["ipv6-on"]}],
        "completed": "2024-01-01T00:00:00+0000"}}}))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"), "V6LAB_LABS": str(labs),
           "V6LAB_PROGRESS": str(prog), "COLUMNS": "80"}

    def run(*args: str) -> str:
        r = subprocess.run([PY, "-m", "v6lab", *args], capture_output=True, text=True,
                           env=env, timeout=60, cwd=tmp_path)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        return r.stdout
    out = run("labs")
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    for lab in ("link-local", "static-gua", "slaac", "ipv6-mostly-pref64"):
        assert re.search(rf"\s{re.escape(lab)}\s", out), (lab, out)
    assert "…" not in out
    # Each lab's row (title and its level line) stays within three lines.
    starts = [i for i, line in enumerate(lines) if re.match(r"^\s*\d+\s", line)]
    curriculum = [d for d in (ROOT / "labs").iterdir() if (d / "lab.py").exists()]
    assert len(starts) == len(curriculum) + 1   # and the long extra lab
    legend = next(i for i, line in enumerate(lines) if line.startswith("en vi: "))
    for a, b in zip(starts, starts[1:] + [legend]):
        assert b - a <= 3, "\n".join(lines[a:b])
    # The same word in both views: completed, whether or not solve was used.
    row = next(line for line in lines if " link-local " in line)
    assert "completed" in row and "with solve" not in out
    progress_row = next(line for line in run("progress").splitlines() if "link-local" in line)
    assert "completed" in progress_row


def test_progress_export_names_the_real_user_and_help_shows_lab_optional(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"),
           "V6LAB_PROGRESS": str(tmp_path / "p.json"), "HOME": str(tmp_path / "home-01")}
    env.pop("SUDO_UID", None)
    env.pop("SUDO_USER", None)

    def export(extra: dict[str, str]) -> str:
        out = tmp_path / "e.json"
        r = subprocess.run([PY, "-m", "v6lab", "progress", "--export", str(out)],
                           capture_output=True, text=True, env={**env, **extra}, timeout=60)
        assert r.returncode == 0, r.stderr
        return json.loads(out.read_text())["user"]
    assert export({}) == pwd.getpwuid(os.getuid()).pw_name  # not "home-01"
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        assert export({"SUDO_UID": str(nobody.pw_uid), "SUDO_USER": "nobody"}) == "nobody"
    r = subprocess.run([PY, "-m", "v6lab", "start", "--help"], capture_output=True, text=True,
                       env=env, timeout=60)
    assert "Usage: v6lab start [OPTIONS] [LAB]" in r.stdout, r.stdout


def fake_tree(tmp_path: Path, cmake_body: str, missing: str = "") -> tuple[Path, dict[str, str]]:
    """A copy of scripts/setup in a tree of its own, with cmake, apt-get,
    dpkg-query and systemctl replaced by scripts: what setup shows and
    whether it fails, without installing or building anything."""
    tree = tmp_path / "tree"
    (tree / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup", tree / "scripts" / "setup")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    tools = {
        "cmake": cmake_body,
        "dpkg-query": f'case "$*" in {missing or "__none__"}) exit 1;; esac\n'
                      "printf 'install ok installed'\n",
        "apt-get": 'case "$*" in\n'
                   "  *update*) echo 'Hit:1 http://deb.debian.org/debian bookworm InRelease';;\n"
                   "  *-s\\ install*) printf 'Inst libgvc6 (1)\\nInst graphviz (1)\\n';;\n"
                   "  *) echo 'Reading package lists... (apt noise)'\n"
                   "     for p in libgvc6 graphviz; do\n"
                   "       printf 'pmstatus:%s:50:Installed %s\\n' $p $p >&3; done;;\n"
                   "esac\n",
        "systemctl": "exit 0\n",
    }
    for tool, body in tools.items():
        (bin_ / tool).write_text("#!/bin/sh\n" + body)
        (bin_ / tool).chmod(0o755)
    return tree, {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}"}


def test_setup_fails_when_the_build_fails_and_shows_progress(tmp_path):
    tree, env = fake_tree(tmp_path, (
        'case "$*" in *--build*) ;; *) exit 0;; esac\n'
        'for p in 10 42 80; do echo "[ $p%] Building CXX object core/x$p.o"; done\n'
        "echo \"x.cc:3:1: error: expected ';'\" >&2\nexit 2\n"))
    r = subprocess.run([str(tree / "scripts" / "setup")], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "building: 42%" in r.stderr and "the build failed" in r.stderr
    assert "x.cc:3:1: error" in r.stderr and str(tree / "build" / "setup.log") in r.stderr
    assert "Building CXX object" not in r.stderr  # the build's own lines are in the log
    assert len(r.stderr.splitlines()) <= 10


@pytest.mark.skipif(os.geteuid() != 0, reason="setup installs packages only as root")
def test_setup_counts_packages_and_keeps_apt_noise_in_the_log(tmp_path):
    tree, env = fake_tree(tmp_path, 'case "$*" in *--build*) echo "[100%] Built target x";; esac\n',
                          missing="*graphviz*")
    lib = tree / "bindings" / "v6lab" / "libexec"
    lib.mkdir(parents=True)
    (lib / "v6lab-init").write_text("")
    (lib / "v6lab-init").chmod(0o755)
    r = subprocess.run([str(tree / "scripts" / "setup")], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "installed package 2 of 2 (graphviz)" in r.stderr
    assert "apt noise" not in r.stderr and "Hit:1" not in r.stderr
    assert "apt noise" in (tree / "build" / "setup.log").read_text()
