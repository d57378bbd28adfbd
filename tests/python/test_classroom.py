"""The classroom service (bindings/v6lab/classroom), for real: the test
starts the service as root on a socket and state directory of its own,
makes throwaway Linux users (trainees A and B, and an instructor I who is
a member of the instructor group), and runs the v6lab command as them.

Each attack is the one the trust model names (docs/architecture.md, "The
classroom service"): a trainee enters namespaces from outside, writes fake
progress or reports, grades with a grader of their own, sends forged or
broken requests; none changes what the instructor sees. Everything made
here (users, group, homes, their processes, labs, the service) is removed
even when a test fails."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
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


@pytest.fixture(scope="module")
def users() -> Iterator[Users]:
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


@pytest.fixture(scope="module")
def cls(users: Users, v6lab_available: None) -> Iterator[Class]:
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


def _macs(c: Class, who: str, node: str) -> set[str]:
    r = c.run(who, "exec", node, "--", "ip", "-o", "link", "show")
    return {w for line in r.stdout.splitlines() for w in line.split()
            if w.count(":") == 5 and w != "00:00:00:00:00:00" and w != "ff:ff:ff:ff:ff:ff"}


def _ns(pid: int, kind: str) -> int:
    return os.stat(f"/proc/{pid}/ns/{kind}").st_ino


# -- separation ---------------------------------------------------------------

def test_two_trainees_start_the_same_lab_and_see_only_their_own(cls: Class) -> None:
    a, b = cls.lab_record("a"), cls.lab_record("b")
    assert a["id"] != b["id"]
    for who, mine, theirs in (("a", a, b), ("b", b, a)):
        listed = json.loads(cls.run(who, "ls", "--format", "json").stdout)
        assert [x["id"] for x in listed] == [mine["id"]], listed
        assert theirs["id"] not in cls.run(who, "ls").stdout
    # Root's own labs (the self-started ones) do not list the trainees'.
    own = subprocess.run([PY, "-m", "v6lab", "ls", "--format", "json"], capture_output=True,
                         text=True, cwd="/", env={**os.environ, "V6LAB_CLASS": "off",
                                                   "PYTHONPATH": str(ROOT / "bindings")})
    assert a["id"] not in own.stdout and b["id"] not in own.stdout


def test_no_node_of_one_trainee_reaches_the_others(cls: Class) -> None:
    a, b = cls.lab_record("a"), cls.lab_record("b")
    a_net = {_ns(n["pid"], "net") for n in a["nodes"].values()}
    b_net = {_ns(n["pid"], "net") for n in b["nodes"].values()}
    assert not a_net & b_net
    theirs = set().union(*(_macs(cls, "b", n) for n in b["nodes"]))
    neighbour = _macs(cls, "a", "r1")  # r1 is on lan1 with h1: a positive control
    ping = "ping -6 -c 2 -i 0.3 -W 1 ff02::1%eth0 >/dev/null; ip -6 neigh show dev eth0"
    seen = cls.run("a", "exec", "h1", "--", "sh", "-c", ping).stdout
    assert neighbour & set(seen.split()), seen
    assert not theirs & set(seen.split()), seen


def test_a_trainee_enters_only_their_own_trainee_nodes(cls: Class) -> None:
    cls.run("a", "start", "address-plan")
    r = cls.run("a", "exec", "--lab", "address-plan", "isp", "--", "true", check=False)
    assert r.returncode == 2 and "provided by the lab" in r.stderr, r.stderr
    r = cls.run("a", "exec", "--lab", "address-plan", "switch", "--", "true", check=False)
    assert r.returncode != 0 and "has no node 'switch'" in r.stderr, r.stderr
    r = cls.run("a", "shell", "--instructor", "--lab", "address-plan", "isp", check=False)
    assert r.returncode == 2 and "own nodes" in r.stderr, r.stderr
    b = cls.lab_record("b")
    r = cls.run("a", "exec", "--lab", b["id"], "h1", "--", "true", check=False)
    assert r.returncode == 1 and "you have no lab" in r.stderr, r.stderr
    # A third lab is over the class's limit (2).
    r = cls.run("a", "start", "static-gua", check=False)
    assert r.returncode == 1 and "the most this class allows" in r.stderr, r.stderr
    cls.run("a", "stop", "--lab", "address-plan")
    assert [x["meta"]["course"] for x in cls.records("a")] == [LAB]


SETNS = """
import ctypes, os, sys
try:
    fd = os.open("/proc/{pid}/ns/net", os.O_RDONLY)
