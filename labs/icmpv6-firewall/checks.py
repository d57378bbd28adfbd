"""Checks of lab 14 (docs/grading.md: Writing a custom check). Every one
rests on the grader's own probes, from a random address of the Internet
range and to random ports, and on where the network saw their packets;
none asks fw (the trainee's node) anything, and none reads its nftables
rules, which are only what fw says about itself.

Each takes the lab's translator `_` and the lab's variables first. The
evidence, and the forgery each one defeats:

- `blocks_new_inbound`: the grader connects from the Internet to random
  ports of srv, pc and fw (and to srv's ssh port); a raw TCP socket in each
  target (the grader's) must see no segment of it. A reset or an ICMPv6 error from fw is
  "refused", silence is "dropped": both pass. The wait for silence ends
  when a marker sent after the probes, on a connection fw must let
  through, has arrived: it cannot overtake them (probes.one_cpu).
- `answers_neighbours`: a unicast Neighbour Solicitation without the
  source link-layer option, from a random address and MAC, injected on
  fw's cable: fw must ask for the grader's address (its NS comes in on
  fw's port), take the grader's Neighbour Advertisement in, and answer
  with an NA to that random address. A canned or unsolicited NA cannot
  know the address; a program on fw that answers correctly does fw's job.
- `reaches_out`: a connection from pc to a grader listener on a random
  Internet address, data both ways. A fake server on fw (redirect) never
  reaches the grader's listener.
- `passes_packet_too_big`: a Packet Too Big for a real connection of
  srv's, with a random MTU, injected on fw's outside cable; it must come
  in on fw's inside port toward srv. A canned PTB cannot know the MTU
  or the addresses quoted.
- `serves_from_internet`: an HTTP request from a random Internet address
  to srv port 80, with a random path; srv's nginx log (srv is the lab's,
  read through the outside view) must record that address and path. A
  fake web server on fw (a redirect) answers, but srv's log never sees it.
  (nginx logs only such paths; a log flooded past 8 MiB is a grader error,
  never a pass.)
- `answers_echo_from_internet`: an Echo Request from a random Internet
  address; the request must be delivered on the target's cable and the
  reply come in on it (a reply forged by fw for srv comes in on fw's).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import socket
import time
from typing import Callable, Optional, Sequence

from v6lab.errors import NodeFileError
from v6lab.grading import Check, CheckFailed, CheckPending, wire

from . import probes as P

Translate = Callable[[str], str]
LOG = "/var/log/nginx/access.log"


def _tentative(_: Translate, lab, node: str, addr: str) -> None:
    """Pending while node's address is still in DAD (a lab graded right
    after it started): the node would not answer for it yet."""
    for a in lab[node].addresses(family=6):
        if a.address == addr and a.tentative:
            raise CheckPending(_("{node}'s address {address} is still in duplicate address "
                                 "detection").format(node=node, address=addr))


# --------------------------------------------------------- blocks inbound

def _ports_text(_: Translate, probes: list[tuple[str, int]]) -> str:
    return ", ".join(_("{node} port {port}").format(node=n, port=p) for n, p in probes)


def _arrived(raws: dict, src: str, probes: list[tuple[str, int]]) -> Optional[tuple[str, int]]:
    """The first probe of which a segment reached its target, if any."""
    for n, raw in raws.items():
        raw.drain()
    for n, port in probes:
        if any(seg.src == src and seg.dport == port for seg in raws[n].seen):
            return n, port
    return None


def _silence(raws: dict, src: str, probes: list[tuple[str, int]], ctl: Optional[P.Flow],
             token: bytes, sent: float, window: float) -> Optional[tuple[str, int]]:
    """Watches the targets until a probe arrives (returned) or silence is
    settled: the marker on ctl is in, and a little more for the last
    queues; without ctl, `window` seconds."""
    deadline = sent + (1.0 if ctl is not None else window)
    got = b""
    while True:
        arrived = _arrived(raws, src, probes)
        now = time.monotonic()
        if arrived or now >= deadline:
            return arrived
        if ctl is not None and token not in got:
            with contextlib.suppress(BlockingIOError, OSError):
                got += ctl.client.recv(64)
            if token in got:
                # Everything sent before it that fw let through is in too,
                # but a probe to a neighbour fw must resolve first (pc, after
                # a quiet while) follows its NS and NA: a little more.
                deadline = min(deadline, now + 0.02 + (now - sent) / 4)
        P.wait_readable([r.sock for r in raws.values()], min(0.005, max(0.0, deadline - now)))


def blocks_new_inbound(_: Translate, v: dict, targets: Sequence[tuple[str, Optional[int]]], *,
                       control: str = "srv", window: float = 0.5) -> Check:
    """New TCP connections from a random Internet address to each (node,
    port) target (None: a random port) do not reach the node."""
    addr_of = {"srv": v["srv"], "pc": v["pc"], "fw": v["fw_wan"]}
    names = ", ".join(dict.fromkeys(n for n, _p in targets))

    def fn(lab) -> str:
        probes = [(n, p if p is not None else P.random_port()) for n, p in targets]
        src = P.random_internet(v)
        token = os.urandom(8).hex().encode()
        with contextlib.ExitStack() as st:
            raws = {}
            for n, _p in probes:
                if n not in raws:
                    raws[n] = P.RawTcp(lab, n)
                    st.callback(raws[n].close)
            # Silence proves nothing while an address cannot receive yet.
            for n, a in [*((n, addr_of[n]) for n in raws), ("fw", v["fw_inside"])]:
                _tentative(_, lab, n, a)
            # First a connection fw must let through (it also warms the
            # neighbour caches on the path); the probes; then a marker on
            # it: once the marker is in, so is every probe fw let through.
            ctl = None
            with contextlib.suppress(P.FlowError, OSError):
                ctl = st.enter_context(contextlib.closing(P.Flow(lab, v, control, timeout=0.3)))
                ctl.client.settimeout(0)
            with P.one_cpu():
                sent = time.monotonic()
                clients = [st.enter_context(P.connect_nowait(lab, "outside", src, addr_of[n], p))
                           for n, p in probes]
                if ctl is not None:
                    ctl.server.sendall(token)
            arrived = _silence(raws, src, probes, ctl, token, sent, window)
            outcomes = {P.connect_outcome(c) for c in clients}
        if arrived:
            raise CheckFailed(_("a new connection from the Internet ({src}) to {node} port "
                                "{port} reached {node}: fw lets new inbound IPv6 connections "
                                "in").format(src=src, node=arrived[0], port=arrived[1]))
        how = (_("refused") if outcomes <= {"refused", "rejected"} else
               _("dropped") if outcomes == {"no answer"} else _("refused or dropped"))
        return _("new connections from the Internet ({src}) to {targets} did not get in "
                 "({how})").format(src=src, targets=_ports_text(_, probes), how=how)

    return Check(_("new connections from the Internet to {targets} are refused or "
                   "dropped").format(targets=names), fn, within=3, retry="pending")


# ------------------------------------------------------------- neighbours

def answers_neighbours(_: Translate, v: dict, node: str, iface: str, addr: str, *,
                       window: float = 1.0) -> Check:
    """node:iface answers the grader's unicast NS for addr, after resolving
    the grader's random address itself (NS and NA both get through)."""
    def fn(lab) -> str:
        _tentative(_, lab, node, addr)
        mac, ll = wire.random_identity()
        my_mac = lab[node].link(iface).mac
        port = wire.port_of(lab, node, iface)
        ns = P.neighbour_solicit(src_mac=mac, src=ll, dst_mac=my_mac, target=addr)

        def from_node(seen, t: int) -> list[wire.Seen]:
            return [s for s in wire.sent_by(seen, node, t) if s.ifname == port]

        def asked(seen) -> list[wire.Seen]:
            return [s for s in from_node(seen, wire.NS) if s.packet.body.target == ll]

        def answered(seen) -> list[wire.Seen]:
            return [s for s in from_node(seen, wire.NA)
                    if s.packet.dst == ll and s.packet.body.target == addr
                    and s.packet.body.solicited and s.packet.dst_mac == mac]

        with wire.Tap.switch(lab, types=(wire.NS, wire.NA)) as tap:
            tap.inject(port, ns)
            t0 = time.monotonic()
            tap.collect(window, until=lambda seen: asked(seen) or answered(seen))
            q = asked(tap.seen)
            if q and not answered(tap.seen):
                tap.inject(port, P.neighbour_advert(src_mac=mac, src=ll, dst_mac=my_mac,
                                                    dst=q[0].packet.src))
                tap.collect(max(0.3, window - (time.monotonic() - t0)),
                            until=lambda seen: bool(answered(seen)))
            tap.poll(0)
            q, a = asked(tap.seen), answered(tap.seen)
        if a:
            return _("{node}:{iface} answered the grader's Neighbour Solicitation for {address} "
                     "(from {grader}), seen on its cable").format(
                         node=node, iface=iface, address=addr, grader=ll)
        if q:
            raise CheckFailed(_("{node}:{iface} asked for the grader's address (Neighbour "
                                "Solicitation) but ignored the grader's Neighbour "
                                "Advertisement: {node} drops Neighbour Advertisements on "
                                "{iface}, so it cannot reach its neighbours").format(
                                    node=node, iface=iface))
        raise CheckFailed(_("{node}:{iface} did not answer the grader's Neighbour Solicitation "
                            "for {address} within {seconds} s: {node} drops Neighbour "
                            "Solicitations arriving on {iface}, so no neighbour can reach "
                            "it").format(node=node, iface=iface, address=addr,
                                         seconds=f"{window:g}"))

    return Check(_("{node}:{iface} answers neighbour discovery for {address}").format(
        node=node, iface=iface, address=addr), fn, within=3, retry="pending")


