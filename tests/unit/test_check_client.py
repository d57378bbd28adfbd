"""libexec/v6lab-check, the compiled `v6lab check` of a class, against its
Python twin (v6lab.classroom.quick): on the same command line, environment
and service answer, both send the same request bytes and print the same
output and messages with the same exit code; and what the compiled one is
not sure of, it hands to Python before sending anything.

The service is a fake on a socket of the test's own, answering as told: the
request is what is compared, not a grading (tests/python/test_classroom*
run the real service)."""

from __future__ import annotations

import json
import os
import pty
import socket
import struct
import subprocess
import termios
import fcntl
import threading
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "bindings" / "v6lab" / "libexec" / "v6lab-check"
LAUNCHER = ROOT / "v6lab"
PYTHON = ["/usr/bin/python3", "-P", "-c", "import v6lab.__main__"]

if not CLIENT.exists():
    pytestmark = pytest.mark.skip(reason="v6lab is not built here (./scripts/setup)")

OK = {"v": 2, "ok": True, "result": {"score": 50, "output": "Lab slaac: 5/10 ✓ bước\n",
                                     "exit": 1}}


class FakeService:
    """A Unix socket that records each request line and answers it with
    `answer` (bytes; None closes without a word). With early=True it writes
    the answer and closes before reading, as the service refuses a caller it
    will not hear."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.answer: Optional[bytes] = b""
        self.early = False
        self.lines: list[bytes] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o777)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                if self.early and self.answer:
                    conn.sendall(self.answer)
                    continue
                buf = b""
                while b"\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        break
                    buf += data
                self.lines.append(buf)
                if self.answer:
                    conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes accept (close alone does not)
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def service(tmp_path: Path):
    s = FakeService(tmp_path / "class.sock")
    s.answer = json.dumps(OK).encode() + b"\n"
    yield s
    s.close()


def base_env(service: FakeService, home: Path, **more: str) -> dict[str, str]:
    return env_for(service.path, home, **more)


def env_for(sock: Path, home: Path, **more: str) -> dict[str, str]:
    """A trainee's environment, fixed: only what a case sets varies."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "PYTHONPATH": str(ROOT / "bindings"), "PYTHONDONTWRITEBYTECODE": "1",
           "V6LAB_CLASS_SOCKET": str(sock), "V6LAB_STATE_DIR": str(home / "state")}
    env.update(more)
    return env


def run_both(service: FakeService, argv: list[str], env: dict[str, str],
             stdout=subprocess.PIPE) -> tuple[tuple, tuple]:
    """(exit, stdout, stderr, request lines) of the compiled client, then of Python."""
    out = []
    for cmd in ([str(CLIENT)], PYTHON):
        service.lines.clear()
        r = subprocess.run([*cmd, *argv], env=env, stdout=stdout, stderr=subprocess.PIPE,
                           timeout=60, cwd="/")
        out.append((r.returncode, r.stdout, r.stderr, list(service.lines)))
    return out[0], out[1]


LANG_CASES = [
    {}, {"V6LAB_LANG": "vi"}, {"LANG": "vi_VN.UTF-8"}, {"LANGUAGE": "fr:vi"},
    {"LANGUAGE": "en:vi"}, {"LC_ALL": "C"}, {"LANG": "POSIX"}, {"V6LAB_LANG": "  ", "LANG": "vi"},
    {"V6LAB_LANG": "xx"}, {"LC_MESSAGES": "vi@latin", "LANG": "en"}, {"V6LAB_LANG": "vi-vn"},
    {"V6LAB_LANG": "../vi"}, {"LANGUAGE": ":vi_VN:"},
]
TERM_CASES = [
    {"COLUMNS": "132"}, {"COLUMNS": "5"}, {"COLUMNS": "99999999999999999999"}, {"COLUMNS": "abc"},
    {"FORCE_COLOR": "1", "TERM": "xterm-256color"}, {"FORCE_COLOR": "1", "TERM": "dumb"},
    {"FORCE_COLOR": "1", "COLORTERM": "TrueColor"}, {"FORCE_COLOR": "1", "NO_COLOR": "1"},
    {"FORCE_COLOR": "1", "TERM": "UNKNOWN"},
]
ARGV_CASES = [
    ["check"], ["check", "--lab", "slaac"], ["check", "--lab=slaac", "-v"],
    ["check", "--format", "json"], ["check", "--format=tap", "--verbose"],
    ["--lang", "vi", "check"], ["--lang=vi_VN", "check", "--format", "junit"],
    ["--lang", "en", "check"], ["--lang", "fr:vi", "check"],
]


@pytest.mark.parametrize("extra", LANG_CASES + TERM_CASES, ids=repr)
def test_the_request_and_the_output_are_python_s(service: FakeService, tmp_path: Path,
                                                   extra: dict[str, str]) -> None:
    c, p = run_both(service, ["check"], base_env(service, tmp_path, **extra))
    assert p[3], "Python sent no request: the case tests nothing"
    assert c == p


@pytest.mark.parametrize("argv", ARGV_CASES, ids=" ".join)
def test_every_command_line_it_takes_is_sent_as_python_sends_it(
        service: FakeService, tmp_path: Path, argv: list[str]) -> None:
    c, p = run_both(service, argv, base_env(service, tmp_path, V6LAB_LANG="vi"))
    assert p[3] and c == p


