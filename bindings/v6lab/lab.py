"""Labs and nodes: build a topology, run things in its nodes, read their
kernel state, and tear everything down.

A Lab is owned by the process that starts it. Its nodes are held by small
init processes that exit when the owner does, whatever the reason, so a lab
never outlives its owner. A lab started detached (see v6lab.detached) is
owned by a supervisor process; other processes reach it through its record
with Lab.attach().
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, TypeVar, Union

from . import _core, paths, registry, userns
from ._core import Error
from .errors import NeedsRootError
from .topo import RawSpec, Topo, load_topology

T = TypeVar("T")
Command = Union[str, Sequence[str]]
TopoSource = Union[Topo, Mapping[str, Any], str, Path]

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

    def __init__(self, lab: "Lab", name: str, pid: int, starttime: int,
                 image: str) -> None:
        self.lab = lab
        self.name = name
        self.pid = pid
        self.starttime = starttime
        self.image = image
        self._handle: Optional[_core.NodeHandle] = None

    def __repr__(self) -> str:
        return f"<Node {self.name} ({self.image}) of lab {self.lab.name}>"

    @property
    def provider(self) -> bool:
        """Whether the lab provides this node (the ISP, "the Internet"):
        trainees do not log into it (`v6lab shell`/`exec` refuse it)."""
        return bool(self.lab.spec.get("nodes", {}).get(self.name, {}).get("provider"))

    @property
    def roles(self) -> list[str]:
        """The roles of the node's images (host, router, server, provider)."""
        return list(self.lab.spec.get("nodes", {}).get(self.name, {}).get("roles", []))

    # -- running things ----------------------------------------------------
    def env(self, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
        """The environment of commands in the node: a clean one, as on a
        fresh machine, not the caller's."""
        e = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
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


class Lab:
    """A lab: a topology turned into namespaces, links and processes.

    Use it as a context manager (`with Lab(MyTopo()) as lab:`) or call
    start() and stop(). The spec is validated when the Lab is created, before
    anything is built; errors name the file (or Topo) and the field.
    """

    def __init__(self, topo: TopoSource, *, name: Optional[str] = None,
                 images_dir: Optional[Union[str, Path, Sequence[Union[str, Path]]]] = None,
                 source: Optional[str] = None) -> None:
        raw, source = _raw_spec(topo, source)
        if name:
            raw = {**raw, "name": name}
        # images_dir adds to the search path (a lab's own images); it never
        # hides the project's (see paths.images_path).
        extra = [] if images_dir is None else \
            [images_dir] if isinstance(images_dir, (str, Path)) else list(images_dir)
        images = _core.ImageRegistry.load_path([str(p) for p in paths.images_path(extra)])
        self._raw = raw
        self._spec_obj = _core.Spec.parse(json.dumps(raw), source, images)
        self.spec: dict[str, Any] = json.loads(self._spec_obj.to_json())
        self.name: str = self.spec["name"]
        self.source = source
        self.id = f"{self.name}-{os.urandom(3).hex()}"
        self._core: Optional[_core.Lab] = None
        self._record: Optional[registry.LabRecord] = None
        self._nodes: dict[str, Node] = {}
        self._processes: list[NodeProcess] = []
        self._finalizer: Optional[weakref.finalize] = None
        self.detached = False
        self.meta: dict[str, Any] = {}

    @property
    def id_base(self) -> int:
        """The id node root has as seen from this process: an unprivileged
        host id of the lab's own range for a lab root started
        (docs/architecture.md), 0 in the user namespace of a lab started
        without root. Read from a node's uid_map, so attached labs know it."""
        for node in self._nodes.values():
            try:
                return int(Path(f"/proc/{node.pid}/uid_map").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
        return _core.default_id_range()[0]

    @property
    def vars(self) -> dict[str, str]:
        """The lab's variables for this run (prefixes, addresses, names),
        for solutions, mistakes and checks: see v6lab.course."""
        return dict(self.meta.get("vars") or {})

    @property
    def self_graded(self) -> bool:
        """Whether this lab runs under the user's own user namespace (started
        without root): its owner can change anything from outside the
        nodes, so its grades are self-assessment."""
        return not userns.in_initial_userns()

    @property
    def limits(self) -> str:
        """Which per-node resource limits are in force, in one sentence
        (cgroups where the host allows them, else RLIMIT_NPROC only)."""
        return self._core.limits if self._core is not None else ""

    def spec_raw(self) -> RawSpec:
        """The raw spec this lab was made from (as in a topology file)."""
        return dict(self._raw)

    # -- lifetime ----------------------------------------------------------
    def start(self) -> "Lab":
        """Builds the lab. All or nothing: on failure nothing remains."""
        if self._core is not None or self._record is not None:
            raise Error(f"lab {self.name} is already started")
        require_root()
        userns.ensure_for_new_lab()
        if not paths.INIT.exists() or not paths.NSEXEC.exists():
            raise Error(f"v6lab's helper programs are not built ({paths.LIBEXEC_DIR}): "
                        "build the project first (see README)")
        registry.clean()
        self._core = _core.Lab(self._spec_obj, str(paths.INIT))
        try:
            nodes = {}
            for n in self._core.node_names():
                h = self._core.node(n)
                image = self.spec["nodes"][n]["image"]
                self._nodes[n] = Node(self, n, h.pid, h.starttime, image)
                nodes[n] = {**_identity(h.pid, h.starttime), "image": image}
            sw = self._core.switch_ns()
            nodes_sw = _identity(sw.pid, sw.starttime) if sw is not None else None
            first = next(iter(self._nodes.values()), None)
            zygote_pid = _core.process_identity(first.pid, first.starttime).ppid if first else 0
            self._record = registry.LabRecord(
                id=self.id, name=self.name, owner_pid=os.getpid(),
                owner_starttime=registry.process_starttime(os.getpid()),
                created=time.time(), detached=self.detached, source=self.source,
                nodes=nodes, spec={**self.spec, "switch": nodes_sw}, meta=dict(self.meta),
                zygote={"pid": zygote_pid,
                        "starttime": registry.process_starttime(zygote_pid) if zygote_pid else 0})
            registry.write(self._record)
        except BaseException:
            self._core.stop()
            self._core = None
            raise
        # A lab left running when the interpreter exits is stopped then too;
        # if the process dies instead, the kernel does it.
        self._finalizer = weakref.finalize(self, Lab._shutdown, self._core,
                                           self._processes, self._record)
        return self

    @staticmethod
    def _shutdown(core: Optional[_core.Lab], procs: list[NodeProcess],
                  record: Optional[registry.LabRecord]) -> None:
        if core is not None:
            core.stop()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        procs.clear()
        if record is not None:
            registry.remove(record)

    def stop(self) -> None:
        """Destroys the lab: every node's processes, interfaces and
        namespaces. A lab attached from another process is stopped by asking
        its owner to stop it."""
        if self._core is None and self._record is not None:
            from .detached import stop_owner
            stop_owner(self._record)
            self._record = None
            return
        if self._finalizer is not None:
            self._finalizer()
        self._core = None
        self._record = None

    @property
    def running(self) -> bool:
        if self._core is not None:
            return self._core.running
        return self._record is not None and self._record.alive()

    def __enter__(self) -> "Lab":
        if self._core is None and self._record is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @classmethod
    def attach(cls, name: Optional[str] = None) -> "Lab":
        """A running lab started by another process (by name or id; the only
        running lab if None)."""
        rec = registry.find(name)
        userns.ensure_for(rec.owner_pid)
        lab = cls.__new__(cls)
        lab.spec = {k: v for k, v in rec.spec.items() if k != "switch"}
        lab.name = rec.name
        lab.source = rec.source
        lab.id = rec.id
        lab._core = None
        lab._spec_obj = None
        lab._record = rec
        lab._processes = []
        lab._finalizer = None
        lab.detached = rec.detached
        lab.meta = dict(rec.meta)
        lab._nodes = {n: Node(lab, n, v["pid"], v["starttime"], v.get("image", ""))
                      for n, v in rec.nodes.items()}
        return lab

    # -- access --------------------------------------------------------------
    def __getitem__(self, name: str) -> Node:
        try:
            return self._nodes[name]
        except KeyError:
            known = ", ".join(self._nodes) or "none (the lab is not started)"
            raise Error(f"lab {self.name} has no node '{name}' (nodes: {known})") from None

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    @property
    def nodes(self) -> dict[str, Node]:
        return dict(self._nodes)

    @property
    def log_dir(self) -> Path:
        return paths.labs_dir() / self.id / "logs"

    @property
    def owner_pid(self) -> int:
        return self._record.owner_pid if self._record else os.getpid()

    def timing(self) -> dict[str, float]:
        """Bring-up time by phase (seconds), for benchmarks."""
        return self._core.timing() if self._core else {}

    def _handle(self, node: Node) -> _core.NodeHandle:
        if self._core is not None:
            return self._core.node(node.name)
        return _core.NodeHandle.attach(node.name, node.pid, node.starttime)


def _identity(pid: int, starttime: int) -> dict[str, Any]:
    """What a record keeps of a node init so that a later reader can tell
    it is still this lab's (registry.verify): PID, start time, and the
    (dev, ino) of its network and PID namespaces."""
    ident = _core.process_identity(pid, starttime)
    return {"pid": pid, "starttime": starttime, "netns": list(ident.netns),
            "pidns": list(ident.pidns)}


def _raw_spec(topo: TopoSource, source: Optional[str]) -> tuple[RawSpec, str]:
    if isinstance(topo, Topo):
        return topo.to_spec(), source or topo.source
    if isinstance(topo, (str, Path)):
        return load_topology(topo)
    if isinstance(topo, Mapping):
        return dict(topo), source or "topology dict"
    raise TypeError(f"Lab() takes a Topo, a topology file or a dict, not {type(topo).__name__}")



def require_root() -> None:
    """Building or reaching a lab needs root, or user namespaces where the
    host allows them to this user (then v6lab runs rootless, see
    v6lab.userns); say in one sentence what is missing."""
    if os.geteuid() == 0:
        return
    try:
        allowed = int(Path("/proc/sys/user/max_user_namespaces").read_text()) > 0
    except (OSError, ValueError):
        allowed = False
    if not allowed:
        raise NeedsRootError("v6lab needs root or user namespaces to build a lab, and this host "
                             "allows no user namespaces (user.max_user_namespaces is 0): run it "
                             "as root, or see 'v6lab doctor'")
