"""DHCPv6 through relays, and what a node's own client got, read off the
switch.

`dhcp6_relays` provokes: the grader solicits as a fresh client (see
dhcp6_stateful) and follows its Solicit across the network. A relay is
proved by three frames no single node can produce alone: the Relay-Forw
carrying the grader's very Solicit, delivered out of the server's port;
the server's Relay-Repl, come in on the server's cable; and the Advertise
inside it, handed unchanged to the client from the relay's cable. A relay
that is really a server answering itself never puts the first two on the
server's LAN; a relay pointed at another host delivers the Relay-Forw to
that host's port; a Relay-Repl forged by a third node comes in on its own
cable.

`dhcp6_relay_on_wire` and `dhcp6_reply_on_wire` only listen, for a bounded
window: the nodes' own clients, relays and servers must be talking.
"""

from __future__ import annotations

import ipaddress
import os
from contextlib import ExitStack
from typing import TYPE_CHECKING, Iterable, Optional, Sequence, Union

from ..i18n import _
from ..proto import ProtoError, dhcp6
from ..proto.dhcp6 import DnsServers, IaNa
from . import wire as w
from .check import Check, CheckFailed
from .dhcp6 import DHCP6_PORTS, _fmt, _reply_problems, heard_from, wanted
from .dhcp6_stateful import Answer, Client, Pool, _lease_problems, lan_ports

if TYPE_CHECKING:
    from ..lab import Lab

Decoded = tuple[w.Seen, dhcp6.AnyMessage]
CLIENT_TO_SERVER = (dhcp6.SOLICIT, dhcp6.REQUEST, dhcp6.CONFIRM, dhcp6.RENEW, dhcp6.REBIND,
                    dhcp6.RELEASE, dhcp6.DECLINE, dhcp6.INFORMATION_REQUEST)


def decoded(seen: Iterable[w.Seen], ports: Iterable[str]) -> list[Decoded]:
    """The DHCPv6 messages of the frames seen on these ports (malformed
    ones are skipped: a node can send any bytes)."""
    keep = set(ports)
    out = []
    for s in seen:
        p = s.packet
        if (isinstance(p, w.UdpPacket) and not s.injected and s.ifname in keep
                and set(DHCP6_PORTS) & {p.sport, p.dport}):
            try:
                out.append((s, dhcp6.decode(p.payload)))
            except ProtoError:
                continue
    return out


def _sent_by(msgs: Sequence[Decoded], payload: bytes) -> set[str]:
    """Nodes whose cable this payload came in on."""
    return {s.node for s, m in msgs if not s.outgoing and s.node
            and s.packet.payload == payload}


def _link_prefixes(lab: "Lab", relay: str, iface: str,
                   link_prefix: Optional[str]) -> list[ipaddress.IPv6Network]:
    if link_prefix is not None:
        return [ipaddress.IPv6Network(link_prefix)]
    return [ipaddress.ip_interface(a.cidr).network for a in lab[relay].addresses(iface, 6)
            if a.scope == "global"]


# --------------------------------------------------------- relay, provoked

class _Trace:
    """What the network did with the grader's Solicit, gathered once."""

    def __init__(self, lab: "Lab", cl: Client, sol: dhcp6.Message, advs: list[Answer],
                 server: str, server_iface: str) -> None:
        self.srv_port, self.srv_lan, self.srv_ports = lan_ports(lab, server, server_iface)
        self.msgs = decoded(cl.tap.seen, self.srv_ports)
        self.forws = [(s, m) for s, m in self.msgs if m.type == dhcp6.RELAY_FORW
                      and dhcp6.innermost(m)[0] == sol]
        self.repls = [(s, m) for s, m in self.msgs if m.type == dhcp6.RELAY_REPL
                      and (i := dhcp6.innermost(m)[0]) is not None
                      and i.xid == sol.xid and i.type == dhcp6.ADVERTISE]
        self.advs = advs