ANSWERS = {
    "refusal": json.dumps({"v": 2, "ok": False, "error": "bạn không có bài nào đang chạy",
                           "code": 1}).encode() + b"\n",
    "refusal without a word": b'{"v": 2, "ok": false, "error": "", "code": 4}\n',
    "closed": None,
    "not json": b"hello\n",
    "not utf-8": b'{"v": 2, "ok": true, "result": {"output": "\xff"}}\n',
    "another version": b'{"v": 3, "ok": true, "result": {"output": "x", "exit": 0}}\n',
    "no report": b'{"v": 2, "ok": true, "result": {"score": 1}}\n',
    "no exit code": b'{"v": 2, "ok": true, "result": {"output": "x\\n"}}\n',
    "exit code 300": b'{"v": 2, "ok": true, "result": {"output": "", "exit": 300}}\n',
    "line after the answer": b'{"v": 2, "ok": true, "result": {"output": "a", "exit": 0}}\nzzz',
}


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("name", list(ANSWERS))
def test_every_answer_is_told_as_python_tells_it(service: FakeService, tmp_path: Path,
                                                 name: str, lang: str) -> None:
    service.answer = ANSWERS[name]
    c, p = run_both(service, ["check"], base_env(service, tmp_path, V6LAB_LANG=lang))
    assert c == p
    if name == "closed" and lang == "vi":
        # The client's own sentence, from the catalogue: not left in English.
        assert b"closed the connection" not in c[2] and c[2].startswith(b"v6lab: ")


def test_a_refusal_written_before_the_request_is_read(service: FakeService,
                                                      tmp_path: Path) -> None:
    service.early = True
    service.answer = ANSWERS["refusal"]
    for _ in range(5):  # the close may come before or after the request is sent
        c, p = run_both(service, ["check"], base_env(service, tmp_path))
        assert c[:3] == p[:3] and c[0] == 1 and "bạn không".encode() in c[2]


def test_a_closed_stdout_is_exit_141(service: FakeService, tmp_path: Path) -> None:
    service.answer = json.dumps({"v": 2, "ok": True, "result": {
        "output": "x" * (1 << 20), "exit": 0}}).encode() + b"\n"
    codes = []
    for cmd in ([str(CLIENT)], PYTHON):
        p = subprocess.Popen([*cmd, "check"], env=base_env(service, tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/")
        p.stdout.read(10)
        p.stdout.close()
        p.wait(30)
        codes.append((p.returncode, p.stderr.read()))
        p.stderr.close()
    assert codes[0] == codes[1] == (141, b"")


def test_on_a_terminal_its_width_and_colours_are_python_s(service: FakeService,
                                                          tmp_path: Path) -> None:
    for term, cols in (("xterm-256color", 97), ("xterm", 10), ("dumb", 200)):
        sent = []
        for cmd in ([str(CLIENT)], PYTHON):
            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
            service.lines.clear()
            try:
                subprocess.run([*cmd, "check"], env=base_env(service, tmp_path, TERM=term),
                               stdout=slave, stderr=subprocess.PIPE, timeout=60, cwd="/")
            finally:
                os.close(slave)
                os.close(master)
            sent.append(list(service.lines))
        assert sent[0] and sent[0] == sent[1], (term, sent)


@pytest.mark.parametrize("argv,extra", [
    (["check", "--help"], {}),
    (["check", "--lab", "a/b"], {}),
    (["check", "--lab", "x" * 101], {}),
    (["--lang", "tiếng", "check"], {}),
    (["check"], {"V6LAB_LANG": "tiếng"}),
    (["check"], {"TERM": "xterm-\u212a"}),
    (["check"], {"PYTHONIOENCODING": "latin-1"}),
    (["check"], {"V6LAB_CLASS": "off"}),
    (["check", "--format", "csv"], {}),
    (["--lang", "vi"], {}),
], ids=repr)
def test_what_it_is_not_sure_of_is_python_s_to_do(service: FakeService, tmp_path: Path,
                                                   argv: list[str], extra: dict[str, str]) -> None:
    """The same outcome as Python's, because it is Python's: and in the cases
    Python's quick path takes too, the same request."""
    c, p = run_both(service, argv, base_env(service, tmp_path, **extra))
    assert c == p


def test_a_service_that_is_not_there_is_python_s_to_explain(tmp_path: Path) -> None:
    env = env_for(tmp_path / "none.sock", tmp_path)
    r = subprocess.run([str(CLIENT), "check"], env=env, capture_output=True, text=True,
                       timeout=60, cwd="/")
    assert r.returncode == 1 and "does not answer" in r.stderr, r.stderr


def test_the_launcher_sends_check_without_python(service: FakeService, tmp_path: Path) -> None:
    """With Python unable to start, a check still goes through: the launcher
    ran the compiled client; anything else needs Python, and says so."""
    env = base_env(service, tmp_path, PYTHONHOME=str(tmp_path / "no-python"))
    del env["PYTHONPATH"]  # the launcher sets it
    r = subprocess.run([str(LAUNCHER), "check"], env=env, capture_output=True, timeout=60,
                       cwd="/")
    assert (r.returncode, r.stdout) == (1, OK["result"]["output"].encode()), r.stderr
    assert len(service.lines) == 1
    r = subprocess.run([str(LAUNCHER), "check", "--help"], env=env, capture_output=True,
                       timeout=60, cwd="/")
    assert r.returncode != 0 and len(service.lines) == 1