except PermissionError:
    print("open refused")
    sys.exit(1)
libc = ctypes.CDLL(None, use_errno=True)
if libc.setns(fd, 0) != 0:
    print("setns refused", os.strerror(ctypes.get_errno()))
    sys.exit(1)
print("entered")
"""


def test_a_trainee_cannot_enter_their_labs_namespaces_from_outside(cls: Class) -> None:
    """The service's labs are built by root: their user namespaces are
    root's, and setns into them needs CAP_SYS_ADMIN there."""
    a = cls.lab_record("a")
    pid = a["nodes"]["h1"]["pid"]
    for kinds in (["-n"], ["-U"], ["-U", "-n", "-m"]):
        r = cls.as_user("a", ["nsenter", "-t", str(pid), *kinds, "true"])
        assert r.returncode != 0, (kinds, r.stdout, r.stderr)
    r = cls.as_user("a", [PY, "-c", SETNS.format(pid=pid)])
    assert r.returncode == 1 and "refused" in r.stdout, r.stdout
    # Nor the switch, nor the service's records.
    sw = a["switch"]["pid"]
    assert cls.as_user("a", ["nsenter", "-t", str(sw), "-n", "true"]).returncode != 0
    mine = cls.state / "users" / str(cls.users.uid("a"))
    for path in (cls.state, mine, mine / "progress.json", mine / "events.jsonl"):
        assert cls.as_user("a", ["cat", str(path)]).returncode != 0, path


# -- the instructor's view cannot be forged ----------------------------------------

FAKE_PROGRESS = {"version": 1, "labs": {LAB: {
    "starts": 1, "attempts": [{"at": "2026-01-01T00:00:00+0000", "score": 100.0, "earned": 9,
                               "possible": 9, "steps": {}}],
    "hints": {}, "solves": [], "completed": "2026-01-01T00:00:00+0000"}}}

FORGED = [
    b'{"v": 1, "op": "check", "args": {"user": "root"}}\n',
    b'{"v": 1, "op": "class-solve", "args": {"trainee": "TRAINEE", "lab": "slaac"}}\n',
    b'{"v": 1, "op": "class-reset", "args": {"trainee": "TRAINEE", "lab": "slaac"}}\n',
    b'{"v": 1, "op": "ls", "args": {}, "uid": 0}\n',
    b'{"v": 1, "op": "record", "args": {"lab": "slaac", "score": 100}}\n',
    b'{"v": 1, "op": "check", "args": {"lab": "slaac", "score": 100}}\n',
]

OWN_GRADER = """
import json, sys
from v6lab.grading.report import Report, StepResult
steps = [StepResult(s, s, "pass", 1.0, 1.0, "", None, 0, 0.0) for s in
         ("forwarding", "radvd", "slaac", "reach-srv")]
r = Report("slaac", "slaac-fake", "2026-01-01T00:00:00", 0.1, steps)
open(sys.argv[1], "w").write(r.to_json())
"""


MODIFIED_WORKER = """
import json, os
from pathlib import Path
from v6lab.classroom import state, worker
forged = {"ev": "check", "lab": "slaac", "score": 100.0,
          "steps": ["forwarding", "radvd", "slaac", "reach-srv"],
          "passed": ["forwarding", "radvd", "slaac", "reach-srv"]}
for attempt in (lambda: state.append_event(Path(os.environ["V6LAB_CLASS_EVENTS"]), forged),
                lambda: worker.OPS["solve"]({}),
                lambda: Path(os.environ["V6LAB_PROGRESS"]).write_text("{}")):
    try:
        attempt()
        print("done")
    except Exception as e:
        print(type(e).__name__)
"""