def _forwarded(t: _Trace, client: str, relay: str, server: str, server_iface: str,
               own: list[Answer], timeout: float) -> Decoded:
    """The Relay-Forw delivered to the server, or why there is none."""
    to_srv = [x for x in t.forws if x[0].outgoing and x[0].ifname == t.srv_port]
    if to_srv:
        return to_srv[0]
    elsewhere = sorted({s.node for s, m in t.forws if s.outgoing and s.node})
    if elsewhere:
        dst = t.forws[0][0].packet.dst
        raise CheckFailed(_("the Relay-Forw carrying {client}'s Solicit went to {address}, "
                            "which delivered it to {nodes}, not to {server}").format(
                                client=client, address=dst, nodes=_fmt(elsewhere),
                                server=server))
    if own:
        raise CheckFailed(_("{relay} answered {client}'s Solicit itself (an Advertise came in "
                            "on {relay}'s cable) but no Relay-Forw carrying it reached {server} "
                            "on {lan}: that is a server, not a relay").format(
                                relay=relay, client=client, server=server, lan=t.srv_lan))
    # TRANSLATORS: the words in <…> are the parts of a command to fill in:
    # keep them as they are, like the command.
    raise CheckFailed(_("no Relay-Forw carrying {client}'s Solicit reached {server}:{iface} on "
                        "{lan} within {seconds} s (is a relay running on {relay}, e.g. dhcrelay "
                        "-6 -l <{client}'s side> -u <{server}'s address>%<its side>?)").format(
                            client=client, server=server, iface=server_iface, lan=t.srv_lan,
                            seconds=f"{timeout:g}", relay=relay))


def _relay_problems(t: _Trace, fw: Decoded, cl: Client, relay: str, server: str,
                    relay_up: list[str], prefixes: list[ipaddress.IPv6Network],
                    ) -> tuple[dhcp6.RelayMessage, str]:
    """The Relay-Forw's origin and addresses (CheckFailed when wrong);
    returns the relay message next to the client and who put it on the
    server's LAN."""
    s, m = fw
    came = _sent_by(t.msgs, s.packet.payload)
    if relay_up and relay not in came:
        raise CheckFailed(_("the Relay-Forw {server} got came in on {nodes}'s cable, not "
                            "{relay}'s").format(server=server, nodes=_fmt(sorted(came)),
                                                relay=relay))
    chain = dhcp6.innermost(m)[1]
    near = chain[-1]
    if ipaddress.IPv6Address(near.peer_address) != cl.addr:
        # TRANSLATORS: keep "peer-address" and "link-address" (DHCPv6 fields).
        raise CheckFailed(_("the Relay-Forw's peer-address is {address}, not {client}'s "
                            "link-local address {expected} (the relay answers the client "
                            "there)").format(address=near.peer_address, client=cl.node,
                                             expected=cl.addr))
    link = ipaddress.IPv6Address(near.link_address)
    if not any(link in p for p in prefixes):
        raise CheckFailed(_("the Relay-Forw's link-address is {address}, not in {lan}'s prefix "
                            "({prefixes}): the server chooses the client's subnet by it").format(
                                address=link, lan=cl.lan, prefixes=_fmt(prefixes)))
    return near, _fmt(sorted(came))


