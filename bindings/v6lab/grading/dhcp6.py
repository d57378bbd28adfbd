"""DHCPv6 checks in one line, on evidence a node cannot forge.

`dhcp6_information_reply` asks the question itself: the grader sends an
Information-Request from the client node's namespace (a socket from
`Node.socket`, bound to the client's link-local address and port 546 on
its interface) and decodes the Reply with v6lab.proto.dhcp6. Who answered
is not taken from the Reply's addresses or SERVERID, which any node can
forge, but from the switch port its frame came in on (grading/wire.py):
a Reply from a trainee's fake server on another node fails.

`dhcp6_seen_on_wire` only listens: what the nodes' own clients, servers and
relays exchanged on a LAN within a window. `ra_flags_on_wire` checks the
M and O flags that tell hosts to use DHCPv6 at all.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import select
import socket
import time
from typing import TYPE_CHECKING, Callable, Optional, Sequence, Union

from ..i18n import _
from ..proto import ProtoError, dhcp6
from ..proto.dhcp6 import DnsServers, DomainList, StatusCode
from . import wire as w
from .behaviour import router_advertises
from .check import Check, CheckFailed, CheckPending

if TYPE_CHECKING:
    from ..lab import Lab

DHCP6_PORTS = (dhcp6.CLIENT_PORT, dhcp6.SERVER_PORT)


def _fmt(items) -> str:
    # TRANSLATORS: an empty list, as in "(it has: none)".
    return ", ".join(str(x) for x in items) or _("none")


def _domain(d: str) -> str:
    return d.rstrip(".").lower() + "."


def _client_ll(lab: "Lab", node: str, iface: str) -> str:
    """The client's usable link-local address: the source a real client
    uses, and the one a server answers to."""
    lls = [a for a in lab[node].addresses(iface, 6) if a.scope == "link"]
    ok = [a for a in lls if not a.tentative and not a.dadfailed]
    if not ok:
        # Still in DAD: worth waiting for; none or a duplicate: settled.
        kind = CheckPending if any(a.tentative for a in lls) else CheckFailed
        raise kind(_("{node}:{iface} has no usable link-local address (link-local: "
                     "{addresses}), so it cannot ask DHCPv6").format(
                         node=node, iface=iface, addresses=_fmt(a.cidr for a in lls)))
    return ok[0].address


def _lan_ports(lab: "Lab", lan: str) -> dict[str, str]:
    """Switch port -> node for LAN `lan` (a grader error if no such LAN)."""
    lans = [lan.name for lan in lab.spec.lans]
    if lan not in lans:
        raise RuntimeError(f"no LAN {lan} in this lab (LANs: {_fmt(lans)})")
    i = lans.index(lan)
    return {p: m.partition(":")[0] for p, m in w.port_owners(lab).items() if p.startswith(f"l{i}p")}


def _open_client(lab: "Lab", node: str, iface: str, ll: str,
                 port: int = dhcp6.CLIENT_PORT) -> tuple[socket.socket, str]:
    """A UDP socket in the client's namespace on [ll%iface]:546 (or `port`);
    the port may be taken by the node's own DHCPv6 client (or relay), then
    an ephemeral port (servers answer the request's source port, RFC 8415
    18.3)."""
    from ..nodesock import SocketError
    # multicast_loop off: a server running in the client node itself must
    # not hear the grader's question (it would answer without the wire).
    kw = dict(bind_iface=iface, bind_addr=ll, reuse_addr=True, multicast_hops=1,
              multicast_loop=False, timeout=0)
    shown = f"[{ll}%{iface}]" if ipaddress.ip_address(ll).is_link_local else f"[{ll}]"
    try:
        return lab[node].socket(socket.AF_INET6, socket.SOCK_DGRAM, port=port,
                                **kw), f"{shown}:{port}"
    except SocketError as e:
        if e.errno != errno.EADDRINUSE:
            raise
    s = lab[node].socket(socket.AF_INET6, socket.SOCK_DGRAM, port=0, **kw)
    # TRANSLATORS: {bound} is where the grader's socket is, "[fe80::1%eth0]:40000";
    # {port} the port it wanted (546), taken by a program on {node}.
    return s, _("{bound} ({port} is in use on {node})").format(
        bound=f"{shown}:{s.getsockname()[1]}", port=port, node=node)


def _exchange(lab: "Lab", node: str, iface: str, timeout: float,
              settled: Optional[Callable[[dhcp6.Message, str], bool]] = None,
              ) -> tuple[list[tuple[dhcp6.Message, str]], list[str], str]:
    """Sends one Information-Request and gathers the Replies to it for up
    to timeout seconds. Returns ([(reply, node whose port it came in on)],
    problems with other answers, what the grader bound to). settled(reply,
    node) true of a Reply ends the wait for others at once (see _gather)."""
    ll = _client_ll(lab, node, iface)
    duid = dhcp6.DuidLl(1, lab[node].link(iface).mac)
    req = dhcp6.information_request(duid)
    where = w.lan_of(lab, node, iface)
    client_port = w.port_of(lab, node, iface)
    replies: list[tuple[dhcp6.Message, str]] = []
    junk: list[str] = []
    with contextlib.ExitStack() as stack:
        tap = stack.enter_context(w.Tap.switch(lab, udp_ports=DHCP6_PORTS)) if where else None
        s, bound = _open_client(lab, node, iface, ll)
        with s:
            s.sendto(dhcp6.encode(req), (dhcp6.ALL_DHCP_RELAY_AGENTS_AND_SERVERS,
                                         dhcp6.SERVER_PORT))

            def owners_of(got: list[tuple[bytes, dhcp6.Message]]) -> dict[bytes, str]:
                if tap is None:
                    return {}
                # A frame the socket got has crossed the switch already.
                tap.collect(0.1, until=lambda seen: _attribute(seen, got, client_port)
                            is not None)
                return _attribute(tap.seen, got, client_port) or {}

            def decided(got: list[tuple[bytes, dhcp6.Message]]) -> bool:
                owners = owners_of(got)
                return settled is not None and any(
                    settled(msg, owners.get(payload, "")) for payload, msg in got)

            got = _gather(s, req.xid, timeout, junk, decided)
        owners = owners_of(got)
        for payload, msg in got:
            replies.append((msg, owners.get(payload, "")))
    return replies, junk, bound


def _gather(s: socket.socket, xid: int, timeout: float, junk: list[str],
            decided: Callable[[list[tuple[bytes, dhcp6.Message]]], bool] = lambda got: False,
            ) -> list[tuple[bytes, dhcp6.Message]]:
    out: list[tuple[bytes, dhcp6.Message]] = []
    end = time.monotonic() + timeout
    # After the first Reply, wait a little for others (a second server, or a
    # rogue one that answered first), not the whole timeout -- and not at
    # all once decided(replies so far) says a Reply that counts is in.
    while (left := end - time.monotonic()) > 0:
        if not select.select([s], [], [], left)[0]:
            break
        data, src = s.recvfrom(65535)
        try:
            m = dhcp6.decode(data)
        except ProtoError as e:
            junk.append(malformed(src[0], e))
            continue
        if isinstance(m, dhcp6.Message) and m.xid == xid and m.type == dhcp6.REPLY:
            out.append((data, m))
            if decided(out):
                break
            end = min(end, time.monotonic() + 0.3)
    return out


def malformed(source: str, error: Exception) -> str:
    """What the grader says of an answer it could not decode."""
    # TRANSLATORS: {error} says what is wrong with the bytes, and where.
    return _("a malformed answer from {source}: {error}").format(source=source, error=error)


def _attribute(seen: list[w.Seen], got: list[tuple[bytes, dhcp6.Message]],
               client_port: Optional[str]) -> Optional[dict[bytes, str]]:
    """payload -> the node whose port the Reply frame came in on; None
    until every received payload has been seen on the wire."""
    owners: dict[bytes, str] = {}
    for s in seen:
        p = s.packet
        if (isinstance(p, w.UdpPacket) and s.node and not s.outgoing and not s.injected
                and p.sport == dhcp6.SERVER_PORT and s.ifname != client_port):
            owners.setdefault(p.payload, s.node)
    if all(payload in owners for payload, msg in got):
        return owners
    return None


def status_problem(st: StatusCode, ia: str = "") -> str:
    """A non-zero Status Code, as a problem: the code's name and the
    server's own text stay as they are."""
    if ia:
        # TRANSLATORS: {ia} is IA_NA or IA_PD, {name} a DHCPv6 status code
        # (NoAddrsAvail), {message} the server's own text: keep them.
        return _("{ia} status {name}: {message}").format(ia=ia, name=st.name,
                                                          message=repr(st.message))
    return _("status {name}: {message}").format(name=st.name, message=repr(st.message))


