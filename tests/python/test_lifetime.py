"""Lifetimes: a lab whose owner is killed with SIGKILL at any moment leaves
nothing; detached labs outlive the command that started them; two labs of
the same topology and name run side by side."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, Small, host_links
from v6lab import Error, Lab, registry, wait_until

PY = "/usr/bin/python3"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "bindings")}


def processes_with_token(token: str) -> list[int]:
    """Processes whose environment carries token: the owner's inits inherit
    the owner's environment, so this finds a lab's leftovers even after its
    owner is gone."""
    found = []
    needle = f"V6LAB_TEST_TOKEN={token}".encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            found.append(int(pid))
    return found


OWNER = r"""
import sys, time
from v6lab import Lab, Topo
n = int(sys.argv[1])
t = Topo("chain")
t.add_lan("lan")
for i in range(n):
    t.add_host(f"n{i}")
    t.add_link(f"n{i}", "lan", addrs_a=[f"2001:db8:7::{i + 1}/64"])
    if i:
        t.add_link(f"n{i-1}", f"n{i}")
lab = Lab(t).start()
print("up", flush=True)
time.sleep(600)
"""


def run_owner(token: str, nodes: int) -> subprocess.Popen:
    return subprocess.Popen([PY, "-c", OWNER, str(nodes)], stdout=subprocess.PIPE,
                            env={**ENV, "V6LAB_TEST_TOKEN": token}, text=True)


@pytest.mark.parametrize("delay", [None, 0.0, 0.05, 0.15, 0.3])
def test_sigkill_of_owner_leaves_nothing(v6lab_available, delay):
    """delay None: kill after bring-up; otherwise kill that many seconds into
    it (a 60-node lab takes a few hundred ms to build here)."""
    token = secrets.token_hex(8)
    links = host_links()
    owner = run_owner(token, 60)
    try:
        if delay is None:
            assert owner.stdout.readline().strip() == "up"
            assert len(processes_with_token(token)) == 63  # owner, zygote, 60 nodes, switch
        else:
            time.sleep(delay)
    finally:
        owner.send_signal(signal.SIGKILL)  # also when an assertion failed
        owner.wait()
        owner.stdout.close()
    wait_until(lambda: not processes_with_token(token), timeout=5,
               what="the killed lab's processes to go")
    assert host_links() == links
    # The dead lab's record (if it got that far) is not listed as running
    # and `clean` removes it without touching anything else.
    assert all(r.owner_pid != owner.pid for r in registry.running())
    registry.clean(grace=0)
    assert not [e.path for e in registry.all_records()
                if e.record and e.record.owner_pid == owner.pid]


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([PY, "-m", "v6lab", *args], capture_output=True, text=True,
                       env=ENV, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_detached_lab_outlives_its_command_and_stops_cleanly(v6lab_available, tmp_path):
    topo = ROOT / "examples" / "small.yaml"
    r = cli("up", str(topo), "--name", "det")
    assert "lab det is up" in r.stdout
    rec = registry.find("det")
    try:
        assert rec.detached and registry.process_alive(rec.owner_pid, rec.owner_starttime)
        # Another process reaches it through its record.
        out = cli("exec", "--lab", "det", "h1", "--", "hostname").stdout
        assert out.strip() == "h1"
        lab = Lab.attach("det")
        lab["h1"].wait_addresses_ready()
        assert lab["h1"].cmd("ping -6 -c1 -W2 2001:db8:2::30").ok
        data = json.loads(cli("inspect", "--lab", "det", "--format", "json").stdout)
        assert "2001:db8:1::10/64" in [a["address"] for a in data["nodes"]["h1"]["interfaces"]["eth0"]["addresses"]]
        listed = json.loads(cli("ls", "--format", "json").stdout)
        assert rec.id in [x["id"] for x in listed]
        # exit codes pass through exec
        assert cli("exec", "--lab", "det", "h2", "--", "sh", "-c", "exit 7", check=False).returncode == 7
    finally:
        cli("down", "--lab", rec.id)
    assert not registry.process_alive(rec.owner_pid, rec.owner_starttime)
    assert not rec.dir.exists()
    for n in rec.nodes.values():
        assert not registry.process_alive(n["pid"], n["starttime"])


def test_killed_supervisor_takes_its_lab_along(v6lab_available):
    cli("up", str(ROOT / "examples" / "small.yaml"), "--name", "victim")
    rec = registry.find("victim")
    os.kill(rec.owner_pid, signal.SIGKILL)
    wait_until(lambda: not any(registry.process_alive(n["pid"], n["starttime"])
                               for n in rec.nodes.values()), 5, what="the nodes to go")
    r = cli("ls", "--format", "json")
    assert rec.id not in r.stdout
    cli("clean")
    assert not rec.dir.exists()


def test_two_labs_of_the_same_topology_side_by_side(lab_factory):
    a = lab_factory(Small())
    b = lab_factory(Small())
    assert a.name == b.name and a.id != b.id
    for lab in (a, b):
        lab["h3"].wait_addresses_ready()
        lab["r1"].wait_addresses_ready()
        assert lab["r1"].cmd("ping -6 -c1 -W2 2001:db8:2::30").ok
    # The same addresses exist in both, yet each lab only sees its own nodes.
    assert a["h3"].link("eth0").mac != b["h3"].link("eth0").mac
    # By name they are ambiguous; by id each is found.
    with pytest.raises(Error, match="several labs are called 'small'"):
        registry.find("small")
    assert registry.find(a.id).owner_pid == os.getpid()
    a.stop()
    assert b["r1"].cmd("ping -6 -c1 -W2 2001:db8:2::30").ok
    assert registry.find("small").id == b.id