def _answered(t: _Trace, client: str, relay: str, server: str, timeout: float,
              ) -> tuple[Answer, dhcp6.RelayMessage]:
    mine = [(s, m) for s, m in t.repls if not s.outgoing and s.ifname == t.srv_port]
    if not mine:
        others = sorted({s.node for s, m in t.repls if not s.outgoing and s.node})
        if others:
            raise CheckFailed(_("a Relay-Repl for {client}'s Solicit came in on {nodes}'s "
                                "cable, not {server}'s").format(client=client,
                                                                nodes=_fmt(others),
                                                                server=server))
        raise CheckFailed(_("{server} got {client}'s Solicit in a Relay-Forw but sent no "
                            "Relay-Repl within {seconds} s (is its DHCPv6 server listening on "
                            "the address the relay sends to, with a subnet for the relay's "
                            "link-address? Kea: interfaces [\"eth0/<address>\"])").format(
                                server=server, client=client, seconds=f"{timeout:g}"))
    inner = [dhcp6.innermost(m)[0] for s, m in mine]
    from_relay = [a for a in t.advs if relay in a.senders]
    good = [a for a in from_relay if a.msg in inner]
    if good:
        return good[0], mine[0][1]
    if from_relay:
        raise CheckFailed(_("the Advertise {client} got from {relay}'s cable is not the one "
                            "{server} sent in its Relay-Repl").format(client=client, relay=relay,
                                                                       server=server))
    if t.advs:
        # TRANSLATORS: stands for a node, as in "came in on {who}'s cable".
        who = _fmt(sorted({n for a in t.advs for n in a.senders}) or [_("an unknown port")])
        raise CheckFailed(_("{client}'s Advertise came in on {who}'s cable, not "
                            "{relay}'s").format(client=client, who=who, relay=relay))
    raise CheckFailed(_("{server} answered with a Relay-Repl, but {relay} did not pass the "
                        "Advertise on to {client}").format(server=server, relay=relay,
                                                           client=client))


def dhcp6_relays(client: str, relay: str, server: str, iface: str = "eth0", *,
                 server_iface: str = "eth0", link_prefix: Optional[str] = None,
                 pool: Optional[str] = None, timeout: float = 2.0,
                 within: float = 0.0) -> Check:
    """A relay on `relay` forwards a client's Solicit to `server` and its
    answer back, proved on the wire: the grader solicits from client:iface
    as a fresh client; a Relay-Forw carrying that very Solicit is delivered
    out of server:server_iface's port (and, if relay is on the server's
    LAN, came in on relay's port there), with peer-address the client's
    link-local address and link-address in `link_prefix` (default: a
    prefix of relay's global addresses on the client's LAN); a Relay-Repl
    comes in on the server's cable; and the Advertise inside it reaches the
    client, unchanged, from relay's cable. With `pool`, that Advertise must
    offer an address from it. Nothing is bound, so nothing is released."""
    p = Pool(pool) if pool else None

    def fn(lab: "Lab") -> str:
        with ExitStack() as stack:
            tap = stack.enter_context(w.Tap.switch(lab, udp_ports=DHCP6_PORTS))
            cl = Client.direct(lab, client, iface, tap, timeout)
            stack.callback(cl.close)
            down = [port for port, n in cl.ports.items() if n == relay]
            if not down:
                raise RuntimeError(f"{relay} is not on {cl.lan}, {client}:{iface}'s LAN")
            duid = dhcp6.random_duid()
            iaid = int.from_bytes(os.urandom(4), "big")
            sol = dhcp6.solicit(duid, iaid=iaid)
            srv_port, _lan, srv_ports = lan_ports(lab, server, server_iface)

            def settled(answers: list[Answer]) -> bool:
                # An Advertise from relay's cable that is the one inside a
                # Relay-Repl come in on the server's cable ends the chain:
                # the Relay-Forw and Relay-Repl that make the proof crossed
                # the switch before it, and the checks below take the first
                # of each, so frames after it could not change the verdict.
                # A first answer from elsewhere (a rogue server on the
                # client's LAN) does not settle it: the relayed one may
                # follow within SETTLE.
                inner = [dhcp6.innermost(m)[0] for s, m in decoded(tap.seen, srv_ports)
                         if m.type == dhcp6.RELAY_REPL and not s.outgoing
                         and s.ifname == srv_port]
                return any(relay in a.senders and a.msg in inner for a in answers)

            advs = cl.ask(sol, dhcp6.ADVERTISE, settled=settled)
            t = _Trace(lab, cl, sol, advs, server, server_iface)
        relay_iface = w.port_owners(lab)[down[0]].partition(":")[2]
        relay_up = [port for port, n in t.srv_ports.items() if n == relay]
        own = [a for a in advs if relay in a.senders]
        fw = _forwarded(t, client, relay, server, server_iface, own, timeout)
        near, came = _relay_problems(t, fw, cl, relay, server, relay_up,
                                     _link_prefixes(lab, relay, relay_iface, link_prefix))
        adv = _answered(t, client, relay, server, timeout)[0]
        items = None
        if p is not None:
            problems, items = _lease_problems(adv.msg, duid, IaNa, iaid, p, None)
            if problems:
                raise CheckFailed(_("the Advertise {server} sent through {relay}: "
                                    "{problems}").format(server=server, relay=relay,
                                                         problems="; ".join(problems)))
        values = dict(relay=relay, client=client, server=server, came=came,
                      link_address=near.link_address)
        if items is not None:
            return _("{relay} relayed {client}'s Solicit to {server} (Relay-Forw from {came}'s "
                     "cable, link-address {link_address}); {server} answered with a Relay-Repl "
                     "and {client} got its Advertise from {relay}'s cable, offering "
                     "{items}").format(items=_fmt(items), **values)
        return _("{relay} relayed {client}'s Solicit to {server} (Relay-Forw from {came}'s "
                 "cable, link-address {link_address}); {server} answered with a Relay-Repl and "
                 "{client} got its Advertise from {relay}'s cable").format(**values)
    if p:
        desc = _("a relay on {relay} forwards {client}'s Solicit to {server} and the answer back "
                 "(seen on both LANs), offering an address from {pool}").format(
                     relay=relay, client=client, server=server, pool=p)
    else:
        desc = _("a relay on {relay} forwards {client}'s Solicit to {server} and the answer back "
                 "(seen on both LANs)").format(relay=relay, client=client, server=server)
    return Check(desc, fn, within=within)


