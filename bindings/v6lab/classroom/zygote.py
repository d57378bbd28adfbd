"""A fork server for the classroom service's workers: one process that has
imported v6lab, the grading code and the whole curriculum (and its
catalogues) once, and forks a worker for each request.

Why: a worker started as a new Python process spends about 0.15 CPU-second
importing v6lab and loading the curriculum before it grades anything, more
than the grading itself. Thirty trainees checking at the same instant on two
cores then wait seconds. A fork of a process that has done all that starts
in about a millisecond, with every page shared until written.

Why a process of its own, and not fork() in the service: the service has a
thread per connection, and fork() in a threaded process copies locks that
other threads hold (a child can hang on the logging lock or the import
lock). The zygote has one thread, so a fork of it is safe; it never grades
or enters a namespace itself, and it asserts that it is still single-
threaded before every fork.

Isolation between trainees is what it was: each worker is a fresh copy, so
nothing one trainee's worker does is seen by the next (the random module
reseeds in every child: CPython does it at fork). The zygote holds no
trainee's data: what a request needs (the trainee's directories of the
service, the request) comes with it, as the environment of the one worker.

Wire (all local, root to root, over socketpairs the service made):

  service -> zygote   one SOCK_SEQPACKET message per request: a JSON object
                      {"env": {...}, "session": bool} and, by SCM_RIGHTS,
                      the request's channel, the answer's write end and,
                      for exec/shell/capture, the client's stdin, stdout
                      and stderr
  zygote -> service   on the channel: {"pid": N} with a pidfd of the worker,
                      then {"exit": code} once it has ended
  worker -> service   its answer line on the answer pipe (the protocol's
                      answer, as the worker has always written to stdout)

If the curriculum's files change (an instructor edits a lab), the zygote
loads the curriculum again before its next fork (it looks at most once a
second), so a lab is never graded by code older than its files. A change to v6lab itself needs the service
restarted (systemctl restart v6lab-class), as any Python program does.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Optional

log = logging.getLogger("v6lab.classroom")

MAX_MESSAGE = 256 * 1024
# The fds of a request, in the order they are sent.
CHANNEL, ANSWER, STDIN, STDOUT, STDERR = range(5)
# Where the answer's write end lands in a worker that runs a command in a
# node (its stdio are the client's): V6LAB_CLASS_CONTROL_FD says so.
CONTROL_FD = 3


# -- the zygote's side ------------------------------------------------------

def _curriculum_files() -> dict[str, int]:
    """mtime of every Python file of every lab folder: what decides whether
    the loaded curriculum is still the one on disk."""
    from ..course import labs_path
    out: dict[str, int] = {}
    for root in labs_path():
        for f in root.glob("*/*.py") if root.is_dir() else ():
            try:
                out[str(f)] = os.stat(f).st_mtime_ns
            except OSError:
                pass
    return out


def _preload() -> dict[str, int]:
    """Imports what any worker needs, loads the curriculum and the
    catalogues of every language it ships; the fingerprint of the files."""
    import importlib
    import pkgutil
    from .. import course, grading, i18n
    from . import worker
    for mod in pkgutil.walk_packages(grading.__path__, grading.__name__ + "."):
        importlib.import_module(mod.name)
    # What the operations import when they run (a worker that imports a
    # module searches the path for it: stat calls, every request).
    for name in ("rich.console", "rich.table", "pwd", "v6lab.progress", "v6lab.nodesock",
                 "v6lab.detached", "v6lab.lab", "v6lab.course"):
        importlib.import_module(name)
    files = _curriculum_files()
    worker.PRELOADED.clear()
    for lang in i18n.available_languages():
        previous = i18n.set_language(lang)
        try:
            i18n.translation()
            # Loaded once per language: a definition's texts are in the
            # language it was loaded in. Broken labs are left out here and
            # reported by the worker's own load, as without a zygote.
            worker.PRELOADED[lang] = course.scan_labs()[0]
        finally:
            i18n.set_language(previous)
    _warm_up_rendering()
    return files


def _warm_up_rendering() -> None:
    """Draws a made-up report once, in every format, so that rich's caches
    (styles, markup, cell widths) and the exporters are filled here, once,
    and not again in every worker."""
    from ..grading.report import CheckResult, Report, StepResult, text_console
    checks = [CheckResult("c", "a check", status, "why", 0.001) for status in ("pass", "fail")]
    steps = [StepResult("s", "a step", status, 0.0, 1.0, "why", "a hint", 1, 0.01, checks)
             for status in ("pass", "fail", "error", "skipped")]
    report = Report("lab", "lab-000000", "2026-01-01T00:00:00", 0.1, steps)
    for color in (None, "standard", "256", "truecolor"):
        report.output("text", "lab", "where", True, console=text_console(80, color))
    for fmt in ("json", "junit", "tap"):
        report.output(fmt, "lab", "where")


def _reload_curriculum() -> dict[str, int]:
    """Forgets the lab modules (v6lab_labs.*) and loads them again."""
    for name in [m for m in sys.modules if m == "v6lab_labs" or m.startswith("v6lab_labs.")]:
        del sys.modules[name]
    from .. import i18n
    i18n.clear_cache()
    log.info("the curriculum changed on disk: loading it again")
    return _preload()


class _Zygote:
    def __init__(self, ctl: socket.socket) -> None:
        self.ctl = ctl
        self.sel = selectors.DefaultSelector()
        self.sel.register(ctl, selectors.EVENT_READ)
        # pidfd -> (pid, channel) of each worker not yet reaped
        self.children: dict[int, tuple[int, socket.socket]] = {}
        self.files = _preload()
        self.looked = time.monotonic()

    def serve(self) -> None:
        # What is loaded now stays unchanged in every worker: out of the
        # collector's sight, a fork does not copy it page by page when the
        # child's first collection would touch every object.
        gc.freeze()
        self.ctl.send(b'{"ready": true}')
        while True:
            for key, _ev in self.sel.select():
                if key.fileobj is self.ctl:
                    if not self._request():
                        return
                else:
                    self._reap(key.fd)

    def _request(self) -> bool:
        """One request from the service: False when the service is gone."""
        try:
            msg, fds, _flags, _addr = socket.recv_fds(self.ctl, MAX_MESSAGE, 5)
        except OSError:
            return False
        if not msg:
            for fd in fds:
                os.close(fd)
            return False
        try:
            req = json.loads(msg)
            self._spawn(req, fds)
        except Exception:  # noqa: BLE001 - one broken request, not the zygote
            log.exception("zygote: a request failed before its worker ran")
        finally:
            for fd in fds:
                _close(fd)
        return True

    def _spawn(self, req: dict[str, Any], fds: list[int]) -> None:
        # At most once a second (a class's burst of checks stats the files
        # once): an edit is graded from the next request a second after it.
        now = time.monotonic()
        if now - self.looked >= 1.0:
            self.looked = now
            if _curriculum_files() != self.files:
                gc.unfreeze()
                self.files = _reload_curriculum()
                gc.freeze()
        channel = socket.socket(fileno=os.dup(fds[CHANNEL]))
        if threading.active_count() != 1:
            raise RuntimeError("the zygote is no longer single-threaded: refusing to fork")
        pid = os.fork()
        if pid == 0:
            self._child(req, fds, channel)  # never returns
        pidfd = os.pidfd_open(pid)
        self.children[pidfd] = (pid, channel)
        self.sel.register(pidfd, selectors.EVENT_READ)
        try:
            socket.send_fds(channel, [json.dumps({"pid": pid}).encode() + b"\n"], [pidfd])
        except OSError:
            pass  # the service gave up on this request; the worker is reaped all the same

    def _reap(self, pidfd: int) -> None:
        pid, channel = self.children.pop(pidfd)
        self.sel.unregister(pidfd)
        os.close(pidfd)
        _pid, status, use = os.wait4(pid, 0)
        log.debug("worker %d: %.1f ms user, %.1f ms system, %d page faults", pid,
                  use.ru_utime * 1000, use.ru_stime * 1000, use.ru_minflt)
        try:
            channel.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode()
                            + b"\n")
        except OSError:
            pass
        channel.close()

    def _child(self, req: dict[str, Any], fds: list[int], channel: socket.socket) -> None:
        """The worker: the zygote's descriptors closed, the request's in
        place, the request's environment, then the worker's own code."""
        code = 70
        try:
            self.sel.close()
            self.ctl.close()
            channel.close()
            for pidfd, (_pid, other) in self.children.items():
                os.close(pidfd)
                other.close()
            if req.get("session"):
                os.setsid()
            # Every fd received is 3 or above (0-2 are the zygote's own),
            # so no dup2 here overwrites one not yet copied; the originals
            # are closed after, or a command exec'd in a node would inherit
            # them (and the answer pipe would not end when it should).
            if len(fds) == 5:  # exec, shell, capture: the client's stdio
                for target, fd in ((0, fds[STDIN]), (1, fds[STDOUT]), (2, fds[STDERR])):
                    os.dup2(fd, target)
                os.dup2(fds[ANSWER], CONTROL_FD, inheritable=False)
                os.set_inheritable(CONTROL_FD, False)
                keep = {0, 1, 2, CONTROL_FD}
            else:
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(fds[ANSWER], 1)
                os.close(null)
                keep = {0, 1, 2}
            for fd in fds:
                if fd not in keep:
                    _close(fd)
            os.environ.clear()
            os.environ.update({str(k): str(v) for k, v in req["env"].items()})
            from . import worker
            code = worker.main()
            sys.stdout.flush()
        except BaseException:  # noqa: BLE001 - nothing may return into the zygote's loop
            try:
                import traceback
                traceback.print_exc()
            finally:
                os._exit(70)
        os._exit(code)


def main() -> int:
    """python -m v6lab.classroom.zygote FD: FD is the service's end."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s v6lab-class: %(message)s")
    if os.geteuid() != 0 or len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print("the classroom zygote is started by the classroom service, as root",
              file=sys.stderr)
        return 4
    ctl = socket.socket(fileno=int(sys.argv[1]))
    _Zygote(ctl).serve()
    return 0