# --------------------------------------------------------------- outbound

def _flow_failure(_: Translate, e: P.FlowError, node: str, remote: str) -> str:
    if e.stage == "reply":
        return _("{node}'s connection to the Internet ({remote}) reached the Internet, but the "
                 "answer never came back to {node}: fw drops the replies to connections from "
                 "inside").format(node=node, remote=remote)
    if e.stage == "intercepted":
        return _("{node}'s connection to the Internet ({remote}) was answered, but the "
                 "grader's server there never saw it: something on the way answered in its "
                 "place").format(node=node, remote=remote)
    if e.stage == "refused":
        return _("{node}'s connection to the Internet ({remote}) was refused on the way: fw "
                 "rejects new connections from inside").format(node=node, remote=remote)
    return _("{node}'s connection to the Internet ({remote}) did not get out: fw drops new "
             "connections from inside ({error})").format(node=node, remote=remote, error=e)


def reaches_out(_: Translate, v: dict, node: str, *, timeout: float = 1.0) -> Check:
    """node opens a new TCP connection to a random Internet address and
    data goes both ways (the grader holds both ends)."""
    def fn(lab) -> str:
        _tentative(_, lab, node, v[node])
        remote = ""
        try:
            f = P.Flow(lab, v, node, timeout=timeout)
        except P.FlowError as e:
            remote = getattr(e, "remote", "") or _("a random address")
            raise CheckFailed(_flow_failure(_, e, node, remote)) from None
        with contextlib.closing(f):
            a, b = os.urandom(8).hex().encode(), os.urandom(8).hex().encode()
            f.server.sendall(a)
            f.client.sendall(b)
            got_a = _recv_exact(f.client, len(a))
            got_b = _recv_exact(f.server, len(b))
            if got_a != a or got_b != b:
                raise CheckFailed(_("{node}'s connection to the Internet ({remote}) opened, but "
                                    "data did not go both ways").format(node=node,
                                                                        remote=f.remote))
            return _("{node} opened a connection to the Internet ({remote}) and data went "
                     "both ways").format(node=node, remote=f.remote)

    return Check(_("{node} can open connections to the Internet").format(node=node), fn,
                 within=3, retry="pending")


