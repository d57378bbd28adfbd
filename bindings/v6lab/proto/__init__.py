"""Protocol codecs: pure functions from bytes to frozen dataclasses and
back, with no lab, no root and no I/O, so a check for a new protocol is
Python over a socket from `Node.socket` (v6lab.nodesock), and every codec is
tested on byte fixtures (tests/unit/test_proto.py).

Decoders never raise IndexError or struct.error on bad input: anything
malformed raises ProtoError, which says what was being read and where.

    from v6lab.proto import dhcp6, dns, ndp, ProtoError
"""

from .errors import ProtoError

__all__ = ["ProtoError"]
