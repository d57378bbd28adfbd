"""What the classroom tests share (test_classroom.py,
test_classroom_service.py): throwaway Linux users (trainees a and b, and
instructor i, a member of the instructor group), a classroom service
started as root on a socket and state directory of its own, and the
v6lab command run as those users. Everything made here (users, group,
homes, their processes, labs, the service) is removed even when a test
fails."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from conftest import ROOT

PY = "/usr/bin/python3"
LAB = "slaac"


def _can_run() -> str:
    if os.geteuid() != 0:
        return "the classroom service and its test users need root"
    for tool in ("useradd", "userdel", "groupadd", "groupdel", "setpriv", "nsenter"):
        if not shutil.which(tool):
            return f"{tool} is missing (Debian packages passwd, util-linux)"
    return ""


def _kill_processes_of(uid: int) -> None:
    """Every process of a uid this test made (by PID: the uid is ours)."""
    for _ in range(20):
        pids = []
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    if p.stat().st_uid == uid:
                        pids.append(int(p.name))
                except OSError:
                    pass
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def _admin(argv: list[str], check: bool = True) -> None:
    """useradd and friends, again while another process holds the lock on
    /etc/passwd (other tests on the machine make users too)."""
    for _ in range(50):
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode == 0 or "lock" not in r.stderr:
            break
        time.sleep(0.2)
    if check:
        assert r.returncode == 0, (argv, r.stderr)


class Users:
    """Throwaway users: trainees a, b and instructor i (in the group)."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        self.group = f"v6cg{tag}"
        self.names = {k: f"v6c{k}{tag}" for k in ("a", "b", "i")}
        self.made: list[str] = []

    def create(self) -> None:
        _admin(["groupadd", self.group])
        for key, name in self.names.items():
            extra = ["-G", self.group] if key == "i" else []
            _admin(["useradd", "-M", "-s", "/usr/sbin/nologin", *extra, name])
            self.made.append(name)
            pw = pwd.getpwnam(name)
            home = self.home(key)
            home.mkdir(mode=0o700, exist_ok=True)
            os.chown(home, pw.pw_uid, pw.pw_gid)

    def uid(self, key: str) -> int:
        return pwd.getpwnam(self.names[key]).pw_uid

    def home(self, key: str) -> Path:
        return Path(f"/tmp/v6lab-home-{self.uid(key)}")

    def remove(self) -> None:
        for name in self.made:
            try:
                uid = pwd.getpwnam(name).pw_uid
            except KeyError:
                continue
            _kill_processes_of(uid)
            shutil.rmtree(f"/tmp/v6lab-home-{uid}", ignore_errors=True)
            shutil.rmtree(f"/tmp/v6lab-{uid}", ignore_errors=True)
            _admin(["userdel", name], check=False)
        _admin(["groupdel", self.group], check=False)


@pytest.fixture(scope="module", name="users")
def users_fixture() -> Iterator[Users]:
    why = _can_run()
    if why:
        pytest.skip(why)
    u = Users()
    try:
        u.create()
        yield u
    finally:
        u.remove()