def _row(rows: list[dict], trainee: str, lab: str = LAB) -> dict:
    found = [r for r in rows if r["trainee"] == trainee and r["lab"] == lab]
    assert len(found) == 1, rows
    return found[0]


def _raw(cls: Class, who: str, line: bytes) -> dict:
    """Sends one raw line as user who; the service's answer."""
    script = ("import socket, sys; s = socket.socket(socket.AF_UNIX); "
              f"s.connect({str(cls.socket)!r}); s.sendall(sys.stdin.buffer.read()); "
              "s.shutdown(socket.SHUT_WR); print(s.makefile('rb').readline().decode())")
    r = cls.as_user(who, [PY, "-c", script], stdin=line)
    return json.loads(r.stdout)


def test_fake_progress_reports_and_graders_change_nothing(cls: Class) -> None:
    before = cls.view()
    home = cls.users.home("a")
    state = home / ".local" / "state" / "v6lab"
    script = (f"import json, os; os.makedirs({str(state)!r}, exist_ok=True); "
              f"open({str(state / 'progress.json')!r}, 'w').write({json.dumps(FAKE_PROGRESS)!r}); "
              f"open({str(home / 'report.json')!r}, 'w').write('{{\"score\": 100}}')")
    assert cls.as_user("a", [PY, "-c", script]).returncode == 0
    r = cls.as_user("a", [PY, "-c", OWN_GRADER, str(home / "graded.json")],
                    env_extra={"PYTHONPATH": str(ROOT / "bindings")})
    assert r.returncode == 0 and json.loads((home / "graded.json").read_text())["passed"]
    # Its own grader on a lab of its own: self-graded, and nowhere in the class.
    own = cls.run("a", "check", check=False, stdin="")
    assert own.returncode == 1  # the class's check: slaac is not done
    # The service's own worker, run by the trainee against the service's records.
    mine = cls.state / "users" / str(cls.users.uid("a"))
    worker_env = {"V6LAB_STATE_DIR": str(mine / "run"), "V6LAB_PROGRESS": str(mine / "progress.json"),
                  "V6LAB_CLASS_EVENTS": str(mine / "events.jsonl"),
                  "V6LAB_CLASS_REPORTS": str(mine / "reports"), "V6LAB_CLASS_BY": "instructor",
                  "V6LAB_CLASS_REQUEST": json.dumps({"op": "solve", "args": {}})}
    r = cls.as_user("a", [PY, "-m", "v6lab.classroom.worker"], env_extra=worker_env)
    assert '"ok": false' in r.stdout, r.stdout
    # ... and modified to skip its own refusal: the files still say no.
    r = cls.as_user("a", [PY, "-c", MODIFIED_WORKER], env_extra=worker_env)
    assert r.returncode == 0 and r.stdout.split() == ["PermissionError"] * 3, r.stdout
    for line in FORGED:
        answer = _raw(cls, "a", line.replace(b"TRAINEE", cls.users.names["b"].encode()))
        assert answer["ok"] is False and answer["code"] in (2, 4), answer
    after = cls.view()
    # The one check above is the only change: an attempt, scored 0.
    mine = _row(after, cls.users.names["a"])
    old = _row(before, cls.users.names["a"])
    assert mine["attempts"] == old["attempts"] + 1 and mine["score"] == 0.0
    assert mine["completed"] is None and mine["steps_passed"] == 0
    unchanged = [r for r in after if r["trainee"] != cls.users.names["a"]]
    assert unchanged == [r for r in before if r["trainee"] != cls.users.names["a"]]


