"""Labs: a topology turned into namespaces, links and processes.

A lab's model is held in one place, LabView: its resolved spec (typed, as
the C++ core parsed it), name, id and nodes. Two kinds of view share it:

  Lab         the owner: the process that builds the lab (start) and
              destroys it (stop). Its nodes are held by small init
              processes that exit when the owner does, whatever the
              reason, so a lab never outlives its owner.
  RunningLab  a lab another process owns (a detached lab's supervisor, see
              v6lab.detached, or a script), found through its verified
              record with Lab.attach(): the same model, read back from the
              record by the core's parser. It does everything a view does;
              stop() asks the owner to stop (a detached lab only); what only
              an owner can do raises NotOwnerError, never AttributeError.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import weakref
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

from . import _core, paths, registry, userns
from ._core import Error
from .i18n import _
from .errors import NeedsRootError, NotOwnerError
from .node import CmdResult, Command, Node, NodeProcess, wait_until
from .topo import RawSpec, Topo, load_topology

__all__ = ["LabView", "Lab", "RunningLab", "Node", "CmdResult", "NodeProcess", "Command",
           "TopoSource", "wait_until", "raw_spec", "require_root"]

TopoSource = Union[Topo, Mapping[str, Any], str, Path]


class LabView:
    """What every process that can reach a lab knows of it: the resolved
    spec, the nodes, and everything read from or run in them. Subclasses
    say who owns the lab; this class holds the model once for both."""

    def __init__(self, spec: _core.Spec, *, lab_id: str, detached: bool,
                 meta: Mapping[str, Any]) -> None:
        self._spec = spec
        # One lookup table: each access to spec.nodes builds a new list.
        self._node_specs = {n.name: n for n in spec.nodes}
        self.id = lab_id
        self.detached = detached
        self.meta: dict[str, Any] = dict(meta)
        self._nodes: dict[str, Node] = {}
        self._processes: list[NodeProcess] = []
        self._record: Optional[registry.LabRecord] = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} ({self.id}), {len(self._node_specs)} nodes>"

    # -- the model -----------------------------------------------------------
    @property
    def spec(self) -> _core.Spec:
        """The resolved spec (read-only): nodes with their images applied
        and every interface named, LANs, links. spec.to_dict() is the JSON
        form that `v6lab validate --resolved` prints."""
        return self._spec

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def source(self) -> str:
        """Where the topology came from (a file, a Topo class), for messages."""
        return self._spec.source

    def node_spec(self, name: str) -> _core.NodeSpec:
        """A node as the spec has it (also lab[name].spec)."""
        try:
            return self._node_specs[name]
        except KeyError:
            raise Error(f"lab {self.name} has no node '{name}' "
                        f"(nodes: {', '.join(self._node_specs)})") from None

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

    # -- lifetime: the owner's; see Lab and RunningLab -------------------------
    @property
    def is_owner(self) -> bool:
        """Whether this process built the lab (and so can time it and
        destroy it directly)."""
        return False

    @property
    def running(self) -> bool:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def _not_owner(self, what: str) -> NotOwnerError:
        # {what} is one of the translated phrases below ("start it", …).
        return NotOwnerError(_("lab {name} ({id}) belongs to process {pid}: only that process "
                               "can {what}").format(name=self.name, id=self.id,
                                                    pid=self.owner_pid, what=what))

    def start(self) -> "LabView":
        raise self._not_owner(_("start it (it is running already)"))

    @property
    def limits(self) -> str:
        """Which per-node resource limits are in force, in one sentence
        (cgroups where the host allows them, else RLIMIT_NPROC only)."""
        raise self._not_owner(_("read its resource limits"))

    def timing(self) -> dict[str, float]:
        """Bring-up time by phase (seconds), for benchmarks."""
        raise self._not_owner(_("time its bring-up"))

    def __enter__(self) -> "LabView":
        raise self._not_owner(_("scope its lifetime with 'with'; use stop() to ask it to stop"))

    def __exit__(self, *exc: Any) -> None:
        self.stop()

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

    def switch_handle(self) -> Optional[_core.NodeHandle]:
        """The hidden switch namespace where the LAN bridges are (graders
        listen there, see grading.wire), or None for a lab without LANs."""
        raise NotImplementedError

    def _handle(self, node: Node) -> _core.NodeHandle:
        return _core.NodeHandle.attach(node.name, node.pid, node.starttime)

    @staticmethod
    def attach(name: Optional[str] = None) -> "RunningLab":
        """A running lab started by another process (by name or id; the only
        running lab if None), found through its verified record."""
        return RunningLab.find(name)


class Lab(LabView):
    """A lab this process builds and owns.

    Use it as a context manager (`with Lab(MyTopo()) as lab:`) or call
    start() and stop(). The spec is validated when the Lab is created, before
    anything is built; errors name the file (or Topo) and the field.
    """

    def __init__(self, topo: TopoSource, *, name: Optional[str] = None,
                 images_dir: Optional[Union[str, Path, Sequence[Union[str, Path]]]] = None,
                 source: Optional[str] = None) -> None:
        raw, source = raw_spec(topo, source, name=name)
        # images_dir adds to the search path (a lab's own images); it never
        # hides the project's (see paths.images_path).
        extra = [] if images_dir is None else \
            [images_dir] if isinstance(images_dir, (str, Path)) else list(images_dir)
        images = _core.ImageRegistry.load_path([str(p) for p in paths.images_path(extra)])
        spec = _core.Spec.parse(json.dumps(raw), source, images)
        super().__init__(spec, lab_id=f"{spec.name}-{os.urandom(3).hex()}", detached=False, meta={})
        self._core: Optional[_core.Lab] = None
        self._finalizer: Optional[weakref.finalize] = None

    @property
    def is_owner(self) -> bool:
        return True

    @property
    def limits(self) -> str:
        """Which per-node resource limits are in force, in one sentence
        (cgroups where the host allows them, else RLIMIT_NPROC only); ''
        before start()."""
        return self._core.limits if self._core is not None else ""

    def timing(self) -> dict[str, float]:
        """Bring-up time by phase (seconds), for benchmarks; {} before start()."""
        return self._core.timing() if self._core else {}

    # -- lifetime ----------------------------------------------------------
    def start(self) -> "Lab":
        """Builds the lab. All or nothing: on failure nothing remains."""
        if self._core is not None:
            raise Error(f"lab {self.name} is already started")
        require_root()
        userns.ensure_for_new_lab()
        if not paths.INIT.exists() or not paths.NSEXEC.exists():
            raise Error(f"v6lab's helper programs are not built ({paths.LIBEXEC_DIR}): "
                        "build the project first (see README)")
        registry.clean()
        self._core = _core.Lab(self._spec, str(paths.INIT))
        try:
            self._record = self._write_record()
        except BaseException:
            self._core.stop()
            self._core = None
            self._nodes.clear()
            raise
        # A lab left running when the interpreter exits is stopped then too;
        # if the process dies instead, the kernel does it.
        self._finalizer = weakref.finalize(self, Lab._shutdown, self._core,
                                           self._processes, self._record)
        return self

    def _write_record(self) -> registry.LabRecord:
        """The record other processes find the lab by, with the kernel
        identities of its processes (see registry.verify)."""
        assert self._core is not None
        nodes = {}
        for n in self._core.node_names():
            h = self._core.node(n)
            self._nodes[n] = Node(self, n, h.pid, h.starttime)
            nodes[n] = {**_identity(h.pid, h.starttime), "image": self.node_spec(n).image}
        sw = self._core.switch_ns()
        first = next(iter(self._nodes.values()), None)
        zygote_pid = _core.process_identity(first.pid, first.starttime).ppid if first else 0
        rec = registry.LabRecord(
            id=self.id, name=self.name, owner_pid=os.getpid(),
            owner_starttime=registry.process_starttime(os.getpid()),
            created=time.time(), detached=self.detached, source=self.source, spec=self._spec,
            nodes=nodes, switch=_identity(sw.pid, sw.starttime) if sw is not None else None,
            meta=dict(self.meta),
            zygote={"pid": zygote_pid,
                    "starttime": registry.process_starttime(zygote_pid) if zygote_pid else 0})
        registry.write(rec)
        return rec

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
        namespaces."""
        if self._finalizer is not None:
            self._finalizer()
        self._core = None
        self._record = None

    @property
    def running(self) -> bool:
        return self._core is not None and self._core.running

    def __enter__(self) -> "Lab":
        if self._core is None:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def switch_handle(self) -> Optional[_core.NodeHandle]:
        return self._core.switch_ns() if self._core is not None else None

    def _handle(self, node: Node) -> _core.NodeHandle:
        if self._core is not None:
            return self._core.node(node.name)
        return super()._handle(node)


