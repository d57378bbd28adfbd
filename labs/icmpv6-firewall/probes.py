"""The grader's own traffic for lab 14: connections, raw listeners and
hand-built ICMPv6 frames, all opened by v6lab inside the nodes' network
namespaces (v6lab.nodesock) or sent from the switch (the wire tap). No
program of any node takes part, and no address or port is known before the
check runs: sources are drawn at random in the Internet range that
`outside` holds (a local route, AnyIP), ports at random too, so a firewall
cannot be written for the grader's probes alone.

No translated text here: checks.py words what these observe.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import random
import select
import socket
import struct
import time
from dataclasses import dataclass
from typing import Iterator

from v6lab.grading import wire

IPPROTO_TCP = 6
TCP_SYN, TCP_RST, TCP_ACK = 0x02, 0x04, 0x10


def random_internet(variables: dict) -> str:
    """An address of the Internet range (outside answers on all of it),
    never one of the few the README names."""
    net = ipaddress.IPv6Network(variables["internet"])
    while True:
        a = net[random.randrange(0x1000, net.num_addresses - 1)]
        if a != ipaddress.IPv6Address(variables["internet_web"]):
            return str(a)


def random_port(avoid: tuple[int, ...] = ()) -> int:
    """Any port but the published one (80): a probe's evidence is what
    arrives at the target, not who listens, so well-known, high and
    ephemeral ports are all fair (a rule that blocks only some range is
    caught sooner or later)."""
    while True:
        p = random.randrange(1, 65536)
        if p != 80 and p not in avoid:
            return p


def wait_serving(lab, node: str, addr: str, port: int, timeout: float = 3.0) -> None:
    """Until a TCP connection to [addr]:port from inside node succeeds (a
    daemon just started); raises after timeout."""
    from v6lab.errors import Error
    deadline = time.monotonic() + timeout
    while True:
        try:
            with lab[node].socket(socket.AF_INET6, socket.SOCK_STREAM, timeout=0.5) as s:
                s.connect((addr, port))
                return
        except OSError as e:
            if time.monotonic() > deadline:
                raise Error(f"the lab's web server on {node} does not answer on "
                            f"[{addr}]:{port} after {timeout:g} s: {e}") from None
            time.sleep(0.02)


@contextlib.contextmanager
def one_cpu() -> Iterator[None]:
    """Runs the calling thread on one CPU while it sends packets that must
    reach a node in the order sent: veths and bridges queue each packet on
    the backlog of the CPU that sent it, so packets sent from one CPU stay
    in order along the whole path, and a packet sent after another cannot
    overtake it."""
    try:
        old = os.sched_getaffinity(0)
    except OSError:
        yield
        return
    try:
        os.sched_setaffinity(0, {min(old)})
    except OSError:
        pass
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, old)


# ------------------------------------------------------------ TCP segments

@dataclass(frozen=True)
class Segment:
    """A TCP segment as a raw socket in the receiving node saw it: it
    arrived there (past that node's own firewall, if any)."""
    src: str
    sport: int
    dport: int
    flags: int
    payload: bytes


class RawTcp:
    """A raw IPv6 TCP socket in a node: the kernel hands it a copy of every
    TCP segment the node receives, whether a socket listens on the port or
    not. It sees what came through fw, and nothing a node can fake except
    by sending that very segment to it."""

    def __init__(self, lab, node: str) -> None:
        self.node = node
        self.sock = lab[node].socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_TCP, timeout=0)
        self.seen: list[Segment] = []

    def close(self) -> None:
        self.sock.close()

    def drain(self) -> list[Segment]:
        new = []
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                break
            if len(data) < 20:
                continue
            sport, dport = struct.unpack("!HH", data[:4])
            off = (data[12] >> 4) * 4
            new.append(Segment(str(ipaddress.ip_address(addr[0].split("%")[0])), sport, dport,
                               data[13], data[off:]))
        self.seen += new
        return new


def wait_readable(socks: list, timeout: float) -> None:
    if timeout > 0:
        select.select([s.fileno() if hasattr(s, "fileno") else s for s in socks], [], [],
                      timeout)


# ------------------------------------------------------------------ flows