def _recv_exact(s: socket.socket, n: int) -> bytes:
    out = b""
    with contextlib.suppress(OSError):
        while len(out) < n:
            chunk = s.recv(n - len(out))
            if not chunk:
                break
            out += chunk
    return out


# ---------------------------------------------------------- Packet Too Big

def passes_packet_too_big(_: Translate, v: dict, node: str = "srv", *,
                          window: float = 1.0) -> Check:
    """A Packet Too Big from a router on the Internet, for a connection of
    node's, crosses fw (from its eth0 cable to its eth1 port)."""
    def fn(lab) -> str:
        try:
            f = P.Flow(lab, v, node, timeout=window)
        except P.FlowError as e:
            raise CheckFailed(_("not tried: {reason}").format(
                reason=_flow_failure(_, e, node, _("a random address")))) from None
        mtu = random.randrange(1280, 1480)
        router = P.random_internet(v)
        in_port = wire.port_of(lab, "fw", "eth0")
        out_port = wire.port_of(lab, "fw", "eth1")
        with contextlib.closing(f), wire.Tap.switch(lab, types=(wire.PACKET_TOO_BIG,)) as tap:
            tap.inject(in_port, P.packet_too_big(
                src_mac=lab["outside"].link("eth0").mac, dst_mac=lab["fw"].link("eth0").mac,
                router=router, dst=f.local, mtu=mtu, quoted_src=f.local, quoted_dst=f.remote,
                sport=f.local_port, dport=f.port))

            def through(seen) -> list[wire.Seen]:
                return [s for s in wire.sent_by(seen, "fw", wire.PACKET_TOO_BIG)
                        if s.ifname == out_port and s.packet.dst == f.local
                        and s.packet.body.mtu == mtu and s.packet.body.quoted_dst == f.remote]

            tap.collect(window, until=lambda seen: bool(through(seen)))
            tap.poll(0)
            ok = through(tap.seen)
        if ok:
            return _("a Packet Too Big (MTU {mtu}) from the Internet for {node}'s connection "
                     "crossed fw to {node}").format(mtu=mtu, node=node)
        raise CheckFailed(_("a Packet Too Big (MTU {mtu}) from a router on the Internet "
                            "({router}), for {node}'s open connection to {remote}, never "
                            "left fw toward {node}: fw drops it, so path MTU discovery "
                            "breaks for the hosts behind it").format(
                                mtu=mtu, router=router, node=node, remote=f.remote))

    return Check(_("Packet Too Big from the Internet reaches {node} through fw").format(
        node=node), fn)


