"""Stateful DHCPv6 checks, provoked by the grader: it plays a client that
no server has seen before and watches the wire while it asks.

The grader opens a UDP socket in the client node's namespace (Node.socket,
bound to the client's link-local address and port 546 on its interface)
and sends Solicit, Request and Release itself, each with a fresh random
DUID and transaction id, so no canned or replayed answer can match. The
answers are read **from the switch**, not from that socket: a frame the
bridge delivered out of the client's port, addressed to the client, whose
same UDP payload came in on another port of the client's LAN. That port
names the sender (a real server, or the relay in front of one); no source
address, MAC or SERVERID a node forges changes it. Reading the wire also
means the node's own DHCPv6 client holding port 546 changes nothing.

`dhcp6_server_answers_relay` puts the grader in the relay's place
instead: Relay-Forw messages from a socket in a node on the server's LAN,
so a lab can grade its server before any relay exists. (Following a real
relay is dhcp6_relay.py's.)

What the grader got it gives back (Release), so probes never use up a pool.
"""

from __future__ import annotations

import ipaddress
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional, Sequence, Union

from ..i18n import N_, _
from ..proto import ProtoError, dhcp6
from ..proto.dhcp6 import DnsServers, IaAddr, IaNa, IaPd, IaPrefix, StatusCode
from . import wire as w
from .check import Check, CheckFailed
from .dhcp6 import (DHCP6_PORTS, _client_ll, _fmt, _open_client, _reply_problems, malformed,
                    status_problem, wanted)

if TYPE_CHECKING:
    from ..lab import Lab

SETTLE = 0.15       # after the first answer, how long to wait for a second (rogue) one
# What to look at when no answer came, after the failure (translated there).
HINT = N_("(is a DHCPv6 server answering on this link, or a relay in front of one? Kea: "
          "kea-dhcp6 with a subnet6 for this link's prefix; dnsmasq: --dhcp-range=...)")
RELAYED_HINT = N_("(is a DHCPv6 server listening on that address? Kea 2.2 hears a relay only "
                  "on an address it is told to bind: interfaces [\"eth0/<address>\"])")


# -------------------------------------------------------------- the pools

class Pool:
    """An address pool as a lab names it: a prefix ("2001:db8:1::/64") or
    a range ("2001:db8:1::100-2001:db8:1::1ff"). Malformed text is a
    ValueError when the lab's steps are built, naming the text."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        try:
            if "-" in self.text:
                lo, hi = (ipaddress.IPv6Address(x.strip()) for x in self.text.split("-", 1))
                self.net: Optional[ipaddress.IPv6Network] = None
            else:
                self.net = ipaddress.IPv6Network(self.text, strict=False)
                lo, hi = self.net.network_address, self.net.broadcast_address
        except ValueError as e:
            raise ValueError(f"DHCPv6 pool {text!r}: {e} (write a prefix such as "
                             "2001:db8:1::/64 or a range such as "
                             "2001:db8:1::100-2001:db8:1::1ff)") from None
        if lo > hi:
            raise ValueError(f"DHCPv6 pool {text!r}: the range ends before it starts")
        self.lo, self.hi = lo, hi

    def __contains__(self, addr: object) -> bool:
        return self.lo <= ipaddress.IPv6Address(str(addr)) <= self.hi

    def holds(self, prefix: str) -> bool:
        net = ipaddress.IPv6Network(prefix)
        return self.lo <= net.network_address and net.broadcast_address <= self.hi

    def __str__(self) -> str:
        return str(self.net) if self.net is not None else self.text


# --------------------------------------------------------------- a client

def lan_ports(lab: "Lab", node: str, iface: str) -> tuple[str, str, dict[str, str]]:
    """(node:iface's switch port, its LAN's name, {port: node} of that LAN).
    A grader error for an interface on a point-to-point link: there is no
    switch to see who sent what."""
    where = w.lan_of(lab, node, iface)
    if where is None:
        raise RuntimeError(f"{node}:{iface} is not a LAN member, so the grader cannot see on "
                           "the switch who sent its DHCPv6 messages (put it on a LAN: add_lan)")
    prefix = f"l{where[0]}p"
    ports = {p: m.partition(":")[0] for p, m in w.port_owners(lab).items()
             if p.startswith(prefix)}
    return f"{prefix}{where[2]}", where[1], ports


@dataclass
class Answer:
    """A server's message as the network delivered it to the grader."""
    msg: dhcp6.Message
    payload: bytes
    senders: set[str]           # nodes whose cable the same payload came in on


