"""The classroom service: labs built, entered and graded for trainees who
have no root, by a root process they talk to over a Unix socket.

Who asks is what the kernel says of the connection (SO_PEERCRED: uid, gid,
pid at connect time), never anything the client sends. Each connection
carries one request (v6lab.classroom.protocol) and gets one answer; each
is served by a thread of its own, and the work itself by a worker process
(v6lab.classroom.worker, forked from the zygote: v6lab.classroom.zygote)
with the trainee's directories of the service in its environment, so
grading one trainee never waits for another's, and a crash is one refused
request. Per trainee: one request that changes their
labs at a time (a lock), at most `max_labs` labs running, at most
`max_connections` connections open.

Labs are built by root (the worker, through a detached supervisor), so
their user namespaces are children of the host's, owned by root: the
trainee cannot enter them from outside, only through `exec`, `shell` and
`capture` here, on nodes the lab does not provide.
"""

from __future__ import annotations

import gettext
import grp
import json
import logging
import os
import pwd
import selectors
import signal
import socket
import stat
import struct
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from .. import i18n, paths, registry
from ..i18n import N_
from . import export, pool, protocol, state, trust, zygote
from .protocol import ProtocolError

log = logging.getLogger("v6lab.classroom")


def translated(lang: Optional[str], message: str) -> str:
    """message in the language the client asked for (thread-safe: the
    service serves many languages at once, so never the process's own)."""
    if not lang:
        return message
    t = _catalogues.get(lang)
    if t is None:
        t = gettext.translation(i18n.DOMAIN, str(i18n.LOCALE_DIR), languages=[lang],
                                fallback=True)
        # Only languages that have a catalogue are kept: any caller may name
        # a new one per request, and the cache must not grow with them.
        if not isinstance(t, gettext.GNUTranslations):
            return message
        _catalogues[lang] = t
    return i18n.lookup(t, message)


_catalogues: dict[str, gettext.NullTranslations] = {}

DEFAULT_SOCKET = Path("/run/v6lab-class/class.sock")
DEFAULT_STATE_DIR = Path("/var/lib/v6lab-class")
REQUEST_TIMEOUT = 30.0
WORKER_TIMEOUT = 600.0
MAX_CONNECTIONS = 256
# Passed on to workers from the service's own environment (the instructor's
# setup), never from a trainee's.
_PASSED_ON = ("V6LAB_LABS", "V6LAB_IMAGES", "PATH")


@dataclass
class Config:
    socket_path: Path = DEFAULT_SOCKET
    state_dir: Path = DEFAULT_STATE_DIR
    instructor_group: str = ""
    max_labs: int = 2
    max_connections: int = 8
    stuck_after: int = state.DEFAULT_STUCK_AFTER


@dataclass(frozen=True)
class Peer:
    """The caller as the kernel knows it."""

    pid: int
    uid: int
    gid: int
    name: str


def peer_of(conn: socket.socket) -> Peer:
    fmt = "3i"
    pid, uid, gid = struct.unpack(fmt, conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                       struct.calcsize(fmt)))
    return Peer(pid, uid, gid, user_name(uid))


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def is_instructor(uid: int, gid: int, group: str) -> bool:
    """Root, or a member of the instructor group: by the kernel's gid of
    the connection, or by the group database (primary or listed member)."""
    if uid == 0:
        return True
    if not group:
        return False
    try:
        g = grp.getgrnam(group)
    except KeyError:
        return False
    if gid == g.gr_gid:
        return True
    try:
        pw = pwd.getpwuid(uid)
    except KeyError:
        return False
    return pw.pw_gid == g.gr_gid or pw.pw_name in g.gr_mem


def resolve_trainee(who: str, lang: Optional[str] = None) -> tuple[int, str]:
    """(uid, name) of a trainee named by login name or uid."""
    try:
        pw = pwd.getpwuid(int(who)) if who.isdigit() else pwd.getpwnam(who)
    except (KeyError, ValueError):
        raise ProtocolError(translated(lang, N_("no user {user} on this machine")).format(
            user=who), protocol.EXIT_FAILED) from None
    return pw.pw_uid, pw.pw_name


@dataclass
class _Counters:
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: dict[int, int] = field(default_factory=dict)
    total: int = 0


