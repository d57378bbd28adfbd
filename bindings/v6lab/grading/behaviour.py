"""Checks that rest on evidence a node cannot forge: frames attributed by
the switch port they came in on (grading/wire.py), and behaviour the grader
provokes itself with packets no node could have predicted (random source
addresses, random prefixes).

Why these exist: state can be written by hand (an address with lifetimes
looks "dynamic", `ip route add ... proto ra` looks learned), a process can
be the real binary and do nothing (SIGSTOP, LD_PRELOAD), and a packet's
source fields are whatever its sender typed. None of that changes which
cable a frame came in on, or whether a host's kernel reacts to an RA it
has never seen before.

Checks that provoke a change undo it before they return.
"""

from __future__ import annotations

import ipaddress
import time
from typing import TYPE_CHECKING, Optional, Sequence

from ..i18n import _
from . import wire as w
from .check import Check, CheckFailed

if TYPE_CHECKING:
    from ..lab import Lab


def _fmt(items) -> str:
    s = ", ".join(str(x) for x in items)
    # TRANSLATORS: an empty list, as in "(it has: none)".
    return s or _("none")


def _wire_port(lab: "Lab", node: str, iface: str) -> tuple[int, str]:
    where = w.lan_of(lab, node, iface)
    if where is None:
        # A misuse of the check by the lab's author: a grader error.
        raise RuntimeError(f"{node}:{iface} is not a LAN member, so it has no switch port to "
                           "watch (use a check that listens on a point-to-point link)")
    return where[0], f"l{where[0]}p{where[2]}"


# ------------------------------------------------------- router advertises

def ra_problems(ra: w.RouterAdvert, want: Sequence[ipaddress.IPv6Network], *,
                managed: Optional[bool], other: Optional[bool], autonomous: Optional[bool],
                default_router: Optional[bool], rdnss: Sequence[str]) -> list[str]:
    """What an RA (decoded from the wire, or by the core's probe: the same
    fields) lacks of what a step asks, one phrase each."""
    problems = []
    if managed is not None and ra.managed != managed:
        # TRANSLATORS: the RA's M flag (keep "M"); {value} is 0 or 1.
        problems.append(_("M flag is {value}").format(value=int(ra.managed)))
    if other is not None and ra.other != other:
        # TRANSLATORS: the RA's O flag (keep "O"); {value} is 0 or 1.
        problems.append(_("O flag is {value}").format(value=int(ra.other)))
    if default_router is True and ra.router_lifetime == 0:
        problems.append(_("router lifetime 0 (not a default router)"))
    if default_router is False and ra.router_lifetime != 0:
        problems.append(_("router lifetime {lifetime} (should be 0)").format(
            lifetime=ra.router_lifetime))
    have = {ipaddress.ip_network(p.prefix, strict=False): p for p in ra.prefixes}
    for net in want:
        p = have.get(net)
        if p is None:
            problems.append(_("no prefix {prefix} (advertised: {advertised})").format(
                prefix=net, advertised=_fmt(have)))
        elif autonomous is not None and p.autonomous != autonomous:
            # TRANSLATORS: the prefix's A (autonomous) flag: keep "A=".
            problems.append(_("prefix {prefix} has A={value}").format(
                prefix=net, value=int(p.autonomous)))
    norm = {str(ipaddress.ip_address(x)) for x in ra.rdnss}
    for s in rdnss:
        if str(ipaddress.ip_address(s)) not in norm:
            problems.append(_("no RDNSS {server} (advertised: {advertised})").format(
                server=s, advertised=_fmt(ra.rdnss)))
    return problems


def _valid_ra(s: w.Seen) -> bool:
    """What a host's kernel would accept as an RA at all (RFC 4861 6.1.2)."""
    return (s.packet.hop_limit == 255 and ipaddress.ip_address(s.packet.src).is_link_local
            and isinstance(s.packet.body, w.RouterAdvert))