class Client:
    """The grader as a DHCPv6 client: sends from a socket in a node's
    namespace, reads the answers off the switch (module doc). `direct`
    speaks as a client on the client's link; `relayed` speaks as a relay
    to a server on its own LAN (Relay-Forw with a made-up client inside)."""

    def __init__(self, lab: "Lab", node: str, iface: str, tap: w.Tap, timeout: float,
                 addr: str, dest: tuple[str, int]) -> None:
        self.node, self.iface, self.tap, self.timeout = node, iface, tap, timeout
        self.addr = ipaddress.IPv6Address(addr)
        self.port, self.lan, self.ports = lan_ports(lab, node, iface)
        self.sock, self.bound = _open_client(lab, node, iface, addr,
                                             port=dest[1] if self.relayed else dhcp6.CLIENT_PORT)
        self.src_port = self.sock.getsockname()[1]
        self.dest = dest
        self.junk: list[str] = []
        self.who = f"{node}:{iface}"
        # TRANSLATORS: where the grader's message was sent from, as in "no
        # DHCPv6 Advertise to the grader's Solicit {where} within 2 s";
        # {bound} is its socket's address and port.
        self.where = _("from {node}:{iface} ({bound})").format(node=node, iface=iface,
                                                               bound=self.bound)

    relayed = False

    @classmethod
    def direct(cls, lab: "Lab", node: str, iface: str, tap: w.Tap, timeout: float) -> "Client":
        return cls(lab, node, iface, tap, timeout, _client_ll(lab, node, iface),
                   (dhcp6.ALL_DHCP_RELAY_AGENTS_AND_SERVERS, dhcp6.SERVER_PORT))

    def close(self) -> None:
        self.sock.close()

    def wrap(self, msg: dhcp6.Message) -> bytes:
        return dhcp6.encode(msg)

    def unwrap(self, m: dhcp6.AnyMessage) -> Optional[dhcp6.Message]:
        return m if isinstance(m, dhcp6.Message) else None

    def send(self, msg: dhcp6.Message) -> None:
        self.sock.sendto(self.wrap(msg), self.dest)

    def ask(self, msg: dhcp6.Message, want: int, timeout: Optional[float] = None,
            settled: Optional[Callable[[list[Answer]], bool]] = None) -> list[Answer]:
        """Sends msg and returns the answers of type `want` to it, waiting
        up to timeout for the first and SETTLE more for others (a rogue
        answer may come first, the real one after it) -- unless
        settled(answers) says the answers so far decide the check. A
        caller may pass settled only when its verdict rests on the first
        answer that satisfies it, so that later answers could not change
        it (docs/grading.md, "When a wait ends")."""
        self.send(msg)
        self.tap.collect(self.timeout if timeout is None else timeout,
                         until=lambda seen: bool(self.answers(msg.xid, want)))
        got = self.answers(msg.xid, want)
        if got and not (settled is not None and settled(got)):
            self.tap.collect(SETTLE, until=None if settled is None else
                             lambda seen: settled(self.answers(msg.xid, want)))
        return self.answers(msg.xid, want)

    def answers(self, xid: int, want: int) -> list[Answer]:
        out: dict[bytes, Answer] = {}
        ports = (dhcp6.SERVER_PORT if self.relayed else dhcp6.CLIENT_PORT, self.src_port)
        for s in self.tap.seen:
            p = s.packet
            if (not isinstance(p, w.UdpPacket) or not s.outgoing or s.injected
                    or s.ifname != self.port or p.sport != dhcp6.SERVER_PORT
                    or p.dport not in ports or ipaddress.IPv6Address(p.dst) != self.addr
                    or p.payload in out):
                continue
            try:
                m = self.unwrap(dhcp6.decode(p.payload))
            except ProtoError as e:
                self.junk.append(malformed(p.src, e))
                continue
            if m is not None and m.xid == xid and m.type == want:
                out[p.payload] = Answer(m, p.payload, self.senders(p.payload))
        return list(out.values())

    def senders(self, payload: bytes) -> set[str]:
        return {s.node for s in self.tap.seen
                if isinstance(s.packet, w.UdpPacket) and not s.outgoing and not s.injected
                and s.ifname in self.ports and s.ifname != self.port and s.node
                and s.packet.payload == payload}


