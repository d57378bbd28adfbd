"""Checks of lab 13 that the library does not have, written with its public
names only (docs/grading.md: Writing a custom check). Each takes the lab's
translator `_` first, so its description and messages are in the trainee's
language. Evidence, and the forgery each one defeats
(tests/python/test_ipv6_mostly_checks.py tries each forgery):

- `ra_sender_running`: a process of the node whose executable is v6lab's own
  v6lab-ra (same device and inode as the package's libexec/v6lab-ra, read
  from the host's /proc), not a copy or a script of that name.
- `advertises_pref64`: the wire. The grader solicits from a random address
  on the LAN's bridge; only an RA to that address that came in on the
  router's switch port counts, and its PREF64 option (RFC 8781) must be the
  ISP's NAT64 prefix. An RA with PREF64 forged from another port (a host)
  is not the router's.
- `offers_v6only`: behaviour the grader provokes. It sends a DHCPDISCOVER
  of its own (a random MAC and transaction id, nobody could have prepared
  an answer) from the LAN's bridge, asking for option 108 or not, and reads
  the OFFER that comes in on the server's switch port: with 108 only when
  asked (RFC 8925 3.3), and with an address. A canned OFFER sent from
  another port (a persona's, or a trainee's host) does not count.
- `persona_ipv6_only`: the laptop persona's state from outside: no IPv4
  address on its interface (netlink), and its DHCP lease, read through the
  outside view (a provider node: the trainee cannot write it), records
  option 108. With `has_address`/`default_route` (netlink) for its IPv6.
- `fetches_through_nat64`: the grader's own TCP connection from the laptop's
  namespace to the server's NAT64 address; the answer must carry the token
  the server was given at start (read from the server, a provider node), so
  an answer made up on r1 (an address of the NAT64 prefix added locally)
  fails.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
import time
from typing import Callable, Optional

from v6lab import paths
from v6lab.errors import NodeFileError
from v6lab.grading import Check, CheckFailed
from v6lab.grading import wire
from v6lab.proto import ProtoError, dhcp4

Translate = Callable[[str], str]
V6ONLY_MARK = "/run/v6only"   # written by the personas' dhclient script (reason V6ONLY)
RA_SENDER = "v6lab-ra"


def _port(lab, node: str, iface: str) -> tuple[str, str]:
    """(switch port, bridge) of node:iface; a grader error if not on a LAN."""
    where = wire.lan_of(lab, node, iface)
    if where is None:
        raise RuntimeError(f"{node}:{iface} is not on a LAN: no switch port to watch")
    return f"l{where[0]}p{where[2]}", wire.bridge_of(lab, where[0])


# ------------------------------------------------------------ the RA sender

def ra_sender_running(_: Translate, node: str) -> Check:
    """v6lab-ra runs on node: its executable is the package's own file."""
    def fn(lab) -> str:
        path = paths.LIBEXEC_DIR / RA_SENDER
        try:
            real = os.stat(path)
        except OSError:
            raise RuntimeError(f"{path} is missing: build v6lab (./scripts/setup)") from None
        impostor = stopped = None
        for p in lab[node].processes():
            if p.host_pid == lab[node].pid:
                continue
            if (p.exe_dev, p.exe_ino) == (real.st_dev, real.st_ino):
                if p.state in ("T", "t", "Z", "X"):
                    stopped = p
                    continue
                return _("v6lab-ra is running (pid {pid} on the host)").format(pid=p.host_pid)
            if os.path.basename((p.exe_path or "").removesuffix(" (deleted)")) == RA_SENDER:
                impostor = p.host_pid
        if stopped is not None:
            raise CheckFailed(_("v6lab-ra on {node} is not running: its state is {state} "
                                "(stopped or exited)").format(node=node, state=stopped.state))
        if impostor:
            raise CheckFailed(_("a process called v6lab-ra runs on {node}, but it is not "
                                "/opt/v6lab/bin/v6lab-ra").format(node=node))
        raise CheckFailed(_("v6lab-ra is not running on {node}").format(node=node))
    return Check(_("v6lab-ra runs on {node}").format(node=node), fn)


