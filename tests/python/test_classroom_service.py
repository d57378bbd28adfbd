"""The classroom service under stress and at its edges: broken and
hostile requests, a trainee holding every connection, a long command
beside another trainee's, a restart, no silent fallback when it does
not answer; and the terminal and packet capture it relays. Users and
service as in test_classroom.py (classroom_setup.py)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import time

import pytest

from conftest import ROOT
from classroom_setup import PY, Class, send_raw, class_fixture, users_fixture  # noqa: F401


BROKEN = [
    b"garbage\n", b"[1, 2]\n", b'{"v": 3, "op": "ls"}\n', b'{"v": 2, "op": "rm -rf"}\n',
    b'{"v": 2, "op": "start", "args": {"lab": "../../etc"}}\n',
    b'{"v": 2, "op": "exec", "args": {"node": "h1", "argv": "id"}}\n',
    b'{"v": 2, "op": "start", "args": []}\n', b'{"v": true, "op": "ls"}\n',
    b"\xff\xfe\n", b"[" * 100000 + b"\n", b"x" * 70000 + b"\n",
]


def test_broken_requests_get_one_error_and_the_service_keeps_serving(cls: Class) -> None:
    for line in BROKEN:
        answer = send_raw(cls, "a", line)
        assert answer["ok"] is False and answer["code"] == 2 and answer["error"], (line[:40],
                                                                                   answer)
        assert "Traceback" not in answer["error"]
    # A half request, then the client goes away; fds with an op that takes none.
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(cls.socket))
    s.sendall(b'{"v": 2, "op"')
    s.close()
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(cls.socket))
    socket.send_fds(s, [b'{"v": 2, "op": "ls"}\n'], [0, 1, 2])
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
# Connections that send nothing, until the service refuses one. (Not a
# fixed eight: a connection of this trainee's previous command may still be
# counted for a moment after its answer, and then end.)
held, refusal = [], ""
deadline = time.monotonic() + 15
while not refusal and time.monotonic() < deadline:
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.settimeout(0.3)
    try:
        refusal = s.recv(4096).decode()  # a refusal comes at once
        s.close()
    except socket.timeout:
        held.append(s)  # held (or not taken in yet: counted below)
# Those the service really holds open now (a late refusal closes one).
really = 0
for s in held:
    s.setblocking(False)
    try:
        s.recv(1, socket.MSG_PEEK)  # data, or the end: answered or closed
    except BlockingIOError:
        really += 1  # open and silent: held
print(really)
print(refusal)
"""


def test_a_trainee_cannot_take_every_connection(cls: Class) -> None:
    r = cls.as_user("a", [PY, "-c", HOLD_CONNECTIONS, str(cls.socket)])
    held, refusal = r.stdout.split("\n", 1)
    assert "too many requests at once" in refusal, (r.stdout, r.stderr)
    assert 7 <= int(held) <= 8, r.stdout  # --max-connections' default, 8
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


def test_a_second_service_or_one_without_root_is_refused_in_one_sentence(cls: Class) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "bindings")}
    r = subprocess.run([PY, "-m", "v6lab.classroom", "--socket", str(cls.socket),
                        "--state-dir", str(cls.base / "state2")], capture_output=True, text=True,
                       env=env, timeout=30)
    assert r.returncode == 1 and "another classroom service is listening" in r.stderr, r.stderr
    assert cls.run("a", "class", "whoami").returncode == 0  # the first one is untouched
    r = cls.run("a", "class", "serve", "--socket", str(cls.base / "mine.sock"),
                "--state-dir", str(cls.base / "mine"), check=False)
    assert r.returncode == 4 and "must run as root" in r.stderr, r.stderr
    assert not (cls.base / "mine").exists()