def test_real_work_shows_in_the_instructors_view(cls: Class) -> None:
    cls.run("a", "exec", "r1", "--", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
    r = cls.run("a", "check", "--format", "json", check=False)
    report = json.loads(r.stdout)
    assert r.returncode == 1 and report["self_graded"] is False
    assert [s["status"] for s in report["steps"]][0] == "pass"
    # The instructor is a member of the group, not root.
    r = cls.run("i", "class", "status", "--format", "json")
    row = _row(json.loads(r.stdout), cls.users.names["a"])
    assert row["steps_passed"] == 1 and row["step_reached"] == "radvd", row
    assert row["running"] and not row["stuck"] and row["since_progress"] < 60, row
    b = _row(json.loads(r.stdout), cls.users.names["b"])
    assert b["steps_passed"] == 0
    # The trainee's own view is the service's record too, not their home's file.
    labs = {x["id"]: x for x in json.loads(cls.run("a", "labs", "--format", "json").stdout)}
    assert labs[LAB]["status"] == "in progress" and labs[LAB]["best"] == report["score"]
    table = cls.run("i", "class", "status").stdout
    assert cls.users.names["a"] in table and "radvd" in table
    for fmt in ("csv", "junit", "xapi", "lti-ags"):
        out = cls.run("i", "class", "export", fmt).stdout
        assert cls.users.names["a"] in out, (fmt, out)


def test_the_instructor_resets_and_solves_one_trainee_only(cls: Class) -> None:
    cls.run("a", "exec", "r1", "--", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
    a_row = _row(cls.view(), cls.users.names["a"])
    a_before, b_before = cls.lab_record("a"), cls.lab_record("b")
    cls.run("root", "class", "reset", cls.users.names["b"], LAB)
    a_after, b_after = cls.lab_record("a"), cls.lab_record("b")
    assert b_after["id"] != b_before["id"] and a_after["id"] == a_before["id"]
    r = cls.run("a", "exec", "r1", "--", "sysctl", "-n", "net.ipv6.conf.all.forwarding")
    assert r.stdout.strip() == "1"  # A's work survived B's reset
    cls.run("i", "class", "solve", cls.users.names["b"], LAB, "--upto", "radvd")
    report = json.loads(cls.run("b", "check", "--format", "json", check=False).stdout)
    assert [s["status"] for s in report["steps"]][:2] == ["pass", "pass"], report
    r = cls.run("i", "class", "solve", cls.users.names["b"], "static-gua", check=False)
    assert r.returncode == 1 and f"{cls.users.names['b']} has no lab static-gua" in r.stderr
    r = cls.run("i", "class", "reset", "no-such-user-here", LAB, check=False)
    assert r.returncode == 1 and "no user no-such-user-here" in r.stderr, r.stderr
    rows = {x["trainee"]: x for x in json.loads(cls.run("i", "class", "status",
                                                        "--format", "json").stdout)
            if x["lab"] == LAB}
    assert rows[cls.users.names["b"]]["instructor_solves"] == 1
    assert rows[cls.users.names["a"]]["instructor_solves"] == 0
    assert _row(cls.view(), cls.users.names["a"]) == a_row


def test_a_trainee_is_refused_the_instructors_operations(cls: Class) -> None:
    b = cls.lab_record("b")
    for args in (["class", "status"], ["class", "export", "csv"],
                 ["class", "reset", cls.users.names["b"], LAB],
                 ["class", "solve", cls.users.names["b"], LAB]):
        r = cls.run("a", *args, check=False)
        assert r.returncode == 4 and "for instructors" in r.stderr, (args, r.stderr)
    assert cls.lab_record("b")["id"] == b["id"]
    # Root in a user namespace of their own is still the trainee to the
    # service: the kernel reports the connecting process's host uid.
    r = cls.as_user("a", ["unshare", "-Ur", PY, "-m", "v6lab", "class", "whoami"])
    assert f"you are {cls.users.names['a']} (uid {cls.users.uid('a')})" in r.stdout, \
        (r.stdout, r.stderr)
    r = cls.as_user("a", ["unshare", "-Ur", PY, "-m", "v6lab", "class", "status"])
    assert r.returncode == 4 and "for instructors" in r.stderr, r.stderr
    # In the trainee's language, as every refusal.
    r = cls.run("a", "--lang", "vi", "class", "status", check=False)
    assert r.returncode == 4 and "dành cho giảng viên" in r.stderr, r.stderr
    r = cls.run("a", "start", "../../etc", check=False)
    assert r.returncode == 2 and "would refuse this: field args.lab" in r.stderr, r.stderr


BROKEN = [
    b"garbage\n", b"[1, 2]\n", b'{"v": 2, "op": "ls"}\n', b'{"v": 1, "op": "rm -rf"}\n',
    b'{"v": 1, "op": "start", "args": {"lab": "../../etc"}}\n',
    b'{"v": 1, "op": "exec", "args": {"node": "h1", "argv": "id"}}\n',
    b'{"v": 1, "op": "start", "args": []}\n', b'{"v": true, "op": "ls"}\n',
    b"\xff\xfe\n", b"[" * 100000 + b"\n", b"x" * 70000 + b"\n",
]


def test_broken_requests_get_one_error_and_the_service_keeps_serving(cls: Class) -> None:
    for line in BROKEN:
        answer = _raw(cls, "a", line)
        assert answer["ok"] is False and answer["code"] == 2 and answer["error"], (line[:40],
                                                                                   answer)
        assert "Traceback" not in answer["error"]
    # A half request, then the client goes away; fds with an op that takes none.
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(cls.socket))
    s.sendall(b'{"v": 1, "op"')
    s.close()
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(cls.socket))
    socket.send_fds(s, [b'{"v": 1, "op": "ls"}\n'], [0, 1, 2])
    answer = json.loads(s.makefile("rb").readline())
    s.close()
    assert answer["ok"] is False and "no file descriptors" in answer["error"], answer
    assert cls.proc is not None and cls.proc.poll() is None
    r = cls.run("a", "class", "whoami")
    assert f"you are {cls.users.names['a']} (uid {cls.users.uid('a')})" in r.stdout


