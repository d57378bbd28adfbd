"""The one error every codec raises for malformed input, and the bounded
reader that guarantees it (no slicing past the end goes unnoticed).

Its text reaches a trainee (a check quotes why an answer was malformed), so
it is translated when raised; the names of what and which field stay as
the RFCs write them."""

from __future__ import annotations

import ipaddress
import socket
import struct

from ..i18n import _


def ip6_text(b: bytes) -> str:
    """The text of a 16-byte IPv6 address, as str(ipaddress.IPv6Address(b))
    writes it, at a twentieth of its cost: the grader decodes every frame a
    check captures. glibc's inet_ntop writes the same RFC 5952 text except
    for addresses with an IPv4 tail (::ffff:192.0.2.1), which ipaddress
    writes in hex: those (a dot in the text) go to ipaddress."""
    text = socket.inet_ntop(socket.AF_INET6, b)
    return str(ipaddress.IPv6Address(b)) if "." in text else text


class ProtoError(ValueError):
    """Bytes that are not a valid message; says what, and at which offset.
    A ValueError, so callers that already treat bad input as a value
    problem keep working."""


class Reader:
    """Reads big-endian fields from a buffer, raising ProtoError (naming
    `what` and the offset) instead of IndexError or struct.error."""

    def __init__(self, data: bytes, what: str, base: int = 0) -> None:
        self.data = bytes(data)
        self.off = 0
        self.what = what
        self.base = base  # offset of data[0] in the whole message, for messages

    def left(self) -> int:
        return len(self.data) - self.off

    def fail(self, why: str) -> "ProtoError":
        # TRANSLATORS: {what} is the part of a message that is malformed
        # ("DHCPv6 option 23 (DNS_SERVERS)"), {offset} a byte offset in it.
        return ProtoError(_("{what} at offset {offset}: {why}").format(
            what=self.what, offset=self.base + self.off, why=why))

    def take(self, n: int, field: str) -> bytes:
        if n < 0 or self.off + n > len(self.data):
            # TRANSLATORS: {field} is a protocol field's name ("option length"):
            # keep it, as the RFC writes it.
            raise self.fail(_("{field} needs {count} bytes, only {left} left").format(
                field=field, count=n, left=self.left()))
        b = self.data[self.off:self.off + n]
        self.off += n
        return b

    def u8(self, field: str) -> int:
        return self.take(1, field)[0]

    def u16(self, field: str) -> int:
        return struct.unpack("!H", self.take(2, field))[0]

    def u32(self, field: str) -> int:
        return struct.unpack("!I", self.take(4, field))[0]

    def ip6(self, field: str) -> str:
        return ip6_text(self.take(16, field))

    def rest(self) -> bytes:
        return self.take(self.left(), "rest")
