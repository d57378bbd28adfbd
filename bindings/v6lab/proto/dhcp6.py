"""DHCPv6 (RFC 8415) messages and options, encode and decode.

Client/server messages are `Message(type, xid, options)`; relay messages
are `RelayMessage(type, hop_count, link_address, peer_address, options)`
with the relayed message inside a `RelayMsg` option. Options are typed
dataclasses (unknown codes are kept as `UnknownOption`), so decode(encode(m))
== m for every message this module can build.

    req = information_request(DuidLl(1, "02:00:00:00:00:01"))
    sock.sendto(encode(req), ("ff02::1:2", 547))
    reply = decode(sock.recv(4096))
    reply.option(DnsServers).addresses
"""

from __future__ import annotations

import ipaddress
import os
import struct
import threading
import uuid as _uuid
from dataclasses import dataclass
from typing import ClassVar, Iterable, Optional, Type, TypeVar, Union

from ..i18n import _
from . import dns
from .errors import ProtoError, Reader

CLIENT_PORT, SERVER_PORT = 546, 547
ALL_DHCP_RELAY_AGENTS_AND_SERVERS = "ff02::1:2"
ALL_DHCP_SERVERS = "ff05::1:3"

SOLICIT, ADVERTISE, REQUEST, CONFIRM, RENEW, REBIND, REPLY, RELEASE, DECLINE, \
    RECONFIGURE, INFORMATION_REQUEST, RELAY_FORW, RELAY_REPL = range(1, 14)
MESSAGE_NAMES = {1: "Solicit", 2: "Advertise", 3: "Request", 4: "Confirm", 5: "Renew",
                 6: "Rebind", 7: "Reply", 8: "Release", 9: "Decline", 10: "Reconfigure",
                 11: "Information-Request", 12: "Relay-Forw", 13: "Relay-Repl"}
MESSAGE_TYPES = {v: k for k, v in MESSAGE_NAMES.items()}
STATUS_NAMES = {0: "Success", 1: "UnspecFail", 2: "NoAddrsAvail", 3: "NoBinding",
                4: "NotOnLink", 5: "UseMulticast", 6: "NoPrefixAvail"}


def message_type(kind: Union[int, str]) -> int:
    """1..13 from a number or a name such as "Reply" or "Relay-Forw"."""
    if isinstance(kind, int):
        return kind
    for name, code in MESSAGE_TYPES.items():
        if name.lower() == kind.lower():
            return code
    raise ProtoError(f"unknown DHCPv6 message type {kind!r} (known: {', '.join(MESSAGE_TYPES)})")


# ------------------------------------------------------------------ DUIDs

@dataclass(frozen=True)
class DuidLlt:
    hw_type: int
    time: int
    lladdr: str                 # "02:00:00:00:00:01"


@dataclass(frozen=True)
class DuidEn:
    enterprise: int
    identifier: bytes


@dataclass(frozen=True)
class DuidLl:
    hw_type: int
    lladdr: str


@dataclass(frozen=True)
class DuidUuid:
    uuid: str


@dataclass(frozen=True)
class DuidOther:
    type: int
    data: bytes


Duid = Union[DuidLlt, DuidEn, DuidLl, DuidUuid, DuidOther]


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _mac_bytes(s: str) -> bytes:
    try:
        return bytes(int(x, 16) for x in s.split(":")) if s else b""
    except ValueError:
        raise ProtoError(f"link-layer address {s!r} is not hex bytes separated by ':'") from None


def encode_duid(d: Duid) -> bytes:
    if isinstance(d, DuidLlt):
        return struct.pack("!HHI", 1, d.hw_type, d.time) + _mac_bytes(d.lladdr)
    if isinstance(d, DuidEn):
        return struct.pack("!HI", 2, d.enterprise) + d.identifier
    if isinstance(d, DuidLl):
        return struct.pack("!HH", 3, d.hw_type) + _mac_bytes(d.lladdr)
    if isinstance(d, DuidUuid):
        return struct.pack("!H", 4) + _uuid.UUID(d.uuid).bytes
    return struct.pack("!H", d.type) + d.data