def test_a_shell_through_the_service_is_a_terminal_in_the_node(cls: Class) -> None:
    if not shutil.which("script"):
        pytest.skip("script (bsdutils) is missing")
    r = cls.as_user("a", ["script", "-qec", f"{PY} -m v6lab shell h1", "/dev/null"],
                    stdin="echo node-$(hostname)-$((6*7))\nexit\n", timeout=60)
    assert "node-h1-42" in r.stdout, (r.stdout, r.stderr)


PTY_DRIVER = """
import fcntl, os, pty, select, signal, struct, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "v6lab", "shell", "h1"])

def size(rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

def until(text, timeout=20.0):
    out, end = b"", time.monotonic() + timeout
    while text.encode() not in out and time.monotonic() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out.decode(errors="replace")

size(30, 100)
until("] ~# ")
os.write(fd, b"stty size\\n")
print(until("30 100"))
size(40, 120)
os.kill(pid, signal.SIGWINCH)  # the terminal was resized: the client passes it on
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    os.write(fd, b"stty size\\n")
    seen = until("40 120", 1.0)
    if "40 120" in seen:
        break
print(seen)
os.write(fd, b"exit 7\\n")
until("exit")
print("status", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def test_a_shell_through_the_service_follows_the_terminals_size(cls: Class) -> None:
    r = cls.as_user("a", [PY, "-c", PTY_DRIVER], timeout=90)
    assert "30 100" in r.stdout and "40 120" in r.stdout, (r.stdout, r.stderr)
    assert "status 7" in r.stdout, r.stdout  # the shell's exit code is the command's


def test_self_started_labs_say_so_and_the_class_is_never_a_silent_fallback(
        cls: Class) -> None:
    r = cls.run("a", "up", str(ROOT / "examples" / "small.yaml"), check=False)
    assert r.returncode == 2 and "this is a class" in r.stderr, r.stderr
    r = cls.as_user("a", [PY, "-m", "v6lab", "check"],
                    env_extra={"V6LAB_CLASS_SOCKET": str(cls.base / "nothing.sock")})
    assert r.returncode == 1 and "does not answer" in r.stderr, r.stderr
    r = cls.as_user("a", [PY, "-m", "v6lab", "class", "whoami"],
                    env_extra={"V6LAB_CLASS": "off"})
    assert "self-graded" in r.stdout, r.stdout


def test_a_capture_through_the_service_is_written_by_the_trainee(cls: Class) -> None:
    out = cls.users.home("a") / "h1.pcap"
    script = (f"{PY} -m v6lab exec h1 -- ping -6 -c 25 -i 0.2 ff02::1%eth0 >/dev/null & "
              f"{PY} -m v6lab capture h1 eth0 -c 3 -f icmp6 -w {out}; rc=$?; wait; exit $rc")
    r = cls.as_user("a", ["sh", "-c", script], timeout=60)
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4") and len(data) > 24 + 3 * 16
    assert out.stat().st_uid == cls.users.uid("a")  # written by the trainee, not by root


def test_one_trainees_long_request_does_not_hold_up_another(cls: Class) -> None:
    """Two commands of A run in the service (each a thread and a process of
    its own) while B checks and lists: B is answered before they end."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("V6LAB_STATE_DIR", "V6LAB_PROGRESS", "V6LAB_CLASS")}
    pw = pwd.getpwnam(cls.users.names["a"])
    env.update(PYTHONPATH=str(ROOT / "bindings"), V6LAB_CLASS_SOCKET=str(cls.socket),
               HOME=str(cls.users.home("a")))
    long = [subprocess.Popen(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                              "--clear-groups", PY, "-m", "v6lab", "exec", "h1", "--", "sh", "-c",
                              "while ! [ -e /tmp/go ]; do sleep 0.1; done"],
                             env=env, cwd="/tmp", stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        cls.run("b", "check", check=False)
        assert json.loads(cls.run("b", "ls", "--format", "json").stdout)
        assert all(p.poll() is None for p in long), "A's commands ended before B was answered"
    finally:
        cls.run("a", "exec", "h1", "--", "touch", "/tmp/go")
        for p in long:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        cls.run("a", "exec", "h1", "--", "rm", "-f", "/tmp/go")
    assert [p.returncode for p in long] == [0, 0]


HOLD_CONNECTIONS = """
import socket, sys, time
held = []
for _ in range(8):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    held.append(s)
deadline = time.monotonic() + 10
while time.monotonic() < deadline:  # until the service has taken in all eight
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b'{"v": 1, "op": "ls"}\\n')
    answer = s.makefile("rb").readline().decode()
    s.close()
    if "too many" in answer:
        break
print(answer)
"""


def test_a_trainee_cannot_take_every_connection(cls: Class) -> None:
    r = cls.as_user("a", [PY, "-c", HOLD_CONNECTIONS, str(cls.socket)])
    assert "too many requests at once" in r.stdout, (r.stdout, r.stderr)
    # Another trainee is served, and A again once its connections are closed.
    assert cls.run("b", "class", "whoami").returncode == 0
    deadline = time.monotonic() + 10  # the service sees the closed ones end
    while (r := cls.run("a", "class", "whoami", check=False)).returncode != 0:
        assert "too many" in r.stderr and time.monotonic() < deadline, r.stderr
        time.sleep(0.1)


def test_labs_outlive_a_service_restart_and_the_new_one_carries_on(cls: Class) -> None:
    a = cls.lab_record("a")
    before = cls.view()
    assert cls.proc is not None
    cls.proc.terminate()
    cls.proc.wait(timeout=10)
    assert not cls.socket.exists()
    r = cls.run("a", "ls", check=False)
    assert r.returncode == 1 and "does not answer" in r.stderr  # never a silent fallback
    cls.start()
    assert [x["id"] for x in json.loads(cls.run("a", "ls", "--format", "json").stdout)] == [a["id"]]
    assert cls.view() == before
