"""Checks of path MTU discovery (RFC 8201) that the check library does not
have: whether a Packet Too Big that the provider sent reaches the office,
whether a host's kernel learned the MTU from it, and whether an upload
through the narrow link completes.

Why the evidence can be trusted (docs/grading.md, "Why the grades can be
trusted"):

- A Packet Too Big counts only if the wire tap saw it come in on the
  sender's switch port (the provider's router, which no trainee can log
  into) and then saw the same one (same sender, MTU and quoted
  destination) delivered on the receiver's port. The quoted destination
  is an address drawn at random for each grade, so nothing can have been
  prepared for it, and a Packet Too Big that r1 makes up itself comes in
  on r1's port, not the provider's.
- The route cache is read by netlink from outside the host; an entry of
  it (RTM_F_CLONED) is made only by the kernel, and a route with `mtu`
  typed by hand is told apart from it.
- The upload is sent by the grader's own socket in the host and counted
  by the grader's own socket in the provider's server, at a fresh address
  of the server's prefix: the host has no cached MTU for it, so the upload
  needs path MTU discovery to work now, and a proxy or NAT on r1 shows as
  another source address.

Messages are translated with the lab's catalogue: each factory takes the
lab's translator `_`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Callable

from v6lab import wait_until
from v6lab.grading import Check, CheckFailed, checks as c
from v6lab.grading import wire as w

if TYPE_CHECKING:
    from v6lab import Lab

Translator = Callable[[str], str]
IPV6_ICMP6_HEADERS = 40 + 8      # an echo request's IPv6 and ICMPv6 headers


def random_address(prefix: str) -> str:
    """An address of prefix no one can have predicted (never the subnet
    router anycast address, interface id 0)."""
    net = ipaddress.IPv6Network(prefix)
    host_bits = 128 - net.prefixlen
    iid = (int.from_bytes(os.urandom(16), "big") % ((1 << host_bits) - 1)) + 1
    return str(net.network_address + iid)


def shared_lan(lab: "Lab", a: str, b: str) -> tuple[int, str, str]:
    """(lan index, a's interface, b's interface) of the first LAN both are
    on: where the tap watches a packet pass from one to the other."""
    for i, lan in enumerate(lab.spec.lans):
        ends = dict(lan.members)
        if a in ends and b in ends:
            return i, ends[a], ends[b]
    raise RuntimeError(f"{a} and {b} share no LAN: the wire tap cannot watch between them")


def first_global(lab: "Lab", node: str, iface: str) -> str:
    return c.global_address(lab, f"{node}:{iface}")


def wait_listening(lab: "Lab", node: str, port: int, timeout: float = 3.0) -> None:
    """Waits until a TCP service accepts on port in node (the grader
    connects from the node's own namespace, to ::1)."""
    def accepts() -> bool:
        with lab[node].socket(socket.AF_INET6, socket.SOCK_STREAM, timeout=0.2) as s:
            return s.connect_ex(("::1", port)) == 0
    wait_until(accepts, timeout, what=f"{node} to accept TCP on port {port}")


def _ptbs_for(seen: list[w.Seen], quoted_dst: str) -> list[w.Seen]:
    return [s for s in seen if not s.injected and s.packet.icmp_type == w.PACKET_TOO_BIG
            and isinstance(s.packet.body, w.PacketTooBig)
            and s.packet.body.quoted_dst == quoted_dst]


class _RawTap(w.Tap):
    """A switch tap that also keeps each ICMPv6 frame's bytes from its
    ICMPv6 header on (`raw`, by the Seen's id): "the same Packet Too Big"
    means the same message, byte for byte, not only the same fields."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.raw: dict[int, bytes] = {}

    def poll(self, timeout: float = 0.0) -> list[w.Seen]:
        new = []
        for f in self._tap.read(timeout):
            p = w.decode(f.data)
            if p is None:
                continue
            owner = self._owners.get(f.ifname, "")
            seen = w.Seen(f.at, f.ifname, owner.partition(":")[0], f.outgoing, f.injected, p)
            self.raw[id(seen)] = bytes(f.data[14 + 40:])
            new.append(seen)
        self.seen += new
        return new


class _Evidence:
    """The Packet Too Big frames about one probe: those sender sent (in on
    its port), those delivered to the receiver (out of its port), and the
    delivered ones that are a sent one, byte for byte (only the hop limit,
    outside the ICMPv6 message, changes on the way)."""

    def __init__(self, tap: _RawTap, quoted_dst: str, sender: str, to_port: str) -> None:
        mine = _ptbs_for(tap.seen, quoted_dst)
        self.sent = [s for s in mine if s.node == sender and not s.outgoing]
        self.delivered = [s for s in mine if s.ifname == to_port and s.outgoing]
        sent = {(s.packet.src, s.packet.dst, tap.raw.get(id(s))) for s in self.sent}
        self.genuine = [d for d in self.delivered
                        if (d.packet.src, d.packet.dst, tap.raw.get(id(d))) in sent]


def _collect(tap: _RawTap, quoted_dst: str, sender: str, to_port: str, window: float) -> _Evidence:
    """Listens until the sender's Packet Too Big was delivered, or for at
    most `window` seconds (0.2 s more once the sender has sent it: the
    lab's links take microseconds, so a frame not delivered by then was
    dropped)."""
    end = time.monotonic() + window
    sent_seen = False
    while True:
        ev = _Evidence(tap, quoted_dst, sender, to_port)
        if ev.genuine:
            return ev
        if ev.sent and not sent_seen:
            sent_seen = True
            end = min(end, time.monotonic() + 0.2)
        left = end - time.monotonic()
        if left <= 0:
            return ev
        tap.poll(min(0.05, left))


def echo_request(ident: int, payload: int) -> bytes:
    head = bytes([w.ECHO_REQUEST, 0, 0, 0]) + ident.to_bytes(2, "big") + b"\0\1"
    return head + os.urandom(payload)


def ptb_forwarded(host: str, router: str, sender: str, prefix: str, mtu: int, _: Translator, *,
                  size: int = 1500, window: float = 1.0) -> Check:
    """A Packet Too Big from `sender` about a packet from `host` crosses
    `router` and is delivered on host's cable. The grader sends the big
    packet itself: injected on host's LAN with host's address as source,
    to router's MAC, toward a random address of `prefix` (so host's own
    MTU and routes play no part: this is about router's forwarding)."""
    def fn(lab: "Lab") -> str:
        lan, h_if, r_if = shared_lan(lab, host, router)
        src = first_global(lab, host, h_if)
        dst = random_address(prefix)
        gw_mac = lab[router].link(r_if).mac
        my_mac = w.random_identity()[0]
        ident = int.from_bytes(os.urandom(2), "big")
        probe = w.frame(my_mac, src, dst, echo_request(ident, size - IPV6_ICMP6_HEADERS),
                        dst_mac=gw_mac, hop_limit=64)
        port = w.port_of(lab, host, h_if)
        with _RawTap.switch(lab, (w.PACKET_TOO_BIG,)) as tap:
            tap.inject(w.bridge_of(lab, lan), probe)
            ev = _collect(tap, dst, sender, port, window)
        fmt = dict(host=host, router=router, sender=sender, size=size, dst=dst, mtu=mtu,
                   iface=h_if)
        if ev.genuine:
            got = ev.genuine[0].packet.body.mtu
            if got != mtu:
                raise CheckFailed(_("{sender}'s Packet Too Big reached {host}:{iface}, but says "
                                    "MTU {got}, not {mtu}").format(got=got, **fmt))
            return _("{sender}'s Packet Too Big (MTU {mtu}) for a packet of {size} bytes from "
                     "{host} to {dst} crossed {router} and reached {host}:{iface}").format(**fmt)
        if ev.delivered and not ev.sent:
            own = ev.delivered[0].packet
            raise CheckFailed(_("{host}:{iface} got a Packet Too Big (MTU {got}) from {source}, "
                                "not from the provider's {sender}: the packet of {size} bytes "
                                "never got as far as {sender} (was an MTU on {router} "
                                "lowered?)").format(
                                    got=own.body.mtu, source=own.src, **fmt))
        if ev.delivered:
            raise CheckFailed(_("{host}:{iface} got a Packet Too Big about the grader's packet, "
                                "but not the one {sender} sent (its bytes differ): something on "
                                "the way made it up").format(**fmt))
        if ev.sent:
            raise CheckFailed(_("{sender} sent a Packet Too Big (MTU {mtu}) for a packet of "
                                "{size} bytes from {host} to {dst}, but it never reached "
                                "{host}:{iface}: {router} drops it").format(**fmt))
        raise CheckFailed(_("{sender} sent no Packet Too Big for a packet of {size} bytes from "
                            "{host} to {dst}: the packet did not get as far as {sender} (does "
                            "{router} forward it?)").format(**fmt))
    return Check(_("a Packet Too Big from {sender} about {host}'s packet of {size} bytes crosses "
                   "{router} to {host} (seen on both cables)").format(
                       host=host, router=router, sender=sender, size=size), fn)


def ptb_received(node: str, sender: str, prefix: str, mtu: int, _: Translator, *,
                 size: int = 1500, timeout: float = 1.0) -> Check:
    """The grader's don't-fragment ping from node (its own socket in the
    node) toward a random address of prefix gets sender's Packet Too Big
    with the MTU: the tap saw sender send it and node's cable deliver it,
    and node's kernel passed it to the grader's socket (so node's own
    input rules let it in)."""
    def fn(lab: "Lab") -> str:
        lan, n_if, s_if = shared_lan(lab, node, sender)
        port = w.port_of(lab, node, n_if)
        dst = random_address(prefix)
        with _RawTap.switch(lab, (w.PACKET_TOO_BIG,)) as tap:
            r = lab[node].ping(dst, size=size - IPV6_ICMP6_HEADERS, dont_fragment=True,
                               timeout=timeout)
            ev = _collect(tap, dst, sender, port, 0.2)
        fmt = dict(node=node, sender=sender, size=size, dst=dst, mtu=mtu, iface=n_if)
        local = [e for e in r.errors if e.kind == "local"]
        if local:
            raise CheckFailed(_("{node} could not even send {size} bytes to {dst} ({error}): "
                                "its own MTU on the way is {local_mtu}, lowered by hand?").format(
                                    error=local[0].detail, local_mtu=local[0].mtu or r.path_mtu,
                                    **fmt))
        if not ev.sent:
            raise CheckFailed(_("{sender} sent no Packet Too Big for the grader's packet of "
                                "{size} bytes from {node} to {dst}").format(**fmt))
        if not ev.genuine:
            raise CheckFailed(_("{sender}'s Packet Too Big for {node}'s packet of {size} bytes was "
                                "not delivered on {node}:{iface}").format(**fmt))
        sources = {s.packet.src for s in ev.sent}
        got = [e for e in r.errors if e.kind == "packet-too-big" and e.source in sources]
        if not got:
            raise CheckFailed(_("{sender}'s Packet Too Big (MTU {mtu}) reached {node}:{iface}, "
                                "but {node} itself never received it: {node}'s input rules "
                                "drop it").format(**fmt))
        if got[0].mtu != mtu:
            raise CheckFailed(_("{node} received {sender}'s Packet Too Big with MTU {got}, not "
                                "{mtu}").format(got=got[0].mtu, **fmt))
        return _("{node}'s packet of {size} bytes to {dst} got {sender}'s Packet Too Big (MTU "
                 "{mtu}), seen on {node}:{iface} and received by {node}").format(**fmt)
    return Check(_("{node} itself receives {sender}'s Packet Too Big for a packet of {size} bytes "
                   "(the grader's don't-fragment ping)").format(node=node, sender=sender,
                                                                size=size), fn)


def _route_for(lab: "Lab", node: str, addr: str):
    """The longest-prefix route of node's main table that covers addr,
    leaving route-cache entries out (those are what PMTUD adds)."""
    a = ipaddress.IPv6Address(addr)
    best = None
    for r in lab[node].routes(6):
        if r.cached or r.type != "unicast":
            continue
        net = ipaddress.IPv6Network(r.dst, strict=False)
        if a in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, r)
    return best[1] if best else None


