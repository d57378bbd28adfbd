"""Topologies: built in Python (Topo) or read from a JSON/YAML file.

Both produce the same raw spec (a dict) that the C++ core validates and
resolves; nothing here decides whether a spec is valid beyond what Python
alone can see (a name used twice in a Topo would otherwise be silently
overwritten by the dict).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence, Union

from ._core import SpecError
from .topo_file import read_topology

RawSpec = dict[str, Any]


def _fail(source: str, field: str, message: str) -> SpecError:
    where = f"{source}: {field}" if field else source
    return SpecError(f"{where}: {message}", [(source, field, message)])


class Topo:
    """A topology built in Python. Subclass it and override build(), or call
    the add_* methods on an instance.

    Nodes, LANs and links keep the order they were added in; interfaces are
    named eth0, eth1, ... per node in the order of its links unless named.
    """

    def __init__(self, name: Optional[str] = None, **params: Any) -> None:
        self.name = name or type(self).__name__.lower()
        if self.name == "topo":
            self.name = "lab"
        self._nodes: dict[str, dict[str, Any]] = {}
        self._lans: dict[str, dict[str, Any]] = {}
        self._links: list[dict[str, Any]] = []
        self.build(**params)

    @property
    def source(self) -> str:
        """How errors name this topology."""
        return f"Topo {type(self).__name__}"

    def build(self, **params: Any) -> None:
        """Override to add nodes, LANs and links."""

    # -- nodes -------------------------------------------------------------
    def add_node(self, name: str, image: Union[str, Sequence[str]] = "host", *,
                 sysctls: Optional[dict[str, Union[str, int]]] = None,
                 routes: Optional[Sequence[dict[str, Any]]] = None,
                 provider: bool = False,
                 binaries: Sequence[dict[str, str]] = ()) -> str:
        """Adds a node of the given image, or of several images in order
        (["router", "dhcp6-server"]: a router that is also a DHCPv6 server);
        returns its name. provider=True marks a node the lab provides (the
        ISP, "the Internet"): trainees do not log into it. binaries lists
        extra programs the node needs ({"name", "package"})."""
        if name in self._nodes or name in self._lans:
            raise _fail(self.source, f"nodes.{name}", f"name '{name}' is used twice")
        node: dict[str, Any] = {"image": image if isinstance(image, str) else list(image)}
        if provider:
            node["provider"] = True
        if binaries:
            node["binaries"] = [dict(b) for b in binaries]
        if sysctls:
            node["sysctls"] = dict(sysctls)
        if routes:
            node["routes"] = [dict(r) for r in routes]
        self._nodes[name] = node
        return name

    def add_host(self, name: str, **kw: Any) -> str:
        return self.add_node(name, kw.pop("image", "host"), **kw)

    def add_router(self, name: str, **kw: Any) -> str:
        return self.add_node(name, kw.pop("image", "router"), **kw)

    def add_lan(self, name: str, *, mtu: Optional[int] = None) -> str:
        """Adds a LAN (one L2 segment, a bridge in a hidden namespace)."""
        if name in self._nodes or name in self._lans:
            raise _fail(self.source, f"lans.{name}", f"name '{name}' is used twice")
        self._lans[name] = {"mtu": mtu} if mtu else {}
        return name

    # -- links -------------------------------------------------------------
    def add_link(self, a: str, b: str, *, intf_a: Optional[str] = None,
                 intf_b: Optional[str] = None, mtu: Optional[int] = None,
                 addrs_a: Iterable[str] = (), addrs_b: Iterable[str] = (),
                 mac_a: Optional[str] = None, mac_b: Optional[str] = None) -> None:
        """Links two nodes (a veth pair) or a node to a LAN. Addresses, MACs
        and interface names are per end; a LAN end takes none."""

        def end(node: str, intf: Optional[str], addrs: Iterable[str],
                mac: Optional[str]) -> Union[str, dict[str, Any]]:
            e: dict[str, Any] = {"node": node}
            if intf:
                e["interface"] = intf
            if addrs:
                e["addresses"] = list(addrs)
            if mac:
                e["mac"] = mac
            return e if len(e) > 1 else node

        link: dict[str, Any] = {"endpoints": [end(a, intf_a, addrs_a, mac_a),
                                              end(b, intf_b, addrs_b, mac_b)]}
        if mtu:
            link["mtu"] = mtu
        self._links.append(link)

    def add_route(self, node: str, dst: str, via: Optional[str] = None,
                  dev: Optional[str] = None, metric: Optional[int] = None) -> None:
        """Adds a static route to a node's initial state."""
        if node not in self._nodes:
            raise _fail(self.source, f"nodes.{node}.routes", f"no node '{node}'")
        r: dict[str, Any] = {"dst": dst}
        if via:
            r["via"] = via
        if dev:
            r["dev"] = dev
        if metric is not None:
            r["metric"] = metric
        self._nodes[node].setdefault("routes", []).append(r)

    def set_interface(self, node: str, interface: str, *,
                      addresses: Iterable[str] = (), mtu: Optional[int] = None,
                      mac: Optional[str] = None) -> None:
        """Sets up an interface by name (one that a link creates)."""
        if node not in self._nodes:
            raise _fail(self.source, f"nodes.{node}.interfaces", f"no node '{node}'")
        cfg = self._nodes[node].setdefault("interfaces", {}).setdefault(interface, {})
        if addresses:
            cfg.setdefault("addresses", []).extend(addresses)
        if mtu:
            cfg["mtu"] = mtu
        if mac:
            cfg["mac"] = mac

    # -- output ------------------------------------------------------------
    def nodes(self) -> list[str]:
        return list(self._nodes)

    def to_spec(self) -> RawSpec:
        """The raw spec (the same schema as a topology file)."""
        spec: RawSpec = {"name": self.name, "nodes": json.loads(json.dumps(self._nodes))}
        if self._lans:
            spec["lans"] = json.loads(json.dumps(self._lans))
        if self._links:
            spec["links"] = json.loads(json.dumps(self._links))
        return spec


def load_topology(path: Union[str, Path]) -> tuple[RawSpec, str]:
    """Reads a topology file (.json, .yaml or .yml). Returns the raw spec and
    the source name for messages. Syntax errors name the file and line; see
    topo_file for what else is refused (and why)."""
    source = str(path)
    data = read_topology(source, Path(source).suffix in (".yaml", ".yml"))
    if not isinstance(data, dict):
        raise _fail(source, "", "a topology must be a mapping with nodes, lans and links")
    return data, source