class FlowError(Exception):
    """A grader connection did not come up; `stage` says how far it got:
    "syn" (nothing reached the Internet), "reply" (the SYN reached the
    Internet, its answer never came back), "refused", "intercepted" (the
    client connected, but the grader's listener never saw it), "other"."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(detail)
        self.stage = stage
        self.remote = ""


class Flow:
    """A TCP connection from an inside node to a grader listener on a random
    Internet address: the grader holds both ends, so it knows the ports and
    can exchange data no program could have prepared."""

    def __init__(self, lab, variables: dict, node: str, timeout: float = 1.0) -> None:
        v = variables
        self.node = node
        self.remote = random_internet(v)
        self.port = random_port()
        self.client = self.server = self.listener = None
        self._stack = contextlib.ExitStack()
        try:
            self._open(lab, timeout)
        except FlowError as e:
            e.remote = self.remote
            self.close()
            raise
        except BaseException:
            self.close()
            raise

    def _open(self, lab, timeout: float) -> None:
        out = lab["outside"]
        self.listener = self._stack.enter_context(out.socket(
            socket.AF_INET6, socket.SOCK_STREAM, bind_addr=self.remote, port=self.port,
            reuse_addr=True, timeout=timeout))
        self.listener.listen(4)
        raw = RawTcp(lab, "outside")
        self._stack.callback(raw.close)
        self.client = self._stack.enter_context(
            lab[self.node].socket(socket.AF_INET6, socket.SOCK_STREAM, timeout=timeout))
        try:
            self.client.connect((self.remote, self.port))
        except OSError as e:
            raw.drain()
            reached = any(s.src != self.remote and s.dport == self.port and s.flags & TCP_SYN
                          for s in raw.seen)
            if isinstance(e, ConnectionRefusedError):
                raise FlowError("refused", "connection refused") from None
            if reached:
                raise FlowError("reply", str(e) or "timed out") from None
            stage = "syn" if isinstance(e, (socket.timeout, TimeoutError)) else "other"
            raise FlowError(stage, str(e) or "timed out") from None
        try:
            self.server, peer = self.listener.accept()
        except (socket.timeout, TimeoutError):
            # The client connected, but not to the grader: something on
            # the way (a redirect on fw) answered in the Internet's place.
            raise FlowError("intercepted", "answered by something else") from None
        self._stack.enter_context(self.server)
        self.server.settimeout(timeout)
        self.peer = str(ipaddress.ip_address(peer[0].split("%")[0]))
        self.local_port = self.client.getsockname()[1]
        self.local = str(ipaddress.ip_address(self.client.getsockname()[0].split("%")[0]))

    def close(self) -> None:
        self._stack.close()


def connect_nowait(lab, node: str, src: str, dst: str, port: int) -> socket.socket:
    """A non-blocking connect from [src] in node to [dst]:port: it returns
    at once, the SYN on its way."""
    s = lab[node].socket(socket.AF_INET6, socket.SOCK_STREAM, bind_addr=src, timeout=0)
    try:
        s.connect((dst, port))
    except BlockingIOError:
        pass
    except OSError:
        pass
    return s


def connect_outcome(s: socket.socket) -> str:
    """What became of a non-blocking connect: "connected", "refused" (a
    TCP reset), "rejected" (an ICMPv6 error), or "no answer"."""
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err == 0:
        try:
            s.getpeername()
            return "connected"
        except OSError:
            return "no answer"
    if err == errno.ECONNREFUSED:
        return "refused"
    if err in (errno.EINPROGRESS, errno.EALREADY):
        return "no answer"
    return "rejected"


# ------------------------------------------------------------ ICMPv6 frames

def packet_too_big(*, src_mac: str, dst_mac: str, router: str, dst: str, mtu: int,
                   quoted_src: str, quoted_dst: str, sport: int, dport: int) -> bytes:
    """A Packet Too Big from `router` to dst, quoting the start of a TCP
    segment quoted_src:sport -> quoted_dst:dport of mtu + 100 bytes, as a
    router on the path sends it (RFC 4443 3.2)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32),
                      random.getrandbits(32), 5 << 4, TCP_ACK | 0x08, 502, 0, 0)
    payload = tcp + os.urandom(64)
    inner = struct.pack("!IHBB", 6 << 28, mtu + 100 - 40, IPPROTO_TCP, 63) + \
        ipaddress.IPv6Address(quoted_src).packed + ipaddress.IPv6Address(quoted_dst).packed
    icmp = bytes([wire.PACKET_TOO_BIG, 0, 0, 0]) + struct.pack("!I", mtu) + inner + payload
    return wire.frame(src_mac, router, dst, icmp, dst_mac=dst_mac, hop_limit=64)


def neighbour_solicit(*, src_mac: str, src: str, dst_mac: str, target: str) -> bytes:
    """A unicast Neighbour Solicitation for target, without the source
    link-layer address option (RFC 4861 7.2.2 allows it when unicast): to
    answer it the node must first ask for the grader's own link-layer
    address and take the grader's Neighbour Advertisement in."""
    icmp = bytes([wire.NS, 0, 0, 0, 0, 0, 0, 0]) + ipaddress.IPv6Address(target).packed
    return wire.frame(src_mac, src, target, icmp, dst_mac=dst_mac)


def neighbour_advert(*, src_mac: str, src: str, dst_mac: str, dst: str) -> bytes:
    """A solicited Neighbour Advertisement for src with its link-layer
    address (Solicited and Override set)."""
    icmp = bytes([wire.NA, 0, 0, 0, 0x60, 0, 0, 0]) + ipaddress.IPv6Address(src).packed + \
        bytes([2, 1]) + wire.mac_bytes(src_mac)
    return wire.frame(src_mac, src, dst, icmp, dst_mac=dst_mac)


def echo_socket(lab, src: str) -> socket.socket:
    """A raw ICMPv6 socket in outside bound to src (an Internet address),
    receiving echo replies only."""
    return lab["outside"].socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6,
                                 bind_addr=src, timeout=0,
                                 icmp6_filter_type=wire.ECHO_REPLY)


def echo_request(ident: int, seq: int, data: bytes) -> bytes:
    """ICMPv6 Echo Request for a raw socket (the kernel fills the checksum)."""
    return bytes([wire.ECHO_REQUEST, 0, 0, 0]) + struct.pack("!HH", ident, seq) + data
