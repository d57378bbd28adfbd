"""The v6lab command's errors: one sentence, a documented exit code, never a
traceback; bad input names the file and the field and builds nothing."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import ROOT, host_links, v6lab_processes

PY = "/usr/bin/python3"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"),
       "V6LAB_STATE_DIR": os.environ.get("V6LAB_STATE_DIR", "/run/v6lab")}


def v6lab(*args: str, user: str = "") -> subprocess.CompletedProcess:
    cmd = [PY, "-m", "v6lab", *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=60, cwd="/")


def no_traceback(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("text,field", [
    ("nodes: {h1: {image: hostt}}", "nodes.h1.image: unknown image 'hostt'"),
    ("nodes: {h1: {colour: red}}", "nodes.h1.colour: unknown key"),
    ("nodes: {a: {}}\nlinks: [{endpoints: [a, ghost]}]",
     "links[0].endpoints[1]: 'ghost' is neither a node nor a LAN"),
    ("nodes: {a: {}, b: {}}\nlinks: [{endpoints: ['a:averyveryverylongname', b]}]",
     "must be 1 to 15 bytes long"),
    ("nodes: {a: {interfaces: {eth0: {addresses: ['2001:db8::1/129']}}}, b: {}}\n"
     "links: [{endpoints: [a, b]}]", "nodes.a.interfaces.eth0.addresses[0]: prefix length 129"),
    ("nodes: {a: {sysctls: {kernel.panic: 1}}}", "nodes.a.sysctls.kernel.panic"),
    ("nodes: [oops", "line 1: invalid YAML"),
])
def test_bad_topology_names_file_and_field(tmp_path, text, field):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    links, procs = host_links(), v6lab_processes()
    for verb in ("validate", "up", "demo"):
        r = v6lab(verb, str(f))
        no_traceback(r)
        assert r.returncode == 3, (verb, r.stderr)
        assert str(f) in r.stderr and field in r.stderr, r.stderr
    assert host_links() == links and v6lab_processes() <= procs  # nothing new left; others may have ended


def test_several_problems_are_listed_together(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"nodes": {"1bad": {}, "h": {"image": "nope", "x": 1}}}))
    r = v6lab("validate", str(f))
    assert r.returncode == 3
    assert "3 problems" in r.stderr
    for part in ("nodes.1bad", "nodes.h.image", "nodes.h.x"):
        assert part in r.stderr


def test_duplicate_keys_in_files_are_errors(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("nodes:\n  h1: {}\n  h1: {image: router}\n")
    r = v6lab("validate", str(f))
    assert r.returncode == 3 and "duplicate key 'h1'" in r.stderr, r.stderr


def test_missing_file_and_unknown_verb():
    r = v6lab("validate", "/nonexistent/topo.yaml")
    assert r.returncode == 3 and "/nonexistent/topo.yaml: cannot be read" in r.stderr
    r = v6lab("frobnicate")
    assert r.returncode == 2 and "No such command" in r.stderr
    no_traceback(r)


def test_no_lab_running_and_unknown_node(v6lab_available):
    r = v6lab("exec", "--lab", "no-such-lab-v6", "h1", "--", "true")
    assert r.returncode == 1 and "v6lab: no " in r.stderr
    no_traceback(r)


def test_not_root_runs_rootless_or_says_why_in_one_sentence(v6lab_available):
    # Without root the demo runs in a user namespace the user owns (see
    # test_rootless.py); pointed at root's record directory it says why not.
    r = v6lab("demo", user="65534")
    no_traceback(r)
    assert r.returncode == 1
    assert r.stderr.strip() == ("v6lab: V6LAB_STATE_DIR=/run/v6lab: /run/v6lab is not writable, "
                                "so lab records cannot be kept there")
    env = {k: v for k, v in ENV.items() if k != "V6LAB_STATE_DIR"}
    try:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            PY, "-m", "v6lab", "demo"], capture_output=True, text=True,
                           env={**env, "HOME": "/nonexistent"}, timeout=60, cwd="/")
    finally:
        import shutil
        shutil.rmtree("/tmp/v6lab-65534", ignore_errors=True)  # its records directory
    no_traceback(r)
    assert r.returncode == 0, r.stderr


def test_missing_program_names_debian_package(tmp_path, v6lab_available):
    imgs = tmp_path / "images"
    imgs.mkdir()
    (imgs / "host.json").write_text(json.dumps(
        {"name": "host", "binaries": [{"name": "v6lab-absent-tool", "package": "v6lab-absent"}]}))
    topo = tmp_path / "t.yaml"
    topo.write_text("nodes: {a: {}}\n")
    env = {**ENV, "V6LAB_IMAGES": str(imgs)}
    r = subprocess.run([PY, "-m", "v6lab", "demo", str(topo)], capture_output=True,
                       text=True, env=env, timeout=60)
    no_traceback(r)
    assert r.returncode == 5
    assert "apt-get install v6lab-absent" in r.stderr


def test_bad_image_file_names_file_and_field(tmp_path):
    imgs = tmp_path / "images"
    imgs.mkdir()
    (imgs / "a.json").write_text(json.dumps({"name": "a", "extends": "b"}))
    (imgs / "b.json").write_text(json.dumps({"name": "b", "extends": "a"}))
    (imgs / "host.json").write_text(json.dumps({"name": "host"}))
    r = subprocess.run([PY, "-m", "v6lab", "images"], capture_output=True, text=True,
                       env={**ENV, "V6LAB_IMAGES": str(imgs)}, timeout=60)
    no_traceback(r)
    assert r.returncode == 3
    assert "a.json: extends: extends cycle" in r.stderr


def test_demo_runs_the_default_lab(v6lab_available):
    links, procs = host_links(), v6lab_processes()
    r = v6lab("demo")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "h1 -> h3 (2001:db8:2::30): ok" in r.stdout
    assert host_links() == links and v6lab_processes() <= procs  # nothing new left; others may have ended


def test_provider_nodes_are_refused_to_trainees(v6lab_available, tmp_path):
    """A node the lab provides (the ISP) is not entered by shell or exec,
    one sentence and exit 2; an instructor may, with --instructor."""
    topo = tmp_path / "prov.yaml"
    topo.write_text("nodes:\n  isp: {image: router, provider: true}\n"
                    "  cpe: {image: [router, dhcp6-server]}\nlinks:\n  - endpoints: [isp, cpe]\n")
    name = f"prov{os.getpid()}"
    r = v6lab("up", str(topo), "--name", name)
    assert r.returncode == 0, r.stderr
    try:
        assert "v6lab shell cpe" in r.stdout  # not the provider node
        r = v6lab("exec", "--lab", name, "isp", "--", "true")
        no_traceback(r)
        assert r.returncode == 2 and "isp is provided by the lab" in r.stderr, r.stderr
        r = v6lab("shell", "--lab", name, "isp")
        assert r.returncode == 2 and "--instructor" in r.stderr
        r = v6lab("exec", "--lab", name, "--instructor", "isp", "--", "hostname")
        assert r.returncode == 0 and r.stdout.strip() == "isp"
        assert v6lab("exec", "--lab", name, "cpe", "--", "true").returncode == 0
        data = json.loads(v6lab("inspect", "--lab", name, "--format", "json").stdout)
        assert data["nodes"]["isp"]["provider"] and data["nodes"]["cpe"]["roles"] == ["router", "server"]
    finally:
        v6lab("down", "--lab", name)