class Service:
    """The service; serve() runs it until SIGTERM or SIGINT."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._locks: dict[int, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._counters = _Counters()
        self._stopping = threading.Event()
        self._sock: Optional[socket.socket] = None
        self._pool = pool.Pool(self._base_env())

    # -- setup --------------------------------------------------------------
    def bind(self) -> None:
        """The state directory (root's, 0700) and the socket (0666 in a
        directory root owns: any local user may connect; the kernel tells
        the service who did)."""
        state.ensure_private_dir(self.config.state_dir)
        path = self.config.socket_path
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        st = os.lstat(path.parent)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
            raise OSError(f"{path.parent} must be a directory of root's that only root can write")
        _remove_stale_socket(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        s.bind(str(path))
        os.chmod(path, 0o666)
        s.listen(64)
        self._sock = s

    def serve(self) -> None:
        if self._sock is None:
            self.bind()
        assert self._sock is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stopping.set())
        self._sock.settimeout(0.5)
        try:
            self._pool.start()
            log.info("serving on %s, records in %s", self.config.socket_path,
                     self.config.state_dir)
            while not self._stopping.is_set():
                try:
                    conn, _addr = self._sock.accept()
                except socket.timeout:
                    continue
                except InterruptedError:
                    continue
                threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()
        finally:
            self.close()

    def close(self) -> None:
        self._pool.close()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            try:
                if stat.S_ISSOCK(os.lstat(self.config.socket_path).st_mode):
                    os.unlink(self.config.socket_path)
            except FileNotFoundError:
                pass

    # -- one connection -------------------------------------------------------
    def _serve_one(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(REQUEST_TIMEOUT)
            try:
                peer = peer_of(conn)
            except OSError:
                return
            why = trust.caller_problem(conn, peer.pid, peer.uid)
            if why:
                log.warning("refused pid %d uid %d: %s", peer.pid, peer.uid, why)
                _send(conn, protocol.refusal(why, protocol.EXIT_DENIED))
                return
            if not self._admit(peer.uid):
                _send(conn, protocol.refusal("too many requests at once from you: wait for one "
                                             "to end", protocol.EXIT_FAILED))
                return
            try:
                self._serve_request(conn, peer)
            finally:
                self._release(peer.uid)

    def _serve_request(self, conn: socket.socket, peer: Peer) -> None:
        fds: list[int] = []
        try:
            line, fds, rest = _read_request(conn)
            req = protocol.parse(line)
            self._authorize(peer, req, fds)
            log.info("uid %d (%s) pid %d: %s", peer.uid, peer.name, peer.pid, req.op)
            self._dispatch(conn, peer, req, fds, rest)
        except ProtocolError as e:
            _send(conn, protocol.refusal(str(e), e.code))
        except (pool.WorkerTimeout, pool.WorkerFailed) as e:
            # Before the OSErrors: a worker's trouble is the trainee's to
            # hear about, and the instructor's to read in the log.
            log.error("uid %d: %s", peer.uid, e)
            _send(conn, protocol.refusal(f"{e}: ask your instructor to look at the service's "
                                         f"log", protocol.EXIT_INTERNAL))
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
        except Exception as e:  # noqa: BLE001 - the service keeps serving
            log.exception("uid %d: request failed", peer.uid)
            _send(conn, protocol.refusal(f"internal error in the classroom service: "
                                         f"{type(e).__name__}", protocol.EXIT_INTERNAL))
        finally:
            for fd in fds:
                _close(fd)

    def _admit(self, uid: int) -> bool:
        c = self._counters
        with c.lock:
            if c.total >= MAX_CONNECTIONS or c.open.get(uid, 0) >= self.config.max_connections:
                return False
            c.open[uid] = c.open.get(uid, 0) + 1
            c.total += 1
            return True

    def _release(self, uid: int) -> None:
        c = self._counters
        with c.lock:
            c.open[uid] -= 1
            c.total -= 1

    def _authorize(self, peer: Peer, req: protocol.Request, fds: list[int]) -> None:
        if protocol.who_may(req.op) == "instructor" and \
                not is_instructor(peer.uid, peer.gid, self.config.instructor_group):
            lang = req.args.get("lang")
            if self.config.instructor_group:
                msg = translated(lang, N_("{op} is for instructors: root or members of the "
                                          "group {group}")).format(
                    op=req.op, group=self.config.instructor_group)
            else:
                msg = translated(lang, N_("{op} is for instructors: root (this class has no "
                                          "instructor group)")).format(op=req.op)
            raise ProtocolError(msg, protocol.EXIT_DENIED)
        if protocol.passes_fds(req.op) != bool(fds) or (fds and len(fds) != 3):
            raise ProtocolError(f"{req.op} takes " + ("your stdin, stdout and stderr"
                                                       if protocol.passes_fds(req.op)
                                                       else "no file descriptors"))
        for fd in fds:
            why = trust.fd_problem(fd)
            if why:
                raise ProtocolError(f"{req.op}: {why}", protocol.EXIT_DENIED)

    @contextmanager
    def _trainee_lock(self, uid: int) -> Iterator[None]:
        with self._locks_lock:
            lock = self._locks.setdefault(uid, threading.Lock())
        with lock:
            yield

    def _dispatch(self, conn: socket.socket, peer: Peer, req: protocol.Request,
                  fds: list[int], rest: bytes) -> None:
        op, args = req.op, req.args
        if op == "hello":
            _send(conn, protocol.answer({
                "uid": peer.uid, "user": peer.name, "version": protocol.VERSION,
                "instructor": is_instructor(peer.uid, peer.gid, self.config.instructor_group),
                "socket": str(self.config.socket_path)}))
        elif op in ("class-status", "class-export"):
            rows = self.rows(args.get("stuck_after"))
            result: Any = [r.to_dict() for r in rows] if op == "class-status" else \
                {"format": args["format"], "text": export.export(rows, args["format"])}
            _send(conn, protocol.answer(result))
        elif op in ("class-reset", "class-solve"):
            uid, name = resolve_trainee(args["trainee"], args.get("lang"))
            if not (self.config.state_dir / "users" / str(uid)).is_dir():
                raise ProtocolError(translated(args.get("lang"), N_(
                    "{user} has not started any lab in this class")).format(user=name),
                    protocol.EXIT_FAILED)
            with self._trainee_lock(uid):
                _send(conn, self._work(uid, name, op, args, by="instructor"))
        elif protocol.passes_fds(op):
            self._run_in_node(conn, peer, req, fds, rest)
        else:
            with self._trainee_lock(peer.uid):
                _send(conn, self._work(peer.uid, peer.name, op, args, by="trainee"))

    # -- workers --------------------------------------------------------------
    @staticmethod
    def _base_env() -> dict[str, str]:
        """The environment of the zygote and the base of every worker's."""
        env = {k: os.environ[k] for k in _PASSED_ON if k in os.environ}
        env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        env.update({"HOME": "/root", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                    "PYTHONPATH": str(paths.PACKAGE_DIR.parent)})
        return env

    def _worker_env(self, uid: int, name: str, op: str, args: dict[str, Any],
                    by: str) -> dict[str, str]:
        d = state.trainee_dirs(self.config.state_dir, uid, name)
        env = self._base_env()
        env.update({
            "V6LAB_LANG": args.get("lang") or "en",
            "V6LAB_STATE_DIR": str(d.run), "V6LAB_PROGRESS": str(d.progress),
            "V6LAB_CLASS_EVENTS": str(d.events), "V6LAB_CLASS_REPORTS": str(d.reports),
            "V6LAB_CLASS_USER": name, "V6LAB_CLASS_BY": by,
            "V6LAB_CLASS_MAX_LABS": str(self.config.max_labs),
            "V6LAB_CLASS_REQUEST": json.dumps({"op": op, "args": args}),
        })
        return env

    def _work(self, uid: int, name: str, op: str, args: dict[str, Any], by: str) -> bytes:
        """The worker's answer line for a request that runs nothing in a node."""
        w = self._pool.spawn(self._worker_env(uid, name, op, args, by))
        try:
            out = w.read_answer(WORKER_TIMEOUT, protocol.MAX_ANSWER)
            code = w.wait(REQUEST_TIMEOUT)
        finally:
            w.close()
        lines = out.strip().splitlines()
        if not lines:
            raise RuntimeError(f"the worker for {op} answered nothing (exit {code})")
        protocol.read_answer(lines[-1])  # checked before it is passed on
        return lines[-1] + b"\n"

    def _run_in_node(self, conn: socket.socket, peer: Peer, req: protocol.Request,
                     fds: list[int], rest: bytes) -> None:
        """exec, shell, capture: a worker with the client's stdio checks
        the node and becomes v6lab-nsexec; the answer is its exit code."""
        env = self._worker_env(peer.uid, peer.name, req.op, req.args, by="trainee")
        env["V6LAB_CLASS_CONTROL_FD"] = str(zygote.CONTROL_FD)
        try:
            w = self._pool.spawn(env, stdio=fds, session=True)
        finally:
            for fd in fds:
                _close(fd)
            fds.clear()
        try:
            first = w.read_answer(WORKER_TIMEOUT, protocol.MAX_LINE).strip()
            ok = False
            if first:
                ok, _res, _code = protocol.read_answer(first.splitlines()[0])
            if not ok:
                w.wait(REQUEST_TIMEOUT)
                _send(conn, first.splitlines()[0] + b"\n" if first else
                      protocol.refusal("the classroom service could not run that", 70))
                return
            code = _wait_relaying(conn, w, rest)
            if code is not None:
                _send(conn, protocol.answer({"exit": code}))
        finally:
            w.close()

    # -- the class view ----------------------------------------------------------
    def running(self) -> dict[tuple[int, str], bool]:
        """(uid, lab) of every trainee's lab that runs now, from the
        service's own records (each checked: live owner, valid record)."""
        out: dict[tuple[int, str], bool] = {}
        users = self.config.state_dir / "users"
        for labs in users.glob("*/run/labs"):
            uid = labs.parent.parent.name
            if not uid.isdigit():
                continue
            for d in labs.iterdir():
                try:
                    rec = registry.LabRecord.from_json(
                        json.loads(registry.read_record_file(d / "lab.json")))
                except (OSError, ValueError, registry.RecordError):
                    continue
                course = rec.meta.get("course")
                if isinstance(course, str) and rec.alive():
                    out[(int(uid), course)] = True
        return out

    def rows(self, stuck_after: Optional[int] = None) -> list[state.Row]:
        return state.class_rows(self.config.state_dir, self.running(),
                                stuck_after if stuck_after is not None
                                else self.config.stuck_after)