# -- the service's side -------------------------------------------------------

class Worker:
    """One request's worker, as the service sees it: its answer pipe, and
    its pid and pidfd once the zygote has said them."""

    def __init__(self, channel: socket.socket, answer: int) -> None:
        self.channel = channel
        self.answer_fd = answer
        self.pid = 0
        self.pidfd = -1
        self.exit: Optional[int] = None
        self._buf = b""

    def _read_channel(self) -> bool:
        """Reads what the zygote said; False at its end."""
        data, fds, _flags, _addr = socket.recv_fds(self.channel, 4096, 1)
        if fds:
            if self.pidfd < 0:
                self.pidfd = fds[0]
            else:
                for fd in fds:
                    _close(fd)
        if not data:
            return False
        self._buf += data
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            msg = json.loads(line)
            if "pid" in msg:
                self.pid = int(msg["pid"])
            if "exit" in msg:
                self.exit = int(msg["exit"])
        return True

    def started(self, timeout: float) -> None:
        """Waits for the pid (and pidfd): it comes right after the fork."""
        self.channel.settimeout(timeout)
        while self.pidfd < 0:
            if not self._read_channel():
                raise RuntimeError("the classroom zygote ended without starting a worker")

    def read_answer(self, timeout: float, limit: int) -> bytes:
        """Everything the worker writes on its answer pipe, until it closes
        it (ends, or execs a command), at most limit bytes; on timeout the
        worker is killed."""
        sel = selectors.DefaultSelector()
        sel.register(self.answer_fd, selectors.EVENT_READ)
        out = b""
        try:
            while len(out) <= limit:
                if not sel.select(timeout):
                    self.kill()
                    raise TimeoutError("the classroom worker took too long")
                data = os.read(self.answer_fd, 65536)
                if not data:
                    break
                out += data
        finally:
            sel.close()
        return out

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """The worker's exit code, as the zygote reports it (None if the
        zygote went away first)."""
        self.channel.settimeout(timeout)
        while self.exit is None:
            if not self._read_channel():
                return None
        return self.exit

    def signal(self, sig: int) -> None:
        if self.pidfd >= 0:
            try:
                import signal as _signal
                _signal.pidfd_send_signal(self.pidfd, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        import signal as _signal
        self.signal(_signal.SIGKILL)

    def close(self) -> None:
        self.channel.close()
        for fd in (self.answer_fd, self.pidfd):
            if fd >= 0:
                _close(fd)
        self.answer_fd = self.pidfd = -1


class Pool:
    """The service's zygote: started on first use, started again if it
    dies (the request that found it dead is retried once)."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self._lock = threading.Lock()
        self._proc: Optional[subprocess.Popen] = None
        self._ctl: Optional[socket.socket] = None

    def _start(self) -> socket.socket:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "v6lab.classroom.zygote", str(theirs.fileno())],
                env=self._env, cwd="/", stdin=subprocess.DEVNULL, pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        ours.settimeout(120)
        ready = ours.recv(64)
        if not ready:
            self._proc.wait()
            raise RuntimeError(f"the classroom zygote did not start (exit {self._proc.returncode})")
        ours.settimeout(None)
        log.info("zygote pid %d ready", self._proc.pid)
        self._ctl = ours
        return ours

    def start(self) -> None:
        """Starts the zygote now, so the first request does not wait for it."""
        with self._lock:
            if self._ctl is None:
                self._start()

    def spawn(self, env: dict[str, str], stdio: Optional[list[int]] = None,
              session: bool = False) -> Worker:
        """A worker for one request; stdio: the client's three fds (they
        stay the caller's to close)."""
        r, w = os.pipe()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        msg = json.dumps({"env": env, "session": session}).encode()
        try:
            for attempt in (1, 2):
                with self._lock:
                    ctl = self._ctl or self._start()
                    try:
                        socket.send_fds(ctl, [msg], [theirs.fileno(), w, *(stdio or [])])
                        break
                    except (BrokenPipeError, ConnectionResetError):
                        log.warning("the classroom zygote is gone: starting another")
                        self._forget()
                        if attempt == 2:
                            raise
        except BaseException:
            mine.close()
            _close(r)
            raise
        finally:
            theirs.close()
            _close(w)
        return Worker(mine, r)

    def _forget(self) -> None:
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def close(self) -> None:
        """Closing the channel ends the zygote (its workers finish their
        requests on their own)."""
        with self._lock:
            self._forget()


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
