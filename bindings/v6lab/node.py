"""Nodes of a lab: run commands and daemons in them, read their kernel
state over netlink from outside, and send probes from inside their network
namespace. A Node belongs to a lab view (v6lab.lab): the owner's Lab or a
RunningLab found through its record; both reach the same processes.
"""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence, TypeVar, Union

from . import _core, paths
from ._core import Error

if TYPE_CHECKING:
    from .lab import LabView

T = TypeVar("T")
Command = Union[str, Sequence[str]]

_FAMILIES = {None: 0, 0: 0, 4: socket.AF_INET, 6: socket.AF_INET6}


def wait_until(predicate: Callable[[], T], timeout: float = 5.0,
               interval: float = 0.05, what: str = "a condition") -> T:
    """Polls predicate until it returns something truthy and returns that.
    The kernel applies some state late (DAD takes about a second, RAs come
    on a timer): wait for it instead of sleeping a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Error(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class CmdResult:
    """Exit code, stdout and stderr of a command run in a node."""

    def __init__(self, node: str, args: list[str], returncode: int,
                 stdout: str, stderr: str) -> None:
        self.node = node
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def check(self) -> "CmdResult":
        """Raises Error if the command failed; returns self otherwise."""
        if self.returncode != 0:
            err = self.stderr.strip().splitlines()
            detail = f": {err[-1]}" if err else ""
            raise Error(f"{self.node}: '{' '.join(self.args)}' exited with "
                        f"{self.returncode}{detail}")
        return self

    def __repr__(self) -> str:
        return (f"CmdResult(node={self.node!r}, returncode={self.returncode}, "
                f"stdout={self.stdout[:60]!r}, stderr={self.stderr[:60]!r})")


class NodeProcess(subprocess.Popen):
    """A long-running process in a node (a daemon). Its output goes to
    log_path unless the caller asked for pipes. It dies with the node."""

    node: str
    log_path: Optional[Path]


def _run(argv: list[str], input: Optional[str], timeout: Optional[float],
         env: Mapping[str, str]) -> tuple[Optional[int], str, str]:
    """Runs argv, feeding input; returns (exit code, stdout, stderr), or
    (None, ...) after killing it on timeout. Unlike subprocess.run it stops
    reading once the process has exited and its pipes are drained."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert p.stdout is not None and p.stderr is not None
    bufs: dict[int, list[bytes]] = {p.stdout.fileno(): [], p.stderr.fileno(): []}
    pending = (input or "").encode()
    sel = selectors.DefaultSelector()
    for f in (p.stdout, p.stderr):
        os.set_blocking(f.fileno(), False)
        sel.register(f.fileno(), selectors.EVENT_READ)
    stdin_fd = -1
    if p.stdin is not None:
        os.set_blocking(p.stdin.fileno(), False)
        if pending:
            stdin_fd = p.stdin.fileno()
            sel.register(stdin_fd, selectors.EVENT_WRITE)
        else:
            p.stdin.close()
    pidfd = os.pidfd_open(p.pid)
    sel.register(pidfd, selectors.EVENT_READ)
    deadline = None if timeout is None else time.monotonic() + timeout
    exited = False
    try:
        while not exited:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                p.kill()
                p.wait()
                return None, "", ""
            for key, _ in sel.select(left):
                fd = key.fd
                if fd == pidfd:
                    exited = True
                elif fd == stdin_fd:
                    try:
                        n = os.write(fd, pending[:65536])
                        pending = pending[n:]
                    except BrokenPipeError:
                        pending = b""
                    if not pending:
                        sel.unregister(fd)
                        p.stdin.close()
                        stdin_fd = -1
                else:
                    chunk = os.read(fd, 65536)
                    if chunk:
                        bufs[fd].append(chunk)
                    else:
                        sel.unregister(fd)
        # Drain what the command left in the pipes, without waiting for
        # background children that still hold them.
        for fd, buf in bufs.items():
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                buf.append(chunk)
    finally:
        sel.close()
        os.close(pidfd)
        for f in (p.stdin, p.stdout, p.stderr):
            if f is not None and not f.closed:
                f.close()
    code = p.wait()
    out, err = (b"".join(bufs[f]).decode("utf-8", "replace")
                for f in bufs)
    return code, out, err


def _argv(command: Command) -> list[str]:
    if isinstance(command, str):
        return ["/bin/sh", "-c", command]
    return [str(a) for a in command]


