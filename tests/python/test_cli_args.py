"""Bad command lines on every verb: each ends in one line on stderr and exit
2 (usage) or 3 (bad topology) or 1 (nothing to act on), never a traceback
or a hang; a bad environment is named in one sentence."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

PY = "/usr/bin/python3"
LONG = "a" * 100_000


def v6lab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"), **(env or {})}
    return subprocess.run([PY, "-m", "v6lab", *args], capture_output=True, text=True,
                          env=e, timeout=30, cwd="/")


@pytest.fixture(scope="module")
def odd_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("cli-args")
    (d / "dir.yaml").mkdir()
    os.mkfifo(d / "fifo.yaml", 0o600)
    (d / "ok.yaml").write_text("nodes: {h1: {}}\n")
    return {"dir": str(d / "dir.yaml"), "fifo": str(d / "fifo.yaml"), "ok": str(d / "ok.yaml")}


# (arguments, allowed exit codes); "{dir}" and the like are filled in.
CASES = [
    (["--frobnicate"], {2}), (["frobnicate"], {2}), (["validate"], {2}),
    (["validate", "{ok}", "--bogus"], {2}), (["validate", "{dir}"], {3}),
    (["validate", "{fifo}"], {3}), (["validate", "/dev/zero"], {3}),
    (["validate", LONG], {3}), (["validate", "ü🙂.yaml"], {3}), (["up"], {2}),
    (["up", "{dir}"], {3}), (["up", "{fifo}"], {3}), (["up", "{ok}", "--name"], {2}),
    (["up", "{ok}", "--name", LONG], {3}), (["up", "{ok}", "--name", "bad name"], {3}),
    (["demo", "{dir}"], {3}), (["demo", "/dev/zero"], {3}),
    (["down", "--lab", "v6lab-no-such-lab"], {1}), (["down", "--lab", LONG], {1}),
    (["down", "--bogus"], {2}), (["stop", "--lab", "ü🙂"], {1}), (["ls", "--format", "xml"], {2}),
    (["status", "--format"], {2}), (["inspect", "--lab", "v6lab-no-such-lab"], {1}),
    (["exec"], {2}), (["exec", "h1"], {2}), (["exec", "--lab", "v6lab-nope", "h1", "--", "true"], {1}),
    (["shell"], {2}), (["shell", "--lab", "v6lab-nope", LONG], {1}), (["clean", "--bogus"], {2}),
    (["images", "extra"], {2}), (["labs", "--format", "xml"], {2}), (["start", "no-such-lab"], {1}),
    (["start", LONG], {1}), (["start", "--name", "bad name"], {3}),
    (["check", "--lab", "v6lab-nope"], {1}), (["check", "--format", "xml"], {2}),
    (["hint", "--lab", "v6lab-nope", LONG], {1}), (["solve", "--lab", "v6lab-nope", "s1"], {1}),
    (["reset", "--lab", "v6lab-nope"], {1}), (["progress", "--format", "xml"], {2}),
    (["progress", "--export", "{dir}"], {2}), (["graph", "--topology", "{dir}"], {3}),
    (["graph", "--topology", "{fifo}"], {3}), (["graph", "--lab", "v6lab-nope"], {1}),
    (["capture"], {2}), (["capture", "--lab", "v6lab-nope", "h1", "eth0", "-c", "abc"], {2}),
    (["capture", "--lab", "v6lab-nope", "h1", "eth0", "-c", "-5"], {2}),
]


@pytest.mark.parametrize("args,codes", CASES, ids=lambda v: " ".join(v)[:40] if isinstance(v, list) else "")
def test_bad_arguments_get_one_line(args: list[str], codes: set[int],
                                    odd_paths: dict[str, str]) -> None:
    r = v6lab(*[a.format(**odd_paths) if len(a) < 100 else a for a in args])
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode in codes, (r.returncode, r.stderr[:500])
    assert len(r.stderr) < 4000, "a long argument was echoed back whole"


@pytest.mark.parametrize("var,value,verb,words", [
    ("V6LAB_STATE_DIR", "/etc/passwd", "ls", "is not a directory"),
    ("V6LAB_STATE_DIR", "/etc/passwd/x", "clean", "is not a directory"),
    ("V6LAB_IMAGES", "/etc/passwd", "images", "Not a directory"),
    ("V6LAB_IMAGES", "/nonexistent-v6lab", "images", "No such file"),
    ("V6LAB_PROGRESS", "{fifo}", "labs", "not a regular file"),
])
def test_bad_environment_is_named(var: str, value: str, verb: str, words: str,
                                  odd_paths: dict[str, str]) -> None:
    r = v6lab(verb, env={var: value.format(**odd_paths)})
    assert "Traceback" not in r.stderr and r.returncode == 1, r.stderr
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_internal_errors_are_one_line(tmp_path: Path) -> None:
    """The last guard: an unexpected exception inside a command becomes one
    line with exit 70 (a bug to report), not a traceback."""
    code = ("import sys; from v6lab import cli\n"
            "@cli.main.command('boom')\n@cli.errors\ndef boom():\n    raise ZeroDivisionError('x')\n"
            "sys.exit(cli.run(['boom']))\n")
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=30,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "bindings")})
    assert r.returncode == 70 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "v6lab: internal error: ZeroDivisionError: x; please report it"


def test_a_closed_pipe_stops_quietly():
    """`v6lab labs | head -1`: the reader has gone; v6lab stops like any Unix
    tool, with no "Broken pipe" line and the shell's SIGPIPE status."""
    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run([PY, "-m", "v6lab", "labs"], stdout=w, stderr=subprocess.PIPE,
                           text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(ROOT / "bindings")})
    finally:
        os.close(w)
    assert p.returncode == 141 and p.stderr == "", p.stderr