def decode_duid(data: bytes) -> Duid:
    r = Reader(data, "DUID")
    t = r.u16("DUID type")
    if t == 1:
        hw, tm = r.u16("hardware type"), r.u32("time")
        return DuidLlt(hw, tm, _mac(r.rest()))
    if t == 2:
        return DuidEn(r.u32("enterprise number"), r.rest())
    if t == 3:
        return DuidLl(r.u16("hardware type"), _mac(r.rest()))
    if t == 4:
        b = r.take(16, "UUID")
        if r.left():
            raise r.fail(_("DUID-UUID longer than 16 bytes"))
        return DuidUuid(str(_uuid.UUID(bytes=b)))
    return DuidOther(t, r.rest())


# ---------------------------------------------------------------- options

class Option:
    """Base of the typed options; `code` is the IANA option code."""
    code: ClassVar[int] = 0

    def payload(self) -> bytes:
        raise NotImplementedError


@dataclass(frozen=True)
class ClientId(Option):
    code: ClassVar[int] = 1
    duid: Duid

    def payload(self) -> bytes:
        return encode_duid(self.duid)


@dataclass(frozen=True)
class ServerId(Option):
    code: ClassVar[int] = 2
    duid: Duid

    def payload(self) -> bytes:
        return encode_duid(self.duid)


@dataclass(frozen=True)
class IaAddr(Option):
    code: ClassVar[int] = 5
    address: str
    preferred: int
    valid: int
    options: tuple = ()

    def payload(self) -> bytes:
        return (ipaddress.IPv6Address(self.address).packed
                + struct.pack("!II", self.preferred, self.valid) + encode_options(self.options))


@dataclass(frozen=True)
class _IdentityAssociation(Option):
    """IA_NA and IA_PD share their layout: IAID, T1, T2, options."""

    iaid: int
    t1: int = 0
    t2: int = 0
    options: tuple = ()

    def payload(self) -> bytes:
        return struct.pack("!III", self.iaid, self.t1, self.t2) + encode_options(self.options)

    def status(self) -> Optional["StatusCode"]:
        """The IA's own status (NoAddrsAvail, NoPrefixAvail, ...), or None."""
        return next((o for o in self.options if isinstance(o, StatusCode)), None)

    def leases(self) -> list:
        """The IAADDR (IA_NA) or IAPREFIX (IA_PD) options inside."""
        return [o for o in self.options if isinstance(o, (IaAddr, IaPrefix))]


@dataclass(frozen=True)
class IaNa(_IdentityAssociation):
    code: ClassVar[int] = 3


@dataclass(frozen=True)
class IaPrefix(Option):
    code: ClassVar[int] = 26
    preferred: int
    valid: int
    prefix: str                 # "2001:db8:100::/56"
    options: tuple = ()

    def payload(self) -> bytes:
        net = ipaddress.IPv6Network(self.prefix)
        return (struct.pack("!IIB", self.preferred, self.valid, net.prefixlen)
                + net.network_address.packed + encode_options(self.options))


@dataclass(frozen=True)
class IaPd(_IdentityAssociation):
    code: ClassVar[int] = 25


@dataclass(frozen=True)
class OptionRequest(Option):
    code: ClassVar[int] = 6
    codes: tuple[int, ...] = ()

    def payload(self) -> bytes:
        return b"".join(struct.pack("!H", c) for c in self.codes)


@dataclass(frozen=True)
class Preference(Option):
    code: ClassVar[int] = 7
    value: int

    def payload(self) -> bytes:
        return bytes([self.value])


@dataclass(frozen=True)
class ElapsedTime(Option):
    code: ClassVar[int] = 8
    centiseconds: int = 0

    def payload(self) -> bytes:
        return struct.pack("!H", min(self.centiseconds, 0xFFFF))


@dataclass(frozen=True)
class RelayMsg(Option):
    code: ClassVar[int] = 9
    message: "AnyMessage"

    def payload(self) -> bytes:
        return encode(self.message)


@dataclass(frozen=True)
class StatusCode(Option):
    code: ClassVar[int] = 13
    status: int
    message: str = ""

    @property
    def name(self) -> str:
        return STATUS_NAMES.get(self.status, f"status {self.status}")

    def payload(self) -> bytes:
        return struct.pack("!H", self.status) + self.message.encode()


@dataclass(frozen=True)
class RapidCommit(Option):
    code: ClassVar[int] = 14

    def payload(self) -> bytes:
        return b""


@dataclass(frozen=True)
class InterfaceId(Option):
    code: ClassVar[int] = 18
    data: bytes

    def payload(self) -> bytes:
        return self.data