class Class:
    def __init__(self, base: Path, users: Users) -> None:
        self.base = base
        self.socket = base / "sock" / "class.sock"
        self.state = base / "state"
        self.users = users
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings")}
        env.pop("V6LAB_STATE_DIR", None)
        self.proc = subprocess.Popen(
            [PY, "-m", "v6lab.classroom", "--socket", str(self.socket), "--state-dir",
             str(self.state), "--instructor-group", self.users.group],
            env=env, cwd="/", stdout=subprocess.DEVNULL, stderr=open(self.base / "log", "wb"))
        deadline = time.monotonic() + 20
        while not self.socket.exists():
            assert self.proc.poll() is None, (self.base / "log").read_text()
            assert time.monotonic() < deadline, "the service did not come up"
            time.sleep(0.05)

    def run(self, who: str, *args: str, check: bool = True, timeout: float = 120,
            stdin: str | None = None) -> subprocess.CompletedProcess:
        """v6lab ARGS as user who ('a', 'b', 'i'; 'root' for root)."""
        return self.as_user(who, [PY, "-m", "v6lab", *args], check=check, timeout=timeout,
                            stdin=stdin)

    def as_user(self, who: str, argv: list[str], check: bool = False, timeout: float = 120,
                stdin: str | bytes | None = None,
                env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items()
               if k not in ("V6LAB_STATE_DIR", "XDG_RUNTIME_DIR", "SUDO_UID", "SUDO_USER",
                            "V6LAB_PROGRESS", "V6LAB_CLASS")}
        env.update(PYTHONPATH=str(ROOT / "bindings"), PYTHONDONTWRITEBYTECODE="1",
                   V6LAB_CLASS_SOCKET=str(self.socket), COLUMNS="200")
        env.update(env_extra or {})
        if who == "root":
            cmd = argv
        else:
            pw = pwd.getpwnam(self.users.names[who])
            env["HOME"] = str(self.users.home(who))
            groups = ["--init-groups"] if who == "i" else ["--clear-groups"]
            cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", *groups, *argv]
        r = subprocess.run(cmd, capture_output=True, env=env, cwd="/tmp", timeout=timeout,
                           input=stdin.encode() if isinstance(stdin, str) else stdin)
        r.stdout = r.stdout.decode(errors="replace")
        r.stderr = r.stderr.decode(errors="replace")
        assert "Traceback" not in r.stderr, r.stderr
        if check:
            assert r.returncode == 0, (argv, r.stdout, r.stderr)
        return r

    def records(self, who: str) -> list[dict]:
        """The service's records of a trainee's running labs (read as root)."""
        labs = self.state / "users" / str(self.users.uid(who)) / "run" / "labs"
        return [json.loads((d / "lab.json").read_text()) for d in sorted(labs.iterdir())
                if (d / "lab.json").exists()] if labs.is_dir() else []

    def lab_record(self, who: str, lab: str = LAB) -> dict:
        found = [r for r in self.records(who) if r["meta"].get("course") == lab]
        assert len(found) == 1, self.records(who)
        return found[0]

    def view(self) -> list[dict]:
        """The instructor's export, without the fields that move with time."""
        r = self.run("root", "class", "export", "json")
        rows = json.loads(r.stdout)["rows"]
        for row in rows:
            row.pop("since_progress")
            row.pop("stuck")
        return rows

    def stop(self) -> None:
        """Every trainee's labs (their supervisors), then the service."""
        users = self.state / "users"
        for run in users.glob("*/run") if users.is_dir() else []:
            env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"), "V6LAB_STATE_DIR": str(run),
                   "V6LAB_CLASS": "off"}
            subprocess.run([PY, "-m", "v6lab", "down", "--all", "--force"], env=env,
                           capture_output=True, timeout=120, cwd="/")
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module", name="cls")
def class_fixture(users: Users, v6lab_available: None) -> Iterator[Class]:
    """A service, with trainees a and b each running the lab LAB."""
    base = Path(tempfile.mkdtemp(prefix="v6lab-class-", dir="/tmp"))
    os.chmod(base, 0o755)  # trainees reach the socket's directory through it
    c = Class(base, users)
    try:
        c.start()
        c.run("a", "start", LAB)
        c.run("b", "start", LAB)
        yield c
    finally:
        c.stop()
        shutil.rmtree(base, ignore_errors=True)


def macs(c: Class, who: str, node: str) -> set[str]:
    r = c.run(who, "exec", node, "--", "ip", "-o", "link", "show")
    return {w for line in r.stdout.splitlines() for w in line.split()
            if w.count(":") == 5 and w != "00:00:00:00:00:00" and w != "ff:ff:ff:ff:ff:ff"}


def netns(pid: int, kind: str) -> int:
    return os.stat(f"/proc/{pid}/ns/{kind}").st_ino



def row_of(rows: list[dict], trainee: str, lab: str = LAB) -> dict:
    found = [r for r in rows if r["trainee"] == trainee and r["lab"] == lab]
    assert len(found) == 1, rows
    return found[0]


def send_raw(cls: Class, who: str, line: bytes) -> dict:
    """Sends one raw line as user who; the service's answer."""
    script = ("import socket, sys; s = socket.socket(socket.AF_UNIX); "
              f"s.connect({str(cls.socket)!r}); s.sendall(sys.stdin.buffer.read()); "
              "s.shutdown(socket.SHUT_WR); print(s.makefile('rb').readline().decode())")
    r = cls.as_user(who, [PY, "-c", script], stdin=line)
    return json.loads(r.stdout)