class Node:
    """One node of a running lab: a separate machine as far as networking,
    hostname, /etc, /run, /tmp and processes go."""

    def __init__(self, lab: "LabView", name: str, pid: int, starttime: int) -> None:
        self.lab = lab
        self.name = name
        self.pid = pid
        self.starttime = starttime
        self._handle: Optional[_core.NodeHandle] = None

    def __repr__(self) -> str:
        return f"<Node {self.name} ({self.image}) of lab {self.lab.name}>"

    @property
    def spec(self) -> _core.NodeSpec:
        """The node as the lab's resolved spec has it: images, roles,
        interfaces (what each connects to), sysctls, routes."""
        return self.lab.node_spec(self.name)

    @property
    def image(self) -> str:
        """The node's images, joined by '+'."""
        return self.spec.image

    @property
    def provider(self) -> bool:
        """Whether the lab provides this node (the ISP, "the Internet"):
        trainees do not log into it (`v6lab shell`/`exec` refuse it)."""
        return self.spec.provider

    @property
    def roles(self) -> list[str]:
        """The roles of the node's images (host, router, server, provider)."""
        return list(self.spec.roles)

    # -- running things ----------------------------------------------------
    def env(self, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
        """The environment of commands in the node: a clean one, as on a
        fresh machine, not the caller's."""
        e = {
            # /opt/v6lab/bin: v6lab's own programs (v6lab-ra), bound
            # read-only into every node (core/tools/node_root.cpp).
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/v6lab/bin",
            "HOME": "/root",
            "LANG": "C.UTF-8",
            "TERM": os.environ.get("TERM", "xterm"),
            "V6LAB_NODE": self.name,
            "V6LAB_LAB": self.lab.name,
        }
        if extra:
            e.update(extra)
        return e

    def exec_argv(self, command: Command, cwd: str = "/") -> list[str]:
        """The argv that runs command inside this node (for subprocess)."""
        return [str(paths.NSEXEC), "--cwd", cwd, str(self.pid),
                str(self.starttime), "--", *_argv(command)]

    def cmd(self, command: Command, *, timeout: Optional[float] = 30.0,
            input: Optional[str] = None, check: bool = False,
            env: Optional[Mapping[str, str]] = None, cwd: str = "/") -> CmdResult:
        """Runs command in the node (a string goes through /bin/sh -c) and
        returns its exit code, stdout and stderr. It returns when the command
        exits, even if something it started in the background still holds
        its output open (`radvd &` does not hang). On timeout the command is
        killed and Error is raised."""
        args = _argv(command)
        code, out, err = _run(self.exec_argv(args, cwd), input, timeout, self.env(env))
        if code is None:
            raise Error(f"{self.name}: '{' '.join(args)}' did not finish within "
                        f"{timeout:g} s and was killed")
        r = CmdResult(self.name, args, code, out, err)
        return r.check() if check else r

    def popen(self, command: Command, *, name: Optional[str] = None,
              log: bool = True, env: Optional[Mapping[str, str]] = None,
              **kwargs: Any) -> NodeProcess:
        """Starts a long-running process (e.g. radvd -n) in the node. With
        log=True its stdout and stderr go to the lab's log directory for the
        node (see log_path); otherwise the caller passes stdout=... etc."""
        args = _argv(command)
        log_path = None
        if log:
            if name:
                label = name
            elif isinstance(command, str):
                label = command.split()[0].rsplit("/", 1)[-1]
            else:
                label = Path(args[0]).name
            log_dir = self.lab.log_dir / self.name
            log_dir.mkdir(parents=True, exist_ok=True)
            log_path = log_dir / f"{label}.log"
            out = open(log_path, "ab")
            kwargs.setdefault("stdin", subprocess.DEVNULL)
            kwargs["stdout"] = out
            kwargs["stderr"] = subprocess.STDOUT
        try:
            p = NodeProcess(self.exec_argv(args), env=self.env(env), **kwargs)
        finally:
            if log:
                out.close()
        p.node = self.name
        p.log_path = log_path
        self.lab._processes.append(p)
        return p

    # -- kernel state, read over netlink from outside the node ---------------
    @property
    def handle(self) -> _core.NodeHandle:
        if self._handle is None:
            self._handle = self.lab._handle(self)
        return self._handle

    def links(self) -> list[_core.LinkInfo]:
        return self.handle.links()

    def link(self, ifname: str) -> _core.LinkInfo:
        for link in self.links():
            if link.name == ifname:
                return link
        raise Error(f"{self.name} has no interface '{ifname}'")

    def addresses(self, ifname: Optional[str] = None,
                  family: Optional[int] = None) -> list[_core.AddressInfo]:
        """Addresses with flags and lifetimes; family 6 or 4 to filter."""
        addrs = self.handle.addresses(_FAMILIES[family])
        return [a for a in addrs if ifname is None or a.ifname == ifname]

    def routes(self, family: Optional[int] = None,
               all_tables: bool = False) -> list[_core.RouteInfo]:
        return self.handle.routes(_FAMILIES[family], all_tables)

    def neighbours(self, ifname: Optional[str] = None,
                   family: Optional[int] = None) -> list[_core.NeighbourInfo]:
        ns = self.handle.neighbours(_FAMILIES[family])
        return [n for n in ns if ifname is None or n.ifname == ifname]

    def sysctl(self, key: str) -> str:
        return self.handle.sysctl(key)

    def set_sysctl(self, key: str, value: Union[str, int]) -> None:
        self.handle.set_sysctl(key, str(value))

    # -- files and processes, read from outside through the node's init -----
    def read_file(self, path: str, *, max_bytes: int = 65536, timeout: float = 2.0,
                  follow_symlinks: bool = True) -> bytes:
        """A regular file inside the node, read from the host without running
        anything in the node and without trusting its paths: symlinks stay
        inside the node's root (or are refused with follow_symlinks=False);
        FIFOs, devices, directories, pseudo filesystems and files over
        max_bytes raise NodeFileError, which says what was wrong."""
        return _core.read_node_file(self.name, self.pid, self.starttime, path,
                                    max_bytes, timeout, follow_symlinks)

    def processes(self) -> list[_core.NodeProcess]:
        """The node's processes as the host's /proc reports them (host and
        node PIDs, executable device and inode, uids, comm, state)."""
        return _core.list_node_processes(self.name, self.pid, self.starttime)

    def multicast_groups(self, ifname: Optional[str] = None) -> list[_core.MulticastGroup]:
        """IPv6 multicast groups joined (the kernel's igmp6 table of the node)."""
        groups = _core.node_multicast_groups(self.name, self.pid, self.starttime)
        return [g for g in groups if ifname is None or g.ifname == ifname]

    # -- active probes, sent by the core from inside the node's namespace ----
    def ping(self, dst: str, *, count: int = 1, timeout: float = 1.0,
             interval: float = 0.05, hop_limit: Optional[int] = None, size: int = 56,
             dont_fragment: bool = False, iface: Optional[str] = None,
             src: Optional[str] = None) -> _core.PingResult:
        """ICMPv6 (or ICMP) echo from this node: replies with RTTs and the
        ICMP errors received (unreachable, packet too big, time exceeded).
        A link-local dst needs iface (or dst%iface)."""
        return self.handle.ping(dst, count, timeout, interval,
                                -1 if hop_limit is None else hop_limit, size,
                                dont_fragment, iface or "", src or "")

    def traceroute(self, dst: str, *, max_hops: int = 16, timeout: float = 1.0,
                   iface: Optional[str] = None) -> _core.TracerouteResult:
        return self.handle.traceroute(dst, max_hops, timeout, iface or "")

    def tcp_connect(self, addr: str, port: int, *, timeout: float = 2.0,
                    send: str = "") -> _core.ConnectResult:
        return self.handle.tcp_connect(addr, port, timeout, send)

    def udp_exchange(self, addr: str, port: int, payload: bytes | str, *,
                     timeout: float = 2.0) -> _core.ConnectResult:
        data = payload.encode() if isinstance(payload, str) else payload
        return self.handle.udp_exchange(addr, port, data, timeout)

    def dns_query(self, server: str, name: str, qtype: str = "AAAA", *,
                  timeout: float = 2.0, port: int = 53) -> _core.DnsResult:
        return self.handle.dns_query(server, name, qtype, timeout, port)

    def socket(self, *args: Any, **kw: Any) -> Any:
        """A socket.socket inside this node's netns (see v6lab.nodesock)."""
        from .nodesock import open_socket
        return open_socket(self.handle, *args, **kw)

    def router_adverts(self, iface: str, *, solicit: bool = True, duration: float = 2.0,
                       stop_at_first: bool = True) -> list[_core.RouterAdvert]:
        """Router Advertisements seen on iface within duration seconds (after
        sending a Router Solicitation if solicit)."""
        return self.handle.router_adverts(iface, solicit, duration, stop_at_first)

    def wait_addresses_ready(self, ifname: Optional[str] = None,
                             timeout: float = 10.0) -> list[_core.AddressInfo]:
        """Waits until duplicate address detection has finished on every IPv6
        address (none tentative). Raises if one failed DAD."""
        def ready() -> Optional[list[_core.AddressInfo]]:
            addrs = self.addresses(ifname, 6)
            failed = [a for a in addrs if a.dadfailed]
            if failed:
                raise Error(f"{self.name}: duplicate address detection failed for "
                            + ", ".join(f"{a.cidr} on {a.ifname}" for a in failed))
            if any(a.tentative for a in addrs):
                return None
            return addrs or None
        where = f"{self.name}:{ifname}" if ifname else self.name
        return wait_until(ready, timeout, what=f"IPv6 addresses of {where} to leave DAD")