@dataclass(frozen=True)
class DnsServers(Option):
    code: ClassVar[int] = 23
    addresses: tuple[str, ...] = ()

    def payload(self) -> bytes:
        return b"".join(ipaddress.IPv6Address(a).packed for a in self.addresses)


@dataclass(frozen=True)
class DomainList(Option):
    code: ClassVar[int] = 24
    domains: tuple[str, ...] = ()       # "example.net." (always with the root dot)

    def payload(self) -> bytes:
        return b"".join(dns.encode_name(d) for d in self.domains)


@dataclass(frozen=True)
class SolMaxRt(Option):
    code: ClassVar[int] = 82
    seconds: int

    def payload(self) -> bytes:
        return struct.pack("!I", self.seconds)


@dataclass(frozen=True)
class InfMaxRt(Option):
    code: ClassVar[int] = 83
    seconds: int

    def payload(self) -> bytes:
        return struct.pack("!I", self.seconds)


@dataclass(frozen=True)
class UnknownOption(Option):
    """An option this module has no class for, kept byte for byte."""
    option_code: int
    data: bytes

    def payload(self) -> bytes:
        return self.data


def _addresses(r: Reader) -> tuple[str, ...]:
    if r.left() % 16:
        raise r.fail(_("length {length} is not a multiple of 16").format(length=r.left()))
    return tuple(r.ip6("address") for i in range(r.left() // 16))


def _exact(r: Reader, n: int) -> Reader:
    if r.left() != n:
        raise r.fail(_("length {length}, must be {expected}").format(length=r.left(), expected=n))
    return r


def _ia(r: Reader) -> tuple[int, int, int, tuple]:
    iaid, t1, t2 = r.u32("IAID"), r.u32("T1"), r.u32("T2")
    return iaid, t1, t2, _tail(r)


def _tail(r: Reader) -> tuple:
    """The options that fill the rest of an option (IA_NA, IAADDR, ...)."""
    base = r.base + r.off
    return _decode_options(r.rest(), base)


def _iaprefix(r: Reader) -> IaPrefix:
    pref, valid, plen = r.u32("preferred lifetime"), r.u32("valid lifetime"), r.u8("prefix length")
    if plen > 128:
        raise r.fail(_("prefix length {length}").format(length=plen))
    raw = int.from_bytes(r.take(16, "prefix"), "big")
    net = ipaddress.IPv6Network((raw >> (128 - plen) << (128 - plen) if plen else 0, plen))
    return IaPrefix(pref, valid, str(net), _tail(r))


_DECODERS = {
    1: lambda r: ClientId(decode_duid(r.rest())),
    2: lambda r: ServerId(decode_duid(r.rest())),
    3: lambda r: IaNa(*_ia(r)),
    5: lambda r: IaAddr(r.ip6("address"), r.u32("preferred lifetime"), r.u32("valid lifetime"),
                        _tail(r)),
    6: lambda r: OptionRequest(tuple(r.u16("option code") for i in range(
        _even(r) // 2))),
    7: lambda r: Preference(_exact(r, 1).u8("preference")),
    8: lambda r: ElapsedTime(_exact(r, 2).u16("elapsed time")),
    9: lambda r: RelayMsg(_decode_message(r.rest(), r.base)),
    13: lambda r: StatusCode(r.u16("status code"), r.rest().decode("utf-8", "replace")),
    14: lambda r: _exact(r, 0) and RapidCommit(),
    18: lambda r: InterfaceId(r.rest()),
    23: lambda r: DnsServers(_addresses(r)),
    24: lambda r: DomainList(_domains(r)),
    25: lambda r: IaPd(*_ia(r)),
    26: _iaprefix,
    82: lambda r: SolMaxRt(_exact(r, 4).u32("SOL_MAX_RT")),
    83: lambda r: InfMaxRt(_exact(r, 4).u32("INF_MAX_RT")),
}
OPTION_NAMES = {1: "CLIENTID", 2: "SERVERID", 3: "IA_NA", 5: "IAADDR", 6: "ORO",
                7: "PREFERENCE", 8: "ELAPSED_TIME", 9: "RELAY_MSG", 13: "STATUS_CODE",
                14: "RAPID_COMMIT", 18: "INTERFACE_ID", 23: "DNS_SERVERS", 24: "DOMAIN_LIST",
                25: "IA_PD", 26: "IAPREFIX", 82: "SOL_MAX_RT", 83: "INF_MAX_RT"}


def _even(r: Reader) -> int:
    if r.left() % 2:
        raise r.fail(_("length {length} is odd").format(length=r.left()))
    return r.left()


def _domains(r: Reader) -> tuple[str, ...]:
    try:
        return dns.decode_names(r.rest(), r.what)
    except ProtoError as e:
        raise ProtoError(f"{e}") from None


def encode_options(options: Iterable[Option]) -> bytes:
    out = b""
    for o in options:
        body = o.payload()
        code = o.option_code if isinstance(o, UnknownOption) else o.code
        if len(body) > 0xFFFF:
            raise ProtoError(f"DHCPv6 option {code} has {len(body)} bytes")
        out += struct.pack("!HH", code, len(body)) + body
    return out


# Options nest (IA_NA > IAADDR > ..., RELAY_MSG > Relay-Forw > ...): a hostile
# sender can nest thousands deep in 64 KB, which would end in RecursionError,
# not ProtoError. RFC 8415 allows 32 relay hops (HOP_COUNT_LIMIT); real
# messages nest a few levels.
MAX_NESTING = 40
_depth = threading.local()


def _decode_options(data: bytes, base: int = 0) -> tuple:
    depth = getattr(_depth, "n", 0)
    if depth >= MAX_NESTING:
        raise ProtoError(_("DHCPv6 options at offset {offset}: nested more than {limit} "
                           "deep").format(offset=base, limit=MAX_NESTING))
    _depth.n = depth + 1
    try:
        return _decode_options_flat(data, base)
    finally:
        _depth.n = depth


def _decode_options_flat(data: bytes, base: int) -> tuple:
    r = Reader(data, "DHCPv6 options", base)
    out = []
    while r.left():
        start = r.off
        code, n = r.u16("option code"), r.u16("option length")
        body = r.take(n, f"option {code} ({OPTION_NAMES.get(code, 'unknown')}) body")
        fn = _DECODERS.get(code)
        if fn is None:
            out.append(UnknownOption(code, body))
            continue
        sub = Reader(body, f"DHCPv6 option {code} ({OPTION_NAMES[code]})", base + start + 4)
        try:
            out.append(fn(sub))
        except ValueError as e:     # ipaddress, uuid: still malformed input
            if isinstance(e, ProtoError):
                raise
            raise sub.fail(str(e)) from None
    return tuple(out)


# --------------------------------------------------------------- messages

O = TypeVar("O", bound=Option)


class _Options:
    options: tuple

    def option(self, cls: Type[O]) -> Optional[O]:
        """The first option of this class, or None."""
        return next((o for o in self.options if isinstance(o, cls)), None)

    def options_of(self, cls: Type[O]) -> list[O]:
        return [o for o in self.options if isinstance(o, cls)]

    @property
    def name(self) -> str:
        return MESSAGE_NAMES.get(self.type, f"type {self.type}")  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Message(_Options):
    type: int
    xid: int                    # 24-bit transaction id
    options: tuple = ()


@dataclass(frozen=True)
class RelayMessage(_Options):
    type: int                   # RELAY_FORW or RELAY_REPL
    hop_count: int
    link_address: str
    peer_address: str
    options: tuple = ()

    def inner(self) -> Optional["AnyMessage"]:
        m = self.option(RelayMsg)
        return m.message if m else None


AnyMessage = Union[Message, RelayMessage]


def encode(m: AnyMessage) -> bytes:
    if isinstance(m, RelayMessage):
        return (bytes([m.type, m.hop_count]) + ipaddress.IPv6Address(m.link_address).packed
                + ipaddress.IPv6Address(m.peer_address).packed + encode_options(m.options))
    if not 0 <= m.xid <= 0xFFFFFF:
        raise ProtoError(f"transaction id {m.xid:#x} does not fit 24 bits")
    return bytes([m.type]) + m.xid.to_bytes(3, "big") + encode_options(m.options)


def _decode_message(data: bytes, base: int = 0) -> AnyMessage:
    r = Reader(data, "DHCPv6 message", base)
    t = r.u8("message type")
    if t in (RELAY_FORW, RELAY_REPL):
        hops, link, peer = r.u8("hop count"), r.ip6("link-address"), r.ip6("peer-address")
        return RelayMessage(t, hops, link, peer, _decode_options(r.rest(), base + 34))
    xid = int.from_bytes(r.take(3, "transaction id"), "big")
    return Message(t, xid, _decode_options(r.rest(), base + 4))


def decode(data: bytes) -> AnyMessage:
    """A DHCPv6 message from a UDP payload; ProtoError if malformed."""
    if not data:
        raise ProtoError(_("DHCPv6 message at offset 0: empty"))
    return _decode_message(bytes(data))


def new_xid() -> int:
    return int.from_bytes(os.urandom(3), "big")


def information_request(duid: Duid, *, xid: Optional[int] = None,
                        oro: Iterable[int] = (DnsServers.code, DomainList.code),
                        elapsed: int = 0) -> Message:
    """A stateless client's question (RFC 8415 18.2.6): who are my DNS
    servers and search domains? No IA, so no address is bound."""
    return Message(INFORMATION_REQUEST, new_xid() if xid is None else xid,
                   (ClientId(duid), ElapsedTime(elapsed), OptionRequest(tuple(oro))))


def solicit(duid: Duid, *, iaid: int = 1, xid: Optional[int] = None, ia_na: bool = True,
            ia_pd: bool = False, rapid_commit: bool = False,
            oro: Iterable[int] = (DnsServers.code, DomainList.code)) -> Message:
    """A Solicit asking for an address (IA_NA) and/or a prefix (IA_PD)."""
    opts: list[Option] = [ClientId(duid), ElapsedTime(0), OptionRequest(tuple(oro))]
    if ia_na:
        opts.append(IaNa(iaid))
    if ia_pd:
        opts.append(IaPd(iaid))
    if rapid_commit:
        opts.append(RapidCommit())
    return Message(SOLICIT, new_xid() if xid is None else xid, tuple(opts))


def request(duid: Duid, server: Duid, ias: Iterable[Option], *, xid: Optional[int] = None,
            oro: Iterable[int] = (DnsServers.code, DomainList.code)) -> Message:
    """A Request for what an Advertise offered (RFC 8415 18.2.2): the
    server's DUID and the IAs as advertised."""
    return Message(REQUEST, new_xid() if xid is None else xid,
                   (ClientId(duid), ServerId(server), ElapsedTime(0), OptionRequest(tuple(oro)),
                    *ias))


def release(duid: Duid, server: Duid, ias: Iterable[Option], *,
            xid: Optional[int] = None) -> Message:
    """A Release of bound IAs (RFC 8415 18.2.7), so a probe leaves the pool
    as it found it."""
    return Message(RELEASE, new_xid() if xid is None else xid,
                   (ClientId(duid), ServerId(server), ElapsedTime(0), *ias))


def relay_forw(inner: AnyMessage, link_address: str, peer_address: str, *, hop_count: int = 0,
               interface_id: Optional[bytes] = None) -> RelayMessage:
    """What a relay sends up (RFC 8415 19.1): the client's message inside,
    link-address naming the client's link, peer-address the client."""
    opts: list[Option] = [InterfaceId(interface_id)] if interface_id is not None else []
    return RelayMessage(RELAY_FORW, hop_count, link_address, peer_address,
                        (*opts, RelayMsg(inner)))


def relay_repl(forw: RelayMessage, inner: AnyMessage) -> RelayMessage:
    """A server's answer to a Relay-Forw (RFC 8415 19.3): same addresses,
    the Interface-Id echoed, the answer inside."""
    echo = tuple(o for o in forw.options if isinstance(o, InterfaceId))
    return RelayMessage(RELAY_REPL, forw.hop_count, forw.link_address, forw.peer_address,
                        (*echo, RelayMsg(inner)))


def innermost(m: AnyMessage) -> tuple[Optional[Message], list[RelayMessage]]:
    """The client or server message inside a chain of relay messages, and
    the relay messages around it, outermost first (None if a relay message
    carries no RELAY_MSG)."""
    chain: list[RelayMessage] = []
    while isinstance(m, RelayMessage):
        chain.append(m)
        nxt = m.inner()
        if nxt is None:
            return None, chain
        m = nxt
    return m, chain


def random_duid() -> DuidLl:
    """A fresh DUID-LL with a random locally administered MAC: a probe that
    uses one is a client no server has seen, and no node could predict."""
    b = bytearray(os.urandom(6))
    b[0] = (b[0] & 0xFC) | 0x02
    return DuidLl(1, _mac(bytes(b)))


def duid_text(d: Duid) -> str:
    """A DUID as the hex bytes servers log (Kea: 00:01:00:01:...)."""
    return ":".join(f"{x:02x}" for x in encode_duid(d))
