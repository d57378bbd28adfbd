"""FakeNode: the calls a check makes on a real Node (state readers,
files, processes, probes), answered from what the test put there."""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

from .. import _core
from .._core import Error, NodeFileError, find_program
from .shapes import (FLAG_BITS, Address, ConnectResult, DnsRecord, DnsResult, FakeLabError,
                     IcmpError, Link, MulticastGroup, NeighbourEntry, NextHop, PingReply,
                     PingResult, Process, RouterAdvert, Route, TracerouteHop, TracerouteResult,
                     _flag_bits)

if TYPE_CHECKING:
    from . import FakeLab


def _ip(text: str) -> Union[ipaddress.IPv4Address, ipaddress.IPv6Address]:
    return ipaddress.ip_address(text.split("%")[0])


def _scope(addr: Union[ipaddress.IPv4Address, ipaddress.IPv6Address]) -> str:
    if addr.is_loopback:
        return "host"
    return "link" if addr.is_link_local else "global"


_FAMILY = {4: 2, 6: 10}


def _family_ok(family: Optional[int], version: int) -> bool:
    return family in (None, 0) or family == version or family == _FAMILY[version]


def _eui64_ll(mac: str) -> str:
    b = bytes(int(x, 16) for x in mac.split(":"))
    iid = bytes([b[0] ^ 0x02, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    return str(ipaddress.IPv6Address(b"\xfe\x80" + b"\0" * 6 + iid))


_FILE_WHY = {"not_found": "No such file or directory",
             "not_regular": "not a regular file (a FIFO)",
             "refused": "a symbolic link is on the path, and links are not followed here",
             "too_large": "larger than the limit",
             "timed_out": "timed out",
             "process_gone": "the node's init is gone",
             "io": "Input/output error"}


class FakeNode:
    """One node of a FakeLab: the calls checks make on a real Node, answered
    from what the test put here. Builders (add_*, answer_*, run_program)
    return what they made, so a test can change it later."""

    def __init__(self, lab: "FakeLab", name: str, pid: int, image: str = "host") -> None:
        self.lab = lab
        self.name = name
        self.pid = pid
        self.starttime = 1
        self._image = image
        self.sysctls: dict[str, str] = {}
        self.files: dict[str, Union[bytes, str]] = {}
        self.symlinks: dict[str, str] = {}   # path -> target inside the node
        self._links: list[Link] = []
        self._addresses: list[Address] = []
        self._routes: list[Route] = []
        self._neighbours: list[NeighbourEntry] = []
        self._groups: list[MulticastGroup] = []
        self._file_problems: dict[str, tuple[str, str]] = {}
        self._pings: dict[str, Callable[[int], PingResult]] = {}
        self._traces: dict[str, TracerouteResult] = {}
        self._tcp: dict[tuple[str, int], ConnectResult] = {}
        self._udp: dict[tuple[str, int], ConnectResult] = {}
        self._dns: dict[tuple[str, str, str], DnsResult] = {}
        self._ras: dict[str, list[RouterAdvert]] = {}
        self._processes = [Process(pid, 1, "/usr/lib/v6lab/libexec/v6lab-init",
                                   comm="v6lab-init", starttime=1)]
        self.add_link("lo", kind="loopback", mac="00:00:00:00:00:00", mtu=65536,
                      link_local=False)
        self.add_address("lo", "::1/128", prefix_route=False)
        self.add_address("lo", "127.0.0.1/8", prefix_route=False)

    def __repr__(self) -> str:
        return f"<FakeNode {self.name} of {self.lab.name}>"

    @property
    def image(self) -> str:
        return self._image

    @property
    def spec(self) -> Optional[_core.NodeSpec]:
        """The node in the lab's spec (None in a FakeLab built by hand)."""
        return self.lab.spec.node(self.name)

    @property
    def provider(self) -> bool:
        return bool(self.spec and self.spec.provider)

    @property
    def roles(self) -> list[str]:
        return list(self.spec.roles) if self.spec else []

    # -- building the state ------------------------------------------------
    def add_link(self, name: str, *, mac: Optional[str] = None, mtu: int = 1500,
                 up: bool = True, kind: str = "veth", running: Optional[bool] = None,
                 link_local: bool = True) -> Link:
        """An interface; with link_local (the default, as the kernel does for
        an interface that is up) its EUI-64 fe80:: address too."""
        if any(x.name == name for x in self._links):
            raise ValueError(f"{self.name} already has an interface {name}")
        index = len(self._links) + 1
        if mac is None:
            mac = f"02:fa:{self.lab._node_index(self.name):02x}:00:00:{index:02x}"
        run = up if running is None else running
        link = Link(name, kind, up, run, "up" if run else "down", mtu, mac, 0, index)
        self._links.append(link)
        if link_local and up:
            self.add_address(name, _eui64_ll(mac) + "/64")
        return link

    def _iface(self, name: str) -> Link:
        for x in self._links:
            if x.name == name:
                return x
        raise ValueError(f"{self.name} has no interface {name} (add_link it first)")

    def add_address(self, ifname: str, cidr: str, *, flags: Sequence[str] = ("permanent",),
                    valid_lft: Optional[int] = None, preferred_lft: Optional[int] = None,
                    prefix_route: bool = True) -> Address:
        """An address as `ip addr add` makes it (permanent); flags=("dynamic",)
        for one learned by SLAAC or DHCPv6 (lifetimes default to a day and 4
        hours), ("tentative",) for one still in DAD. The kernel's connected
        route comes with it unless prefix_route=False or "noprefixroute"."""
        link = self._iface(ifname)
        iface = ipaddress.ip_interface(cidr)
        bits = _flag_bits(flags)
        if not bits & FLAG_BITS["permanent"]:
            valid_lft = 86400 if valid_lft is None else valid_lft
            preferred_lft = 14400 if preferred_lft is None else preferred_lft
        a = Address(ifname, str(iface.ip), iface.network.prefixlen, _scope(iface.ip), bits,
                    _FAMILY[iface.version], link.index, valid_lft, preferred_lft)
        self._addresses.append(a)
        connected = iface.network.prefixlen < iface.max_prefixlen
        if prefix_route and connected and not bits & FLAG_BITS["noprefixroute"]:
            dst = str(iface.network)
            if not any(r.dst == dst and r.nexthops and r.nexthops[0].ifname == ifname
                       for r in self._routes):
                self.add_route(dst, dev=ifname, protocol="kernel", metric=256)
        return a

    def remove_address(self, ifname: str, cidr: str) -> None:
        """Removes an address (and nothing else: its route stays, as a test
        that wants it gone says so)."""
        want = ipaddress.ip_interface(cidr)
        self._addresses = [a for a in self._addresses if not (
            a.ifname == ifname and ipaddress.ip_interface(a.cidr) == want)]

    def add_route(self, dst: str, *, via: Optional[str] = None, dev: Optional[str] = None,
                  protocol: str = "static", metric: int = 1024, pref: str = "",
                  expires: Optional[float] = None, table: int = 254,
                  type: str = "unicast", nexthops: Sequence[tuple[str, str]] = ()) -> Route:
        """A route; dst "default" is ::/0 (0.0.0.0/0 with an IPv4 via).
        nexthops=[(gateway, dev), ...] for a multipath route."""
        v4 = via is not None and _ip(via).version == 4
        if dst == "default":
            dst = "0.0.0.0/0" if v4 else "::/0"
        net = ipaddress.ip_network(dst, strict=False)
        hops = [NextHop(g, d, self._index_of(d)) for g, d in nexthops]
        if not hops:
            gw = str(_ip(via)) if via else ""
            d = dev or (self._dev_for(gw) if gw else "")
            hops = [NextHop(gw, d, self._index_of(d))]
        r = Route(str(net), protocol, _FAMILY[net.version], table, type, metric, pref,
                  expires, hops)
        self._routes.append(r)
        return r

    def _index_of(self, dev: str) -> int:
        return next((x.index for x in self._links if x.name == dev), 0)

    def _dev_for(self, gateway: str) -> str:
        """The interface a gateway is reached on: the one whose prefix holds
        it, else the first that is not lo (a link-local gateway names none)."""
        gw = _ip(gateway)
        for a in self._addresses:
            if a.scope == "global" and gw in ipaddress.ip_interface(a.cidr).network:
                return a.ifname
        return next((x.name for x in self._links if x.kind != "loopback"), "")

    def add_neighbour(self, ifname: str, address: str, *, lladdr: str = "",
                      state: str = "REACHABLE", router: bool = False) -> NeighbourEntry:
        link = self._iface(ifname)
        ip = _ip(address)
        n = NeighbourEntry(ifname, str(ip), lladdr, state, router, _FAMILY[ip.version], link.index)
        self._neighbours.append(n)
        return n

    def join_group(self, ifname: str, group: str) -> MulticastGroup:
        g = MulticastGroup(ifname, str(ipaddress.IPv6Address(group)), self._iface(ifname).index)
        self._groups.append(g)
        return g

    def run_program(self, program: str, *, state: str = "S",
                    node_pid: Optional[int] = None) -> Process:
        """A process whose executable is the host's own `program` (same
        device and inode, as daemon_running requires). state "T" is a
        stopped one, "Z" a zombie."""
        path = find_program(program)
        if not path:
            raise FakeLabError(f"{program} is not installed on this machine, so no process "
                               "can be its real binary")
        st = os.stat(path)
        return self._add_process(path, st.st_dev, st.st_ino, program[:15], state, node_pid)

    def run_impostor(self, program: str, path: Optional[str] = None, *,
                     state: str = "S") -> Process:
        """A process named like program but not its binary: a copy, a
        script, a file of the trainee's at `path` (default /tmp/<program>)."""
        self.lab._inode += 1
        return self._add_process(path or f"/tmp/{program}", 0, self.lab._inode, program[:15],
                                 state, None)

    def _add_process(self, path: str, dev: int, ino: int, comm: str, state: str,
                     node_pid: Optional[int]) -> Process:
        self.lab._pid += 1
        p = Process(self.lab._pid, node_pid or len(self._processes) + 1, path, dev, ino, comm,
                    state, host_ppid=self.pid)
        self._processes.append(p)
        return p

    def stop_process(self, p: Process) -> None:
        self._processes.remove(p)

    def file_problem(self, path: str, kind: str, why: str = "") -> None:
        """Makes read_file of path fail as the core does: kind is one of
        not_found, not_regular, too_large, refused, timed_out, process_gone,
        io (NodeFileError.kind)."""
        if kind not in _FILE_WHY:
            raise ValueError(f"unknown kind '{kind}' (known: {', '.join(_FILE_WHY)})")
        self._file_problems[path] = (kind, why or _FILE_WHY[kind])

    def answer_ping(self, dst: str, *, rtt_ms: float = 0.5, source: Optional[str] = None,
                    hop_limit: int = 64) -> None:
        """Echo requests from this node to dst get replies (from source,
        dst by default)."""
        key = str(_ip(dst))
        self._pings[key] = lambda count: PingResult(key, count, [
            PingReply(i + 1, rtt_ms, source or key, hop_limit) for i in range(count)])

    def ping_error(self, dst: str, kind: str, detail: str, *, source: str = "",
                   type: int = 1, code: int = 0, mtu: int = 0) -> None:
        """Echo requests to dst get this ICMP error instead of a reply
        (kind "local" with source "" for the sender's own refusal)."""
        key = str(_ip(dst))
        err = IcmpError(kind, detail, source, type, code, mtu)
        self._pings[key] = lambda count: PingResult(key, count, [], [err])

    def answer_traceroute(self, dst: str, hops: Sequence[str], *, reached: bool = True) -> None:
        """traceroute to dst sees these hop addresses ("" for a silent hop)."""
        key = str(_ip(dst))
        out = [TracerouteHop(i + 1, h, kind="time-exceeded" if h else "")
               for i, h in enumerate(hops)]
        if reached and out:
            out[-1].kind = "reply"
        self._traces[key] = TracerouteResult(key, reached, out)

    def answer_tcp(self, addr: str, port: int, received: bytes = b"", *,
                   error: str = "") -> None:
        """A TCP connection from this node to [addr]:port succeeds (and reads
        `received`), or fails with `error` ("connection refused", "timed out")."""
        self._tcp[(str(_ip(addr)), port)] = ConnectResult(not error, error, 0.5, received)

    def answer_udp(self, addr: str, port: int, received: bytes = b"", *,
                   error: str = "") -> None:
        self._udp[(str(_ip(addr)), port)] = ConnectResult(not error, error, 0.5, received)

    def answer_dns(self, server: str, name: str, qtype: str = "AAAA", *data: str,
                   rcode: str = "NOERROR", ttl: int = 300,
                   answers: Optional[Sequence[DnsRecord]] = None) -> DnsResult:
        """server answers this node's query name/qtype with data (records of
        qtype), or with `answers` as given (a CNAME chain), and rcode."""
        recs = list(answers) if answers is not None else \
            [DnsRecord(name, qtype, d, ttl) for d in data]
        r = DnsResult(True, "", rcode, answers=recs)
        self._dns[(str(_ip(server)), name.rstrip(".").lower(), qtype.upper())] = r
        return r

    def hear_ra(self, iface: str, ra: RouterAdvert) -> RouterAdvert:
        """router_adverts(iface) on this node returns ra (in the order heard)."""
        self._iface(iface)
        self._ras.setdefault(iface, []).append(ra)
        return ra

    # -- what checks read (the real Node's API) -----------------------------
    def links(self) -> list[Link]:
        self.lab._tick()
        return list(self._links)

    def link(self, ifname: str) -> Link:
        for x in self.links():
            if x.name == ifname:
                return x
        raise Error(f"{self.name} has no interface '{ifname}'")

    def addresses(self, ifname: Optional[str] = None,
                  family: Optional[int] = None) -> list[Address]:
        self.lab._tick()
        return [a for a in self._addresses if (ifname is None or a.ifname == ifname)
                and _family_ok(family, 6 if a.family == 10 else 4)]

    def routes(self, family: Optional[int] = None, all_tables: bool = False) -> list[Route]:
        self.lab._tick()
        return [r for r in self._routes if _family_ok(family, 6 if r.family == 10 else 4)
                and (all_tables or r.table == 254)]

    def neighbours(self, ifname: Optional[str] = None,
                   family: Optional[int] = None) -> list[NeighbourEntry]:
        self.lab._tick()
        return [n for n in self._neighbours if (ifname is None or n.ifname == ifname)
                and _family_ok(family, 6 if n.family == 10 else 4)]

    def sysctl(self, key: str) -> str:
        self.lab._tick()
        try:
            return str(self.sysctls[key])
        except KeyError:
            raise Error(f"read sysctl {key} on {self.name}: not set in this FakeLab "
                        f"(give it: lab['{self.name}'].sysctls['{key}'] = ...)") from None

    def set_sysctl(self, key: str, value: Union[str, int]) -> None:
        self.lab.writes.append((self.name, "sysctl", key, str(value)))
        self.sysctls[key] = str(value)

    def read_file(self, path: str, *, max_bytes: int = 65536, timeout: float = 2.0,
                  follow_symlinks: bool = True) -> bytes:
        self.lab._tick()
        what = f"read {path} on {self.name}"
        seen = 0
        while path in self.symlinks:
            if not follow_symlinks:
                raise _file_error(what, "refused", _FILE_WHY["refused"])
            seen += 1
            if seen > 40:
                raise _file_error(what, "refused", "too many symbolic links, or a link into /proc")
            path = self.symlinks[path]
        if path in self._file_problems:
            raise _file_error(what, *self._file_problems[path])
        if path not in self.files:
            raise _file_error(what, "not_found", _FILE_WHY["not_found"])
        data = self.files[path]
        data = data.encode() if isinstance(data, str) else bytes(data)
        if len(data) > max_bytes:
            raise _file_error(what, "too_large", f"larger than {max_bytes} bytes")
        return data

    def processes(self) -> list[Process]:
        self.lab._tick()
        return list(self._processes)

    def multicast_groups(self, ifname: Optional[str] = None) -> list[MulticastGroup]:
        self.lab._tick()
        return [g for g in self._groups if ifname is None or g.ifname == ifname]

    def ping(self, dst: str, *, count: int = 1, timeout: float = 1.0,
             interval: float = 0.05, hop_limit: Optional[int] = None, size: int = 56,
             dont_fragment: bool = False, iface: Optional[str] = None,
             src: Optional[str] = None) -> PingResult:
        self.lab._tick()
        key = str(_ip(dst))
        if key in self._pings:
            return self._pings[key](count)
        return PingResult(key, count)

    def traceroute(self, dst: str, *, max_hops: int = 16, timeout: float = 1.0,
                   iface: Optional[str] = None) -> TracerouteResult:
        self.lab._tick()
        key = str(_ip(dst))
        return self._traces.get(key) or TracerouteResult(key, False, [])

    def tcp_connect(self, addr: str, port: int, *, timeout: float = 2.0,
                    send: str = "") -> ConnectResult:
        self.lab._tick()
        return self._tcp.get((str(_ip(addr)), port)) or ConnectResult(False, "connection refused")

    def udp_exchange(self, addr: str, port: int, payload: Union[bytes, str], *,
                     timeout: float = 2.0) -> ConnectResult:
        self.lab._tick()
        return self._udp.get((str(_ip(addr)), port)) or ConnectResult(False, "timed out")

    def dns_query(self, server: str, name: str, qtype: str = "AAAA", *,
                  timeout: float = 2.0, port: int = 53) -> DnsResult:
        self.lab._tick()
        key = (str(_ip(server)), name.rstrip(".").lower(), qtype.upper())
        return self._dns.get(key) or DnsResult(False, "timed out", "")

    def router_adverts(self, iface: str, *, solicit: bool = True, duration: float = 2.0,
                       stop_at_first: bool = True) -> list[RouterAdvert]:
        self.lab._tick()
        if not any(x.name == iface for x in self._links):
            raise Error(f"listen for router advertisements on {self.name}:{iface}: "
                        "No such device")
        ras = list(self._ras.get(iface, []))
        return ras[:1] if stop_at_first else ras

    # -- what a FakeLab cannot do -------------------------------------------
    @property
    def handle(self) -> Any:
        raise FakeLabError(f"{self.name} is a FakeLab node: it has no kernel handle (wire "
                           "taps, node sockets and behaviour checks need a real Lab)")

    def socket(self, *args: Any, **kw: Any) -> Any:
        return self.handle

    def cmd(self, command: Any, **kw: Any) -> Any:
        raise FakeLabError(f"{self.name} is a FakeLab node: it runs no commands (and a check "
                           "must not run any in a node: the trainee controls what they print)")

    popen = cmd


def _file_error(what: str, kind: str, why: str) -> NodeFileError:
    e = NodeFileError(f"{what}: {why}")
    e.kind = kind
    e.errno = {"not_found": 2, "too_large": 27, "refused": 40, "not_regular": 22,
               "timed_out": 110, "process_gone": 3, "io": 5}[kind]
    return e

