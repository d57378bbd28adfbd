"""The shapes a FakeLab answers in: the attribute names of v6lab._core's
LinkInfo, AddressInfo, RouteInfo, ... and of the probes' results, as plain
dataclasses a test can build and change (tests/unit/test_fakelab.py holds
them to the core's, attribute by attribute)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence


class FakeLabError(RuntimeError):
    """What a FakeLab cannot do (it has no kernel). A RuntimeError, not a
    v6lab Error, so that no check mistakes it for a trainee's doing: the
    check ends as `error`."""


# ------------------------------------------------------------------ state
# The same attribute names as v6lab._core's LinkInfo, AddressInfo, ...

# IFA_F_* bits, as AddressInfo.flag_names (core/src/netlink.cpp) names them.
FLAG_BITS = {"temporary": 0x01, "nodad": 0x02, "optimistic": 0x04, "dadfailed": 0x08,
             "homeaddress": 0x10, "deprecated": 0x20, "tentative": 0x40, "permanent": 0x80,
             "mngtmpaddr": 0x100, "noprefixroute": 0x200, "autojoin": 0x400,
             "stable-privacy": 0x800}


def _flag_bits(names: Iterable[str]) -> int:
    """Flag names as bits; "dynamic" is the absence of "permanent", as the
    kernel (and `ip addr`) has it."""
    bits = 0
    for n in names:
        if n == "dynamic":
            continue
        if n not in FLAG_BITS:
            raise ValueError(f"unknown address flag '{n}' (known: dynamic, {', '.join(FLAG_BITS)})")
        bits |= FLAG_BITS[n]
    if "dynamic" in names and bits & FLAG_BITS["permanent"]:
        raise ValueError("an address cannot be both dynamic and permanent")
    return bits


@dataclass
class Link:
    name: str
    kind: str = "veth"
    up: bool = True
    running: bool = True
    operstate: str = "up"
    mtu: int = 1500
    mac: str = ""
    master: int = 0
    index: int = 0


@dataclass
class Address:
    ifname: str
    address: str
    prefix_len: int
    scope: str = "global"
    flags: int = FLAG_BITS["permanent"]
    family: int = 10
    ifindex: int = 0
    valid_lft: Optional[int] = None
    preferred_lft: Optional[int] = None

    def set_flag(self, name: str, on: bool = True) -> "Address":
        """Turns a flag on or off (e.g. "tentative" off when DAD is over)."""
        bit = _flag_bits([name])
        self.flags = self.flags | bit if on else self.flags & ~bit
        return self

    tentative = property(lambda self: bool(self.flags & 0x40))
    dadfailed = property(lambda self: bool(self.flags & 0x08))
    deprecated = property(lambda self: bool(self.flags & 0x20))
    temporary = property(lambda self: bool(self.flags & 0x01))
    mngtmpaddr = property(lambda self: bool(self.flags & 0x100))
    permanent = property(lambda self: bool(self.flags & 0x80))
    optimistic = property(lambda self: bool(self.flags & 0x04))

    @property
    def flag_names(self) -> list[str]:
        out = [n for n, bit in FLAG_BITS.items() if self.flags & bit]
        return out if self.permanent else out + ["dynamic"]

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix_len}"


@dataclass
class NextHop:
    gateway: str = ""
    ifname: str = ""
    ifindex: int = 0


@dataclass
class Route:
    dst: str
    protocol: str = "static"
    family: int = 10
    table: int = 254
    type: str = "unicast"
    metric: int = 1024
    pref: str = ""
    expires: Optional[float] = None
    nexthops: list[NextHop] = field(default_factory=list)
    mtu: int = 0                # the route's MTU metric (0: unset)
    mtu_locked: bool = False    # "mtu lock N"
    cached: bool = False        # a route-cache entry (RTM_F_CLONED), e.g. a learned path MTU


@dataclass
class NeighbourEntry:
    ifname: str
    address: str
    lladdr: str = ""
    state: str = "REACHABLE"
    router: bool = False
    family: int = 10
    ifindex: int = 0


@dataclass
class Process:
    host_pid: int
    node_pid: int
    exe_path: str
    exe_dev: int = 0
    exe_ino: int = 0
    comm: str = ""
    state: str = "S"
    host_ppid: int = 0
    starttime: int = 1
    uid: int = 100000
    node_uid: int = 0


@dataclass
class MulticastGroup:
    ifname: str
    group: str
    ifindex: int = 0
    users: int = 1


# ----------------------------------------------------------------- probes

@dataclass
class PingReply:
    seq: int
    rtt_ms: float
    source: str
    hop_limit: int = 64


@dataclass
class IcmpError:
    """kind: "unreachable", "packet-too-big", "time-exceeded",
    "parameter-problem", or "local" (refused by the sender's own stack)."""

    kind: str
    detail: str
    source: str = ""
    type: int = 1
    code: int = 0
    mtu: int = 0
    rtt_ms: float = 0.0


@dataclass
class PingResult:
    dst: str
    sent: int
    replies: list[PingReply] = field(default_factory=list)
    errors: list[IcmpError] = field(default_factory=list)
    path_mtu: int = 0

    @property
    def received(self) -> int:
        return len(self.replies)


@dataclass
class TracerouteHop:
    hop: int
    source: str
    rtt_ms: float = 1.0
    kind: str = "time-exceeded"   # the last hop's is "reply"


@dataclass
class TracerouteResult:
    dst: str
    reached: bool
    hops: list[TracerouteHop] = field(default_factory=list)


@dataclass
class ConnectResult:
    ok: bool
    error: str = ""
    ms: float = 0.5
    received: bytes = b""


@dataclass
class DnsRecord:
    name: str
    type: str
    data: str
    ttl: int = 300


@dataclass
class DnsResult:
    answered: bool
    error: str = ""
    rcode: str = "NOERROR"
    authoritative: bool = True
    recursion_available: bool = False
    truncated: bool = False
    answers: list[DnsRecord] = field(default_factory=list)
    ms: float = 0.5


@dataclass
class RaPrefix:
    prefix: str
    on_link: bool = True
    autonomous: bool = True
    valid_lifetime: int = 86400
    preferred_lifetime: int = 14400


@dataclass
class RaRoute:
    prefix: str
    preference: str = "medium"
    lifetime: int = 1800


@dataclass
class RouterAdvert:
    source: str
    hop_limit: int = 255
    cur_hop_limit: int = 64
    managed: bool = False
    other: bool = False
    home_agent: bool = False
    preference: str = "medium"
    router_lifetime: int = 1800
    reachable_time: int = 0
    retrans_timer: int = 0
    prefixes: list[RaPrefix] = field(default_factory=list)
    rdnss: list[str] = field(default_factory=list)
    rdnss_lifetime: int = 0
    dnssl: list[str] = field(default_factory=list)
    mtu: int = 0
    source_lladdr: str = ""
    routes: list[RaRoute] = field(default_factory=list)
    at: float = 0.0


def router_advert(source: str, prefixes: Sequence[str] = (), **kw: Any) -> RouterAdvert:
    """An RA from source (a link-local address) with these prefixes (A and
    L set); other fields as RouterAdvert's keywords (managed=True, ...)."""
    return RouterAdvert(source, prefixes=[RaPrefix(p) for p in prefixes], **kw)
