"""A lab without a kernel, for unit-testing the logic of checks.

A check reads a lab through a few calls on ``lab[name]`` (addresses,
routes, links, neighbours, sysctls, processes, files, probes). FakeLab
answers those calls from state the test gives it, in the same shapes the
real Lab returns, so that a check can be fed the state of a correct
configuration and of each mistake, and its status and message asserted,
in milliseconds, without root, namespaces or daemons:

    from v6lab.grading import checks as c
    from v6lab.testing import FakeLab

    lab = FakeLab()
    h1 = lab.add_node("h1")
    h1.add_link("eth0")
    h1.add_address("eth0", "2001:db8:1::10/64")
    status, message, _ = c.has_address("h1", "2001:db8:1::/64").run(lab)
    assert status == "pass"

What it is not: a network simulator. It adds what the kernel adds at once
(lo, a connected route for an address), and nothing else: a ping is
answered only if the test says so (``answer_ping``), a route does not make
anything reachable. What a check does with what it reads is what is
tested; that the kernel reports it so is the slow tier's job
(tests/python, tests/labs, on real namespaces).

Checks that need the kernel itself (wire taps, node sockets, commands in a
node) get FakeLabError, a RuntimeError, so they end as a grader error,
never as a pass. Writes (set_sysctl) are applied and recorded in
``lab.writes``, so a test can assert that grading changed nothing.

See docs/grading.md, "Unit-testing a check without a lab".
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Union

from .. import _core
from .._core import Error
from .node import FakeNode
from .shapes import (Address, ConnectResult, DnsRecord, DnsResult, FakeLabError, IcmpError, Link,
                     MulticastGroup, NeighbourEntry, NextHop, PingReply, PingResult, Process,
                     RaPrefix, RaRoute, Route, RouterAdvert, TracerouteHop, TracerouteResult,
                     router_advert)

if TYPE_CHECKING:
    from ..course import LabDefinition
    from ..topo import Topo

__all__ = ["Address", "ConnectResult", "DnsRecord", "DnsResult", "FakeLab", "FakeLabError",
           "FakeNode", "IcmpError", "Link", "MulticastGroup", "NeighbourEntry", "NextHop",
           "PingReply", "PingResult", "Process", "RaPrefix", "RaRoute", "Route",
           "RouterAdvert", "TracerouteHop", "TracerouteResult", "router_advert",
           "without_waiting"]


class _NoTopology:
    """The spec of a FakeLab built by hand: no topology, so no node, LAN
    or link in it (a real Spec has at least one node). It answers what
    checks ask of lab.spec as an empty _core.Spec would."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.source = "FakeLab"
        self.nodes: list[Any] = []
        self.lans: list[Any] = []
        self.links: list[Any] = []

    def node(self, name: str) -> None:
        return None

    def lan(self, name: str) -> None:
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "nodes": {}, "lans": {}, "links": []}


