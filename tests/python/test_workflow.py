"""The trainee's workflow through the v6lab command, end to end on a real
lab: start, check, hint, solve, progress, graph, capture, reset, stop."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from conftest import ROOT, host_links, v6lab_processes

PY = "/usr/bin/python3"
LAB_VERBS = {"check", "hint", "solve", "reset", "stop", "inspect", "exec", "graph", "capture"}


@pytest.fixture
def v6(tmp_path, v6lab_available):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"),
           "V6LAB_PROGRESS": str(tmp_path / "progress.json"), "COLUMNS": "200"}
    started: list[str] = []

    def run(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        # Other labs may run on this machine: a verb that acts on a lab is
        # given the one this test started last, unless it names one itself.
        if args and args[0] in LAB_VERBS and "--lab" not in args and started:
            args = (args[0], "--lab", started[-1], *args[1:])
        r = subprocess.run([PY, "-m", "v6lab", *args], capture_output=True, text=True,
                           env=env, timeout=120, cwd=tmp_path, **kw)
        assert "Traceback" not in r.stderr, r.stderr
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        if args and args[0] in ("start", "reset"):  # reset rebuilds: a new id
            started.extend(re.findall(r"\(id (\S+)\)", r.stdout))
        return r
    yield run
    # Only the labs this test started: `stop --all` would stop other
    # people's labs on a shared machine.
    for lab_id in started:
        run("stop", "--lab", lab_id, check=False)


def test_trainee_works_lab_one_through_the_cli(v6, tmp_path):
    links, procs = host_links(), v6lab_processes()
    out = v6("start", "--name", f"link-local-{os.getpid()}").stdout
    assert f"Lab link-local-{os.getpid()} is up" in out and "v6lab shell" in out
    assert "Link-local addresses and neighbour discovery" in out

    r = v6("check", "--format", "json", check=False)
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["score"] == 0 and report["steps"][0]["status"] == "fail"

    text = v6("check", check=False).stdout
    assert "Score: 0%" in text and "Hint:" in text

    h1 = v6("hint").stdout
    h2 = v6("hint").stdout
    assert "hint 1 of 2" in h1 and "hint 2 of 2" in h2 and h1 != h2

    v6("solve", "stable-privacy")
    r = v6("check", "--format", "json", check=False)
    steps = {s["id"]: s["status"] for s in json.loads(r.stdout)["steps"]}
    assert steps == {"ipv6-on": "pass", "stable-privacy": "pass", "neighbour": "fail",
                     "solicited-node": "skipped"}

    # The trainee does step 3 by hand, in the node.
    ll = json.loads(v6("inspect", "--format", "json").stdout)["nodes"]["h2"]["interfaces"]["eth0"]["addresses"]
    h2_ll = [a["address"].split("/")[0] for a in ll if a["scope"] == "link"][0]
    assert v6("exec", "h1", "--", "ping", "-c1", "-W2", f"{h2_ll}%eth0").returncode == 0
    v6("solve")
    r = v6("check", "--format", "junit")
    assert 'failures="0"' in r.stdout and "<testsuite" in r.stdout
    tap = v6("check", "--format", "tap").stdout
    assert tap.startswith("TAP version 13") and "not ok" not in tap

    prog = json.loads(v6("progress", "--format", "json").stdout)["labs"]["link-local"]
    assert prog["summary"]["status"] == "completed" and prog["summary"]["best"] == 100
    assert prog["summary"]["hints"] == 2 and prog["summary"]["solves"] == 2
    assert prog["starts"] == 1 and len(prog["attempts"]) == 5
    labs = json.loads(v6("labs", "--format", "json").stdout)
    assert labs[0]["id"] == "link-local" and labs[0]["status"] == "completed"
    v6("progress", "--export", str(tmp_path / "export.json"))
    assert json.loads((tmp_path / "export.json").read_text())["labs"]["link-local"]

    v6("graph", "-o", str(tmp_path / "g.dot"))
    dot = (tmp_path / "g.dot").read_text()
    assert '"h1" -- "lan:lan"' in dot and '"h2" -- "lan:lan"' in dot
    v6("graph", "-o", str(tmp_path / "g.svg"))
    svg = (tmp_path / "g.svg").read_text()  # graphviz comes with scripts/setup
    assert "<svg" in svg and ">h1<" in svg

    lab_id = json.loads(v6("inspect", "--format", "json").stdout)["id"]
    cap = subprocess.Popen([PY, "-m", "v6lab", "capture", "--lab", lab_id, "h2", "eth0", "-c", "2", "-f", "icmp6",
                            "-w", str(tmp_path / "c.pcap")],
                           env={**os.environ, "PYTHONPATH": str(ROOT / "bindings")},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(20):
            v6("exec", "h1", "--", "ping", "-c1", "-W1", f"{h2_ll}%eth0", check=False)
            if cap.poll() is not None:
                break
        cap.wait(timeout=20)
    finally:
        if cap.poll() is None:
            cap.kill()
            cap.wait()
    pcap = (tmp_path / "c.pcap").read_bytes()
    assert cap.returncode == 0 and pcap[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4") and len(pcap) > 100

    assert "initial state" in v6("reset").stdout
    r = v6("check", "--format", "json", check=False)
    assert json.loads(r.stdout)["score"] == 0

    v6("stop")
    assert lab_id not in v6("status").stdout
    assert host_links() == links and v6lab_processes() <= procs  # nothing new left; others may have ended


def test_training_verbs_fail_clearly(v6, tmp_path):
    r = v6("start", "no-such-lab", check=False)
    assert r.returncode == 1 and "no lab called 'no-such-lab' (labs: link-local, static-gua, slaac" in r.stderr
    r = v6("check", "--lab", f"none-{os.getpid()}", check=False)
    assert r.returncode == 1 and r.stderr.startswith("v6lab: no ")
    plain = f"plain-{os.getpid()}"
    v6("up", str(ROOT / "examples" / "small.yaml"), "--name", plain)
    try:
        r = v6("check", "--lab", plain, check=False)
        assert r.returncode == 1 and "started from a topology, not from the curriculum" in r.stderr
        r = v6("capture", "--lab", plain, "h1", "eth7", check=False)
        assert r.returncode == 1 and "h1 has no interface 'eth7'" in r.stderr
    finally:
        v6("down", "--lab", plain)
    v6("start", "slaac", "--name", f"slaac-{os.getpid()}")
    r = v6("solve", "nope", check=False)
    assert r.returncode == 1 and "lab slaac has no step 'nope' (steps: forwarding, radvd, slaac, reach-srv)" in r.stderr
    r = v6("hint", "nope", check=False)
    assert r.returncode == 1 and "has no step 'nope'" in r.stderr