# ------------------------------------------------------------ only listens

def _name(m: dhcp6.AnyMessage) -> str:
    """"Relay-Forw(Confirm)": a relay message with what it carries."""
    inner = dhcp6.innermost(m)[0] if isinstance(m, dhcp6.RelayMessage) else None
    return f"{m.name}({inner.name})" if inner is not None else m.name


def _listen(lab: "Lab", within: float, done) -> list[w.Seen]:
    with w.Tap.switch(lab, udp_ports=DHCP6_PORTS) as tap:
        tap.collect(within, until=done)
        return tap.seen


def dhcp6_relay_on_wire(relay: str, server: str, *, server_iface: str = "eth0",
                        kind: Union[str, int] = "Solicit", client: Optional[str] = None,
                        client_iface: str = "eth0", answered: bool = True,
                        within: float = 5.0) -> Check:
    """Within `within` seconds, a Relay-Forw carrying a client's `kind`
    message is delivered out of server:server_iface's port, having come in
    on relay's port there (when relay is on the server's LAN); with
    `client`, the message inside is byte for byte one that came in on
    client:client_iface's cable; with `answered`, a Relay-Repl for it comes
    in on the server's cable. It only listens: a client must be asking."""
    code = dhcp6.message_type(kind)
    name = dhcp6.MESSAGE_NAMES.get(code, str(kind))

    def fn(lab: "Lab") -> str:
        srv_port, srv_lan, srv_ports = lan_ports(lab, server, server_iface)
        relay_up = [p for p, n in srv_ports.items() if n == relay]
        cports: list[str] = []
        cport = ""
        if client is not None:
            cport, cports_map = lan_ports(lab, client, client_iface)[::2]
            cports = list(cports_map)
        state: dict[str, str] = {}

        def found(seen: list[w.Seen]) -> bool:
            msgs = decoded(seen, list(srv_ports) + cports)
            # Compared decoded: decode(encode(m)) == m, whatever the client's bytes.
            asked = [m for s, m in msgs if s.ifname == cport and not s.outgoing
                     and m.type == code]
            for s, m in msgs:
                inner, chain = dhcp6.innermost(m)
                if (m.type != dhcp6.RELAY_FORW or not s.outgoing or s.ifname != srv_port
                        or inner is None or inner.type != code):
                    continue
                if relay_up and relay not in _sent_by(msgs, s.packet.payload):
                    continue
                if client is not None and inner not in asked:
                    continue
                if answered and not any(
                        r.type == dhcp6.RELAY_REPL and not rs.outgoing and rs.ifname == srv_port
                        and (ri := dhcp6.innermost(r)[0]) is not None and ri.xid == inner.xid
                        for rs, r in msgs):
                    state["unanswered"] = "yes"
                    continue
                state["ok"] = f"link-address {chain[-1].link_address}, xid {inner.xid:#x}"
                return True
            return False

        seen = _listen(lab, within, found)
        values = dict(relay=relay, message=name, client=client, server=server, lan=srv_lan)
        if found(seen):
            # TRANSLATORS: {message} is a DHCPv6 message name (Solicit,
            # Renew): keep it; {details} is "link-address …, xid 0x…".
            text = (_("{relay} forwarded a {message} from {client} to {server} on {lan} "
                      "({details}); {server} answered") if client and answered else
                    _("{relay} forwarded a {message} from {client} to {server} on {lan} "
                      "({details})") if client else
                    _("{relay} forwarded a {message} to {server} on {lan} ({details}); "
                      "{server} answered") if answered else
                    _("{relay} forwarded a {message} to {server} on {lan} ({details})"))
            return text.format(details=state["ok"], **values)
        msgs = decoded(seen, srv_ports)
        heard = _fmt(sorted({heard_from(_name(m), s.node or s.ifname) for s, m in msgs
                             if not s.outgoing}))
        unanswered = "unanswered" in state
        text = (_("no Relay-Forw carrying a {message} of {client}'s from {relay} reached "
                  "{server} on {lan} within {seconds} s ({server} sent no Relay-Repl for it) "
                  "(heard on {lan}: {heard})") if client and unanswered else
                _("no Relay-Forw carrying a {message} of {client}'s from {relay} reached "
                  "{server} on {lan} within {seconds} s (heard on {lan}: {heard})") if client else
                _("no Relay-Forw carrying a {message} from {relay} reached {server} on {lan} "
                  "within {seconds} s ({server} sent no Relay-Repl for it) (heard on {lan}: "
                  "{heard})") if unanswered else
                _("no Relay-Forw carrying a {message} from {relay} reached {server} on {lan} "
                  "within {seconds} s (heard on {lan}: {heard})"))
        raise CheckFailed(text.format(seconds=f"{within:g}", heard=heard, **values))
    if client:
        desc = _("{relay} forwards a {message} from {client} to {server} (seen on {server}'s "
                 "LAN)").format(relay=relay, message=name, client=client, server=server)
    else:
        desc = _("{relay} forwards a {message} to {server} (seen on {server}'s LAN)").format(
            relay=relay, message=name, server=server)
    return Check(desc, fn)