def _reply_problems(m: dhcp6.Message, dns_servers: Sequence[str],
                    domains: Sequence[str], status: bool = True) -> list[str]:
    """What a Reply lacks of what a step asks, one phrase each; with
    status=False, a non-zero Status Code is not one of them (the caller
    has looked at it already)."""
    problems = []
    st = m.option(StatusCode)
    if status and st is not None and st.status != 0:
        problems.append(status_problem(st))
    have = m.option(DnsServers)
    have_dns = {str(ipaddress.ip_address(a)) for a in (have.addresses if have else ())}
    for a in dns_servers:
        if str(ipaddress.ip_address(a)) not in have_dns:
            problems.append(_("no DNS server {server} (it gave: {given})").format(
                server=a, given=_fmt(sorted(have_dns))))
    dl = m.option(DomainList)
    have_dom = {_domain(d) for d in (dl.domains if dl else ())}
    for d in domains:
        if _domain(d) not in have_dom:
            problems.append(_("no search domain {domain} (it gave: {given})").format(
                domain=_domain(d), given=_fmt(sorted(have_dom))))
    return problems


def wanted(dns_servers: Sequence[str], domains: Sequence[str]) -> list[str]:
    """The DNS servers and search domains a description names, one phrase each."""
    # TRANSLATORS: in a check's description, "(DNS 2001:db8::53; domains lab.example.)".
    want = [_("DNS {servers}").format(servers=_fmt(dns_servers))] if dns_servers else []
    want += [_("domains {domains}").format(domains=_fmt(domains))] if domains else []
    return want