# ------------------------------------------------------------------ PREF64

def _solicited_ra(lab, node: str, iface: str, window: float, quiet: float):
    """The RA that node sent from iface's switch port in answer to the
    grader's Router Solicitation (from a random address), or None; and
    whether any RA was heard at all."""
    port, bridge = _port(lab, node, iface)
    # No RA before the router's link-local address has passed DAD (about
    # 1 s after the link came up): wait for it, read over netlink.
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        lls = [a for a in lab[node].addresses(iface, 6) if a.scope == "link"]
        if lls and not any(a.tentative for a in lls):
            break
        time.sleep(0.05)
    mac, ll = wire.random_identity()
    rs = wire.router_solicit(mac, ll)

    def answer(seen):
        return next((s for s in wire.sent_by(seen, node, wire.RA) if s.ifname == port
                     and s.packet.dst == ll and s.packet.hop_limit == 255
                     and isinstance(s.packet.body, wire.RouterAdvert)), None)

    with wire.Tap.switch(lab, types=(wire.RA,)) as tap:
        t0 = time.monotonic()
        while answer(tap.seen) is None:
            elapsed = time.monotonic() - t0
            heard = any(not s.injected for s in tap.seen)
            if elapsed >= window or (elapsed >= quiet and not heard):
                break
            tap.inject(bridge, rs)
            tap.collect(min(0.5, window - elapsed), until=lambda seen: answer(seen) is not None)
        return answer(tap.seen), any(not s.injected for s in tap.seen)


def advertises_pref64(_: Translate, node: str, iface: str, prefix: str, *,
                      window: float = 3.0, quiet: float = 1.5) -> Check:
    """node's RA (answering the grader, seen on its port) carries PREF64 =
    prefix with a non-zero lifetime."""
    want = ipaddress.IPv6Network(prefix)

    def fn(lab) -> str:
        s, heard = _solicited_ra(lab, node, iface, window, quiet)
        if s is None:
            seconds = f"{window if heard else quiet:g}"
            raise CheckFailed(_("{node}:{iface} did not answer the grader's Router Solicitation "
                                "within {seconds} s").format(node=node, iface=iface,
                                                             seconds=seconds))
        got = s.packet.body.pref64
        if not got:
            raise CheckFailed(_("the RA from {node}:{iface} carries no PREF64 option: hosts "
                                "do not learn the NAT64 prefix {prefix} (DNS64 alone does not "
                                "help IPv4 literals or CLAT)").format(
                                    node=node, iface=iface, prefix=want))
        match = [p for p in got if ipaddress.IPv6Network(p.prefix) == want]
        if not match:
            raise CheckFailed(_("the RA from {node}:{iface} advertises PREF64 {advertised}, but "
                                "the ISP's NAT64 translates {prefix}").format(
                                    node=node, iface=iface, prefix=want,
                                    advertised=", ".join(p.prefix for p in got)))
        if match[0].lifetime == 0:
            raise CheckFailed(_("the RA from {node}:{iface} advertises PREF64 {prefix} with "
                                "lifetime 0 (withdrawn)").format(node=node, iface=iface,
                                                                 prefix=want))
        return _("PREF64 {prefix} for {seconds} s in the RA from {node}:{iface} (answered the "
                 "grader's solicitation, seen on its switch port)").format(
                     prefix=want, seconds=match[0].lifetime, node=node, iface=iface)
    return Check(_("{node} advertises the NAT64 prefix {prefix} (PREF64) on {iface}").format(
        node=node, prefix=want, iface=iface), fn)


# ------------------------------------------------------------- option 108

