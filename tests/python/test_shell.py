"""`v6lab shell` as a trainee uses it: an interactive shell on a terminal,
inside the node, with a prompt naming node and lab."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

from conftest import ROOT

PY = "/usr/bin/python3"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "bindings"), "TERM": "dumb"}


def read_until(fd: int, needle: bytes, timeout: float = 15) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    return out


def test_shell_on_a_terminal_is_inside_the_node(v6lab_available):
    subprocess.run([PY, "-m", "v6lab", "up", str(ROOT / "examples" / "small.yaml"),
                    "--name", "shelltest"], env=ENV, check=True, capture_output=True)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a trainee's terminal
        os.execve(PY, [PY, "-m", "v6lab", "shell", "--lab", "shelltest", "h2"], ENV)
    try:
        assert b"[h2@shelltest]" in read_until(fd, b"[h2@shelltest]"), "no prompt"
        os.write(fd, b"echo host=$(hostname) pid1=$(cat /proc/1/comm) pwd=$PWD; ip -br addr show dev eth0\n")
        out = read_until(fd, b"2001:db8:1::20/64")
        assert b"host=h2 pid1=v6lab-init pwd=/root" in out, out
        assert b"2001:db8:1::20/64" in out, out
        os.write(fd, b"exit 3\n")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 3
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
        subprocess.run([PY, "-m", "v6lab", "down", "--lab", "shelltest"], env=ENV, capture_output=True)