class RelayingClient(Client):
    """The grader as a relay on from_node, next to the server: each message
    goes to the server's address inside a Relay-Forw whose link-address
    names the client link the server should pick a subnet for, and whose
    peer-address is a random link-local address (a client no one has)."""

    relayed = True

    def __init__(self, lab: "Lab", server: str, server_iface: str, from_node: str,
                 link_address: str, tap: w.Tap, timeout: float) -> None:
        lan, ports = lan_ports(lab, server, server_iface)[1:]
        mine = [p for p, n in ports.items() if n == from_node]
        if not mine:
            raise RuntimeError(f"{from_node} is not on {lan}, {server}:{server_iface}'s LAN")
        iface = w.port_owners(lab)[mine[0]].partition(":")[2]
        src = _global(lab, from_node, iface)
        dst = _global(lab, server, server_iface)
        super().__init__(lab, from_node, iface, tap, timeout, src, (dst, dhcp6.SERVER_PORT))
        self.link_address = str(ipaddress.IPv6Address(link_address))
        self.peer = w.random_identity()[1]
        # TRANSLATORS: who got an answer, as in "{who} got a DHCPv6 Reply".
        self.who = _("the grader's relay on {node}:{iface}").format(node=from_node, iface=iface)
        # TRANSLATORS: as "from {node}:{iface} ({bound})", for a relayed
        # message; keep "link-address" (a DHCPv6 field).
        self.where = _("relayed from {node}:{iface} ({bound}) to {server} at {address} "
                       "(link-address {link_address})").format(
                           node=from_node, iface=iface, bound=self.bound, server=server,
                           address=dst, link_address=self.link_address)

    def wrap(self, msg: dhcp6.Message) -> bytes:
        return dhcp6.encode(dhcp6.relay_forw(msg, self.link_address, self.peer))

    def unwrap(self, m: dhcp6.AnyMessage) -> Optional[dhcp6.Message]:
        if not isinstance(m, dhcp6.RelayMessage) or m.type != dhcp6.RELAY_REPL \
                or ipaddress.IPv6Address(m.peer_address) != ipaddress.IPv6Address(self.peer):
            return None
        return dhcp6.innermost(m)[0]


def _global(lab: "Lab", node: str, iface: str) -> str:
    addrs = [a.address for a in lab[node].addresses(iface, 6)
             if a.scope == "global" and not a.tentative and not a.dadfailed]
    if not addrs:
        raise CheckFailed(_("{node}:{iface} has no usable global address, so no relay can "
                            "reach a DHCPv6 server there").format(node=node, iface=iface))
    return addrs[0]


# ------------------------------------------------------------ one binding

@dataclass
class Lease:
    duid: dhcp6.Duid
    ia: Union[IaNa, IaPd]       # what was offered (Advertise), then bound (Reply)
    server_duid: Optional[dhcp6.Duid]
    sender: str
    bound: bool = False
    reply: Optional[dhcp6.Message] = None
    advertise: Optional[dhcp6.Message] = None
    items: list[str] = field(default_factory=list)   # addresses or prefixes


