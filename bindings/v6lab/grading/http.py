"""HTTP fetched by the grader itself, and attributed to the server's cable.

`http_fetch` speaks HTTP/1.0 from a node's namespace with a socket v6lab
opens there (`lab[src].socket`, no program of the node runs), and, with
`server=`, requires that the answer's TCP segments came in on that node's
switch port, byte for byte what the grader's socket received. So a canned
answer does not count when it comes from anywhere else: another node that
took the server's address, a router on the path answering for it, or a
redirect (DNAT) to a fake server inside the client's own namespace. This
is how an IPv6 certification checks a web server for real: fetch a token
only that server publishes, over IPv6 only, from outside.

What it cannot tell apart: any program on the server node answering on
that port (socat, a Python one-liner) is the server on the wire; pair the
check with `daemon_running(server, "nginx")` when the program matters.
The tap sees IPv6 only (the core's filter), so `server=` needs an IPv6
destination; an IPv4 fetch is not attributed.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import TYPE_CHECKING, Callable, Optional, Union

from ..i18n import _, join_and
from .check import Check, CheckFailed
from . import wire

if TYPE_CHECKING:
    from ..lab import Lab

MAX_ANSWER = 65536
Expected = Union[str, bytes, Callable[["Lab"], str], None]


def server_ports(lab: "Lab", node: str) -> dict[str, str]:
    """Switch port -> "node:iface" for each of node's interfaces on a LAN."""
    return {p: owner for p, owner in wire.port_owners(lab).items()
            if owner.partition(":")[0] == node}


def lan_ports(lab: "Lab", ports: dict[str, str]) -> dict[str, str]:
    """Every port (-> owner) of the LANs the given ports are on."""
    lans = {p.partition("p")[0] for p in ports}
    return {p: o for p, o in wire.port_owners(lab).items() if p.partition("p")[0] in lans}


def endpoint(addr: str, port: int) -> str:
    """[2001:db8::1]:80 or 192.0.2.1:80, as URLs and ss write them."""
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def _exchange(lab: "Lab", src: str, addr: str, port: int, request: bytes,
              timeout: float) -> tuple[tuple[str, int], bytes]:
    """Connects from src's namespace, sends request, reads to EOF: (the
    client's own address and port, what came back)."""
    family = socket.AF_INET6 if ipaddress.ip_address(addr).version == 6 else socket.AF_INET
    deadline = time.monotonic() + timeout
    with lab[src].socket(family, socket.SOCK_STREAM, timeout=timeout) as s:
        try:
            s.connect((addr, port))
        except ConnectionRefusedError:
            raise CheckFailed(_("{src} cannot connect to {endpoint}: {error}").format(
                src=src, endpoint=endpoint(addr, port), error="connection refused")) from None
        except (socket.timeout, TimeoutError):
            raise CheckFailed(_("{src} cannot connect to {endpoint}: {error}").format(
                src=src, endpoint=endpoint(addr, port), error="timed out")) from None
        except OSError as e:
            raise CheckFailed(_("{src} cannot connect to {endpoint}: {error}").format(
                src=src, endpoint=endpoint(addr, port), error=(e.strerror or str(e)).lower())) from None
        local = s.getsockname()[:2]
        data = b""
        try:
            s.sendall(request)
            while len(data) < MAX_ANSWER:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = s.recv(MAX_ANSWER - len(data))
                if not chunk:
                    break
                data += chunk
        except (socket.timeout, TimeoutError):
            if not data:
                raise CheckFailed(_("{endpoint} accepted {src}'s connection but sent no "
                                    "answer within {seconds} s").format(
                    endpoint=endpoint(addr, port), src=src, seconds=f"{timeout:g}")) from None
        except ConnectionResetError:
            if not data:
                raise CheckFailed(_("{endpoint} reset {src}'s connection without an "
                                    "answer").format(endpoint=endpoint(addr, port), src=src)) from None
    return (local[0], local[1]), data


def stream_from(seen: list[wire.Seen], ports: set[str], addr: str, port: int,
                client: tuple[str, int]) -> Optional[bytes]:
    """The bytes addr:port sent to client, rebuilt from the segments that
    came in on one of `ports` (by sequence number from the SYN-ACK); None
    if no SYN-ACK of that connection came in on them."""
    mine = [s.packet for s in seen
            if s.ifname in ports and not s.outgoing and not s.injected
            and isinstance(s.packet, wire.TcpPacket) and s.packet.sport == port
            and s.packet.dport == client[1] and _same(s.packet.src, addr)
            and _same(s.packet.dst, client[0])]
    synack = [p for p in mine if p.flags & 0x12 == 0x12]
    if not synack:
        return None
    isn = synack[0].seq
    out = bytearray()
    for p in sorted(mine, key=lambda p: (p.seq - isn - 1) % (1 << 32)):
        off = (p.seq - isn - 1) % (1 << 32)
        if not p.payload or off > len(out) or off >= MAX_ANSWER:
            continue
        out[off:off + len(p.payload)] = p.payload
    return bytes(out)