class RunningLab(LabView):
    """A lab another process owns, reached through its record (which
    registry.find has verified: its processes are that lab's). The spec is
    the owner's, read back from the record by the core's parser."""

    def __init__(self, record: registry.LabRecord) -> None:
        super().__init__(record.spec, lab_id=record.id, detached=record.detached,
                         meta=record.meta)
        self._record = record
        self._nodes = {n: Node(self, n, v["pid"], v["starttime"])
                       for n, v in record.nodes.items()}

    @classmethod
    def find(cls, name: Optional[str] = None) -> "RunningLab":
        """The running lab called name (or with that id; the only one if
        None), joining its owner's user namespace if it has one."""
        rec = registry.find(name)
        userns.ensure_for(rec.owner_pid)
        return cls(rec)

    @property
    def record(self) -> registry.LabRecord:
        assert self._record is not None
        return self._record

    @property
    def running(self) -> bool:
        return self.record.alive()

    def stop(self) -> None:
        """Asks the owner to stop the lab: a detached lab's supervisor
        stops it; a lab a script owns is that script's to stop (Error)."""
        from .detached import stop_owner
        stop_owner(self.record)

    def switch_handle(self) -> Optional[_core.NodeHandle]:
        sw = self.record.switch
        return _core.NodeHandle.attach("switch", sw["pid"], sw["starttime"]) if sw else None