def _who(answers: Sequence[Answer]) -> str:
    # TRANSLATORS: stands for a node, as in "came in on {who}'s cable".
    return _fmt(sorted({n for a in answers for n in a.senders} or {_("an unknown port")}))


def _pick(answers: list[Answer], server: Optional[str], what: str, sent: str,
          cl: Client) -> list[Answer]:
    """The answers that count: from server's cable if given, else any that
    crossed the LAN; CheckFailed saying why when none do."""
    if not answers:
        # TRANSLATORS: {message} and {sent} are DHCPv6 message names
        # (Advertise, Solicit): keep them; {where} is "from h1:eth0 (…)".
        if cl.junk:
            text = _("no DHCPv6 {message} to the grader's {sent} {where} within {seconds} s; "
                     "{problem}").format(message=what, sent=sent, where=cl.where,
                                         seconds=f"{cl.timeout:g}", problem=cl.junk[0])
        else:
            text = _("no DHCPv6 {message} to the grader's {sent} {where} within {seconds} "
                     "s").format(message=what, sent=sent, where=cl.where,
                                 seconds=f"{cl.timeout:g}")
        raise CheckFailed(text + " " + _(RELAYED_HINT if cl.relayed else HINT))
    crossed = [a for a in answers if a.senders]
    if server is not None:
        mine = [a for a in crossed if server in a.senders]
        if not mine:
            raise CheckFailed(_("{who} got a DHCPv6 {message}, but it came in on {senders}'s "
                                "cable, not from {server}").format(
                                    who=cl.who, message=what, senders=_who(answers),
                                    server=server))
        return mine
    if not crossed:
        raise CheckFailed(_("the DHCPv6 {message} {who} got did not come in on any other port "
                            "of {lan}").format(message=what, who=cl.who, lan=cl.lan))
    return crossed


def _ia_of(m: dhcp6.Message, kind: type, iaid: int) -> Optional[Union[IaNa, IaPd]]:
    return next((o for o in m.options_of(kind) if o.iaid == iaid), None)


def _lease_problems(m: dhcp6.Message, duid: dhcp6.Duid, kind: type, iaid: int, pool: Pool,
                    length: Optional[int]) -> tuple[list[str], list[str]]:
    """(problems, the addresses or prefixes offered) of an Advertise or
    Reply to the grader's client."""
    name = "IA_NA" if kind is IaNa else "IA_PD"
    cid = m.option(dhcp6.ClientId)
    if cid is None or cid.duid != duid:
        return [_("it does not carry the grader's client DUID (a real server echoes it)")], []
    st = m.option(StatusCode)
    if st is not None and st.status != 0:
        return [status_problem(st)], []
    ia = _ia_of(m, kind, iaid)
    if ia is None:
        # TRANSLATORS: {ia} is IA_NA or IA_PD (DHCPv6 option names): keep it.
        return [_("it has no {ia} for the grader's IAID").format(ia=name)], []
    st = ia.status()
    if st is not None and st.status != 0:
        return [status_problem(st, name)], []
    live = [x for x in ia.leases() if x.valid > 0]
    items = [x.address if isinstance(x, IaAddr) else x.prefix for x in live]
    if not items:
        return [_("its {ia} holds no address").format(ia=name) if kind is IaNa
                else _("its {ia} holds no prefix").format(ia=name)], []
    problems = []
    for x in items:
        if kind is IaNa and x not in pool:
            problems.append(_("it offers {address}, which is not in the pool {pool}").format(
                address=x, pool=pool))
        elif kind is IaPd and not pool.holds(x):
            problems.append(_("it delegates {prefix}, which is not inside {pool}").format(
                prefix=x, pool=pool))
        elif kind is IaPd and length is not None and ipaddress.IPv6Network(x).prefixlen != length:
            problems.append(_("it delegates {prefix}, not a /{length}").format(
                prefix=x, length=length))
    return problems, items


