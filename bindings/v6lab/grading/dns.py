"""A DNS server's answer, asked by the grader and attributed to its cable.

`checks.dns_answers` asks with the core's probe and trusts whatever comes
back to the asking namespace. `dns_answers_on_wire` asks from a socket
v6lab opens in `src`'s namespace, then requires that the very bytes it
received came in on the server node's switch port: a node that took the
server's address on its LAN, or a fake resolver behind a DNAT rule inside
a client the trainee controls, does not count. The query has a random id
and comes from a random port, so an answer cannot be prepared in advance.

What it cannot tell apart: any program on the server node answering on
port 53 is the server on the wire (pair it with daemon_running when the
program matters). IPv6 only (the tap's filter).
"""

from __future__ import annotations

import ipaddress
import select
import socket
from typing import TYPE_CHECKING, Optional, Sequence, Union

from ..i18n import _, join_and
from ..proto import ProtoError
from ..proto import dns as dnsp
from .check import Check, CheckFailed
from . import wire
from .http import lan_ports, server_ports

if TYPE_CHECKING:
    from ..lab import Lab


def _norm(s: str) -> str:
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        return s.rstrip(".").lower()


def _answer_from(seen: list[wire.Seen], ports: set[str], data: bytes) -> bool:
    return any(s.ifname in ports and not s.outgoing and not s.injected
               and isinstance(s.packet, wire.UdpPacket) and s.packet.payload == data
               for s in seen)


def ask(lab: "Lab", src: str, server: str, addr: str, name: str, qtype: str,
        timeout: float) -> dnsp.Message:
    """One query from src's namespace to addr, answered from server's cable
    (CheckFailed otherwise): the decoded answer."""
    ports = server_ports(lab, server)
    if not ports:
        raise RuntimeError(f"{server} is on no LAN: there is no switch port to attribute "
                           f"its answers to")
    q = dnsp.query(name, qtype, recursion_desired=False)
    with wire.Tap.switch(lab, udp_ports=(53,)) as tap, \
            lab[src].socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.connect((addr, 53))
        s.send(dnsp.encode(q))
        data = b""
        try:
            while select.select([s], [], [], timeout)[0]:
                data = s.recv(65535)
                if data[:2] == q.id.to_bytes(2, "big"):
                    break
                data = b""
        except ConnectionRefusedError:
            raise CheckFailed(_("no DNS answer from {server} ({address}) for {name} {qtype}: {error}")
                              .format(server=server, address=addr, name=name, qtype=qtype,
                                      error="connection refused")) from None
        if not data:
            raise CheckFailed(_("no DNS answer from {server} ({address}) for {name} {qtype}: {error}")
                              .format(server=server, address=addr, name=name, qtype=qtype,
                                      error="timed out"))
        tap.collect(1.0, until=lambda seen: _answer_from(seen, set(ports), data))
    if not _answer_from(tap.seen, set(ports), data):
        lan = lan_ports(lab, ports)
        others = sorted({lan[x.ifname].partition(":")[0] for x in tap.seen
                         if x.ifname in lan and not x.outgoing and not x.injected
                         and isinstance(x.packet, wire.UdpPacket) and x.packet.payload == data})
        raise CheckFailed(_("the DNS answer {src} got from {address} for {name} {qtype} did not "
                            "come from {server}: it came in on {nodes}'s cable").format(
            src=src, address=addr, name=name, qtype=qtype, server=server,
            nodes=join_and(others) or "?"))
    try:
        answer = dnsp.decode(data)
    except ProtoError as e:
        raise CheckFailed(_("{server} sent a malformed DNS answer: {error}").format(
            server=server, error=e)) from None
    return answer


def dns_answers_on_wire(src: str, server: str, name: str, qtype: str = "AAAA", *,
                        expect: Union[str, Sequence[str], None] = None,
                        address: Optional[str] = None, timeout: float = 2.0,
                        within: float = 0.0) -> Check:
    """server (a node; asked at `address`, or its first global IPv6 address)
    answers name/qtype NOERROR with expect among the records of that type,
    and the answer came in on server's cable."""
    from .library import global_address
    wanted = [expect] if isinstance(expect, str) else list(expect or [])

    def fn(lab: "Lab") -> str:
        addr = address or global_address(lab, server)
        answer = ask(lab, src, server, addr, name, qtype, timeout)
        if answer.rcode != 0:
            raise CheckFailed(_("{server} answered {rcode} for {name} {qtype}").format(
                server=server, rcode=answer.rcode_name, name=name, qtype=qtype))
        # Names as dig's short form and the core's probe show them: no final dot.
        data = [str(r.data).rstrip(".") for r in answer.answers if r.type == qtype]
        if not data:
            raise CheckFailed(_("{server} has no {qtype} record for {name} (answers: {answers})").format(
                server=server, qtype=qtype, name=name,
                answers=", ".join(f"{r.type} {str(r.data).rstrip('.')}" for r in answer.answers) or _("none")))
        norm = {_norm(d) for d in data}
        missing = [w for w in wanted if _norm(w) not in norm]
        if missing:
            raise CheckFailed(_("{server} answers {name} {qtype} with {data}, not {missing}").format(
                server=server, name=name, qtype=qtype, data=", ".join(data),
                missing=", ".join(missing)))
        return _("{name} {qtype} {data}, seen leaving {server}'s cable").format(
            name=name, qtype=qtype, data=", ".join(data), server=server)

    desc = _("{server} answers {name} {qtype}").format(server=server, name=name, qtype=qtype)
    return Check(desc + (f" = {', '.join(wanted)}" if wanted else ""), fn, within=within)