def dhcp6_information_reply(client: str, iface: str = "eth0", *, server: Optional[str] = None,
                            dns_servers: Sequence[str] = (), domains: Sequence[str] = (),
                            timeout: float = 2.0, within: float = 0.0) -> Check:
    """A stateless DHCPv6 server answers client: the grader sends an
    Information-Request from client:iface (source [link-local]:546, to
    ff02::1:2 port 547) and a Reply comes back with these DNS servers and
    search domains. With `server`, the Reply must have come in on server's
    switch port (the client's LAN only); a Reply from any other node's
    cable fails, whatever addresses it carries."""
    want = wanted(dns_servers, [_domain(d) for d in domains])

    def fn(lab: "Lab") -> str:
        on_lan = w.lan_of(lab, client, iface) is not None

        def counts(m: dhcp6.Message, node: str) -> bool:
            # The Reply the verdict below would pass on: from server's cable
            # if named, else from any other port of the LAN (anything on a
            # point-to-point link), with what the step asks. The verdict
            # takes the first such Reply, so later ones could not change it.
            right = node == server if server is not None else (bool(node) or not on_lan)
            return right and not _reply_problems(m, dns_servers, domains)

        replies, junk, bound = _exchange(lab, client, iface, timeout, counts)
        if not replies:
            if junk:
                raise CheckFailed(_(
                    "no DHCPv6 Reply to an Information-Request from {client}:{iface} ({bound}) "
                    "within {seconds} s; {problem} (is a DHCPv6 server running on this link, "
                    "e.g. dnsmasq with --dhcp-range=...,ra-stateless or dhcp-range "
                    "::,constructor?)").format(client=client, iface=iface, bound=bound,
                                               seconds=f"{timeout:g}", problem=junk[0]))
            raise CheckFailed(_(
                "no DHCPv6 Reply to an Information-Request from {client}:{iface} ({bound}) "
                "within {seconds} s (is a DHCPv6 server running on this link, e.g. dnsmasq "
                "with --dhcp-range=...,ra-stateless or dhcp-range ::,constructor?)").format(
                    client=client, iface=iface, bound=bound, seconds=f"{timeout:g}"))
        if server is not None:
            mine = [(m, n) for m, n in replies if n == server]
            if not mine:
                # TRANSLATORS: stands for a node, as in "came in on {who}'s cable".
                who = _fmt(sorted({n or _("an unknown port") for m, n in replies}))
                raise CheckFailed(_("{client}:{iface} got a DHCPv6 Reply, but it came in on "
                                    "{who}'s cable, not from {server}").format(
                                        client=client, iface=iface, who=who, server=server))
            replies = mine
        elif w.lan_of(lab, client, iface) is not None:
            # On a LAN the switch saw every real answer: one it did not see
            # was made inside the client node. (A point-to-point link has no
            # switch to ask: there, any Reply counts.)
            replies = [(m, n) for m, n in replies if n]
            if not replies:
                raise CheckFailed(_("the DHCPv6 Reply {client}:{iface} got did not come in on "
                                    "any other port of its LAN: it was answered inside the "
                                    "node, not by a server").format(client=client, iface=iface))
        problems: list[str] = []
        for m, n in replies:
            p = _reply_problems(m, dns_servers, domains)
            if not p:
                dns = m.option(DnsServers)
                servers = _fmt(dns.addresses if dns else ())
                if n:
                    return _("Reply from {node} to {client}:{iface}: DNS {servers}").format(
                        node=n, client=client, iface=iface, servers=servers)
                return _("Reply to {client}:{iface}: DNS {servers}").format(
                    client=client, iface=iface, servers=servers)
            problems = p
        if replies[0][1]:
            raise CheckFailed(_("DHCPv6 Reply to {client}:{iface} from {node}: {problems}").format(
                client=client, iface=iface, node=replies[0][1], problems="; ".join(problems)))
        raise CheckFailed(_("DHCPv6 Reply to {client}:{iface}: {problems}").format(
            client=client, iface=iface, problems="; ".join(problems)))
    if server:
        desc = _("DHCPv6 answers {client}:{iface}'s Information-Request from {server}").format(
            client=client, iface=iface, server=server)
    else:
        desc = _("DHCPv6 answers {client}:{iface}'s Information-Request").format(
            client=client, iface=iface)
    return Check(desc + (f" ({'; '.join(want)})" if want else ""), fn, within=within)


