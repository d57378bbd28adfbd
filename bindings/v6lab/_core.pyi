"""Type stubs for v6lab._core, the private C++ core (see docs/architecture.md)."""

from typing import Any, Optional

class Error(Exception): ...
class SpecError(Error): ...
class KernelError(Error, OSError): ...
class MissingBinaryError(Error): ...

def find_program(name: str) -> str: ...
def default_id_range() -> tuple[int, int]: ...
def namespace_support() -> str: ...

class ImageRegistry:
    @staticmethod
    def load_dir(directory: str) -> ImageRegistry: ...
    @staticmethod
    def load_path(directories: list[str]) -> ImageRegistry: ...
    def names(self) -> list[str]: ...
    def describe(self, name: str) -> Optional[dict]: ...

# The resolved spec: read-only (no constructor, no setters). Lists are built
# on each access; their items refer into the Spec and keep it alive.

class IpAddr:
    family: int  # socket.AF_INET6 or socket.AF_INET
    address: str
    prefix_len: Optional[int]
    cidr: str
    is_link_local: bool
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class RouteSpec:
    dst: IpAddr
    via: Optional[IpAddr]
    dev: str
    metric: Optional[int]

class BinaryReq:
    name: str
    package: str

class IfaceSpec:
    name: str
    kind: str  # "lan" or "link"
    lan: str
    peer_node: str
    peer_iface: str
    peer: str  # "node:iface" on a link, "" on a LAN
    mtu: Optional[int]
    mac: Optional[str]
    addresses: list[IpAddr]

class NodeSpec:
    name: str
    image: str
    images: list[str]
    roles: list[str]
    provider: bool
    sysctls: list[tuple[str, str]]
    binaries: list[BinaryReq]
    interfaces: list[IfaceSpec]
    routes: list[RouteSpec]
    def iface(self, name: str) -> Optional[IfaceSpec]: ...

class LanSpec:
    name: str
    mtu: Optional[int]
    members: list[tuple[str, str]]  # (node, iface); member k is switch port k

class LinkSpec:
    node_a: str
    iface_a: str
    node_b: str
    iface_b: str
    mtu: Optional[int]
    endpoints: list[tuple[str, str]]

class Spec:
    name: str
    source: str
    nodes: list[NodeSpec]
    lans: list[LanSpec]
    links: list[LinkSpec]
    @staticmethod
    def parse(json_text: str, source: str, images: ImageRegistry) -> Spec: ...
    @staticmethod
    def from_json(json_text: str, origin: str) -> Spec:
        """What to_json wrote (a lab's record), checked; SpecError names
        origin and the field."""
        ...
    def node(self, name: str) -> Optional[NodeSpec]: ...
    def lan(self, name: str) -> Optional[LanSpec]: ...
    def to_json(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object) -> bool: ...
    def node_names(self) -> list[str]: ...
    def missing_binaries(self) -> str: ...
    def fds_needed(self) -> int: ...
    def fd_limit_problem(self, hard_limit: int = 0) -> str: ...

class LinkInfo:
    index: int
    name: str
    kind: str
    up: bool
    running: bool
    operstate: str
    mtu: int
    mac: str
    master: int

class AddressInfo:
    ifname: str
    ifindex: int
    family: int
    address: str
    prefix_len: int
    scope: str
    flags: int
    valid_lft: Optional[int]
    preferred_lft: Optional[int]
    tentative: bool
    dadfailed: bool
    deprecated: bool
    temporary: bool
    mngtmpaddr: bool
    permanent: bool
    optimistic: bool
    flag_names: list[str]
    cidr: str

class NextHop:
    gateway: str
    ifname: str
    ifindex: int

class RouteInfo:
    family: int
    dst: str
    table: int
    protocol: str
    type: str
    metric: int
    pref: str
    expires: Optional[float]
    nexthops: list[NextHop]
    mtu: int            # RTAX_MTU, 0 when unset
    mtu_locked: bool    # "mtu lock N"
    cached: bool        # RTM_F_CLONED: a route-cache entry (exception) only the kernel makes

