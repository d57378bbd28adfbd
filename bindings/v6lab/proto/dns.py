"""DNS messages (RFC 1035, AAAA from RFC 3596): queries and responses with
name compression, and typed data for A, AAAA, PTR, NS, CNAME, SOA and TXT
(other types keep their raw bytes). Also the uncompressed name encoding
that DHCPv6's DOMAIN_LIST and the RA's DNSSL use.

    q = dns.query("www.example.net", "AAAA")
    sock.sendto(dns.encode(q), (server, 53))
    r = dns.decode(sock.recv(4096))
    [rr.data for rr in r.answers if rr.type == "AAAA"]
"""

from __future__ import annotations

import ipaddress
import os
import struct
from dataclasses import dataclass, field
from typing import Union

from ..i18n import _
from .errors import ProtoError, Reader

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "OPT": 41, "ANY": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
CLASS_IN = 1
_MAX_POINTERS = 64


@dataclass(frozen=True)
class Soa:
    mname: str
    rname: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int


RData = Union[str, Soa, tuple, bytes]


@dataclass(frozen=True)
class Question:
    name: str
    type: str = "AAAA"          # a name from TYPES, or "TYPE<n>"
    klass: int = CLASS_IN


@dataclass(frozen=True)
class Record:
    """One resource record. data: str (an address for A/AAAA, a name for
    NS/CNAME/PTR), Soa, a tuple of bytes strings for TXT, else raw bytes."""
    name: str
    type: str
    ttl: int
    data: RData
    klass: int = CLASS_IN


@dataclass(frozen=True)
class Message:
    id: int
    response: bool = False
    opcode: int = 0
    authoritative: bool = False
    truncated: bool = False
    recursion_desired: bool = True
    recursion_available: bool = False
    rcode: int = 0
    questions: tuple[Question, ...] = ()
    answers: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = field(default_factory=tuple)

    @property
    def rcode_name(self) -> str:
        return RCODES.get(self.rcode, f"RCODE{self.rcode}")


def type_code(name: str) -> int:
    if name in TYPES:
        return TYPES[name]
    if name.upper().startswith("TYPE") and name[4:].isdigit():
        return int(name[4:])
    raise ProtoError(f"unknown DNS type {name!r} (known: {', '.join(TYPES)}, or TYPE<n>)")


def type_name(code: int) -> str:
    return TYPE_NAMES.get(code, f"TYPE{code}")


def query(name: str, qtype: str = "AAAA", *, id: int | None = None,
          recursion_desired: bool = True) -> Message:
    """A one-question query with a random id (RFC 5452: unpredictable)."""
    qid = int.from_bytes(os.urandom(2), "big") if id is None else id
    return Message(qid, recursion_desired=recursion_desired, questions=(Question(name, qtype),))


# ------------------------------------------------------------------ names

def _labels(name: str) -> list[bytes]:
    name = name.rstrip(".")
    if not name:
        return []
    out = []
    for label in name.split("."):
        b = label.encode("idna") if not label.isascii() else label.encode()
        if not 1 <= len(b) <= 63:
            raise ProtoError(f"DNS name {name!r}: label {label!r} must be 1 to 63 bytes")
        out.append(b)
    if sum(len(b) + 1 for b in out) + 1 > 255:
        raise ProtoError(f"DNS name {name!r} is longer than 255 bytes")
    return out


def encode_name(name: str) -> bytes:
    """A name without compression (as DHCPv6 options and DNSSL carry it)."""
    return b"".join(bytes([len(b)]) + b for b in _labels(name)) + b"\0"


def decode_names(data: bytes, what: str = "domain list") -> tuple[str, ...]:
    """A sequence of uncompressed names filling data (DHCPv6 option 24)."""
    r = Reader(data, what)
    names = []
    while r.left():
        names.append(_read_name(r, None))
    return tuple(names)


def _read_name(r: Reader, whole: bytes | None) -> str:
    """Reads a name at r; follows compression pointers into `whole` (the
    message) if given, refusing loops and forward jumps past the end."""
    labels: list[str] = []
    cur, jumps, total = r, 0, 0
    while True:
        n = cur.u8("label length")
        if n == 0:
            break
        if n & 0xC0 == 0xC0:
            if whole is None:
                raise cur.fail(_("compression pointer where none is allowed"))
            ptr = ((n & 0x3F) << 8) | cur.u8("compression pointer")
            jumps += 1
            if jumps > _MAX_POINTERS or ptr >= len(whole):
                raise cur.fail(_("bad compression pointer {pointer}").format(pointer=ptr))
            cur = Reader(whole, r.what)
            cur.off = ptr
            continue
        if n & 0xC0:
            raise cur.fail(_("label type {type} is not supported").format(type=n >> 6))
        total += n + 1
        if total > 255:
            raise cur.fail(_("name longer than 255 bytes"))
        labels.append(cur.take(n, "label").decode("ascii", "backslashreplace"))
    return ".".join(labels) + "."


