"""The classroom service (bindings/v6lab/classroom), for real: the tests
start the service as root on a socket and state directory of its own,
make throwaway Linux users (trainees A and B, and an instructor I who is
a member of the instructor group), and run the v6lab command as them
(classroom_setup.py).

Each attack is the one the trust model names (docs/architecture.md, "The
classroom service"): a trainee enters namespaces from outside, writes fake
progress or reports, grades with a grader of their own, sends forged or
broken requests; none changes what the instructor sees. Everything made
here (users, group, homes, their processes, labs, the service) is removed
even when a test fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from conftest import ROOT
from classroom_setup import (LAB, PY, Class, macs, netns, send_raw, row_of,  # noqa: F401
                             class_fixture, users_fixture)


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
    a_net = {netns(n["pid"], "net") for n in a["nodes"].values()}
    b_net = {netns(n["pid"], "net") for n in b["nodes"].values()}
    assert not a_net & b_net
    theirs = set().union(*(macs(cls, "b", n) for n in b["nodes"]))
    neighbour = macs(cls, "a", "r1")  # r1 is on lan1 with h1: a positive control
    ping = "ping -6 -c 2 -i 0.3 -W 1 ff02::1%eth0 >/dev/null; ip -6 neigh show dev eth0"
    # The labs were started a moment ago: r1 answers once its link-local
    # address has left DAD (a second or two), so the control is asked again.
    deadline = time.monotonic() + 10
    while True:
        seen = cls.run("a", "exec", "h1", "--", "sh", "-c", ping).stdout
        if neighbour & set(seen.split()) or time.monotonic() > deadline:
            break
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
    b'{"v": 2, "op": "check", "args": {"user": "root"}}\n',
    b'{"v": 2, "op": "class-solve", "args": {"trainee": "TRAINEE", "lab": "slaac"}}\n',
    b'{"v": 2, "op": "class-reset", "args": {"trainee": "TRAINEE", "lab": "slaac"}}\n',
    b'{"v": 2, "op": "ls", "args": {}, "uid": 0}\n',
    b'{"v": 2, "op": "record", "args": {"lab": "slaac", "score": 100}}\n',
    b'{"v": 2, "op": "check", "args": {"lab": "slaac", "score": 100}}\n',
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
        answer = send_raw(cls, "a", line.replace(b"TRAINEE", cls.users.names["b"].encode()))
        assert answer["ok"] is False and answer["code"] in (2, 4), answer
    after = cls.view()
    # The one check above is the only change: an attempt, scored 0.
    mine = row_of(after, cls.users.names["a"])
    old = row_of(before, cls.users.names["a"])
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
    row = row_of(json.loads(r.stdout), cls.users.names["a"])
    assert row["steps_passed"] == 1 and row["step_reached"] == "radvd", row
    assert row["running"] and not row["stuck"] and row["since_progress"] < 60, row
    b = row_of(json.loads(r.stdout), cls.users.names["b"])
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
    a_row = row_of(cls.view(), cls.users.names["a"])
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
    assert row_of(cls.view(), cls.users.names["a"]) == a_row


def test_a_trainee_is_refused_the_instructors_operations(cls: Class) -> None:
    b = cls.lab_record("b")
    for args in (["class", "status"], ["class", "export", "csv"],
                 ["class", "reset", cls.users.names["b"], LAB],
                 ["class", "solve", cls.users.names["b"], LAB]):
        r = cls.run("a", *args, check=False)
        assert r.returncode == 4 and "for instructors" in r.stderr, (args, r.stderr)
    assert cls.lab_record("b")["id"] == b["id"]
    # Root in a user namespace of their own is not served at all: only the
    # host's user namespace is (a node is a user namespace too).
    for op in ("whoami", "status"):
        r = cls.as_user("a", ["unshare", "-Ur", PY, "-m", "v6lab", "class", op])
        assert r.returncode == 4 and "user namespace other than the host's" in r.stderr, \
            (op, r.stdout, r.stderr)
    # In the trainee's language, as every refusal.
    r = cls.run("a", "--lang", "vi", "class", "status", check=False)
    assert r.returncode == 4 and "dành cho giảng viên" in r.stderr, r.stderr
    r = cls.run("a", "start", "../../etc", check=False)
    assert r.returncode == 2 and "would refuse this: field args.lab" in r.stderr, r.stderr


# -- a node must not become a caller of its own ------------------------------

NODE_CONNECTS = ("import socket, sys; s = socket.socket(socket.AF_UNIX); "
                 "s.connect('/proc/self/fd/0' + sys.argv[1]); "
                 "s.sendall(b'{\"v\": 2, \"op\": \"hello\", \"args\": {}}\\n'); "
                 "print(s.recv(4000).decode())")


def _exec_with_stdin(cls: Class, opener: str, suffix: str) -> subprocess.CompletedProcess:
    """As trainee A: an exec request whose stdin is the descriptor `opener`
    makes, running in h1 a program that connects through it to the service."""
    script = (
        "import json, os, socket, sys\n"
        f"fd = {opener}\n"
        "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
        "req = {'v': 2, 'op': 'exec', 'args': {'node': 'h1', 'argv': "
        f"['python3', '-c', {NODE_CONNECTS!r}, {suffix!r}]}}}}\n"
        "socket.send_fds(s, [json.dumps(req).encode() + b'\\n'], [fd, 1, 2])\n"
        "out = b''\n"
        "while (d := s.recv(65536)):\n"
        "    out += d\n"
        "print(out.decode())\n")
    return cls.as_user("a", [PY, "-c", script, str(cls.socket)])


def test_a_node_cannot_reach_the_service_through_a_passed_descriptor(cls: Class) -> None:
    # The attack (found by an adversarial pass): the service's socket opened
    # O_PATH, or its directory, passed as an exec's stdin, lets node root
    # connect from inside the node as an id of the lab's range, a new
    # "trainee" per id it setuid()s to. Refused before anything runs.
    sock = str(cls.socket)
    for opener, suffix in ((f"os.open({sock!r}, os.O_PATH)", ""),
                           (f"os.open({os.path.dirname(sock)!r}, os.O_RDONLY)", "/class.sock"),
                           (f"os.open({os.path.dirname(sock)!r}, os.O_PATH)", "/class.sock"),
                           ("socket.socket(socket.AF_UNIX).detach()", "")):
        r = _exec_with_stdin(cls, opener, suffix)
        assert '"ok": false' in r.stdout and "descriptor passed" in r.stdout or \
            "not connected" in r.stdout, (opener, r.stdout, r.stderr)
        assert '"uid"' not in r.stdout, (opener, r.stdout)
    # An ordinary exec still works.
    assert cls.run("a", "exec", "h1", "--", "true").returncode == 0


def test_a_uid_of_no_user_is_not_served(cls: Class) -> None:
    # A node's ids map to host uids that belong to no one: such a caller is
    # refused, whatever it asks.
    # The service refuses such a caller before it reads a request, so the
    # send may find the connection closed (EPIPE): the refusal is still there
    # to read, as v6lab's own client reads it (quick.send).
    script = "\n".join([
        "import socket, sys",
        "s = socket.socket(socket.AF_UNIX)",
        "s.connect(sys.argv[1])",
        "try:",
        "    s.sendall(b'{\"v\": 2, \"op\": \"hello\", \"args\": {}}\\n')",
        "except BrokenPipeError:",
        "    pass",
        "print(s.recv(4000).decode())",
    ])
    r = subprocess.run(["setpriv", "--reuid=3999999", "--regid=3999999", "--clear-groups",
                        PY, "-c", script, str(cls.socket)], capture_output=True, text=True,
                       timeout=30, cwd="/")
    assert "no user of this host" in r.stdout, (r.stdout, r.stderr)
    # v6lab's own clients, the quick path of check and the full command line,
    # show that sentence too, however the send and the close fall (a
    # trainee told "Broken pipe" would not know they are refused).
    env = {"PYTHONPATH": str(ROOT / "bindings"), "V6LAB_CLASS_SOCKET": str(cls.socket),
           "HOME": "/tmp", "V6LAB_LANG": "en"}
    # The full command line makes the caller's own runtime directory
    # (/tmp/v6lab-UID) as it starts: the test removes it after, if it made it.
    runtime = Path("/tmp/v6lab-3999999")
    made = not runtime.exists()
    try:
        for argv in (["check"], ["class", "whoami"]) * 3:
            r = subprocess.run(["setpriv", "--reuid=3999999", "--regid=3999999",
                                "--clear-groups", PY, "-m", "v6lab", *argv], capture_output=True,
                               text=True, timeout=30, cwd="/", env=env)
            assert r.returncode == 4 and "no user of this host" in r.stderr, (argv, r.stderr)
    finally:
        if made:
            shutil.rmtree(runtime, ignore_errors=True)
    assert cls.run("a", "class", "whoami").returncode == 0


def test_a_hint_that_grades_counts_as_an_attempt(cls: Class) -> None:
    # `hint` without a step grades the lab to find the next step: that is
    # an attempt the instructor sees, not a free look (adversarial pass).
    before = row_of(cls.view(), cls.users.names["a"])["attempts"]
    cls.run("a", "hint", check=False)
    assert row_of(cls.view(), cls.users.names["a"])["attempts"] == before + 1