def _wait_relaying(conn: socket.socket, w: pool.Worker, rest: bytes) -> Optional[int]:
    """Waits for the command; passes the client's window size changes on
    (SIGWINCH) and kills the command if the client goes away. The exit
    code, or None if the client is gone."""
    reader = protocol.LineReader()
    sel = selectors.DefaultSelector()
    sel.register(conn, selectors.EVENT_READ)
    sel.register(w.pidfd, selectors.EVENT_READ)
    conn.setblocking(False)
    try:
        pending = reader.feed(rest) if rest else []
        while True:
            for line in pending:
                if b'"winch"' in line:
                    w.signal(signal.SIGWINCH)
            pending = []
            events = sel.select()
            if any(key.fd == w.pidfd for key, _ in events):
                code = w.wait(REQUEST_TIMEOUT)
                return 70 if code is None else (128 - code if code < 0 else code)
            try:
                data = conn.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:  # the client is gone: so is its command
                _stop(w)
                return None
            try:
                pending = reader.feed(data)
            except ProtocolError:
                pending = []
    finally:
        sel.close()
        conn.setblocking(True)


def _stop(w: pool.Worker) -> None:
    w.signal(signal.SIGTERM)
    try:
        w.wait(3)
    except pool.WorkerTimeout:
        w.kill()
        w.wait(REQUEST_TIMEOUT)