def dhcp_offer(lab, server: str, iface: str, request: tuple[int, ...], timeout: float,
               mac: str = ""):
    """Sends a DHCPDISCOVER on server's LAN, from the bridge (so from no
    node), with a random transaction id and chaddr `mac` (default: random),
    asking for `request`, every second; returns (the OFFER to it that came
    in on server's port, or None; OFFERs to it that came in on other
    nodes' ports, as (node, message); why a frame from the server did not
    decode, or "")."""
    port, bridge = _port(lab, server, iface)
    mac = mac or wire.random_identity()[0]
    xid = secrets.randbits(32)
    frame = dhcp4.udp_frame(mac, "0.0.0.0", "255.255.255.255", dhcp4.CLIENT_PORT,
                            dhcp4.SERVER_PORT, dhcp4.discover(xid, mac, request=request))
    state = {"offer": None, "others": [], "bad": "", "done": 0}

    def scan(seen) -> bool:
        for s in seen[state["done"]:]:
            p = s.packet
            if (s.outgoing or s.injected or not isinstance(p, wire.UdpPacket)
                    or p.sport != dhcp4.SERVER_PORT or p.dport != dhcp4.CLIENT_PORT):
                continue
            try:
                m = dhcp4.decode(p.payload)
            except ProtoError as e:
                if s.ifname == port:
                    state["bad"] = str(e)
                continue
            if m.xid != xid or m.chaddr != mac or m.message_type != dhcp4.OFFER:
                continue
            if s.ifname == port:
                state["offer"] = m
            elif s.node:        # not the bridge's own copy of a broadcast
                state["others"].append((s.node, m))
        state["done"] = len(seen)
        return state["offer"] is not None

    # types=(0,): no ICMPv6 type is 0, so the tap keeps only the DHCP frames.
    with wire.Tap.switch(lab, types=(0,), udp_ports=(dhcp4.SERVER_PORT, dhcp4.CLIENT_PORT),
                         udp4=True) as tap:
        end = time.monotonic() + timeout
        while not scan(tap.seen) and time.monotonic() < end:
            tap.inject(bridge, frame)
            tap.collect(min(1.0, max(0.0, end - time.monotonic())), until=scan)
    return state["offer"], state["others"], state["bad"]


def offers_v6only(_: Translate, server: str, iface: str, *, request_108: bool,
                  v4_prefix: str, as_client: Optional[tuple[str, str]] = None,
                  timeout: float = 8.0) -> Check:
    """server answers the grader's DHCPDISCOVER (asking for 108 or not) with
    an OFFER of an address in v4_prefix, carrying option 108 exactly when
    asked, with V6ONLY_WAIT of at least 300 s (RFC 8925 3.4).

    as_client=(node, iface): the DISCOVER carries that interface's MAC
    (the grader's own transaction id; the node ignores an OFFER it did not
    ask for). dnsmasq pings every address it is about to offer for 3 s,
    one client at a time, except one leased (or recently pinged) for that
    MAC: with a persona's MAC the grader's offer comes at once."""
    net = ipaddress.IPv4Network(v4_prefix)
    request = (1, 3, 6, dhcp4.OPT_V6ONLY) if request_108 else (1, 3, 6)

    def fn(lab) -> str:
        mac = lab[as_client[0]].link(as_client[1]).mac if as_client else ""
        offer, others, bad = dhcp_offer(lab, server, iface, request, timeout, mac)
        if offer is None:
            if bad:
                raise CheckFailed(_("{node}:{iface} answered the grader's DHCPDISCOVER with a "
                                    "malformed message: {error}").format(
                                        node=server, iface=iface, error=bad))
            if others:
                raise CheckFailed(_("no DHCPOFFER came from {node}:{iface}; one came in on "
                                    "{other}'s cable instead").format(
                                        node=server, iface=iface, other=others[0][0]))
            raise CheckFailed(_("{node}:{iface} did not answer the grader's DHCPDISCOVER within "
                                "{seconds} s (is the DHCPv4 server running, with a pool of "
                                "addresses on {iface}?)").format(
                                    node=server, iface=iface, seconds=f"{timeout:g}"))
        addr = ipaddress.IPv4Address(offer.yiaddr)
        if addr not in net or addr in (net.network_address, net.broadcast_address):
            raise CheckFailed(_("{node} offers {address}, which is not an address of {prefix}")
                              .format(node=server, address=addr, prefix=net))
        wait = offer.v6only_wait
        if request_108 and wait is None:
            raise CheckFailed(_("{node}'s OFFER to a client that asked for option 108 has no "
                                "option 108 (IPv6-Only Preferred): the laptop keeps IPv4").format(
                                    node=server))
        if not request_108 and wait is not None:
            raise CheckFailed(_("{node}'s OFFER to a client that did not ask for option 108 "
                                "carries it anyway (RFC 8925 3.3: only to clients that ask; is "
                                "it forced, dhcp-option-force?)").format(node=server))
        if wait is not None and wait < dhcp4.MIN_V6ONLY_WAIT:
            raise CheckFailed(_("{node}'s option 108 says V6ONLY_WAIT {wait} s; RFC 8925 3.4 "
                                "asks for at least 300").format(node=server, wait=wait))
        if request_108:
            return _("{node} offers {address} with option 108, V6ONLY_WAIT {wait} s (seen on its "
                     "switch port)").format(node=server, address=addr, wait=wait)
        return _("{node} offers {address} without option 108 to a client that did not ask "
                 "(seen on its switch port)").format(node=server, address=addr)
    if request_108:
        desc = _("{node} offers an address with option 108 to a client that asks for it")
    else:
        desc = _("{node} offers an address without option 108 to a client that does not ask")
    return Check(desc.format(node=server), fn)