def _check(answers: list[Answer], what: str, duid: dhcp6.Duid, kind: type, iaid: int,
           pool: Pool, length: Optional[int], dns_servers: Sequence[str],
           domains: Sequence[str]) -> tuple[Answer, list[str]]:
    """The first answer that satisfies everything, or CheckFailed with the
    problems of the first one."""
    first: list[str] = []
    for a in answers:
        problems, items = _lease_problems(a.msg, duid, kind, iaid, pool, length)
        if not problems:
            # Its status was looked at above.
            problems = _reply_problems(a.msg, dns_servers, domains, status=False)
        if not problems:
            return a, items
        first = first or problems
    # TRANSLATORS: {message} is a DHCPv6 message name (Advertise, Reply): keep it.
    raise CheckFailed(_("the DHCPv6 {message} from {sender}: {problems}").format(
        message=what, sender=_who(answers[:1]), problems="; ".join(first)))


def _plain_ia(kind: type, iaid: int, items: Sequence[str]) -> Union[IaNa, IaPd]:
    """The IA as a client names it in a Request or Release: no lifetimes,
    no status."""
    if kind is IaNa:
        return IaNa(iaid, 0, 0, tuple(IaAddr(a, 0, 0) for a in items))
    return IaPd(iaid, 0, 0, tuple(IaPrefix(0, 0, p) for p in items))


def obtain(cl: Client, kind: type, pool: Pool, length: Optional[int], *, server: Optional[str],
           request: bool, dns_servers: Sequence[str], domains: Sequence[str],
           leases: list[Lease]) -> Lease:
    """One client's Solicit/Advertise (and Request/Reply): a fresh DUID and
    IAID. A bound lease is appended to `leases` before it is checked
    further, so the caller releases it whatever happens next."""
    duid = dhcp6.random_duid()
    iaid = int.from_bytes(os.urandom(4), "big")
    sol = dhcp6.solicit(duid, iaid=iaid, ia_na=kind is IaNa, ia_pd=kind is IaPd)
    adv_dns, adv_domains = (() if request else dns_servers), (() if request else domains)

    def good(what: str, dns: Sequence[str], doms: Sequence[str]) -> Callable[[list[Answer]], bool]:
        # An answer that passes _pick and _check decides: both take the
        # first one that satisfies them, in the order they arrived.
        def settled(answers: list[Answer]) -> bool:
            try:
                _check(_pick(answers, server, what, "", cl), what, duid, kind, iaid, pool,
                       length, dns, doms)
            except CheckFailed:
                return False
            return True
        return settled

    advs = cl.ask(sol, dhcp6.ADVERTISE, settled=good("Advertise", adv_dns, adv_domains))
    adv, items = _check(_pick(advs, server, "Advertise", "Solicit", cl),
                        "Advertise", duid, kind, iaid, pool, length, adv_dns, adv_domains)
    sid = adv.msg.option(dhcp6.ServerId)
    if sid is None:
        raise CheckFailed(_("the DHCPv6 Advertise from {sender} has no server DUID "
                            "(SERVERID), so no client could Request what it offers").format(
                                sender=_who([adv])))
    sender = server or sorted(adv.senders)[0]
    lease = Lease(duid, _plain_ia(kind, iaid, items), sid.duid, sender, advertise=adv.msg,
                  items=items)
    if not request:
        return lease
    req = dhcp6.request(duid, sid.duid, [lease.ia])
    replies = cl.ask(req, dhcp6.REPLY, settled=good("Reply", dns_servers, domains))
    # Whatever the Reply says, the server may hold a binding now: release it.
    lease.bound = True
    leases.append(lease)
    rep, got = _check(_pick(replies, server, "Reply", "Request", cl), "Reply", duid, kind, iaid,
                      pool, length, dns_servers, domains)
    rsid = rep.msg.option(dhcp6.ServerId)
    if rsid is None or rsid.duid != sid.duid:
        raise CheckFailed(_("the DHCPv6 Reply from {sender} carries another server DUID than "
                            "its Advertise ({duid})").format(sender=_who([rep]),
                                                             duid=dhcp6.duid_text(sid.duid)))
    lease.reply, lease.items, lease.ia = rep.msg, got, _plain_ia(kind, iaid, got)
    return lease