def dhcp6_seen_on_wire(lan: str, kind: Union[str, int] = "Reply", *,
                       from_node: Optional[str] = None, within: float = 5.0) -> Check:
    """A DHCPv6 message of `kind` ("Solicit", "Reply", "Relay-Forw", ...)
    comes in on a port of LAN `lan` within `within` seconds, from
    from_node's cable if given. It only listens: the nodes' own clients,
    servers and relays must be talking (e.g. a client renewing)."""
    code = dhcp6.message_type(kind)
    name = dhcp6.MESSAGE_NAMES.get(code, str(kind))

    def fn(lab: "Lab") -> str:
        ports = _lan_ports(lab, lan)

        def match(s: w.Seen) -> Optional[dhcp6.AnyMessage]:
            p = s.packet
            if (not isinstance(p, w.UdpPacket) or s.outgoing or s.injected
                    or s.ifname not in ports or not set(DHCP6_PORTS) & {p.sport, p.dport}):
                return None
            try:
                return dhcp6.decode(p.payload)
            except ProtoError:
                return None

        def found(seen: list[w.Seen]) -> bool:
            return any((m := match(s)) is not None and m.type == code
                       and (from_node is None or s.node == from_node) for s in seen)

        with w.Tap.switch(lab, udp_ports=DHCP6_PORTS) as tap:
            tap.collect(within, until=found)
            seen = tap.seen
        hits = [(s, m) for s in seen if (m := match(s)) is not None]
        for s, m in hits:
            if m.type == code and (from_node is None or s.node == from_node):
                # TRANSLATORS: {message} is a DHCPv6 message name (Solicit, Reply): keep it.
                return _("{message} from {node} on {lan} ({source})").format(
                    message=name, node=s.node or s.ifname, lan=lan, source=s.packet.src)
        heard = _fmt(sorted({heard_from(m.name, s.node or s.ifname) for s, m in hits}))
        if from_node:
            raise CheckFailed(_("no DHCPv6 {message} from {node} on {lan} within {seconds} s "
                                "(heard: {heard})").format(message=name, node=from_node, lan=lan,
                                                           seconds=f"{within:g}", heard=heard))
        raise CheckFailed(_("no DHCPv6 {message} on {lan} within {seconds} s (heard: "
                            "{heard})").format(message=name, lan=lan, seconds=f"{within:g}",
                                               heard=heard))
    if from_node:
        desc = _("DHCPv6 {message} from {node} on {lan}").format(message=name, node=from_node,
                                                                 lan=lan)
    else:
        desc = _("DHCPv6 {message} on {lan}").format(message=name, lan=lan)
    return Check(desc, fn)


def heard_from(message: str, node: str) -> str:
    """One item of what a listening check heard: "Solicit from h1"."""
    # TRANSLATORS: {message} is a DHCPv6 message name (Solicit, Relay-Forw): keep it.
    return _("{message} from {node}").format(message=message, node=node)


def ra_flags_on_wire(lan: str, *, managed: Optional[bool] = None, other: Optional[bool] = None,
                     from_node: str, window: float = 3.0) -> Check:
    """from_node's RA on LAN `lan` (answering the grader's solicitation,
    seen on its switch port) has these M and O flags: M=1 sends hosts to
    DHCPv6 for addresses, O=1 for other configuration (DNS) only."""
    def fn(lab: "Lab") -> str:
        ports = _lan_ports(lab, lan)
        owners = w.port_owners(lab)
        ifaces = [owners[p].partition(":")[2] for p, n in ports.items() if n == from_node]
        if not ifaces:
            raise RuntimeError(f"{from_node} is not on LAN {lan}")
        inner = router_advertises(from_node, ifaces[0], managed=managed, other=other,
                                  autonomous=None, default_router=None, window=window)
        return inner.fn(lab)
    flags = [f"{k}={int(v)}" for k, v in (("M", managed), ("O", other)) if v is not None]
    if flags:
        # TRANSLATORS: {flags} are the RA's flags as they are written, "M=1 O=1".
        desc = _("RA from {node} on {lan} has {flags}").format(node=from_node, lan=lan,
                                                               flags=" ".join(flags))
    else:
        desc = _("RA from {node} on {lan}").format(node=from_node, lan=lan)
    return Check(desc, fn)
