"""The classroom service's workers come from a zygote (a fork server with
the curriculum loaded), and a trainee's `check` from a path that loads
almost nothing (v6lab.classroom.quick). What must hold: the quick path
prints exactly what the full command does; a command run in a node gets
the client's stdio and nothing else of the service; an edited lab is
graded by its new code; a zygote that dies is replaced. A service of its
own on a temporary socket, with one small lab of its own (V6LAB_LABS);
the trainee is root, whom V6LAB_CLASS_SOCKET puts in the class (the
trainees-as-users side is test_classroom.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import ROOT

PY = "/usr/bin/python3"
LAB_PY = """\
from v6lab import Topo
from v6lab.course import LabDefinition
from v6lab.grading import Step, checks as c


class Lab(LabDefinition):
    title = {title!r}
    level = "beginner"
    minutes = 5
    order = 995

    def topology(self):
        t = Topo("pool")
        t.add_host("h1")
        return t

    def steps(self):
        return [Step("ll", "h1 has a link-local address", [c.link_local("h1", "lo")],
                     hints=["it cannot have one on lo"]),
                Step("up", "h1 is there", [c.sysctl_equals("h1", "net.ipv6.conf.all.forwarding", 0)],
                     hints=["nothing to do"])]
"""


class Service:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.labs = base / "labs"
        self.socket = base / "sock" / "class.sock"
        self.proc: subprocess.Popen | None = None
        self.write_lab("Pool test, first edition")
        # A lab whose code raises something other than a SpecError: it is
        # that lab's problem, never the service's.
        broken = self.labs / "pool-broken"
        broken.mkdir()
        (broken / "lab.py").write_text(
            "from v6lab.course import LabDefinition\n\n\n"
            "class Lab(LabDefinition):\n"
            "    def __init__(self):\n"
            "        raise ValueError('boom in the constructor')\n")

    def write_lab(self, title: str) -> None:
        folder = self.labs / "pool-test"
        folder.mkdir(parents=True, exist_ok=True)
        lab = folder / "lab.py"
        old = lab.stat().st_mtime_ns if lab.exists() else 0
        lab.write_text(LAB_PY.format(title=title))
        # An edit within the same clock tick must still be seen as one.
        if old:
            os.utime(lab, ns=(old + 2_000_000_000, old + 2_000_000_000))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("V6LAB_STATE_DIR", "V6LAB_CLASS")}
        env.update(PYTHONPATH=str(ROOT / "bindings"), V6LAB_LABS=str(self.labs))
        return env

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [PY, "-m", "v6lab.classroom", "--socket", str(self.socket), "--state-dir",
             str(self.base / "state")], env=self.env(), cwd="/", stdout=subprocess.DEVNULL,
            stderr=open(self.base / "log", "wb"))
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            assert self.proc.poll() is None, (self.base / "log").read_text()
            assert time.monotonic() < deadline, "the service did not come up"
            time.sleep(0.05)

    def run(self, *argv: str, full: bool = False, check: bool = False,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """v6lab ARGV as a trainee would type it; full: by the full command
        line, not the quick path."""
        e = {**self.env(), "V6LAB_CLASS_SOCKET": str(self.socket), "COLUMNS": "100",
             "V6LAB_LANG": "en", **(env or {})}
        cmd = [PY, "-c", "import sys; from v6lab.cli import run; sys.exit(run(sys.argv[1:]))"] \
            if full else [PY, "-m", "v6lab"]
        r = subprocess.run([*cmd, *argv], capture_output=True, text=True, env=e, cwd="/tmp",
                           timeout=120)
        assert "Traceback" not in r.stderr, r.stderr
        if check:
            assert r.returncode == 0, (argv, r.stdout, r.stderr)
        return r

    def zygote(self) -> int:
        assert self.proc is not None
        out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        pids = [int(line.split()[0]) for line in out.splitlines()
                if "v6lab.classroom.zygote" in line]
        assert len(pids) == 1, out
        return pids[0]

    def stop(self) -> None:
        run = self.base / "state" / "users" / "0" / "run"
        if run.is_dir():
            env = {**self.env(), "V6LAB_STATE_DIR": str(run), "V6LAB_CLASS": "off"}
            subprocess.run([PY, "-m", "v6lab", "down", "--all", "--force"], env=env,
                           capture_output=True, timeout=120, cwd="/")
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module", name="svc")
def service_fixture(v6lab_available: None) -> Iterator[Service]:
    if os.geteuid() != 0:
        pytest.skip("the classroom service runs as root")
    base = Path(tempfile.mkdtemp(prefix="v6lab-pool-", dir="/tmp"))
    s: Service | None = None
    try:
        s = Service(base)
        s.start()
        s.run("start", "pool-test", check=True)
        yield s
    finally:
        if s is not None:
            s.stop()
        shutil.rmtree(base, ignore_errors=True)


def _same(text: str) -> str:
    """text without what moves from one grading to the next."""
    text = re.sub(r"\d+ ms", "N ms", text)
    text = re.sub(r'"(started|duration)": [^,\n]+', r'"\1": X', text)
    text = re.sub(r'(timestamp|time)="[^"]*"', r'\1="X"', text)
    return re.sub(r"duration_ms: [\d.]+", "duration_ms: X", text)


@pytest.mark.parametrize("args", [[], ["--format", "json"], ["--format=tap"],
                                  ["--format", "junit"], ["-v"], ["--lab", "pool-test"],
                                  ["--lang", "vi"]])
def test_the_quick_check_prints_what_the_full_command_does(svc: Service, args: list[str]) -> None:
    lang = ["--lang", "vi"] if args == ["--lang", "vi"] else []
    rest = [] if lang else args
    quick = svc.run(*lang, "check", *rest, env={"PYTHONPROFILEIMPORTTIME": "1"})
    full = svc.run(*lang, "check", *rest, full=True)
    assert quick.returncode == full.returncode == 1, (quick.stderr, full.stderr)
    assert _same(quick.stdout) == _same(full.stdout)
    assert quick.stdout.strip()
    # It was the quick path: the command line's modules were never imported.
    assert "v6lab.classroom.quick" in quick.stderr and "v6lab.cli" not in quick.stderr
    if lang:
        assert "Điểm" in quick.stdout, quick.stdout


def test_the_quick_check_draws_for_the_terminal_it_is_given(svc: Service) -> None:
    plain = svc.run("check", env={"COLUMNS": "60"})
    assert "\x1b[" not in plain.stdout
    assert max(len(line) for line in plain.stdout.splitlines()) <= 60
    coloured = svc.run("check", env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert "\x1b[" in coloured.stdout
    report = json.loads(svc.run("check", "--format", "json").stdout)
    assert report["graded_by"] == "v6lab classroom service" and report["lab_id"]
    assert "output" not in report and "exit" not in report


@pytest.mark.parametrize("args,code,says", [
    (["check", "--help"], 0, "Usage:"),
    (["check", "--lab", "bad name"], 2, "would refuse this"),
    (["check", "--format", "xml"], 2, "'xml' is not one of"),
    (["check", "--lab"], 2, "requires an argument"),
    (["check", "--lab", "nope"], 1, "you have no lab nope running"),
])
def test_what_the_quick_path_is_not_sure_of_gets_the_full_commands_answer(
        svc: Service, args: list[str], code: int, says: str) -> None:
    r = svc.run(*args)
    assert r.returncode == code and says in r.stdout + r.stderr, (r.stdout, r.stderr)


def test_the_quick_path_never_falls_back_to_a_lab_of_ones_own(svc: Service, tmp_path: Path) -> None:
    gone = svc.run("check", env={"V6LAB_CLASS_SOCKET": str(tmp_path / "none.sock")})
    assert gone.returncode != 0 and "does not answer" in gone.stderr, gone.stderr
    own = svc.run("check", env={"V6LAB_CLASS": "off", "V6LAB_STATE_DIR": str(tmp_path)})
    assert own.returncode != 0 and "no lab is running" in own.stderr, own.stderr


def test_a_command_in_a_node_gets_the_clients_stdio_and_nothing_else(svc: Service) -> None:
    r = svc.run("exec", "h1", "--", "sh", "-c", "ls /proc/self/fd; readlink /proc/self/fd/0",
                check=True)
    *fds, stdin = r.stdout.split()
    # 0-2 the client's, 3 the directory ls reads; none of the service's or the zygote's.
    assert sorted(int(fd) for fd in fds) == [0, 1, 2, 3], r.stdout
    assert stdin.startswith(("/dev/null", "pipe:")), stdin


def test_an_edited_lab_is_graded_by_its_new_code(svc: Service) -> None:
    first = json.loads(svc.run("check", "--format", "json").stdout)
    assert [s["title"] for s in first["steps"]][0] == "h1 has a link-local address"
    svc.write_lab("Pool test, second edition")
    time.sleep(1.1)  # the zygote looks at the files at most once a second
    svc.run("stop", "--lab", "pool-test", check=True)
    r = svc.run("start", "pool-test", check=True)
    assert "Pool test, second edition" in r.stdout, r.stdout
    assert "the curriculum changed on disk" in (svc.base / "log").read_text()


def test_a_zygote_that_dies_is_replaced_and_the_request_answered(svc: Service) -> None:
    before = svc.zygote()
    os.kill(before, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{before}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    r = svc.run("check", "--format", "json")
    assert r.returncode == 1 and json.loads(r.stdout)["lab_id"], r.stderr
    assert svc.zygote() != before


def test_a_command_in_a_node_starts_with_every_signal_at_its_default(svc: Service) -> None:
    # Python (the worker, the command line) ignores SIGPIPE and SIGXFSZ, and
    # those survive exec: without v6lab-nsexec's reset, `yes | head` in a
    # node reports "Broken pipe" instead of ending quietly.
    script = "grep -E '^Sig(Ign|Blk)' /proc/self/status; yes | head -1"
    own = {"V6LAB_CLASS": "off", "V6LAB_CLASS_SOCKET": "",
           "V6LAB_STATE_DIR": str(svc.base / "state" / "users" / "0" / "run")}
    for env in (None, own):  # through the service, and root's own exec
        r = svc.run("exec", "h1", "--", "sh", "-c", script, check=True, env=env)
        assert r.stdout.split() == ["SigBlk:", "0" * 16, "SigIgn:", "0" * 16, "y"], r.stdout
        assert r.stderr == "", r.stderr


def test_a_lab_that_raises_breaks_only_itself(svc: Service) -> None:
    r = svc.run("start", "pool-broken")
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "pool-broken/lab.py: ValueError: boom in the constructor" in r.stderr, r.stderr
    assert svc.run("check", "--format", "json").returncode == 1  # the other lab is graded


def test_a_zygote_that_hangs_is_replaced(svc: Service) -> None:
    before = svc.zygote()
    os.kill(before, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        r = svc.run("check")
        took = time.monotonic() - t0
    finally:
        if Path(f"/proc/{before}").exists():
            os.kill(before, signal.SIGKILL)
    # One request fails, saying so, after the zygote's time limit; the
    # next is served by a new zygote.
    assert r.returncode == 70 and "did not answer in time" in r.stderr, (r.stdout, r.stderr)
    assert took < 30, took
    assert "took no request" in (svc.base / "log").read_text()
    again = svc.run("check", "--format", "json")
    assert again.returncode == 1 and json.loads(again.stdout)["lab_id"], again.stderr
    assert svc.zygote() != before