class FakeLab:
    """A lab of FakeNodes; grade it as a real one: grader.grade(FakeLab(...)).

    name, id, vars, meta, spec and self_graded are what a real Lab has (spec
    is the topology's resolved _core.Spec with from_topology, an empty one
    otherwise); writes lists what checks changed ((node, "sysctl", key,
    value))."""

    def __init__(self, name: str = "fakelab", *, vars: Optional[dict[str, str]] = None,
                 self_graded: bool = False, spec: Optional[_core.Spec] = None) -> None:
        self.name = name
        self.id = f"{name}-fake"
        self.meta: dict[str, Any] = {"vars": dict(vars or {})}
        self.spec: Union[_core.Spec, _NoTopology] = spec if spec is not None else _NoTopology(name)
        self.self_graded = self_graded
        self.detached = False
        self.source = "FakeLab"
        self.writes: list[tuple[str, str, str, str]] = []
        self._nodes: dict[str, FakeNode] = {}
        self._pid = 4000
        self._inode = 0
        self._later: list[tuple[float, Callable[[], None]]] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<FakeLab {self.name}: {', '.join(self._nodes) or 'no nodes'}>"

    @property
    def vars(self) -> dict[str, str]:
        return dict(self.meta.get("vars") or {})

    @property
    def running(self) -> bool:
        return True

    def add_node(self, name: str, image: str = "host") -> FakeNode:
        """A node with lo (::1, 127.0.0.1) and nothing else."""
        if name in self._nodes:
            raise ValueError(f"{self.name} already has a node {name}")
        self._pid += 100
        self._nodes[name] = FakeNode(self, name, self._pid, image)
        return self._nodes[name]

    def _node_index(self, name: str) -> int:
        return (list(self._nodes).index(name) + 1) if name in self._nodes else len(self._nodes) + 1

    def after(self, seconds: float, change: Callable[[], None]) -> None:
        """Runs change() once `seconds` have passed, at the next read of any
        node: state that settles on a timer (DAD, an RA) for checks with
        `within`. Example: lab.after(0.3, lambda: addr.set_flag("tentative", False))."""
        with self._lock:
            self._later.append((time.monotonic() + seconds, change))

    def _tick(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [c for t, c in self._later if t <= now]
            self._later = [(t, c) for t, c in self._later if t > now]
        for change in due:
            change()

    # -- a real Lab's access --------------------------------------------------
    def __getitem__(self, name: str) -> FakeNode:
        try:
            return self._nodes[name]
        except KeyError:
            known = ", ".join(self._nodes) or "none (the lab is not started)"
            raise Error(f"lab {self.name} has no node '{name}' (nodes: {known})") from None

    def __iter__(self) -> Iterator[FakeNode]:
        return iter(list(self._nodes.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    @property
    def nodes(self) -> dict[str, FakeNode]:
        return dict(self._nodes)

    def switch_handle(self) -> Any:
        # grading.wire reaches the switch through lab.switch_handle(): say why not.
        raise FakeLabError(f"{self.name} is a FakeLab: it has no switch to tap (checks that "
                           "watch the wire need a real Lab)")

    # -- from a topology --------------------------------------------------------
    @classmethod
    def from_topology(cls, topo: Union["Topo", dict[str, Any]], *, name: Optional[str] = None,
                      vars: Optional[dict[str, str]] = None) -> "FakeLab":
        """The state a real lab of this topology starts in: its nodes and
        interfaces (up, with EUI-64 link-local addresses), the topology's
        addresses, routes and sysctls (with the images' defaults), and the
        resolved spec (so checks that look up LAN members find them). The
        spec is validated by the core exactly as Lab() does."""
        from .. import paths
        from ..topo import Topo
        raw = topo.to_spec() if isinstance(topo, Topo) else dict(topo)
        if name:
            raw["name"] = name
        source = topo.source if isinstance(topo, Topo) else "topology dict"
        images = _core.ImageRegistry.load_path([str(p) for p in paths.images_path()])
        spec = _core.Spec.parse(json.dumps(raw), source, images)
        lab = cls(spec.name, vars=vars, spec=spec)
        for n in spec.nodes:
            node = lab.add_node(n.name, n.image)
            node.sysctls.update(dict(n.sysctls))
            for ifc in n.interfaces:
                kw = {"mac": ifc.mac} if ifc.mac else {}
                node.add_link(ifc.name, mtu=ifc.mtu or 1500, **kw)
                for a in ifc.addresses:
                    node.add_address(ifc.name, a.cidr)
            for r in n.routes:
                node.add_route(r.dst.cidr, via=r.via.address if r.via else None,
                               dev=r.dev or None, metric=1024 if r.metric is None else r.metric)
        return lab

    @classmethod
    def from_lab(cls, definition: "LabDefinition") -> "FakeLab":
        """A fresh run of a lab definition (labs/<id>): its topology, named
        after its id, with its variables as lab.vars. setup() is not applied
        (it runs commands in nodes): add its effect by hand if a check
        depends on it."""
        return cls.from_topology(definition.topology(), name=definition.id,
                                 vars=dict(definition.vars))


def without_waiting(x: Any) -> Any:
    """A copy of a Check, Step or Grader whose checks do not wait (within=0):
    a failing check with within=8 would otherwise retry for 8 s."""
    import dataclasses
    from ..grading import Check, Grader, Step
    if isinstance(x, Check):
        return x.with_options(within=0.0)
    if isinstance(x, Step):
        return dataclasses.replace(x, checks=[c.with_options(within=0.0) for c in x.checks])
    if isinstance(x, Grader):
        return Grader([without_waiting(s) for s in x.steps], max_workers=x.max_workers)
    raise TypeError(f"without_waiting takes a Check, Step or Grader, not {type(x).__name__}")