def dhcp6_reply_on_wire(client: str, iface: str = "eth0", *, dns_servers: Sequence[str] = (),
                        domains: Sequence[str] = (), pool: Optional[str] = None,
                        from_node: Optional[str] = None, within: float = 5.0) -> Check:
    """Within `within` seconds, client:iface's own DHCPv6 client gets a
    Reply to a request it sent: the Reply is delivered out of the client's
    port, came in on another port of its LAN (from_node's, if given), and
    answers a message (same transaction id and client DUID) that came in on
    the client's cable. It carries these DNS servers and domains, and with
    `pool`, an IA_NA address from it. It only listens: the client must be
    asking (e.g. dhclient -6 starting, or renewing)."""
    p = Pool(pool) if pool else None

    def fn(lab: "Lab") -> str:
        port, lan, ports = lan_ports(lab, client, iface)
        result: dict[str, str] = {}

        def found(seen: list[w.Seen]) -> bool:
            msgs = decoded(seen, ports)
            asked = {}
            for s, m in msgs:
                if (s.ifname == port and not s.outgoing and isinstance(m, dhcp6.Message)
                        and m.type in CLIENT_TO_SERVER):
                    cid = m.option(dhcp6.ClientId)
                    asked[m.xid] = (m.name, cid.duid if cid else None)
            for s, m in msgs:
                if (s.ifname != port or not s.outgoing or not isinstance(m, dhcp6.Message)
                        or m.type != dhcp6.REPLY or m.xid not in asked):
                    continue
                cid = m.option(dhcp6.ClientId)
                if asked[m.xid][1] is not None and (cid is None or cid.duid != asked[m.xid][1]):
                    continue
                senders = _sent_by(msgs, s.packet.payload) - {client}
                if not senders or (from_node is not None and from_node not in senders):
                    result.setdefault("elsewhere", _fmt(sorted(senders)))
                    continue
                problems = _reply_problems(m, dns_servers, domains)
                if p is not None and not problems:
                    ia = m.option(IaNa)
                    addrs = [x.address for x in (ia.leases() if ia else ())]
                    if not any(a in p for a in addrs):
                        problems.append(_("no address from {pool} (it gave: {given})").format(
                            pool=p, given=_fmt(addrs)))
                who = from_node or _fmt(sorted(senders))
                if problems:
                    result["problems"] = _("the Reply {client}:{iface} got from {who}'s cable: "
                                           "{problems}").format(client=client, iface=iface,
                                                                who=who,
                                                                problems="; ".join(problems))
                    continue
                dns = m.option(DnsServers)
                # TRANSLATORS: {message} is the DHCPv6 message name the client
                # sent (Solicit, Renew): keep it.
                result["ok"] = _("{client}:{iface} got a Reply to its {message} from {who}'s "
                                 "cable: DNS {servers}").format(
                                     client=client, iface=iface, message=asked[m.xid][0],
                                     who=who, servers=_fmt(dns.addresses if dns else ()))
                return True
            result["asked"] = _fmt(sorted({v[0] for v in asked.values()}))
            return False

        seen = _listen(lab, within, found)
        if found(seen):
            return result["ok"]
        if "problems" in result:
            raise CheckFailed(result["problems"])
        if "elsewhere" in result:
            raise CheckFailed(_("{client}:{iface} got a Reply, but it came in on {nodes}'s "
                                "cable, not from {node}").format(
                                    client=client, iface=iface, nodes=result["elsewhere"],
                                    node=from_node))
        # TRANSLATORS: {sent} lists DHCPv6 message names (Solicit, Renew), or "none".
        raise CheckFailed(_("{client}:{iface} got no DHCPv6 Reply to a request of its own on "
                            "{lan} within {seconds} s ({client} sent: {sent}; is its DHCPv6 "
                            "client running and asking?)").format(
                                client=client, iface=iface, lan=lan, seconds=f"{within:g}",
                                sent=result.get("asked", _("none"))))
    want = wanted(dns_servers, domains)
    want += [_("an address from {pool}").format(pool=p)] if p else []
    values = dict(client=client, iface=iface, node=from_node, details="; ".join(want))
    text = (_("{client}:{iface} gets a DHCPv6 Reply from {node} ({details}) (seen on its "
              "cable)") if from_node and want else
            _("{client}:{iface} gets a DHCPv6 Reply from {node} (seen on its cable)") if from_node
            else _("{client}:{iface} gets a DHCPv6 Reply ({details}) (seen on its cable)") if want
            else _("{client}:{iface} gets a DHCPv6 Reply (seen on its cable)"))
    return Check(text.format(**values), fn)