# ---------------------------------------------------------- the web server

def serves_from_internet(_: Translate, v: dict, node: str = "srv", port: int = 80, *,
                         timeout: float = 1.0) -> Check:
    """HTTP from a random Internet address to node:port answers, and node's
    own web server logged that address (nginx on srv, the lab's)."""
    addr = v[node]

    def fn(lab) -> str:
        src = P.random_internet(v)
        path = "/v6lab-" + os.urandom(6).hex()
        try:
            with lab["outside"].socket(socket.AF_INET6, socket.SOCK_STREAM, bind_addr=src,
                                       timeout=timeout) as s:
                s.connect((addr, port))
                s.sendall(f"GET {path} HTTP/1.0\r\nHost: [{addr}]\r\n\r\n".encode())
                reply = b""
                while len(reply) < 65536:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
        except (socket.timeout, TimeoutError):
            raise CheckFailed(_("the grader's connection from the Internet ({src}) to {node} "
                                "port {port} got no answer within {seconds} s: fw drops "
                                "it").format(src=src, node=node, port=port,
                                             seconds=f"{timeout:g}")) from None
        except ConnectionRefusedError:
            raise CheckFailed(_("the grader's connection from the Internet ({src}) to {node} "
                                "port {port} was refused").format(
                                    src=src, node=node, port=port)) from None
        except OSError as e:
            raise CheckFailed(_("the grader's connection from the Internet ({src}) to {node} "
                                "port {port} failed: {error}").format(
                                    src=src, node=node, port=port, error=e)) from None
        status = reply.split(b"\r\n", 1)[0].decode("latin-1")[:60]
        if not status.startswith("HTTP/") or " 200" not in status:
            raise CheckFailed(_("{node} port {port} answered the grader's request with "
                                "'{status}' instead of 200 OK").format(
                                    node=node, port=port, status=status or "-"))
        line = f"{ipaddress.ip_address(src)} {path} "
        for _i in range(20):
            try:
                log = lab[node].read_file(LOG, max_bytes=8 << 20).decode("utf-8", "replace")
            except NodeFileError as e:
                raise RuntimeError(f"srv's web server log: {e}") from None
            if line in log:
                return _("{node} port {port} answered the grader's request from the Internet "
                         "({src}), and {node}'s web server logged it").format(
                             node=node, port=port, src=src)
            time.sleep(0.01)
        raise CheckFailed(_("an answer came for {node} port {port}, but {node}'s web server "
                            "never saw the grader's request from {src}: something other than "
                            "{node} answered").format(node=node, port=port, src=src))

    return Check(_("the web server {node} port {port} answers from the Internet").format(
        node=node, port=port), fn)


