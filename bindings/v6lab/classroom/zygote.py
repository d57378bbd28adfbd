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

import fcntl
import gc
import json
import logging
import os
import selectors
import signal
import socket
import sys
import time
from typing import Any

log = logging.getLogger("v6lab.classroom")

MAX_MESSAGE = 1 << 20  # the service's socket buffer for it (pool.py)
# The fds of a request, in the order they are sent.
CHANNEL, ANSWER, STDIN, STDOUT, STDERR = range(5)
# Where the answer's write end lands in a worker that runs a command in a
# node (its stdio are the client's): V6LAB_CLASS_CONTROL_FD says so.
CONTROL_FD = 3


# -- the zygote's side ------------------------------------------------------

Fingerprint = dict[str, tuple[int, int, int]]


def _curriculum_files() -> Fingerprint:
    """(mtime, size, inode) of every file of every lab folder, catalogues
    and subfolders included: what decides whether the loaded curriculum is
    still the one on disk."""
    from ..course import labs_path
    out: Fingerprint = {}
    for root in labs_path():
        for f in root.glob("*/**/*") if root.is_dir() else ():
            try:
                st = os.stat(f)
            except OSError:
                continue
            if not f.is_dir():
                out[str(f)] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return out


def _settled(files: Fingerprint, now_ns: int) -> bool:
    """False while a file changed in the last two seconds: a save may still
    be under way (an editor that truncates and writes), and a change within
    one clock tick would not show in the mtime."""
    return all(now_ns - mtime > 2_000_000_000 for mtime, _size, _ino in files.values())


def _preload_modules() -> None:
    """Imports what any worker needs, so that no worker searches the path
    for a module (stat calls, on every request)."""
    import importlib
    import pkgutil
    from .. import grading
    importlib.import_module("v6lab.classroom.worker")
    for mod in pkgutil.walk_packages(grading.__path__, grading.__name__ + "."):
        importlib.import_module(mod.name)
    for name in ("rich.console", "rich.table", "pwd", "v6lab.progress", "v6lab.nodesock",
                 "v6lab.detached", "v6lab.lab", "v6lab.course"):
        importlib.import_module(name)
    _warm_up_rendering()


def _load_curriculum() -> dict[str, dict[str, Any]]:
    """The curriculum in every language v6lab ships (a definition's texts
    are in the language it was loaded in). A lab that cannot be loaded is
    left out, in one language or all: the worker then loads it itself and
    says what is wrong with it, as without a zygote."""
    from .. import course, i18n
    out: dict[str, dict[str, Any]] = {}
    for lang in i18n.available_languages():
        previous = i18n.set_language(lang)
        try:
            i18n.translation()
            out[lang] = course.scan_labs()[0]
        except Exception:  # noqa: BLE001 - one broken lab must not stop the service
            log.exception("loading the curriculum in %s failed; its workers load it themselves",
                          lang)
        finally:
            i18n.set_language(previous)
    return out


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


def _forget_curriculum() -> None:
    """The lab modules (v6lab_labs.*) and every catalogue read so far, so
    that the next load reads the files again (gettext keeps each catalogue
    it has read for the life of the process)."""
    import gettext
    import importlib
    from .. import i18n
    for name in [m for m in sys.modules if m == "v6lab_labs" or m.startswith("v6lab_labs.")]:
        del sys.modules[name]
    cache = getattr(gettext, "_translations", None)
    if isinstance(cache, dict):
        cache.clear()
    i18n.clear_cache()
    importlib.invalidate_caches()


