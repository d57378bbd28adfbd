"""Lab records that cannot break commands or lie about their lab.

Every test keeps its records in its own state directory (V6LAB_STATE_DIR),
so hostile records never reach another test or another user's labs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, Small
from v6lab import registry

PY = "/usr/bin/python3"


@pytest.fixture
def state_dir(v6lab_available, tmp_path, monkeypatch):
    """A private records directory, removed after the test (labs made with
    lab_factory after this fixture are stopped before it is torn down)."""
    d = tmp_path / "state"
    (d / "labs").mkdir(parents=True)
    monkeypatch.setenv("V6LAB_STATE_DIR", str(d))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def v6lab(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings")}
    return subprocess.run([PY, "-m", "v6lab", *args], capture_output=True, text=True,
                          env=env, timeout=60, cwd="/")


def record_of(lab) -> dict:
    return json.loads((registry.paths.labs_dir() / lab.id / "lab.json").read_text())


def plant(labs: Path, name: str, content: object) -> Path:
    d = labs / name
    d.mkdir()
    p = d / "lab.json"
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(json.dumps(content))
    return d


def hostile_records(labs: Path, good: dict) -> dict[str, str]:
    """Plants every kind of bad record; returns {dir name: expected reason}."""
    wrong_types = {k: [] for k in good}
    nodes_str = {**good, "id": "nodes-str", "nodes": {"h1": "x"}}
    neg = {**good, "id": "neg-pid", "nodes": {**good["nodes"], "h1": {**good["nodes"]["h1"], "pid": -1}}}
    huge = {**good, "id": "huge-pid", "nodes": {**good["nodes"], "h1": {**good["nodes"]["h1"], "pid": 10**30}}}
    plant(labs, "wrong-types", wrong_types)
    plant(labs, "missing", {})
    plant(labs, "nodes-str", nodes_str)
    plant(labs, "neg-pid", neg)
    plant(labs, "huge-pid", huge)
    plant(labs, "not-utf8", b"\xff\xfe{\"id\": 1}")
    plant(labs, "array", [1, 2, 3])
    plant(labs, "deep", b"[" * 100000 + b"]" * 100000)
    plant(labs, "big", b" " * (registry.MAX_RECORD_BYTES + 10))
    (labs / "fifo").mkdir()
    os.mkfifo(labs / "fifo" / "lab.json")
    (labs / "link").mkdir()
    (labs / "link" / "lab.json").symlink_to("/etc/passwd")
    (labs / "dir").mkdir()
    (labs / "dir" / "lab.json").mkdir()
    return {
        "wrong-types": "field id: expected a string",
        "missing": "field id: missing",
        "nodes-str": "field nodes.h1: expected an object",
        "neg-pid": "field nodes.h1.pid: -1 is out of range",
        "huge-pid": "field nodes.h1.pid: " + str(10**30) + " is out of range",
        "not-utf8": "lab.json is not UTF-8",
        "array": "expected an object",
        "deep": "lab.json is not valid JSON",
        "big": f"lab.json is larger than {registry.MAX_RECORD_BYTES} bytes",
        "fifo": "lab.json is not a regular file (a FIFO)",
        "link": "lab.json is a symbolic link",
        "dir": "lab.json is not a regular file (a directory)",
    }


def test_hostile_records_are_reported_and_never_break_commands(state_dir, lab_factory):
    lab = lab_factory(Small())
    labs = state_dir / "labs"
    expected = hostile_records(labs, record_of(lab))
    t0 = time.monotonic()
    assert [r.id for r in registry.running()] == [lab.id]
    problems = registry.problems()
    assert time.monotonic() - t0 < 5  # a FIFO never blocks the scan
    for name, why in expected.items():
        line = [p for p in problems if p.startswith(f"ignored record {labs / name}: ")]
        assert len(line) == 1 and why in line[0], (name, problems)

    ls = v6lab("ls", "--format", "json")
    assert ls.returncode == 0, ls.stderr
    assert [r["id"] for r in json.loads(ls.stdout)] == [lab.id]
    assert ls.stderr.count("v6lab: ignored record ") == len(expected)
    assert "field nodes.h1.pid: -1 is out of range" in ls.stderr
    assert "Traceback" not in ls.stderr
    ex = v6lab("exec", "--lab", lab.id, "h1", "--", "hostname")
    assert (ex.returncode, ex.stdout.strip()) == (0, "h1"), ex.stderr
    ins = v6lab("inspect", "--lab", lab.id, "--format", "json")
    assert ins.returncode == 0 and json.loads(ins.stdout)["id"] == lab.id, ins.stderr
    chk = v6lab("check", "--lab", lab.id)  # not a curriculum lab: one sentence, no traceback
    assert chk.returncode == 1 and "has nothing to grade" in chk.stderr
    bad = v6lab("exec", "--lab", "neg-pid", "h1", "--", "true")
    assert bad.returncode == 1 and "field nodes.h1.pid" in bad.stderr and "Traceback" not in bad.stderr


def test_clean_never_follows_a_symlinked_record(state_dir, lab_factory, tmp_path):
    lab = lab_factory(Small())
    labs = state_dir / "labs"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    (labs / "evil").symlink_to(victim)
    (labs / "evil2").mkdir()
    (labs / "evil2" / "lab.json").symlink_to(victim / "keep.txt")
    old = time.time() - 3600
    for p in (labs / "evil", labs / "evil2"):
        os.utime(p, (old, old), follow_symlinks=False)
    out = v6lab("clean")
    assert out.returncode == 0, out.stderr
    assert not (labs / "evil").is_symlink() and not (labs / "evil2").exists()
    assert (victim / "keep.txt").read_text() == "precious"
    assert (labs / lab.id / "lab.json").is_file()  # the live lab's record stays
    assert lab.running


def test_a_record_pointing_at_another_labs_processes_is_refused(state_dir, lab_factory):
    a = lab_factory(Small(), name="alpha")
    b = lab_factory(Small(), name="beta")
    forged = record_of(a)
    forged["id"] = "forged-000001"
    forged["meta"] = {"course": "link-local"}
    other = record_of(b)["nodes"]
    forged["nodes"] = {n: {**v, "pid": other[n]["pid"], "starttime": other[n]["starttime"]}
                       for n, v in forged["nodes"].items()}
    plant(state_dir / "labs", "forged-000001", forged)
    refusal = "record forged-000001 describes processes that are not its lab's: refused"

    for args in (["exec", "--lab", "forged-000001", "h1", "--", "true"],
                 ["check", "--lab", "forged-000001"],
                 ["inspect", "--lab", "forged-000001"]):
        r = v6lab(*args)
        assert r.returncode == 1 and refusal in r.stderr, (args, r.stderr)
    ls = v6lab("ls", "--format", "json")
    assert sorted(x["id"] for x in json.loads(ls.stdout)) == sorted([a.id, b.id])
    assert refusal in ls.stderr
    # The genuine records still work.
    assert v6lab("exec", "--lab", b.id, "h1", "--", "true").returncode == 0

    # Also with the other lab's zygote copied in: the namespaces still differ.
    forged["zygote"] = record_of(b)["zygote"]
    (state_dir / "labs" / "forged-000001" / "lab.json").write_text(json.dumps(forged))
    r = v6lab("exec", "--lab", "forged-000001", "h1", "--", "true")
    assert r.returncode == 1 and refusal in r.stderr


def test_records_carry_namespace_identities(state_dir, lab_factory):
    lab = lab_factory(Small())
    rec = record_of(lab)
    h1 = lab["h1"]
    st = os.stat(f"/proc/{h1.pid}/ns/net")
    assert rec["nodes"]["h1"]["netns"] == [st.st_dev, st.st_ino]
    assert rec["nodes"]["h1"]["pidns"][1] == os.stat(f"/proc/{h1.pid}/ns/pid").st_ino
    assert rec["zygote"]["pid"] > 0 and rec["switch"]["netns"][1] > 0
    registry.verify(registry.find(lab.id))  # a genuine record passes
