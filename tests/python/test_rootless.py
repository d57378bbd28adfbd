"""v6lab without root: the same code path in a user namespace the user owns
(bindings/v6lab/userns.py). As an unprivileged user made for the test (with
a subordinate id range, as `usermod --add-subuids` gives one), the escape
suite and the curriculum's three-way lab tests must pass; as `nobody`
(no subordinate ids: only root is mapped) the command-line workflow works
and says what is limited. The user and its records are removed afterwards.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from conftest import ROOT

PY = "/usr/bin/python3"


def _can_run() -> str:
    if os.geteuid() != 0:
        return "creating the test user needs root"
    for tool in ("useradd", "usermod", "userdel", "setpriv", "newuidmap"):
        if not shutil.which(tool):
            return f"{tool} is missing (Debian packages passwd, util-linux, uidmap)"
    return ""


@pytest.fixture(scope="module")
def trainee() -> Iterator[str]:
    why = _can_run()
    if why:
        pytest.skip(why)
    name = f"v6t{uuid.uuid4().hex[:8]}"
    saved = {f: Path(f).read_bytes() if Path(f).exists() else None
             for f in ("/etc/subuid", "/etc/subgid")}
    subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", name], check=True)
    try:
        uid = pwd.getpwnam(name).pw_uid
        # A range of its own, far from anything else on the machine.
        start = 700_000_000 + (uid % 1000) * 65536
        subprocess.run(["usermod", "--add-subuids", f"{start}-{start + 65535}",
                        "--add-subgids", f"{start}-{start + 65535}", name], check=True)
        yield name
    finally:
        uid = pwd.getpwnam(name).pw_uid
        subprocess.run(["userdel", name], check=False)
        for f, data in saved.items():
            if data is None:
                Path(f).unlink(missing_ok=True)
            else:
                Path(f).write_bytes(data)
        for d in (f"/tmp/v6lab-{uid}", f"/tmp/pytest-of-{name}", f"/tmp/v6lab-home-{uid}"):
            shutil.rmtree(d, ignore_errors=True)


def as_user(user: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("V6LAB_STATE_DIR", "XDG_RUNTIME_DIR", "SUDO_UID", "SUDO_USER")}
    pw = pwd.getpwnam(user)
    # A home of its own: progress is kept there (and /tmp is shared).
    home = Path(f"/tmp/v6lab-home-{pw.pw_uid}")
    home.mkdir(mode=0o700, exist_ok=True)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    env.update(HOME=str(home), PYTHONPATH=str(ROOT / "bindings"), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups",
                           *args], capture_output=True, text=True, env=env, cwd="/tmp",
                          timeout=timeout)


def test_escape_suite_and_labs_pass_rootless(trainee: str, monkeypatch) -> None:
    # The labs in English only: the Vietnamese runs test the catalogues, which
    # a user namespace does not change (tests/labs runs both as root).
    monkeypatch.setenv("V6LAB_TEST_LANGS", "en")
    r = as_user(trainee, [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--rootdir", str(ROOT), "-c", "/dev/null",
                          # Inside its user namespace the user is uid 0: pytest's
                          # default /tmp/pytest-of-root is root's, not its own.
                          f"--basetemp=/tmp/pytest-of-{trainee}",
                          str(ROOT / "tests/python/test_escape.py"), str(ROOT / "tests/labs")],
                timeout=900)
    tail = "\n".join((r.stdout + r.stderr).splitlines()[-30:])
    assert r.returncode == 0, tail
    assert " passed" in r.stdout and " failed" not in r.stdout, tail


def test_cli_workflow_as_nobody() -> None:
    """No subordinate ids: only root is mapped, and the lab still works."""
    why = _can_run()
    if why:
        pytest.skip(why)
    v6 = [PY, "-m", "v6lab"]
    topo = str(ROOT / "examples/small.yaml")
    try:
        r = as_user("nobody", [*v6, "up", topo, "--name", "rl"], timeout=60)
        assert r.returncode == 0, r.stderr
        r = as_user("nobody", [*v6, "exec", "--lab", "rl", "h3", "--", "sh", "-c",
                               "id -u; cat /proc/self/uid_map"], timeout=30)
        assert r.returncode == 0 and r.stdout.split()[:2] == ["0", "0"], r.stdout + r.stderr
        # DAD takes about a second after start.
        r = as_user("nobody", [*v6, "exec", "--lab", "rl", "h3", "--", "sh", "-c",
                               "for i in 1 2 3 4 5 6; do ping -6 -c1 -W1 2001:db8:2::1 && exit 0; "
                               "sleep 0.5; done; exit 1"], timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        # Root's labs are not the user's, and the other way round.
        assert "rl" not in subprocess.run([PY, "-m", "v6lab", "ls"], capture_output=True,
                                          text=True, cwd="/",
                                          env={**os.environ, "PYTHONPATH": str(ROOT / "bindings")}
                                          ).stdout.split()
    finally:
        r = as_user("nobody", [*v6, "down", "--all"], timeout=60)
    assert r.returncode == 0, r.stderr
    nobody = pwd.getpwnam("nobody").pw_uid
    for d in (f"/tmp/v6lab-{nobody}", f"/tmp/v6lab-home-{nobody}"):
        shutil.rmtree(d, ignore_errors=True)


def test_doctor_names_each_prerequisite_and_its_fix() -> None:
    why = _can_run()
    if why:
        pytest.skip(why)
    import json
    root = subprocess.run([PY, "-m", "v6lab", "doctor", "--format", "json"], capture_output=True,
                          text=True, cwd="/", env={**os.environ, "PYTHONPATH": str(ROOT / "bindings")})
    assert root.returncode == 0, root.stderr
    found = {f["name"]: f for f in json.loads(root.stdout)}
    assert found["user namespaces"]["status"] == "ok"
    assert found["mode"]["found"].startswith("root")
    assert all(f["fix"] for f in found.values() if f["status"] != "ok")
    try:
        r = as_user("nobody", [PY, "-m", "v6lab", "doctor", "--format", "json"], timeout=60)
    finally:
        nobody = pwd.getpwnam("nobody").pw_uid
        for d in (f"/tmp/v6lab-home-{nobody}", f"/tmp/v6lab-{nobody}"):
            shutil.rmtree(d, ignore_errors=True)
    assert r.returncode == 0, r.stderr
    found = {f["name"]: f for f in json.loads(r.stdout)}
    assert "rootless" in found["mode"]["found"] and "self-assessment" in found["mode"]["found"]
    # nobody has no subordinate ids: limited, with the usermod line that fixes it.
    assert found["subordinate ids"]["status"] == "limited"
    assert "usermod --add-subuids" in found["subordinate ids"]["fix"]


def test_rootless_report_says_self_assessment(trainee: str) -> None:
    """A score of a lab the user owns is marked as self-assessment."""
    v6 = [PY, "-m", "v6lab"]
    try:
        r = as_user(trainee, [*v6, "start", "link-local", "--name", "rl-report"], timeout=120)
        assert r.returncode == 0, r.stderr
        r = as_user(trainee, [*v6, "check", "--lab", "rl-report", "--format", "json"], timeout=60)
        import json
        report = json.loads(r.stdout)
        assert report["self_graded"] is True and report["score"] == 0
        r = as_user(trainee, [*v6, "check", "--lab", "rl-report"], timeout=60)
        assert "self-assessment" in r.stdout
    finally:
        as_user(trainee, [*v6, "down", "--all"], timeout=60)