class NeighbourInfo:
    ifname: str
    ifindex: int
    family: int
    address: str
    lladdr: str
    state: str
    router: bool

class NodeHandle:
    name: str
    pid: int
    starttime: int
    @staticmethod
    def attach(name: str, pid: int, starttime: int) -> NodeHandle: ...
    def links(self) -> list[LinkInfo]: ...
    def addresses(self, family: int = 0) -> list[AddressInfo]: ...
    def routes(self, family: int = 0, all_tables: bool = False) -> list[RouteInfo]: ...
    def neighbours(self, family: int = 0) -> list[NeighbourInfo]: ...
    def sysctl(self, key: str) -> str: ...
    def set_sysctl(self, key: str, value: str) -> None: ...
    def delete_address(self, ifname: str, cidr: str) -> None: ...
    def open_socket(self, family: int, type: int, proto: int = 0, *,
                    bind_iface: Optional[str] = None, bind_addr: Optional[str] = None,
                    port: int = 0, options: dict[str, Any] = ...) -> int:
        """A socket inside this node's network namespace; returns the fd,
        which the caller owns (core/include/v6lab/node_socket.hpp)."""
        ...

class Lab:
    def __init__(self, spec: Spec, init_path: str) -> None: ...
    def stop(self) -> None: ...
    running: bool
    limits: str
    spec: Spec
    def node(self, name: str) -> NodeHandle: ...
    def node_names(self) -> list[str]: ...
    def switch_ns(self) -> Optional[NodeHandle]: ...
    def lan_bridge(self, lan: str) -> str: ...
    def timing(self) -> dict[str, float]: ...

def kernel_feature_missing(feature: str) -> str: ...

def process_starttime(pid: int) -> int: ...

# -- the outside view of a node (core/include/v6lab/nodefs.hpp) -------------

class SocketError(Error, OSError):
    """A socket could not be opened or set up in a node; errno is the kernel's."""

class NodeFileError(Error):
    """kind: not_found, not_regular, too_large, refused, timed_out,
    process_gone or io; errno: the system error, 0 if none."""
    kind: str
    errno: int

class NodeProcess:
    host_pid: int
    node_pid: int
    host_ppid: int
    starttime: int
    exe_dev: int
    exe_ino: int
    exe_path: str
    uid: int
    node_uid: int
    comm: str
    state: str

class MulticastGroup:
    ifindex: int
    ifname: str
    group: str
    users: int

class ProcessIdentity:
    pid: int
    starttime: int
    ppid: int
    netns: tuple[int, int]
    pidns: tuple[int, int]

def read_node_file(node: str, pid: int, starttime: int, path: str,
                   max_bytes: int = 65536, timeout: float = 2.0,
                   follow_symlinks: bool = True) -> bytes: ...
def list_node_processes(node: str, pid: int, starttime: int,
                        timeout: float = 5.0) -> list[NodeProcess]: ...
def remember_pid_namespaces() -> int: ...
def node_multicast_groups(node: str, pid: int, starttime: int,
                          timeout: float = 2.0) -> list[MulticastGroup]: ...
def process_identity(pid: int, starttime: int) -> ProcessIdentity: ...


class WireFrame:
    at: float
    ifname: str
    ifindex: int
    outgoing: bool
    injected: bool
    data: bytes

class WireTap:
    """AF_PACKET tap on ICMPv6 (and chosen UDP and TCP) frames in a namespace (core/include/v6lab/wire.hpp)."""
    def __init__(self, handle: NodeHandle, icmp6_types: list[int] = ...,
                 udp_ports: list[int] = ..., tcp_ports: list[int] = ...) -> None: ...
    def read(self, timeout: float = 0.0) -> list[WireFrame]: ...
    def inject(self, ifname: str, frame: bytes) -> None: ...
    @property
    def interfaces(self) -> list[tuple[int, str]]: ...
    def close(self) -> None: ...