def path_mtu_learned(host: str, dst: str, mtu: int, _: Translator, *, link_mtu: int = 1500,
                     size: int = 1500) -> Check:
    """host's kernel has learned the path MTU toward dst by itself: after
    the grader's don't-fragment packet of `size` bytes from host, host's
    route cache (read by netlink) holds an entry for dst with `mtu`, not
    locked; no route typed by hand carries an MTU toward dst, and host's
    interface keeps the LAN's MTU (lowering either hides the problem for
    this host only, and for every destination)."""
    def fn(lab: "Lab") -> str:
        addr = c.global_address(lab, dst)
        fmt = dict(host=host, dst=dst, address=addr, mtu=mtu, link_mtu=link_mtu)
        route = _route_for(lab, host, addr)
        if route is not None and route.mtu:
            raise CheckFailed(_("{host}'s route {route} toward {dst} has its MTU set by hand "
                                "(mtu {got}{lock}): path MTU discovery is not what sets it").format(
                                    route=route.dst, got=route.mtu,
                                    lock=" lock" if route.mtu_locked else "", **fmt))
        ifname = route.nexthops[0].ifname if route is not None and route.nexthops else ""
        if ifname:
            have = lab[host].link(ifname).mtu
            if have < link_mtu:
                raise CheckFailed(_("{host}:{iface}'s MTU is {got}, lowered from {link_mtu}: that "
                                    "hides the black hole for {host} alone and shrinks every "
                                    "packet it sends").format(iface=ifname, got=have, **fmt))
        # Returns as soon as the Packet Too Big arrives; 1 s only bounds a failure.
        lab[host].ping(addr, size=size - IPV6_ICMP6_HEADERS, dont_fragment=True, timeout=1.0)
        cached = [r for r in lab[host].routes(6) if r.cached and r.mtu
                  and ipaddress.IPv6Network(r.dst, strict=False)
                  == ipaddress.IPv6Network(f"{addr}/128")]
        if not cached:
            raise CheckFailed(_("{host} has no path MTU cached toward {dst} ({address}) even after "
                                "a packet of {size} bytes: no Packet Too Big reached {host}'s "
                                "kernel").format(size=size, **fmt))
        got = cached[0]
        if got.mtu != mtu or got.mtu_locked:
            raise CheckFailed(_("{host}'s route cache holds MTU {got} toward {dst} ({address}), "
                                "not {mtu}").format(got=got.mtu, **fmt))
        left = f"{got.expires:.0f}" if got.expires else "?"
        return _("{host}'s route cache: {address} mtu {mtu}, learned, expires in {seconds} "
                 "s").format(seconds=left, **fmt)
    return Check(_("{host} learned the path MTU toward {dst} (its route cache, read by the "
                   "grader)").format(host=host, dst=dst), fn)