class _Zygote:
    def __init__(self, ctl: socket.socket) -> None:
        self.ctl = ctl
        self.sel = selectors.DefaultSelector()
        self.sel.register(ctl, selectors.EVENT_READ)
        # pidfd -> (pid, channel) of each worker not yet reaped
        self.children: dict[int, tuple[int, socket.socket]] = {}
        _preload_modules()
        self.files: Fingerprint = {}
        self.looked = 0.0
        self.remembered = 0.0
        self._look()

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

    def _look(self) -> None:
        """Loads the curriculum again if its files changed. At most once a
        second (a class's burst of checks stats the files once), so an
        edit is graded from the next request a second after it; the new
        definitions replace the old ones whole, only once they are loaded."""
        from . import worker
        now = time.monotonic()
        if now - self.looked < 1.0:
            return
        self.looked = now
        files = _curriculum_files()
        if files == self.files:
            return
        gc.unfreeze()
        if self.files:
            log.info("the curriculum changed on disk: loading it again")
            _forget_curriculum()
        worker.PRELOADED = _load_curriculum()
        # Files still being written are looked at again: a load that read
        # half of them must not count as the current curriculum.
        self.files = files if _settled(files, time.time_ns()) else {"": (0, 0, 0)}
        gc.freeze()

    def _remember(self) -> None:
        """Which PID namespace each host process is in, looked up here so
        that every worker starts knowing it (_core.remember_pid_namespaces):
        a daemon check scans every process of the server, thirty labs' worth
        in a class, and a worker forked with this memory looks up only the
        processes newer than it. At most every 0.2 s (a burst of checks
        shares one scan); it reads the host's /proc and enters nothing."""
        now = time.monotonic()
        if now - self.remembered < 0.2:
            return
        self.remembered = now
        from .._core import remember_pid_namespaces
        try:
            remember_pid_namespaces()
        except Exception:  # noqa: BLE001 - workers then look everything up
            log.exception("zygote: scanning /proc failed")

    def _spawn(self, req: dict[str, Any], fds: list[int]) -> None:
        if _gone(fds[CHANNEL]):
            return  # the service gave up on this request before it came to us
        self._look()
        self._remember()
        channel = socket.socket(fileno=os.dup(fds[CHANNEL]))
        if len(os.listdir("/proc/self/task")) != 1:  # the core's threads count too
            raise RuntimeError("the zygote is no longer single-threaded: refusing to fork")
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._child(req, fds, channel)  # never returns
        pidfd = os.pidfd_open(pid)
        self.children[pidfd] = (pid, channel)
        self.sel.register(pidfd, selectors.EVENT_READ)
        try:
            socket.send_fds(channel, [json.dumps({"pid": pid}).encode() + b"\n"], [pidfd])
        except OSError:
            # The service gave up on this request (a timeout): its worker
            # must not go on without the service's locks and limits.
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)

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
            name_process("v6lab-worker")
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
                # The service's log stays the log: what the worker logs must
                # not reach the trainee's terminal.
                # Above CONTROL_FD: a plain dup could take fd 3, which the
                # answer's write end is about to replace.
                _log_to(fcntl.fcntl(2, fcntl.F_DUPFD_CLOEXEC, CONTROL_FD + 1))
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


def name_process(name: str) -> None:
    """The name ps, top and perf show for this process (all of the
    service's are python3 otherwise): which of them costs what can be seen
    without guessing from process ids."""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name)
    except OSError:
        pass


def _gone(fd: int) -> bool:
    """Whether the other end of a request's channel has hung up."""
    import select
    p = select.poll()
    p.register(fd, select.POLLIN | select.POLLHUP)
    return any(ev & select.POLLHUP for _fd, ev in p.poll(0))


def _log_to(fd: int) -> None:
    """Every logging handler, and tracebacks, write to fd (close-on-exec)."""
    stream = os.fdopen(fd, "w", buffering=1)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s v6lab-class: %(message)s"))
    root.addHandler(handler)


def main() -> int:
    """python -m v6lab.classroom.zygote FD: FD is the service's end."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s v6lab-class: %(message)s")
    if os.geteuid() != 0 or len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print("the classroom zygote is started by the classroom service, as root",
              file=sys.stderr)
        return 4
    ctl = socket.socket(fileno=int(sys.argv[1]))
    name_process("v6lab-zygote")
    _Zygote(ctl).serve()
    return 0


# -- the service's side -------------------------------------------------------

def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
