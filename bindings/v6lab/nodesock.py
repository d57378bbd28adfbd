"""Sockets inside a node's network namespace, as ordinary Python sockets.

The core opens the socket on a short-lived helper thread that has joined
the node's namespace (core/src/node_socket.cpp) and returns its fd; this
module wraps it in `socket.socket(fileno=fd)`, which from then on owns it:
closing the Python socket (or leaving its `with` block) closes the fd. The
Python thread never enters any namespace, and nothing runs as, or inside,
the node's programs: the grader speaks for the node from outside it.

    with lab["h1"].socket(AF_INET6, SOCK_DGRAM, bind_iface="eth0",
                          bind_addr=ll, port=546, reuse_addr=True) as s:
        s.sendto(payload, ("ff02::1:2", 547))

A socket keeps the namespace it was made in: it works after the call
returns, from any thread. It also keeps that namespace alive: a socket
still open when the lab stops holds the node's network namespace (and its
interfaces) until it is closed, so close every socket, with `with`, before
the check returns.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any, Optional

from . import _core

if TYPE_CHECKING:
    from .lab import Lab

SocketError = _core.SocketError

#: The options the core understands (anything else raises ValueError).
OPTIONS = ("reuse_addr", "reuse_port", "broadcast", "v6only", "recv_pktinfo", "recv_hoplimit",
           "nonblocking", "unicast_hops", "multicast_hops", "multicast_loop", "multicast_if",
           "join_groups", "icmp6_filter_type")


def open_socket(handle: _core.NodeHandle, family: int = socket.AF_INET6,
                type: int = socket.SOCK_DGRAM, proto: int = 0, *,
                bind_iface: Optional[str] = None, bind_addr: Optional[str] = None,
                port: int = 0, timeout: Optional[float] = None,
                **options: Any) -> socket.socket:
    """A socket made in handle's namespace with `options` applied (see
    OPTIONS; join_groups is a list of addresses, joined on multicast_if or
    bind_iface). Raises SocketError (an OSError, errno kept) saying what
    failed on which node: "bind [fe80::1%eth0]:546 on h1: Address already
    in use". timeout is set on the Python socket (None: blocking)."""
    if "join_groups" in options:
        options["join_groups"] = list(options["join_groups"])
    fd = handle.open_socket(int(family), int(type), proto, bind_iface=bind_iface,
                            bind_addr=bind_addr, port=port, options=options)
    try:
        s = socket.socket(fileno=fd)
    except BaseException:
        import os
        os.close(fd)
        raise
    if timeout is not None:
        s.settimeout(timeout)
    return s


def switch_socket(lab: "Lab", *args: Any, **kw: Any) -> socket.socket:
    """A socket in the hidden switch namespace (where the LAN bridges are),
    e.g. to send on a LAN from an address no node owns. For listening to
    what nodes send, the wire tap (grading.wire.Tap.switch with udp_ports)
    is better evidence: it says which port a frame came in on."""
    from .grading.wire import switch_handle
    return open_socket(switch_handle(lab), *args, **kw)


def scope_id(handle: _core.NodeHandle, ifname: str) -> int:
    """The interface index of ifname in the node's namespace (for a
    sockaddr's scope id; socket.if_nametoindex would ask the grader's own
    namespace, which has other interfaces)."""
    for link in handle.links():
        if link.name == ifname:
            return link.index
    raise SocketError(19, f"interface index of {ifname} on {handle.name}: no such device")