def _read_request(conn: socket.socket) -> tuple[bytes, list[int], bytes]:
    """The first line, the fds that came with it (at most 3) and what
    followed the line."""
    buf = b""
    fds: list[int] = []
    while b"\n" not in buf:
        try:
            data, got, flags, _addr = socket.recv_fds(conn, 65536, 3)
        except OSError as e:
            for fd in fds:
                _close(fd)
            raise ProtocolError(f"reading the request: {e.strerror or e}") from None
        fds += got
        if flags & socket.MSG_CTRUNC:
            for fd in fds:
                _close(fd)
            raise ProtocolError("too many file descriptors with the request (at most 3)")
        if not data:
            for fd in fds:
                _close(fd)
            raise ProtocolError("the request ended before its newline")
        buf += data
        if len(buf) > protocol.MAX_LINE:
            for fd in fds:
                _close(fd)
            raise ProtocolError(f"request larger than {protocol.MAX_LINE} bytes")
    line, rest = buf.split(b"\n", 1)
    return line, fds, rest


def _remove_stale_socket(path: Path) -> None:
    """A socket left by a service that died is removed; a live service's,
    or anything that is not a socket, is an error."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise OSError(f"{path} exists and is not a socket: remove it first")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        raise OSError(f"another classroom service is listening on {path}")
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)
    finally:
        probe.close()


def _send(conn: socket.socket, line: bytes) -> None:
    try:
        conn.sendall(line)
    except OSError:
        pass


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
