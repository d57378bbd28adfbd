"""Hostile topology files through the real command: every one of the corpus
(tests/corpus/make_bad_inputs.py) must end in exit 3 with one clear error
naming the file and the field, never a traceback, a crash or a hang; and
trying to start a sample of them must leave nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, host_links

PY = "/usr/bin/python3"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "bindings")}

# Runs `v6lab validate` on each file in one process (a process per file
# would spend most of the time starting Python), through the same entry
# point as the command, with an alarm per file so that a hang is reported
# as one instead of stopping the run.
WORKER = r"""
import contextlib, io, json, os, signal, sys
from v6lab import cli

class Hang(Exception):
    pass

def alarm(*_):
    raise Hang()

signal.signal(signal.SIGALRM, alarm)
root, expected = sys.argv[1], json.load(open(sys.argv[2]))
images_default = os.environ.get("V6LAB_IMAGES")
for name, entry in expected.items():
    if entry.get("images"):
        os.environ["V6LAB_IMAGES"] = os.path.join(root, entry["images"])
    elif images_default:
        os.environ["V6LAB_IMAGES"] = images_default
    else:
        os.environ.pop("V6LAB_IMAGES", None)
    err = io.StringIO()
    signal.alarm(10)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.run(["validate", os.path.join(root, name)])
    except Hang:
        code = "hang"
    except BaseException as e:
        code = "escaped " + type(e).__name__
    finally:
        signal.alarm(0)
    print(json.dumps({"name": name, "code": code, "stderr": err.getvalue()[:20000],
                      "size": len(err.getvalue())}), flush=True)
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus, generated for this run (FIFOs and 5 MiB files are not
    committed); pytest removes the directory."""
    root = tmp_path_factory.mktemp("bad-inputs")
    subprocess.run([PY, str(ROOT / "tests" / "corpus" / "make_bad_inputs.py"), str(root)],
                   check=True, capture_output=True, timeout=60)
    return root


@pytest.fixture(scope="module")
def results(corpus: Path) -> dict[str, dict[str, Any]]:
    r = subprocess.run([PY, "-c", WORKER, str(corpus), str(corpus / "expected.json")],
                       capture_output=True, text=True, env=ENV, timeout=300, cwd="/")
    assert r.returncode == 0, r.stderr[-3000:]
    out = {}
    for line in r.stdout.splitlines():
        rec = json.loads(line)
        out[rec["name"]] = rec
    return out


def expected(corpus: Path) -> dict[str, Any]:
    return json.loads((corpus / "expected.json").read_text())


def test_corpus_is_big_enough(corpus: Path) -> None:
    assert len(expected(corpus)) >= 300


def test_every_bad_input_gets_a_clear_error(corpus: Path, results: dict[str, Any]) -> None:
    """Exit 3, the file named, every expected fragment present, no
    traceback, no hang, and no megabyte echoed back."""
    failures = []
    for name, entry in expected(corpus).items():
        rec = results.get(name)
        if rec is None:
            failures.append(f"{name}: no result (the worker died on it?)")
            continue
        err = rec["stderr"]
        path = str(corpus / name)
        problems = []
        if rec["code"] != 3:
            problems.append(f"exit {rec['code']}")
        if "Traceback" in err:
            problems.append("traceback")
        if path not in err and f"{entry.get('images', '')}/x.json" not in err:
            problems.append("file not named")
        problems += [f"missing {f!r}" for f in entry["fragments"] if f not in err]
        if rec["size"] > 20000:
            problems.append(f"{rec['size']} bytes of error output")
        if problems:
            failures.append(f"{name}: {', '.join(problems)}: {err[:300]!r}")
    assert not failures, f"{len(failures)} of {len(results)}:\n" + "\n".join(failures)


def _marked_processes(mark: str) -> list[int]:
    """Processes that inherited our marker variable (supervisors and
    whatever they started), wherever they were reparented."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if mark.encode() in env:
            found.append(int(pid))
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="up needs root")
def test_up_on_bad_inputs_leaves_nothing(corpus: Path, tmp_path: Path) -> None:
    """`up` on a sample of the corpus: refused before anything is built, so
    no lab record, no supervisor or node process, no host link remains."""
    names = sorted(n for n, e in expected(corpus).items() if not e.get("images"))
    sample = names[:: max(1, len(names) // 20)][:20]
    mark = f"V6LAB_BADINPUT_MARK={uuid.uuid4().hex}"
    state = tmp_path / "state"
    env = {**ENV, "V6LAB_STATE_DIR": str(state), mark.split("=")[0]: mark.split("=")[1]}
    links = host_links()
    for name in sample:
        r = subprocess.run([PY, "-m", "v6lab", "up", str(corpus / name)], capture_output=True,
                           text=True, env=env, timeout=60, cwd="/")
        assert r.returncode == 3 and "Traceback" not in r.stderr, (name, r.stderr[:500])
    labs = state / "labs"
    assert not labs.exists() or not any(labs.iterdir())
    assert _marked_processes(mark) == []
    assert host_links() <= links


def test_fd_limit_is_said_before_building(tmp_path: Path) -> None:
    """A lab too big for the open-file limit: validate says so in one
    sentence with the ulimit to use, and up refuses before building."""
    spec = {"nodes": {f"n{i}": {} for i in range(400)}, "lans": {"l": {}},
            "links": [{"endpoints": [f"n{i}", "l"]} for i in range(400)]}
    f = tmp_path / "big.json"
    f.write_text(json.dumps(spec))
    for verb in ("validate", "up"):
        r = subprocess.run(["prlimit", "--nofile=1024:1024", PY, "-m", "v6lab", verb, str(f)],
                           capture_output=True, text=True, env={**ENV, "V6LAB_STATE_DIR":
                                                                 str(tmp_path / "state")},
                           timeout=60, cwd="/")
        assert r.returncode == 1, (verb, r.stderr)
        assert "ulimit -n" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "state" / "labs").exists() or \
        not any((tmp_path / "state" / "labs").iterdir())


def test_relative_images_dir_is_made_absolute(tmp_path: Path) -> None:
    """V6LAB_IMAGES=images run from the checkout: the supervisor runs in /,
    so the command resolves it first; validate and up see the same images."""
    f = tmp_path / "t.yaml"
    f.write_text("nodes: {a: {image: router}}\n")
    r = subprocess.run([PY, "-m", "v6lab", "validate", str(f)], capture_output=True, text=True,
                       env={**ENV, "V6LAB_IMAGES": "images"}, timeout=60, cwd=str(ROOT))
    assert r.returncode == 0, r.stderr
    code = ("import os, sys; from v6lab import cli, paths; cli._check_environment('up'); "
            "print(paths.images_dir())")
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True,
                       env={**ENV, "V6LAB_IMAGES": "images", "V6LAB_STATE_DIR": str(tmp_path)},
                       timeout=60, cwd=str(ROOT))
    assert r.stdout.strip() == str(ROOT / "images"), r.stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