# ------------------------------------------------------------------- echo

def answers_echo_from_internet(_: Translate, v: dict, node: str, iface: str, addr: str, *,
                               window: float = 1.0) -> Check:
    """An Echo Request from a random Internet address to addr is delivered
    on node:iface's cable and answered from it."""
    def fn(lab) -> str:
        _tentative(_, lab, node, addr)
        src = P.random_internet(v)
        ident, seq = random.getrandbits(16), random.getrandbits(16)
        port = wire.port_of(lab, node, iface)

        def mine(seen, t: int, outgoing: bool) -> list[wire.Seen]:
            return [s for s in seen if s.ifname == port and s.outgoing == outgoing
                    and not s.injected and s.packet.icmp_type == t
                    and isinstance(s.packet.body, wire.Echo)
                    and s.packet.body.ident == ident and s.packet.body.seq == seq]

        def requested(seen):
            return [s for s in mine(seen, wire.ECHO_REQUEST, True) if s.packet.src == src]

        def replied(seen):
            return [s for s in mine(seen, wire.ECHO_REPLY, False) if s.packet.dst == src]

        with wire.Tap.switch(lab, types=(wire.ECHO_REQUEST, wire.ECHO_REPLY)) as tap, \
                P.echo_socket(lab, src) as s:
            s.sendto(P.echo_request(ident, seq, os.urandom(16)), (addr, 0))
            tap.collect(window, until=lambda seen: bool(requested(seen) and replied(seen)))
            tap.poll(0)
            req, rep = requested(tap.seen), replied(tap.seen)
        if req and rep:
            return _("{node} answered the grader's ping from the Internet ({src}), on its "
                     "cable").format(node=node, src=src)
        if not req:
            raise CheckFailed(_("the grader's ping from the Internet ({src}) to {node} "
                                "({address}) never reached {node}'s cable: fw drops Echo "
                                "Requests to {node}").format(src=src, node=node, address=addr))
        raise CheckFailed(_("{node} got the grader's ping from the Internet ({src}) but no "
                            "reply came from its cable").format(node=node, src=src))

    return Check(_("{node} answers ping from the Internet").format(node=node), fn,
                 within=3, retry="pending")