def release_all(cl: Client, leases: list[Lease]) -> None:
    """Gives back what the probe got. A server that does not answer the
    Release lets the binding expire instead: not the trainee's failure."""
    sent = []
    for lease in leases:
        if lease.bound and lease.server_duid is not None:
            m = dhcp6.release(lease.duid, lease.server_duid, [lease.ia])
            try:
                cl.send(m)
            except OSError:
                continue
            sent.append(m.xid)
    if sent:
        cl.tap.collect(0.5, until=lambda seen: all(cl.answers(x, dhcp6.REPLY) for x in sent))


# ------------------------------------------------------------------ checks

def _stateful(kind: type, make: Callable[["Lab", w.Tap], Client], pool: Pool,
              length: Optional[int], server: Optional[str], request: bool,
              dns_servers: Sequence[str], domains: Sequence[str]):
    def fn(lab: "Lab") -> str:
        leases: list[Lease] = []
        with ExitStack() as stack:
            tap = stack.enter_context(w.Tap.switch(lab, udp_ports=DHCP6_PORTS))
            cl = make(lab, tap)
            stack.callback(cl.close)
            try:
                a = obtain(cl, kind, pool, length, server=server, request=request,
                           dns_servers=dns_servers, domains=domains, leases=leases)
                if request:
                    b = obtain(cl, kind, pool, length, server=server, request=True,
                               dns_servers=(), domains=(), leases=leases)
                    _distinct(a, b, kind)
            finally:
                release_all(cl, leases)
        final = a.reply or a.advertise
        dns = final.option(DnsServers) if final else None
        values = dict(who=cl.who, items=_fmt(a.items), sender=a.sender,
                      duid=dhcp6.duid_text(a.server_duid),
                      servers=_fmt(dns.addresses if dns else ()))
        if request:
            text = (_("{who} was offered address {items} and bound it (Request/Reply) on "
                      "{sender}'s cable; a second client got {second}; server DUID {duid}; "
                      "DNS {servers}; released") if kind is IaNa else
                    _("{who} was offered prefix {items} and bound it (Request/Reply) on "
                      "{sender}'s cable; a second client got {second}; server DUID {duid}; "
                      "DNS {servers}; released"))
            return text.format(second=_fmt(b.items), **values)
        text = (_("{who} was offered address {items} (Advertise only) on {sender}'s cable; "
                  "server DUID {duid}; DNS {servers}") if kind is IaNa else
                _("{who} was offered prefix {items} (Advertise only) on {sender}'s cable; "
                  "server DUID {duid}; DNS {servers}"))
        return text.format(**values)
    return fn


def _distinct(a: Lease, b: Lease, kind: type) -> None:
    """Two clients bound at once never share an address or prefix: a
    responder that hands everyone the same answer is not a server."""
    if kind is IaNa:
        same = sorted(set(a.items) & set(b.items))
    else:
        same = [p for p in a.items for q in b.items
                if ipaddress.IPv6Network(p).overlaps(ipaddress.IPv6Network(q))]
    if same:
        raise CheckFailed(_("two clients bound at the same time were both given {items}: "
                            "what answers on {sender}'s cable does not keep one binding per "
                            "client, as a DHCPv6 server does").format(items=_fmt(same),
                                                                      sender=a.sender))


def _describe(what: str, server: Optional[str], dns_servers: Sequence[str],
              domains: Sequence[str]) -> str:
    """what (a translated sentence), then which cable and what it gives."""
    extra = wanted(dns_servers, domains)
    where = " " + _("(answers on {server}'s cable)").format(server=server) if server else ""
    return what + where + (f" ({'; '.join(extra)})" if extra else "")