def _wait_link_local(lab: "Lab", node: str, iface: str, limit: float = 2.0) -> None:
    """A router cannot send an RA before its link-local address has passed
    DAD (about 1 s after the interface comes up): wait for that, read over
    netlink, so a lab graded right after it started is not failed early."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        ll = [a for a in lab[node].addresses(iface, 6) if a.scope == "link"]
        if ll and not any(a.tentative for a in ll):
            return
        time.sleep(0.05)


def _listen_for_router(lab: "Lab", node: str, iface: str, window: float,
                       quiet: float) -> tuple[list[w.Seen], str, list[w.Seen]]:
    """Solicits from a random identity on the LAN's bridge and listens on
    the switch. Returns (RAs that came in on node's port, the grader's
    address, RAs that came in on other ports). Stops as soon as the
    evidence is complete, or after `quiet` seconds of silence."""
    lan_index, port = _wire_port(lab, node, iface)
    mac, ll = w.random_identity()
    rs = w.router_solicit(mac, ll)

    def mine(seen: list[w.Seen]) -> list[w.Seen]:
        return [s for s in w.sent_by(seen, node, w.RA) if s.ifname == port and _valid_ra(s)]

    def complete(seen: list[w.Seen]) -> bool:
        return any(s.packet.dst == ll for s in mine(seen))

    bridge = w.bridge_of(lab, lan_index)
    with w.Tap.switch(lab, types=(w.RA,)) as tap:
        t0 = time.monotonic()
        # Solicit again every 0.5 s, as a host retransmits (a daemon that
        # has just started may miss the first); give up at `quiet` if the
        # LAN is silent, else at `window`.
        while not complete(tap.seen):
            elapsed = time.monotonic() - t0
            heard = any(not s.injected for s in tap.seen)
            if elapsed >= window or (elapsed >= quiet and not heard):
                break
            tap.inject(bridge, rs)
            tap.collect(min(0.5, window - elapsed), until=complete)
        others = [s for s in tap.seen if not s.outgoing and not s.injected and s.ifname != port
                  and s.packet.icmp_type == w.RA]
        # Another sender on this LAN first (it is what hosts here hear),
        # then RAs on other LANs (a daemon on the wrong interface).
        lan = port[:port.index("p") + 1]
        others.sort(key=lambda s: not s.ifname.startswith(lan))
        return mine(tap.seen), ll, others


def router_advertises(node: str, iface: str, *, prefixes: Sequence[str] = (),
                      managed: Optional[bool] = None, other: Optional[bool] = None,
                      autonomous: Optional[bool] = True, default_router: Optional[bool] = True,
                      rdnss: Sequence[str] = (), window: float = 3.0,
                      quiet: float = 1.5) -> Check:
    """node advertises on its LAN from iface, as a router does: it answers
    the grader's Router Solicitation, sent on the LAN from a random address
    no one could have prepared for, with an RA to that address (radvd
    answers solicitations by unicast, RFC 7772) that came in on node:iface's
    switch port and carries the flags and prefixes given. Periodic RAs
    alone do not count: a loop that replays an RA is not a router. One RA
    sent by hand, a frozen daemon, a daemon on the wrong interface, and an
    RA from another node with node's addresses all fail. Fails within
    `quiet` seconds when no RA at all is heard, else listens up to
    `window`, soliciting every 0.5 s."""
    want = [ipaddress.ip_network(p) for p in prefixes]
    parts = [str(p) for p in want]
    if managed is not None:
        parts.append(f"M={int(managed)}")
    if other is not None:
        parts.append(f"O={int(other)}")

    def fn(lab: "Lab") -> str:
        _wait_link_local(lab, node, iface)
        ras, grader_ll, others = _listen_for_router(lab, node, iface, window, quiet)
        if not ras:
            if others:
                o = others[0]
                # node:iface, not just the node: a router has a cable on
                # each of its LANs, and the one it used is the lesson.
                # TRANSLATORS: {other} is node:interface (or a switch port)
                # whose cable the RA came in on.
                raise CheckFailed(_(
                    "no Router Advertisement came from {node}:{iface}; one from {source} "
                    "(MAC {mac}) came in on {other}'s cable instead").format(
                        node=node, iface=iface, source=o.packet.src, mac=o.packet.src_mac,
                        other=w.port_owners(lab).get(o.ifname, o.node or o.ifname)))
            raise CheckFailed(_(
                "{node}:{iface} sent no Router Advertisement and did not answer a "
                "Router Solicitation within {seconds} s (is radvd running, not stopped, "
                "with AdvSendAdvert on for {iface}?)").format(
                    node=node, iface=iface, seconds=f"{window if others else quiet:g}"))
        answered = [s for s in ras if s.packet.dst == grader_ll]
        if not answered:
            raise CheckFailed(_(
                "{node}:{iface} sent {count} Router Advertisement(s) in {seconds} s but did "
                "not answer the grader's Router Solicitation (is radvd running, not "
                "stopped, with AdvRASolicitedUnicast left on?)").format(
                    node=node, iface=iface, count=len(ras), seconds=f"{window:g}"))
        ra = answered[-1]
        problems = ra_problems(ra.packet.body, want, managed=managed, other=other,
                                autonomous=autonomous, default_router=default_router,
                                rdnss=rdnss)
        if problems:
            raise CheckFailed(_("RA from {node}:{iface} ({source}): {problems}").format(
                node=node, iface=iface, source=ra.packet.src, problems="; ".join(problems)))
        return _("{node}:{iface} advertises {prefixes} (answered the grader's solicitation, "
                 "seen on its switch port)").format(
                     node=node, iface=iface,
                     prefixes=_fmt(p.prefix for p in ra.packet.body.prefixes))
    if parts:
        # TRANSLATORS: {details} lists prefixes and flags, e.g. "2001:db8:1::/64, M=0".
        desc = _("{node} advertises on {iface} as a router ({details}) (seen on its switch "
                 "port)").format(node=node, iface=iface, details=", ".join(parts))
    else:
        desc = _("{node} advertises on {iface} as a router (seen on its switch port)").format(
            node=node, iface=iface)
    return Check(desc, fn)


# ------------------------------------------------------- SLAAC, provoked

def _cleanup_slaac(lab: "Lab", tap: w.Tap, port: str, host: str, iface: str, mac: str,
                   ll: str, net: ipaddress.IPv6Network) -> None:
    """Withdraws the grader's router and prefix, then deletes what the host
    formed from them (a valid lifetime of 0 alone only deprecates an
    address: RFC 4862 5.5.3e keeps it up to two hours)."""
    gone = w.PrefixInfo(str(net), False, True, 0, 0)
    tap.inject(port, w.router_advert(mac, ll, prefixes=[gone], router_lifetime=0))
    n = lab[host]
    for a in n.addresses(iface, 6):
        if ipaddress.ip_address(a.address) in net:
            try:
                n.handle.delete_address(iface, a.cidr)
            except Exception:  # noqa: BLE001 - it may have gone already; looked at below
                pass
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        left = [a.cidr for a in n.addresses(iface, 6) if ipaddress.ip_address(a.address) in net]
        routes = [r for r in n.routes(6) if r.dst == "::/0"
                  and any(h.gateway == ll for h in r.nexthops)]
        if not left and not routes:
            return
        time.sleep(0.05)
    raise RuntimeError(f"could not undo the grader's RA on {host}:{iface}: "
                       f"addresses {_fmt(left)}, default routes via {ll}: {len(routes)}")


def slaac_autoconfigures(host: str, iface: str, *, within: float = 3.0,
                         default_route: bool = True) -> Check:
    """host:iface configures itself from Router Advertisements, proved by
    behaviour: the grader sends it, on its switch port, an RA from a random
    link-local address with a random /64 prefix (A=1, L=0, short lifetimes)
    and, with default_route, a router lifetime; the host's kernel must form
    an address in that prefix (tentative counts: the kernel formed it) and,
    with default_route, a default route via
    that router within `within` seconds. Addresses and routes written by
    hand cannot know the prefix. Everything the RA made is withdrawn and
    deleted before the check returns."""
    def fn(lab: "Lab") -> str:
        port = _wire_port(lab, host, iface)[1]
        mac, ll = w.random_identity()
        net = ipaddress.IPv6Network(w.random_prefix())
        pio = w.PrefixInfo(str(net), False, True, 30, 20)
        ra = w.router_advert(mac, ll, prefixes=[pio], router_lifetime=9 if default_route else 0)
        n = lab[host]
        with w.Tap.switch(lab, types=(w.RA,)) as tap:
            try:
                t0 = time.monotonic()
                sent = t0 - 1.0
                addr = route = None
                while time.monotonic() - t0 < within:
                    if time.monotonic() - sent >= 1.0:
                        tap.inject(port, ra)
                        sent = time.monotonic()
                    addr = addr or next((a for a in n.addresses(iface, 6)
                                         if ipaddress.ip_address(a.address) in net), None)
                    route = route or next((r for r in n.routes(6) if r.dst == "::/0" and any(
                        h.gateway == ll for h in r.nexthops)), None)
                    if addr and (route or not default_route):
                        break
                    time.sleep(0.05)
            finally:
                _cleanup_slaac(lab, tap, port, host, iface, mac, ll, net)
        if not addr or (default_route and not route):
            no_route = default_route and not route
            # TRANSLATORS: what the host lacks, in "…(prefix …): {missing} within 3 s".
            missing = (_("no address and no default route") if not addr and no_route
                       else _("no address") if not addr else _("no default route"))
            sysctls = ", ".join(f"{k}={n.sysctl(f'net.ipv6.conf.{iface}.{k}')}"
                                for k in ("accept_ra", "accept_ra_defrtr", "autoconf", "forwarding"))
            # TRANSLATORS: {sysctls} are the interface's sysctl values, e.g. "accept_ra=0, …".
            raise CheckFailed(_("{host}:{iface} did not configure itself from a Router "
                                "Advertisement the grader sent (prefix {prefix}): {missing} "
                                "within {seconds} s ({sysctls})").format(
                                    host=host, iface=iface, prefix=net, missing=missing,
                                    seconds=f"{within:g}", sysctls=sysctls))
        if route:
            return _("{host}:{iface} formed {address} and a default route from the grader's RA "
                     "(withdrawn since)").format(host=host, iface=iface, address=addr.cidr)
        return _("{host}:{iface} formed {address} from the grader's RA (withdrawn since)").format(
            host=host, iface=iface, address=addr.cidr)
    if default_route:
        desc = _("{host}:{iface} forms an address and a default route from a Router "
                 "Advertisement (provoked by the grader)").format(host=host, iface=iface)
    else:
        desc = _("{host}:{iface} forms an address from a Router Advertisement (provoked by the "
                 "grader)").format(host=host, iface=iface)
    return Check(desc, fn, within=0.0)


# -------------------------------------------------- reachability, on the wire

def _is_addr(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _owner_of(lab: "Lab", target: str) -> tuple[str, str, str]:
    """(address, node, iface) for a target "node", "node:iface" or an
    address some node holds."""
    node, iface = target.partition(":")[::2]
    if node in lab:
        addrs = [a for a in lab[node].addresses(iface or None, 6)
                 if a.scope == "global" and not a.tentative and not a.dadfailed]
        if not addrs:
            raise CheckFailed(_("{target} has no usable global IPv6 address").format(
                target=target))
        return addrs[0].address, node, addrs[0].ifname
    want = str(ipaddress.ip_address(target))
    for n in lab:
        for a in n.addresses(None, 6):
            if a.address == want and a.scope == "global":
                return want, n.name, a.ifname
    raise CheckFailed(_("no node holds {address}").format(address=want))


def reaches_on_wire(src: str, dst: str, *, at: Optional[str] = None, timeout: float = 1.0,
                    within: float = 0.0) -> Check:
    """src gets an echo reply from dst, and the network saw dst do the work:
    the echo request was delivered on dst's cable and the matching reply
    came back in on it. A local /128 or a DNAT in src, or a router
    answering on dst's behalf, never puts either on dst's cable. On a
    point-to-point link the frames are read in dst's namespace, where the
    tap cannot tell which end sent them (the description says so).
    at="node:iface" names where dst must live (for a literal address that
    another node could also hold)."""
    def fn(lab: "Lab") -> str:
        if at:
            addr = dst if _is_addr(dst) else _owner_of(lab, dst)[0]
            dnode, difname = at.partition(":")[::2]
        else:
            addr, dnode, difname = _owner_of(lab, dst)
        port = w.port_of(lab, dnode, difname)
        types = (w.ECHO_REQUEST, w.ECHO_REPLY)
        tap = w.Tap.switch(lab, types) if port else w.Tap.node(lab, dnode, types)
        cable = port or difname
        # On a switch port the bridge delivers *out of* the port; in the node
        # the request comes *in* on its interface.
        into = bool(port)

        def evidence(frames: list[w.Seen]) -> tuple[set[int], list[w.Seen]]:
            seen = [s for s in frames if s.ifname == cable and not s.injected]
            reqs = {s.packet.body.ident for s in seen if s.outgoing == into
                    and s.packet.dst == addr and s.packet.icmp_type == w.ECHO_REQUEST}
            reps = [s for s in seen if s.outgoing != into and s.packet.src == addr
                    and s.packet.icmp_type == w.ECHO_REPLY and s.packet.body.ident in reqs]
            return reqs, reps

        with tap:
            r = lab[src].ping(addr, count=1, timeout=timeout)
            # The frames are in the tap's queue by now; 0.2 s bounds the wait
            # only while the evidence is incomplete. More frames could only
            # add requests and replies, never take one away: stopping once
            # both are seen gives the verdict waiting would.
            if not all(evidence(tap.seen)):
                tap.collect(0.2, until=lambda frames: all(evidence(frames)))
            reqs, reps = evidence(tap.seen)
        if not r.received:
            # The same words as the library's reaches() (its messages).
            errs = "; ".join(_("{error} from {source}").format(
                error=e.detail, source=e.source or _("local stack")) for e in r.errors)
            raise CheckFailed(_("{src} cannot reach {dst} ({address}): {why}").format(
                src=src, dst=dst, address=addr,
                why=errs or _("no reply within {seconds} s").format(seconds=f"{timeout:g}")))
        if not reqs:
            raise CheckFailed(_("{src} got an answer from {address}, but no echo request reached "
                                "{node}:{iface}: something other than {node} answered").format(
                                    src=src, address=addr, node=dnode, iface=difname))
        if not reps:
            raise CheckFailed(_("the echo request reached {node}:{iface}, but the reply {src} "
                                "got did not come from {node}").format(
                                    node=dnode, iface=difname, src=src))
        return _("{src} reaches {dst} ({address}): request and reply seen on {node}:{iface}'s "
                 "cable").format(src=src, dst=dst, address=addr, node=dnode, iface=difname)
    # TRANSLATORS: {where} is a node, node:interface or address.
    return Check(_("{src} reaches {dst} (request and reply seen on {where}'s cable; on a "
                   "point-to-point link, either end could have sent them)").format(
                       src=src, dst=dst, where=at or dst), fn, within=within)