def _identity(pid: int, starttime: int) -> dict[str, Any]:
    """What a record keeps of a node init so that a later reader can tell
    it is still this lab's (registry.verify): PID, start time, and the
    (dev, ino) of its network and PID namespaces."""
    ident = _core.process_identity(pid, starttime)
    return {"pid": pid, "starttime": starttime, "netns": list(ident.netns),
            "pidns": list(ident.pidns)}


def raw_spec(topo: TopoSource, source: Optional[str] = None, *,
             name: Optional[str] = None) -> tuple[RawSpec, str]:
    """The raw spec of a topology (a Topo, a file or a dict) and how errors
    name it; name replaces the lab's name. A detached lab's supervisor
    gets this, and builds from it what Lab() validated."""
    if isinstance(topo, Topo):
        raw, source = topo.to_spec(), source or topo.source
    elif isinstance(topo, (str, Path)):
        raw, source = load_topology(topo)
    elif isinstance(topo, Mapping):
        raw, source = dict(topo), source or "topology dict"
    else:
        raise TypeError(f"Lab() takes a Topo, a topology file or a dict, not {type(topo).__name__}")
    return ({**raw, "name": name} if name else raw), source


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
        raise NeedsRootError(_("v6lab needs root or user namespaces to build a lab, and this "
                               "host allows no user namespaces (user.max_user_namespaces is 0): "
                               "run it as root, or see 'v6lab doctor'"))