def dhcp6_offers_address(client: str, pool: str, iface: str = "eth0", *,
                         server: Optional[str] = None, dns_servers: Sequence[str] = (),
                         domains: Sequence[str] = (), request: bool = True,
                         timeout: float = 2.0, within: float = 0.0) -> Check:
    """The DHCPv6 server reachable from client:iface (directly, or through
    a relay) gives a new client an address from `pool` (IA_NA): the grader
    solicits with a fresh DUID and, with request, Requests what was
    advertised and gets a Reply binding it, with these DNS servers and
    domains; a second fresh client bound at the same time gets another
    address. Everything bound is released. With `server`, every answer
    must have come in on server's cable (the relay's, behind a relay)."""
    p = Pool(pool)
    fn = _stateful(IaNa, lambda lab, tap: Client.direct(lab, client, iface, tap, timeout), p,
                   None, server, request, dns_servers, domains)
    what = _("a DHCPv6 server offers {client}:{iface} an address from {pool}").format(
        client=client, iface=iface, pool=p)
    return Check(_describe(what, server, dns_servers, domains), fn, within=within)


def dhcp6_delegates_prefix(client: str, pool: str, length: int, iface: str = "eth0", *,
                           server: Optional[str] = None, dns_servers: Sequence[str] = (),
                           domains: Sequence[str] = (), request: bool = True,
                           timeout: float = 2.0, within: float = 0.0) -> Check:
    """As dhcp6_offers_address, for prefix delegation (IA_PD): the client
    (a requesting router) is offered, and with request bound, a /length
    inside `pool`; a second client gets a prefix that does not overlap.
    Whether the delegating router then routes that prefix to the client is
    another check (route_present): Kea, for one, installs no route."""
    p = Pool(pool)
    fn = _stateful(IaPd, lambda lab, tap: Client.direct(lab, client, iface, tap, timeout), p,
                   length, server, request, dns_servers, domains)
    what = _("a DHCPv6 server delegates {client}:{iface} a /{length} from {pool}").format(
        client=client, iface=iface, length=length, pool=p)
    return Check(_describe(what, server, dns_servers, domains), fn, within=within)


def dhcp6_server_answers_relay(server: str, link_address: str, pool: str, *, from_node: str,
                               server_iface: str = "eth0", prefix_length: Optional[int] = None,
                               dns_servers: Sequence[str] = (), domains: Sequence[str] = (),
                               request: bool = True, timeout: float = 2.0,
                               within: float = 0.0) -> Check:
    """The DHCPv6 server on server:server_iface serves a relayed link, with
    the grader as the relay: from a socket in from_node (a node on the
    server's LAN, usually the relay-to-be), it sends Relay-Forw messages to
    the server's first global address, link-address `link_address` (an
    address of the client link: the server picks its subnet by it), with a
    fresh client inside, as dhcp6_offers_address does (address from
    `pool`, or with prefix_length a delegated prefix; two clients; then
    Release). Every Relay-Repl must come in on server's cable. It grades
    the server alone, before (or without) any relay."""
    p = Pool(pool)
    kind = IaNa if prefix_length is None else IaPd

    def make(lab: "Lab", tap: w.Tap) -> Client:
        return RelayingClient(lab, server, server_iface, from_node, link_address, tap, timeout)
    fn = _stateful(kind, make, p, prefix_length, server, request, dns_servers, domains)
    if prefix_length is None:
        what = _("a DHCPv6 server on {server} gives an address from {pool} to a client relayed "
                 "from {link_address}").format(server=server, pool=p, link_address=link_address)
    else:
        what = _("a DHCPv6 server on {server} gives a /{length} from {pool} to a client "
                 "relayed from {link_address}").format(server=server, length=prefix_length,
                                                       pool=p, link_address=link_address)
    return Check(_describe(what, None, dns_servers, domains) + " "
                 + _("(the grader relays from {node})").format(node=from_node),
                 fn, within=within)
