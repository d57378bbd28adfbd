"""The classroom service's side of its workers: the zygote it starts (and
starts again when it dies or hangs), and each request's worker as the
service sees it (its answer pipe, its pid and pidfd, its exit code). The
zygote's own side, and why there is one, are in v6lab.classroom.zygote."""

from __future__ import annotations

import errno
import json
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
from typing import Optional

log = logging.getLogger("v6lab.classroom")


class WorkerTimeout(Exception):
    """A worker, or the zygote, did not answer in time. Not an OSError (nor
    a TimeoutError, which socket timeouts are): the service tells the
    trainee so and logs it, instead of treating it as a client gone."""


class WorkerFailed(Exception):
    """A worker that could not be started or answered something unusable;
    the message says which."""


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

    def _read_channel(self, timeout: Optional[float]) -> bool:
        """Reads what the zygote said; False at its end."""
        self.channel.settimeout(timeout)
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.channel, 4096, 1)
        except socket.timeout:
            raise WorkerTimeout("the classroom service's zygote did not answer in time") from None
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
        while self.pidfd < 0:
            if not self._read_channel(timeout):
                raise WorkerFailed("the classroom zygote ended without starting a worker")

    def read_answer(self, timeout: float, limit: int) -> bytes:
        """Everything the worker writes on its answer pipe, until it closes
        it (ends, or execs a command). The worker is killed if it takes
        longer than timeout, or writes more than limit bytes."""
        sel = selectors.DefaultSelector()
        sel.register(self.answer_fd, selectors.EVENT_READ)
        out = bytearray()
        try:
            while True:
                if not sel.select(timeout):
                    self.kill()
                    raise WorkerTimeout(f"the classroom service's worker took longer than "
                                        f"{timeout:g} s")
                data = os.read(self.answer_fd, 65536)
                if not data:
                    return bytes(out)
                out += data
                if len(out) > limit:
                    self.kill()
                    raise WorkerFailed(f"the classroom service's worker answered more than "
                                       f"{limit} bytes")
        finally:
            sel.close()

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """The worker's exit code, as the zygote reports it (None if the
        zygote went away first)."""
        while self.exit is None:
            if not self._read_channel(timeout):
                return None
        return self.exit

    def signal(self, sig: int) -> None:
        if self.pidfd >= 0:
            try:
                signal.pidfd_send_signal(self.pidfd, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def close(self) -> None:
        self.channel.close()
        for fd in (self.answer_fd, self.pidfd):
            if fd >= 0:
                _close(fd)
        self.answer_fd = self.pidfd = -1


# How long the service waits for the zygote to take a request and fork: it
# does nothing else, so a zygote this late is hung (a lab's import blocked
# on a dead mount, a SIGSTOP) and is replaced.
ZYGOTE_TIMEOUT = 10.0


class Pool:
    """The service's zygote: started on first use, and started again if it
    dies or hangs (a request that found it dead is retried once; one that
    found it hung fails, since it may have been taken)."""

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
        try:
            ready = ours.recv(64)
        except socket.timeout:
            ready = b""
        if not ready:
            self._proc.kill()
            self._proc.wait()
            ours.close()
            raise WorkerFailed(f"the classroom zygote did not start (exit "
                               f"{self._proc.returncode}; see the service's log)")
        # A request is at most MAX_LINE bytes, its environment a few more:
        # room for it whatever the host's default socket buffer.
        ours.setsockopt(socket.SOL_SOCKET, 32, 1 << 20)  # SO_SNDBUFFORCE (root)
        ours.settimeout(ZYGOTE_TIMEOUT)
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
        """A started worker for one request; stdio: the client's three fds
        (they stay the caller's to close)."""
        r, w = os.pipe()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # Not ASCII-escaped: a request's non-ASCII text stays its own size.
        msg = json.dumps({"env": env, "session": session}, ensure_ascii=False).encode()
        worker = Worker(mine, r)
        try:
            self._send(msg, [theirs.fileno(), w, *(stdio or [])])
            theirs.close()
            _close(w)
            try:
                worker.started(ZYGOTE_TIMEOUT)
            except WorkerTimeout:
                self._replace("took no request for %g s" % ZYGOTE_TIMEOUT)
                raise
        except BaseException:
            worker.close()
            theirs.close()
            _close(w)
            raise
        return worker

    def _send(self, msg: bytes, fds: list[int]) -> None:
        for attempt in (1, 2):
            with self._lock:
                ctl = self._ctl or self._start()
                try:
                    socket.send_fds(ctl, [msg], fds)
                    return
                except (BrokenPipeError, ConnectionResetError):
                    log.warning("the classroom zygote is gone: starting another")
                    self._forget()
                    if attempt == 2:
                        raise WorkerFailed("the classroom zygote died twice in a row") from None
                except socket.timeout:
                    self._forget(kill=True)
                    log.error("the classroom zygote took no request for %g s: replaced",
                              ZYGOTE_TIMEOUT)
                    raise WorkerTimeout("the classroom service's zygote did not answer in "
                                        "time") from None
                except OSError as e:
                    if e.errno == errno.EMSGSIZE:
                        raise WorkerFailed("the request is too large for the classroom "
                                           "service") from None
                    raise

    def _replace(self, why: str) -> None:
        with self._lock:
            log.error("the classroom zygote %s: replaced", why)
            self._forget(kill=True)

    def _forget(self, kill: bool = False) -> None:
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None
        if self._proc is not None:
            if kill:
                self._proc.kill()
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