def _receive_all(listener: socket.socket, deadline: float, out: dict) -> None:
    """The server side of the upload, on its own thread: accept one
    connection, read to EOF, record the peer, byte count and digest."""
    try:
        listener.settimeout(max(0.01, deadline - time.monotonic()))
        conn, peer = listener.accept()
        with conn:
            out["peer"] = peer[0]
            digest, n = hashlib.sha256(), 0
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                conn.settimeout(left)
                chunk = conn.recv(65536)
                if not chunk:
                    out["eof"] = True
                    break
                digest.update(chunk)
                n += len(chunk)
                out["bytes"] = n
            out["digest"] = digest.hexdigest()
    except OSError as e:   # a timeout is an outcome: the check reports it
        out["error"] = e


def _os_error(e: OSError) -> str:
    return os.strerror(e.errno) if e.errno else "timed out"


def upload_completes(host: str, server: str, prefix: str, _: Translator, *,
                     size: int = 2_000_000, timeout: float = 3.0) -> Check:
    """The grader uploads `size` bytes over TCP from host (its own socket
    in host) to a fresh address of prefix, where server (a provider node)
    answers every address; the grader's own listener in server must
    receive all of it, from host's address, within `timeout`."""
    def fn(lab: "Lab") -> str:
        dst = random_address(prefix)
        data = os.urandom(size)
        fmt = dict(host=host, server=server, dst=dst, size=f"{size:,}".replace(",", " "),
                   seconds=f"{timeout:g}")
        deadline = time.monotonic() + timeout
        out: dict = {}
        with lab[server].socket(socket.AF_INET6, socket.SOCK_STREAM, reuse_addr=True) as ls:
            ls.listen(1)
            port = ls.getsockname()[1]
            t = threading.Thread(target=_receive_all, args=(ls, deadline, out), daemon=True)
            t.start()
            with lab[host].socket(socket.AF_INET6, socket.SOCK_STREAM, timeout=timeout) as cs:
                try:
                    cs.connect((dst, port))
                except OSError as e:
                    raise CheckFailed(_("{host} could not connect to {server} ({dst}): "
                                        "{error}").format(error=_os_error(e), **fmt)) from None
                src = cs.getsockname()[0]
                try:
                    cs.settimeout(max(0.01, deadline - time.monotonic()))
                    cs.sendall(data)
                    cs.shutdown(socket.SHUT_WR)
                except OSError:
                    pass  # a stall: what the server received says how far it got
                t.join(max(0.0, deadline - time.monotonic()) + 0.1)
        got = out.get("bytes", 0)
        if "peer" in out and out["peer"] != src:
            raise CheckFailed(_("{server} received the upload from {peer}, not from {host} "
                                "({src}): something on the way re-sent it").format(
                                    peer=out["peer"], src=src, **fmt))
        if not out.get("eof") or got != size:
            raise CheckFailed(_("an upload of {size} bytes from {host} to {server} ({dst}) "
                                "stalled: {server} had {got} bytes after {seconds} s").format(
                                    got=f"{got:,}".replace(",", " "), **fmt))
        if out.get("digest") != hashlib.sha256(data).hexdigest():
            raise CheckFailed(_("{server} received {size} bytes from {host}, but not the bytes "
                                "{host} sent").format(**fmt))
        return _("{size} bytes uploaded from {host} to {server} ({dst}) in {took} s").format(
            took=f"{timeout - max(0.0, deadline - time.monotonic()):.2f}", **fmt)
    return Check(_("an upload from {host} to {server} through the narrow link completes (the "
                   "grader's own sockets, to a fresh address)").format(host=host, server=server),
                 fn)