class _Writer:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.names: dict[tuple[bytes, ...], int] = {}

    def name(self, name: str) -> None:
        labels = [b.lower() for b in _labels(name)]
        raw = _labels(name)
        for i in range(len(labels)):
            suffix = tuple(labels[i:])
            if suffix in self.names:
                self.buf += struct.pack("!H", 0xC000 | self.names[suffix])
                return
            if len(self.buf) < 0x3FFF:
                self.names[suffix] = len(self.buf)
            self.buf += bytes([len(raw[i])]) + raw[i]
        self.buf += b"\0"


# ---------------------------------------------------------------- records

def _rdata(w: _Writer, rr: Record) -> None:
    """Appends rr's rdata with its length prefix (names compressed)."""
    at = len(w.buf)
    w.buf += b"\0\0"
    t, d = rr.type, rr.data
    if t in ("A", "AAAA"):
        ip = ipaddress.ip_address(d)
        if (ip.version == 4) != (t == "A"):
            raise ProtoError(f"{t} record for {rr.name} with address {d}")
        w.buf += ip.packed
    elif t in ("NS", "CNAME", "PTR"):
        w.name(str(d))
    elif t == "SOA":
        if not isinstance(d, Soa):
            raise ProtoError(f"SOA record for {rr.name} needs Soa data")
        w.name(d.mname)
        w.name(d.rname)
        w.buf += struct.pack("!IIIII", d.serial, d.refresh, d.retry, d.expire, d.minimum)
    elif t == "TXT":
        for s in (d if isinstance(d, tuple) else (d,)):
            b = s.encode() if isinstance(s, str) else bytes(s)
            if len(b) > 255:
                raise ProtoError(f"TXT string for {rr.name} longer than 255 bytes")
            w.buf += bytes([len(b)]) + b
    else:
        w.buf += bytes(d)
    n = len(w.buf) - at - 2
    if n > 0xFFFF:
        raise ProtoError(f"record for {rr.name} has {n} bytes of data")
    w.buf[at:at + 2] = struct.pack("!H", n)


def _read_rdata(r: Reader, whole: bytes, t: str, n: int) -> RData:
    end = r.off + n
    if end > len(r.data):
        raise r.fail(f"{t} data needs {n} bytes, only {r.left()} left")
    if t in ("A", "AAAA"):
        b = r.take(n, f"{t} address")
        if len(b) != (4 if t == "A" else 16):
            raise r.fail(f"{t} data is {len(b)} bytes")
        return str(ipaddress.ip_address(b))
    if t in ("NS", "CNAME", "PTR", "SOA"):
        name = _read_name(r, whole)
        if t != "SOA":
            out: RData = name
        else:
            rname = _read_name(r, whole)
            out = Soa(name, rname, *struct.unpack("!IIIII", r.take(20, "SOA numbers")))
        if r.off != end:
            raise r.fail(f"{t} data length {n} does not match its content")
        return out
    if t == "TXT":
        sub = Reader(r.take(n, "TXT data"), "TXT data", r.base)
        parts = []
        while sub.left():
            parts.append(sub.take(sub.u8("TXT string length"), "TXT string"))
        return tuple(parts)
    return r.take(n, f"{t} data")


def _read_record(r: Reader, whole: bytes) -> Record:
    name = _read_name(r, whole)
    code, klass, ttl, n = r.u16("type"), r.u16("class"), r.u32("TTL"), r.u16("data length")
    t = type_name(code)
    return Record(name, t, ttl, _read_rdata(r, whole, t, n), klass)


# ---------------------------------------------------------------- message

def encode(m: Message) -> bytes:
    """The message as sent over UDP, with names compressed."""
    flags = ((0x8000 if m.response else 0) | (m.opcode & 0xF) << 11
             | (0x400 if m.authoritative else 0) | (0x200 if m.truncated else 0)
             | (0x100 if m.recursion_desired else 0) | (0x80 if m.recursion_available else 0)
             | (m.rcode & 0xF))
    w = _Writer()
    w.buf += struct.pack("!HHHHHH", m.id & 0xFFFF, flags, len(m.questions), len(m.answers),
                         len(m.authority), len(m.additional))
    for q in m.questions:
        w.name(q.name)
        w.buf += struct.pack("!HH", type_code(q.type), q.klass)
    for rr in (*m.answers, *m.authority, *m.additional):
        w.name(rr.name)
        w.buf += struct.pack("!HHI", type_code(rr.type), rr.klass, rr.ttl)
        _rdata(w, rr)
    return bytes(w.buf)


def decode(data: bytes) -> Message:
    """A DNS message; ProtoError if it is malformed anywhere."""
    r = Reader(data, "DNS message")
    qid, flags = r.u16("id"), r.u16("flags")
    counts = [r.u16(f) for f in ("QDCOUNT", "ANCOUNT", "NSCOUNT", "ARCOUNT")]
    qs = []
    for i in range(counts[0]):
        name = _read_name(r, r.data)
        qs.append(Question(name, type_name(r.u16("question type")), r.u16("question class")))
    sections = [tuple(_read_record(r, r.data) for i in range(c)) for c in counts[1:]]
    return Message(qid, bool(flags & 0x8000), (flags >> 11) & 0xF, bool(flags & 0x400),
                   bool(flags & 0x200), bool(flags & 0x100), bool(flags & 0x80), flags & 0xF,
                   tuple(qs), *sections)