def _same(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b.split("%")[0])
    except ValueError:
        return False


def senders(seen: list[wire.Seen], owners: dict[str, str], addr: str, port: int,
            client: tuple[str, int]) -> list[str]:
    """Nodes on whose cables (among `owners`' ports) segments from addr:port
    to the client came in: who answered, as the network saw it."""
    out = []
    for s in seen:
        p = s.packet
        if (s.ifname in owners and not s.outgoing and not s.injected
                and isinstance(p, wire.TcpPacket) and p.sport == port and p.dport == client[1]
                and _same(p.src, addr)):
            node = owners[s.ifname].partition(":")[0]
            if node not in out:
                out.append(node)
    return out


def parse_response(data: bytes) -> tuple[int, bytes]:
    """(status code, body) of an HTTP/1.x answer; status 0 if it is not one."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    first = head.split(b"\n", 1)[0].strip().split(None, 2)
    if len(first) < 2 or not first[0].startswith(b"HTTP/1.") or not first[1].isdigit():
        return 0, b""
    return int(first[1]), body


def shown(data: bytes, limit: int = 40) -> str:
    """A short, printable excerpt for a message (a report never replays a
    large or binary answer)."""
    text = data[:limit].decode("ascii", "replace")
    text = "".join(ch if ch.isprintable() and ch != "\ufffd" else "." for ch in text).strip()
    return text + ("…" if len(data) > limit else "")


def http_fetch(src: str, dst: str, path: str = "/", *, port: int = 80,
               host: Optional[str] = None, expect: Expected = None,
               server: Optional[str] = None, timeout: float = 2.0,
               within: float = 0.0) -> Check:
    """GET `path` from dst (an address, a node or "node:iface"; IPv6 unless
    an IPv4 address is given) from src's namespace: status 200 and, if
    given, `expect` (text, or a function of the lab giving it) in the body.
    With `server`, the answer must have come in on server's cable."""
    from .library import global_address

    def fn(lab: "Lab") -> str:
        addr = global_address(lab, dst) if not _is_ip(dst) else dst
        want = expect(lab) if callable(expect) else expect
        want_b = want.encode() if isinstance(want, str) else want
        name = host or (f"[{addr}]" if ":" in addr else addr)
        url = f"http://{name}{'' if port == 80 else f':{port}'}{path}"
        request = (f"GET {path} HTTP/1.0\r\nHost: {name}\r\nUser-Agent: v6lab-grader\r\n"
                   "Connection: close\r\n\r\n").encode()
        ports = server_ports(lab, server) if server else {}
        if server and not ports:
            raise RuntimeError(f"{server} is on no LAN: there is no switch port to attribute "
                               f"its answers to")
        if server and ipaddress.ip_address(addr).version != 6:
            raise RuntimeError(f"http_fetch(server={server!r}) attributes IPv6 only; "
                               f"{addr} is IPv4")
        if not server:
            _client, data = _exchange(lab, src, addr, port, request, timeout)
        else:
            with wire.Tap.switch(lab, tcp_ports=(port,)) as tap:
                client, data = _exchange(lab, src, addr, port, request, timeout)
                tap.collect(1.0, until=lambda seen: (stream_from(seen, set(ports), addr, port,
                                                                 client) or b"").startswith(data))
            got = stream_from(tap.seen, set(ports), addr, port, client)
            if got is None or not got.startswith(data):
                others = [n for n in senders(tap.seen, lan_ports(lab, ports), addr, port, client)
                          if n != server]
                raise CheckFailed(
                    _("the answer {src} got from {endpoint} did not come from {server}: it "
                      "came in on {nodes}'s cable").format(
                        src=src, endpoint=endpoint(addr, port), server=server,
                        nodes=join_and(others))
                    if others else
                    _("the answer {src} got from {endpoint} did not come from {server}: "
                      "nothing {server} sent carried it").format(
                        src=src, endpoint=endpoint(addr, port), server=server))
        status, body = parse_response(data)
        if status == 0:
            raise CheckFailed(_("{url} did not answer HTTP (it sent: {text})").format(
                url=url, text=shown(data)))
        if status != 200:
            raise CheckFailed(_("{url} answered HTTP {status}, not 200").format(url=url, status=status))
        if want_b is not None and want_b not in body:
            raise CheckFailed(_("{url} answered 200, but without the expected text (it says: "
                                "{text})").format(url=url, text=shown(body) or _("nothing")))
        seen = _(", seen leaving {server}'s cable").format(server=server) if server else ""
        return _("{url} answered 200 over {family}{seen}").format(
            url=url, family="IPv6" if ":" in addr else "IPv4", seen=seen)

    desc = _("{src} fetches http://{dst}{path}").format(src=src, dst=host or dst, path=path)
    return Check(desc, fn, within=within)


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False
