"""The lab toolkit, proved on a test lab (tests/toolkit/labs): lab folders
added beside the curriculum, a broken lab reported without breaking the
others, lab variables in the topology, checks, README and file templates,
a provider node configured from a per-node file and refused to trainees."""

from __future__ import annotations

import json
import os
import subprocess

from conftest import ROOT

PY = "/usr/bin/python3"
EXTRA = ROOT / "tests" / "toolkit" / "labs"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"), "V6LAB_LABS": str(EXTRA)}


def v6(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "v6lab", *args], capture_output=True, text=True, env=ENV,
                          timeout=120, cwd="/")


def test_extra_labs_come_beside_the_curriculum_and_a_broken_one_breaks_none(v6lab_available):
    r = v6("labs", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    ids = [x["id"] for x in rows if "id" in x]
    assert ids[:3] == ["link-local", "static-gua", "slaac"] and "toolkit-demo" in ids
    broken = [x["broken"] for x in rows if "broken" in x]
    assert len(broken) == 1 and "broken-lab/lab.py:18" in broken[0] and "no_such_check" in broken[0]
    demo = next(x for x in rows if x.get("id") == "toolkit-demo")
    assert demo["title"] == "Connect to DemoNet"                  # a variable in the title
    r = v6("labs")
    assert r.returncode == 0 and "broken lab (not loaded)" in r.stderr
    r = v6("start", "broken-lab")
    assert r.returncode == 3 and "broken-lab/lab.py:18" in r.stderr and "Traceback" not in r.stderr


def test_variables_files_and_provider_node(v6lab_available):
    name = f"tk{os.getpid()}"
    r = v6("start", "toolkit-demo", "--name", name)
    assert r.returncode == 0, r.stderr
    guide = next(line for line in r.stdout.splitlines() if "The whole guide" in line).split()[-1]
    try:
        # The README the trainee reads has this run's values.
        assert "advertises `2001:db8:77::/64`" in open(guide).read()
        # The per-node file was placed with the variables filled in, and
        # only ${name} forms were touched.
        r = v6("exec", "--lab", name, "--instructor", "isp", "--", "cat", "/etc/radvd.conf")
        assert "prefix 2001:db8:77::/64" in r.stdout and "# DemoNet:" in r.stdout
        assert "$HOSTNAME" in r.stdout
        # The provider node is the lab's: not for the trainee.
        r = v6("shell", "--lab", name, "isp")
        assert r.returncode == 2 and "provided by the lab" in r.stderr
        r = v6("check", "--lab", name, "--format", "json")
        report = json.loads(r.stdout)
        assert report["score"] == 0 and report["steps"][1]["title"] == "Take an address from 2001:db8:77::/64"
        assert v6("solve", "--lab", name).returncode == 0
        r = v6("check", "--lab", name, "--format", "json")
        assert json.loads(r.stdout)["score"] == 100, r.stdout
    finally:
        v6("stop", "--lab", name)