def inbound_blocked(outside: str, inside: str, _: Translator) -> Check:
    """A new flow from outside to inside is still dropped on the way: the
    grader's UDP datagram from outside (its own socket there) to a random
    port of inside is seen leaving outside's cable and never delivered on
    inside's. An echo request sent after it, and answered, fences the
    wait: the datagram took the same path first."""
    def fn(lab: "Lab") -> str:
        addr = c.global_address(lab, inside)
        port = 20000 + int.from_bytes(os.urandom(2), "big") % 40000
        with w.Tap.switch(lab, (), udp_ports=(port,)) as tap:
            with lab[outside].socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
                s.sendto(b"v6lab: is this blocked?", (addr, port))
            fence = lab[outside].ping(addr, timeout=0.5)
            tap.collect(0.05 if fence.received else 0.3)
        udp = [s for s in tap.seen if isinstance(s.packet, w.UdpPacket) and s.packet.dport == port
               and s.packet.dst == addr and not s.injected]
        if not any(s.node == outside and not s.outgoing for s in udp):
            raise RuntimeError(f"the grader's datagram from {outside} to [{addr}]:{port} "
                               "never left its cable")
        fmt = dict(outside=outside, inside=inside, address=addr, port=port)
        if any(s.node == inside and s.outgoing for s in udp):
            raise CheckFailed(_("a new flow from {outside} reached {inside}: the grader's "
                                "datagram to [{address}]:{port} was delivered on {inside}'s "
                                "cable; the firewall no longer stops what the outside "
                                "starts").format(**fmt))
        return _("the grader's datagram from {outside} to [{address}]:{port} was dropped before "
                 "{inside}").format(**fmt)
    return Check(_("new flows from {outside} to {inside} are still dropped (the grader's "
                   "datagram, watched on the wire)").format(outside=outside, inside=inside), fn)