# ---------------------------------------------------------------- personas

def persona_ipv6_only(_: Translate, node: str, iface: str, *, within: float = 0.0) -> Check:
    """The RFC 8925 persona took option 108 and left IPv4 off: its dhclient
    (4.4.3 implements RFC 8925) reported an OFFER with 108 to its script,
    which marked it in a file of the node (a provider node: the trainee
    cannot write it), and netlink shows no IPv4 address on iface."""
    def fn(lab) -> str:
        try:
            lab[node].read_file(V6ONLY_MARK, follow_symlinks=False)
        except NodeFileError:
            raise CheckFailed(_("{node} has not been offered option 108 yet (it asks DHCPv4 "
                                "every second or two)").format(node=node)) from None
        v4 = [a.cidr for a in lab[node].addresses(iface, 4) if a.scope != "host"]
        if v4:
            raise CheckFailed(_("{node} got option 108 but has IPv4 {addresses} on {iface}")
                              .format(node=node, addresses=", ".join(v4), iface=iface))
        return _("{node} was offered option 108 and has no IPv4 address").format(node=node)
    return Check(_("{node} leaves IPv4 off after option 108").format(node=node), fn,
                 within=within, retry="any")


# ------------------------------------------------------------------- NAT64

def fetches_through_nat64(_: Translate, node: str, address: str, port: int, server: str,
                          page: str, *, within: float = 0.0) -> Check:
    """The grader's own TCP connection from node to [address]:port gets the
    page the IPv4-only server was given at start."""
    def fn(lab) -> str:
        token = lab[server].read_file(page).decode().strip().rpartition(" ")[2]
        request = f"GET / HTTP/1.0\r\nHost: [{address}]\r\n\r\n".encode()
        t0 = time.monotonic()
        received = b""
        try:
            # The grader's own socket in the node's namespace (v6lab.nodesock):
            # nothing of the node's programs runs.
            with lab[node].socket(socket.AF_INET6, socket.SOCK_STREAM, timeout=2.0) as s:
                s.connect((address, port))
                s.sendall(request)
                while len(received) < 65536:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    received += chunk
        except OSError as e:
            if not received:
                raise CheckFailed(_("{node} cannot connect to [{address}]:{port}: {error}").format(
                    node=node, address=address, port=port,
                    error=e.strerror or type(e).__name__)) from None
        if token.encode() not in received:
            raise CheckFailed(_("[{address}]:{port} answered, but not with {server}'s page: "
                                "{received}").format(address=address, port=port, server=server,
                                                     received=repr(received[:60])))
        return _("{node} fetched {server}'s page from [{address}]:{port} in {ms} ms").format(
            node=node, server=server, address=address, port=port,
            ms=f"{(time.monotonic() - t0) * 1000:.1f}")
    return Check(_("{node} fetches from {server} through NAT64 ([{address}]:{port})").format(
        node=node, server=server, address=address, port=port), fn, within=within)
