"""Ready-made checks for the curriculum. Each returns a Check; each reads
state over netlink or sends the core's own probes from outside the trainee's
control, and each says what it observed when it fails.

Targets (`dst`) may be an address, "node" (its first global IPv6 address),
or "node:iface".
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence, Union

from .._core import Error, NodeFileError
from ..i18n import _, join_and
from .behaviour import ra_problems
from .behaviour import reaches_on_wire, router_advertises, slaac_autoconfigures  # noqa: F401 (re-exported as checks.*)
from .check import Check, CheckFailed, CheckPending
from .dhcp6 import dhcp6_information_reply, dhcp6_seen_on_wire, ra_flags_on_wire  # noqa: F401 (re-exported as checks.*)
from .dhcp6_relay import dhcp6_relay_on_wire, dhcp6_relays, dhcp6_reply_on_wire  # noqa: F401 (re-exported as checks.*)
from .dhcp6_stateful import dhcp6_delegates_prefix, dhcp6_offers_address, dhcp6_server_answers_relay  # noqa: F401 (re-exported as checks.*)
from .dns import dns_answers_on_wire  # noqa: F401 (re-exported as checks.*)
from .http import http_fetch  # noqa: F401 (re-exported as checks.*)

if TYPE_CHECKING:
    from ..lab import Lab

BAD_FLAGS = ("tentative", "dadfailed")


def _fmt(addrs: Iterable[object]) -> str:
    s = ", ".join(str(a) for a in addrs)
    # TRANSLATORS: an empty list, as in "(it has: none)".
    return s or _("none")


def _link(lab: "Lab", node: str, iface: str):
    """The interface, or a failure the trainee can act on (they may have
    renamed or deleted it): not a grader error."""
    for link in lab[node].links():
        if link.name == iface:
            return link
    raise CheckFailed(_("{node} has no interface {iface} any more (it has: {interfaces})").format(
        node=node, iface=iface, interfaces=_fmt(x.name for x in lab[node].links() if x.kind != 'loopback')))


def _gateways(lab: "Lab", via: str) -> set[str]:
    """via as gateway addresses: a literal, or "router:iface" meaning that
    interface's link-local address (how RAs and link-local routes name it)."""
    if _is_addr(via):
        return {str(ipaddress.ip_address(via.split("%")[0]))}
    rnode, rif = via.partition(":")[::2]
    return {a.address for a in lab[rnode].addresses(rif or None, 6) if a.scope == "link"}


def global_address(lab: "Lab", target: str, family: int = 6) -> str:
    """The address a target names (see module doc)."""
    try:
        ipaddress.ip_address(target.split("%")[0])
        return target
    except ValueError:
        pass
    node, iface = target.partition(":")[::2]
    addrs = [a for a in lab[node].addresses(iface or None, family)
             if a.scope == "global" and not a.tentative and not a.dadfailed]
    if not addrs:
        where = f"{node}:{iface}" if iface else node
        raise CheckFailed(_("{where} has no usable global IPv{family} address (addresses: {addresses})")
                          .format(where=where, family=family,
                                  addresses=_fmt(a.cidr for a in lab[node].addresses(iface or None, family))))
    return addrs[0].address


# ------------------------------------------------------------------ state

def has_address(node: str, prefix: str, *, iface: Optional[str] = None,
                flags: Sequence[str] = (), not_flags: Sequence[str] = BAD_FLAGS,
                prefix_len: Optional[int] = None, within: float = 0.0) -> Check:
    """node has an address inside prefix (on iface), with all of `flags`
    (e.g. "mngtmpaddr", "permanent", "dynamic") and none of `not_flags`."""
    net = ipaddress.ip_network(prefix, strict=False)  # one address is a /128 (or /32)
    fam = net.version
    where = f"{node}:{iface}" if iface else node
    # TRANSLATORS: {where} is a node or node:interface, e.g. "h1:eth0".
    desc = _("{where} has {address}").format(where=where, address=net.network_address) \
        if net.num_addresses == 1 else \
        _("{where} has an address in {prefix}").format(where=where, prefix=net)
    if flags:
        desc += f" ({', '.join(flags)})"

    def fn(lab: "Lab") -> str:
        addrs = lab[node].addresses(iface, fam)
        inside = [a for a in addrs if ipaddress.ip_address(a.address) in net]
        if not inside:
            raise CheckFailed(_("{where} has no address in {prefix} (it has: {addresses})").format(
                where=where, prefix=net, addresses=_fmt(a.cidr for a in addrs if a.scope != 'host')))
        for a in inside:
            names = set(a.flag_names)
            if prefix_len is not None and a.prefix_len != prefix_len:
                continue
            if all(f in names for f in flags) and not any(f in names for f in not_flags):
                return a.cidr
        a = inside[0]
        bad = [f for f in not_flags if f in a.flag_names]
        missing = [f for f in flags if f not in a.flag_names]
        why = []
        if prefix_len is not None and a.prefix_len != prefix_len:
            why.append(_("prefix length /{length}, expected /{expected}").format(
                length=a.prefix_len, expected=prefix_len))
        if bad:
            # TRANSLATORS: {flags} are the kernel's words, shown by ip -6 addr
            # (tentative, dadfailed): keep them in English.
            why.append(_("it is {flags}").format(flags=join_and(bad)))
        if missing:
            why.append(_("it lacks {flags}").format(flags=", ".join(missing)))
        msg = _("{where} has {address} but {why}").format(
            where=where, address=a.cidr, why="; ".join(why) or _("it does not match"))
        # Only DAD still running is worth waiting for.
        if bad == ["tentative"] and not missing and (prefix_len is None or a.prefix_len == prefix_len):
            raise CheckPending(msg)
        raise CheckFailed(msg)
    # A dynamic address (SLAAC, DHCPv6) appears when the next RA or reply
    # arrives, which the address list cannot show: wait for anything then.
    return Check(desc, fn, within=within, retry="any" if "dynamic" in flags else "pending")


def no_bad_addresses(node: str, iface: Optional[str] = None, within: float = 3.0) -> Check:
    """No IPv6 address on node (iface) is tentative or failed DAD."""
    where = f"{node}:{iface}" if iface else node

    def fn(lab: "Lab") -> str:
        bad = [a for a in lab[node].addresses(iface, 6) if a.tentative or a.dadfailed]
        if bad:
            final = any(a.dadfailed for a in bad)
            raise (CheckFailed if final else CheckPending)(_("{where} has {addresses}").format(
                where=where, addresses=", ".join(
                    _("{address} on {iface} ({state})").format(
                        address=a.cidr, iface=a.ifname,
                        state=_("duplicate: DAD failed") if a.dadfailed else _("still tentative"))
                    for a in bad)))
        return _("no tentative or duplicate address")
    return Check(_("{where} has no tentative or duplicate address").format(where=where), fn,
                 within=within, retry="pending")


def link_local(node: str, iface: str, *, eui64: Optional[bool] = None) -> Check:
    """iface has exactly one usable fe80::/64 address; eui64=True/False
    also checks how its interface identifier was formed."""
    def fn(lab: "Lab") -> str:
        n = lab[node]
        ll = [a for a in n.addresses(iface, 6) if a.scope == "link"]
        if len(ll) != 1:
            raise CheckFailed(_("{node}:{iface} has {count} link-local addresses ({addresses})").format(
                node=node, iface=iface, count=len(ll), addresses=_fmt(a.cidr for a in ll)))
        a = ll[0]
        if a.dadfailed:
            raise CheckFailed(_("{node}:{iface} link-local {address} is dadfailed").format(
                node=node, iface=iface, address=a.cidr))
        if a.tentative:
            raise CheckPending(_("{node}:{iface} link-local {address} is tentative").format(
                node=node, iface=iface, address=a.cidr))
        if eui64 is not None:
            mac = _link(lab, node, iface).mac
            is_eui = a.address == str(eui64_address("fe80::", mac))
            if is_eui != eui64:
                msg = _("{node}:{iface} link-local {address} is EUI-64 (from the MAC)") if is_eui else \
                    _("{node}:{iface} link-local {address} is not EUI-64")
                raise CheckFailed(msg.format(node=node, iface=iface, address=a.address))
        return a.cidr
    return Check(_("{node}:{iface} has one link-local address").format(node=node, iface=iface), fn,
                 within=3.0, retry="pending")


def eui64_address(prefix: str, mac: str) -> ipaddress.IPv6Address:
    b = bytearray(int(x, 16) for x in mac.split(":"))
    iid = bytes([b[0] ^ 0x02, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    net = ipaddress.IPv6Network(prefix + "/64" if "/" not in prefix else prefix, strict=False)
    return ipaddress.IPv6Address(int(net.network_address) | int.from_bytes(iid, "big"))


def default_route(node: str, *, via: Optional[str] = None, protocol: Optional[str] = None,
                  iface: Optional[str] = None, family: int = 6, within: float = 0.0) -> Check:
    """node has a default route; via may be an address or "router:iface"
    (meaning that interface's link-local address, as RAs install it)."""
    if via and protocol:
        desc = _("{node} has a default route via {via} learned from {protocol}")
    elif via:
        desc = _("{node} has a default route via {via}")
    elif protocol:
        desc = _("{node} has a default route learned from {protocol}")
    else:
        desc = _("{node} has a default route")
    desc = desc.format(node=node, via=via, protocol=protocol)

    def fn(lab: "Lab") -> str:
        routes = [r for r in lab[node].routes(family) if r.dst.endswith("/0")]
        if not routes:
            raise CheckFailed(_("{node} has no default route").format(node=node))
        want_gw = _gateways(lab, via) if via else None
        for r in routes:
            gws = {nh.gateway for nh in r.nexthops}
            devs = {nh.ifname for nh in r.nexthops}
            if want_gw is not None and not (gws & want_gw):
                continue
            if protocol and r.protocol != protocol:
                continue
            if iface and iface not in devs:
                continue
            return f"default via {_fmt(gws)} dev {_fmt(devs)} proto {r.protocol}"
        # TRANSLATORS: a route with no gateway (the destination is on the link).
        direct = _("direct")
        seen = "; ".join(f"via {_fmt(nh.gateway or direct for nh in r.nexthops)} proto {r.protocol}"
                         for r in routes)
        raise CheckFailed(_("{node}'s default route is not the expected one (it has: {routes})").format(
            node=node, routes=seen))
    return Check(desc, fn, within=within)


def _is_addr(s: str) -> bool:
    try:
        ipaddress.ip_address(s.split("%")[0])
        return True
    except ValueError:
        return False


def route_present(node: str, dst: str, *, via: Optional[str] = None,
                  protocol: Optional[str] = None, within: float = 0.0) -> Check:
    want = ipaddress.ip_network(dst, strict=False)

    def fn(lab: "Lab") -> str:
        routes = lab[node].routes(want.version)
        match = [r for r in routes if ipaddress.ip_network(r.dst, strict=False) == want]
        if not match:
            raise CheckFailed(_("{node} has no route to {prefix}").format(node=node, prefix=want))
        want_gw = _gateways(lab, via) if via else None
        for r in match:
            gws = {nh.gateway for nh in r.nexthops}
            if want_gw is not None and not (gws & want_gw):
                continue
            if protocol and r.protocol != protocol:
                continue
            return f"{want} via {_fmt(gws)} proto {r.protocol}"
        r = match[0]
        raise CheckFailed(_("{node}'s route to {prefix} goes via {gateways} (proto {protocol})").format(
            node=node, prefix=want, gateways=_fmt(nh.gateway or _('direct') for nh in r.nexthops),
            protocol=r.protocol))
    desc = _("{node} has a route to {prefix} via {via}") if via else _("{node} has a route to {prefix}")
    return Check(desc.format(node=node, prefix=want, via=via), fn, within=within)


def sysctl_equals(node: str, key: str, value: Union[str, int]) -> Check:
    def fn(lab: "Lab") -> str:
        got = lab[node].sysctl(key)
        if got != str(value):
            raise CheckFailed(_("{node}: {key} is {value}, expected {expected}").format(
                node=node, key=key, value=got, expected=value))
        return f"{key} = {got}"
    return Check(f"{node}: {key} = {value}", fn)


def neighbour_present(node: str, address: str, *, iface: Optional[str] = None,
                      states: Sequence[str] = ("REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT"),
                      lladdr_of: Optional[str] = None) -> Check:
    """node's neighbour cache has address (a literal or a target) in one of
    states; lladdr_of="node:iface" also checks the MAC learned."""
    def fn(lab: "Lab") -> str:
        addr = address if _is_addr(address) else _target_ll_or_global(lab, address)
        entries = [n for n in lab[node].neighbours(iface) if n.address == addr]
        if not entries:
            raise CheckFailed(_("{node} has no neighbour entry for {address}").format(node=node, address=addr))
        e = entries[0]
        if e.state not in states:
            # Being resolved right now: the answer is on its way (or not).
            kind = CheckPending if e.state in ("INCOMPLETE", "DELAY", "PROBE") else CheckFailed
            raise kind(_("{node}'s neighbour entry for {address} is {state}").format(
                node=node, address=addr, state=e.state))
        if lladdr_of:
            rn, ri = lladdr_of.partition(":")[::2]
            mac = _link(lab, rn, ri).mac
            if e.lladdr != mac:
                raise CheckFailed(_("{node} maps {address} to {lladdr}, but {target} is {mac}").format(
                    node=node, address=addr, lladdr=e.lladdr, target=lladdr_of, mac=mac))
        return f"{addr} lladdr {e.lladdr} {e.state}"
    return Check(_("{node} knows its neighbour {address}").format(node=node, address=address), fn,
                 within=2.0, retry="pending")


def _target_ll_or_global(lab: "Lab", target: str) -> str:
    node, iface = target.partition(":")[::2]
    ll = [a.address for a in lab[node].addresses(iface or None, 6) if a.scope == "link"]
    return ll[0] if ll else global_address(lab, target)


def link_up(node: str, iface: str, *, mtu: Optional[int] = None) -> Check:
    def fn(lab: "Lab") -> str:
        link = _link(lab, node, iface)
        if not link.up:
            raise CheckFailed(_("{node}:{iface} is down (ip link set {iface} up)").format(node=node, iface=iface))
        if mtu is not None and link.mtu != mtu:
            raise CheckFailed(_("{node}:{iface} has MTU {mtu}, expected {expected}").format(
                node=node, iface=iface, mtu=link.mtu, expected=mtu))
        return _("{iface} up, mtu {mtu}").format(iface=iface, mtu=link.mtu)
    desc = _("{node}:{iface} is up with MTU {mtu}") if mtu else _("{node}:{iface} is up")
    return Check(desc.format(node=node, iface=iface, mtu=mtu), fn)


def daemon_running(node: str, program: str) -> Check:
    """A process of the node runs the real program: its executable is the
    very file the host has for it (same device and inode), so a copy or a
    script named like it does not count. Read from the host's /proc by the
    core (Node.processes), which follows nothing the node controls."""
    from .._core import find_program

    def fn(lab: "Lab") -> str:
        n = lab[node]
        path = find_program(program)
        if not path:
            raise RuntimeError(_("{program} is not installed on this machine").format(program=program))
        real = os.stat(path)
        impostor = stopped = None
        for p in n.processes():
            if p.host_pid == n.pid:
                continue
            if (p.exe_dev, p.exe_ino) == (real.st_dev, real.st_ino):
                if p.state in ("T", "t", "Z", "X"):
                    # Frozen (SIGSTOP), traced, or dead: the binary, not a daemon.
                    stopped = p
                    continue
                return _("{program} is running (pid {pid} on the host)").format(
                    program=program, pid=p.host_pid)
            if p.exe_path and os.path.basename(p.exe_path.removesuffix(" (deleted)")) == program:
                impostor = p.host_pid
        if stopped is not None:
            raise CheckFailed(_("{program} on {node} is not running: its state is {state} (stopped or exited)")
                              .format(program=program, node=node, state=stopped.state))
        if impostor:
            raise CheckFailed(_("a process called {program} runs on {node}, but it is not {path}")
                              .format(program=program, node=node, path=path))
        raise CheckFailed(_("{program} is not running on {node}").format(program=program, node=node))
    return Check(_("{program} runs on {node}").format(program=program, node=node), fn)


def trust_daemon_control_socket(node: str, program: str, ask: Callable[["Lab"], str],
                                description: str) -> Check:
    """A check that trusts what the daemon says. Use it only where no
    outside evidence exists (a routing daemon's RIB, a DHCP server's
    leases): the daemon runs in the node, and a trainee who is root there
    can make it say anything. What this check does guarantee is that the
    program answering is the real one: it first requires daemon_running
    (same executable inode as the host's), then calls ask(lab), which talks
    to the daemon (e.g. its control socket, opened through Node.read_file's
    rules) and returns what it observed or raises CheckFailed. The
    description says "(trusts <program>)" so reports show which grades
    rest on a daemon's word."""
    running = daemon_running(node, program)

    def fn(lab: "Lab") -> str:
        running.fn(lab)
        return ask(lab)
    # TRANSLATORS: the grade rests on what {program} says about itself.
    return Check(_("{description} (trusts {program})").format(description=description, program=program), fn)


# ----------------------------------------------------------------- probes

def reachable(src: str, dst: str, *, count: int = 1, timeout: float = 1.0,
              iface: Optional[str] = None, size: int = 56, within: float = 0.0) -> Check:
    """src gets an echo reply from dst (a real ICMPv6/ICMP probe)."""
    def fn(lab: "Lab") -> str:
        addr = global_address(lab, dst)
        r = lab[src].ping(addr, count=count, timeout=timeout, iface=iface, size=size)
        if r.received:
            return _("{received}/{sent} replies from {address}, {ms} ms").format(
                received=r.received, sent=r.sent, address=addr, ms=f"{r.replies[0].rtt_ms:.2f}")
        # e.detail is the core's (kernel's) wording, e.g. "no route".
        # TRANSLATORS: where an error came from when no router sent it: the
        # sending node's own network stack.
        local_stack = _("local stack")
        errs = "; ".join(_("{error} from {source}").format(error=e.detail, source=e.source or local_stack)
                         for e in r.errors)
        raise CheckFailed(_("{src} cannot reach {dst} ({address}): {why}").format(
            src=src, dst=dst, address=addr,
            why=errs or _("no reply within {seconds} s").format(seconds=f"{timeout:g}")))
    return Check(_("{src} reaches {dst}").format(src=src, dst=dst), fn, within=within)


def not_reachable(src: str, dst: str, *, timeout: float = 1.0) -> Check:
    """The negative: src gets no echo reply from dst. It passes only when the
    probe really ran and nothing answered; a probe that cannot run is an
    error, not a pass."""
    def fn(lab: "Lab") -> str:
        addr = global_address(lab, dst)
        r = lab[src].ping(addr, count=1, timeout=timeout)
        local = [e for e in r.errors if e.kind == "local"]
        if local:
            # Refused by the sender's own stack: nothing was tested on the
            # path, so this proves no blocking.
            raise CheckFailed(_("the probe could not leave {src} ({error}): {src} must work for this check")
                              .format(src=src, error=local[0].detail))
        if r.received:
            raise CheckFailed(_("{src} still reaches {dst} ({address})").format(
                src=src, dst=dst, address=addr))
        return _("no reply") + (f" ({r.errors[0].detail})" if r.errors else "")
    return Check(_("{src} does not reach {dst}").format(src=src, dst=dst), fn)


def tcp_service(src: str, dst: str, port: int, *, timeout: float = 2.0,
                expect: Optional[bytes] = None, send: str = "", within: float = 0.0) -> Check:
    def fn(lab: "Lab") -> str:
        addr = global_address(lab, dst)
        r = lab[src].tcp_connect(addr, port, timeout=timeout, send=send)
        if not r.ok:
            raise CheckFailed(_("{src} cannot connect to [{address}]:{port}: {error}").format(
                src=src, address=addr, port=port, error=r.error))
        if expect is not None and expect not in r.received:
            raise CheckFailed(_("[{address}]:{port} answered {received}, which lacks {expected}").format(
                address=addr, port=port, received=repr(r.received[:60]), expected=repr(expect)))
        return _("connected to [{address}]:{port} in {ms} ms").format(
            address=addr, port=port, ms=f"{r.ms:.1f}")
    return Check(_("{src} connects to {dst} port {port}/tcp").format(src=src, dst=dst, port=port),
                 fn, within=within)


def dns_answers(src: str, server: str, name: str, qtype: str = "AAAA", *,
                expect: Union[str, Sequence[str], None] = None, timeout: float = 2.0,
                within: float = 0.0) -> Check:
    """server answers name/qtype for src, with expect among the answers."""
    wanted = [expect] if isinstance(expect, str) else list(expect or [])

    def fn(lab: "Lab") -> str:
        addr = global_address(lab, server)
        r = lab[src].dns_query(addr, name, qtype, timeout=timeout)
        if not r.answered:
            raise CheckFailed(_("no DNS answer from {server} ({address}) for {name} {qtype}: {error}")
                              .format(server=server, address=addr, name=name, qtype=qtype,
                                      error=r.error))
        if r.rcode != "NOERROR":
            raise CheckFailed(_("{server} answered {rcode} for {name} {qtype}").format(server=server, rcode=r.rcode,
                                                                                        name=name, qtype=qtype))
        data = [a.data for a in r.answers if a.type == qtype]
        if not data:
            raise CheckFailed(_("{server} has no {qtype} record for {name} (answers: {answers})").format(
                server=server, qtype=qtype, name=name,
                answers=_fmt(f'{a.type} {a.data}' for a in r.answers)))
        norm = {_norm(d) for d in data}
        missing = [w for w in wanted if _norm(w) not in norm]
        if missing:
            raise CheckFailed(_("{server} answers {name} {qtype} with {data}, not {missing}").format(
                server=server, name=name, qtype=qtype, data=_fmt(data), missing=_fmt(missing)))
        return f"{name} {qtype} {_fmt(data)}"
    desc = _("{server} answers {name} {qtype}").format(server=server, name=name, qtype=qtype)
    return Check(desc + (f" = {_fmt(wanted)}" if wanted else ""), fn, within=within)


def _norm(s: str) -> str:
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        return s.rstrip(".").lower()


def ra_on_link(node: str, iface: str, *, managed: Optional[bool] = None,
               other: Optional[bool] = None, prefixes: Sequence[str] = (),
               autonomous: Optional[bool] = True, default_router: Optional[bool] = True,
               rdnss: Sequence[str] = (), within: float = 3.0,
               duration: Optional[float] = None) -> Check:
    """A Router Advertisement is seen on node's iface (after a Router
    Solicitation sent by the grader) with these flags and prefixes.
    `within` is how long to listen (`duration` is its old name). What node
    receives is not attributed to a sender: router_advertises is the check
    that rests on evidence from the router's own cable."""
    if duration is not None:
        within = duration
    want = [ipaddress.ip_network(p) for p in prefixes]
    parts = []
    if managed is not None:
        parts.append(f"M={int(managed)}")
    if other is not None:
        parts.append(f"O={int(other)}")
    parts += [f"{p}" + (f" A={int(autonomous)}" if autonomous is not None else "") for p in want]
    if default_router is not None:
        parts.append(_("default router") if default_router else _("not a default router"))
    parts += [f"RDNSS {r}" for r in rdnss]
    duration = within

    def fn(lab: "Lab") -> str:
        _link(lab, node, iface)
        try:
            ras = lab[node].router_adverts(iface, solicit=True, duration=duration)
        except Error as e:  # e.g. the trainee took the interface down
            raise CheckFailed(_("cannot listen on {node}:{iface}: {error}").format(
                node=node, iface=iface, error=e)) from None
        if not ras:
            raise CheckFailed(_("no Router Advertisement on {node}:{iface} within {seconds} s "
                                "(is a router running radvd on this link, with AdvSendAdvert on?)")
                              .format(node=node, iface=iface, seconds=f"{duration:g}"))
        ra = ras[0]
        problems = [_("hop limit {hop_limit} (must be 255)").format(hop_limit=ra.hop_limit)] \
            if ra.hop_limit != 255 else []
        problems += ra_problems(ra, want, managed=managed, other=other, autonomous=autonomous,
                                default_router=default_router, rdnss=rdnss)
        have = {ipaddress.ip_network(p.prefix, strict=False): p for p in ra.prefixes}
        if problems:
            raise CheckFailed(_("RA from {source} on {node}:{iface}: {problems}").format(
                source=ra.source, node=node, iface=iface, problems="; ".join(problems)))
        return _("RA from {source}: M={m} O={o} lifetime {lifetime} prefixes {prefixes}").format(
            source=ra.source, m=int(ra.managed), o=int(ra.other), lifetime=ra.router_lifetime,
            prefixes=_fmt(have))
    desc = _("Router Advertisement on {node}:{iface}").format(node=node, iface=iface)
    return Check(desc + (f" ({', '.join(parts)})" if parts else ""), fn)


# ---------------------------------------------------------------- answers

def sysctl_in(node: str, key: str, values: Sequence[Union[str, int]]) -> Check:
    allowed = [str(v) for v in values]

    def fn(lab: "Lab") -> str:
        got = lab[node].sysctl(key)
        if got not in allowed:
            raise CheckFailed(_("{node}: {key} is {value}, expected one of {allowed}").format(
                node=node, key=key, value=got, allowed=", ".join(allowed)))
        return f"{key} = {got}"
    return Check(_("{node}: {key} in {{{allowed}}}").format(node=node, key=key, allowed=", ".join(allowed)), fn)


def solicited_node_address(address: str) -> str:
    """ff02::1:ff00:0/104 plus the low 24 bits of address (RFC 4291)."""
    low = int(ipaddress.IPv6Address(address.split("%")[0])) & 0xFFFFFF
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("ff02::1:ff00:0")) | low))


def joined_groups(lab: "Lab", node: str, iface: str) -> list[str]:
    """IPv6 multicast groups the node's iface has joined: the kernel's igmp6
    table of the node's init, read by the core through a pinned /proc/PID
    (nothing in the node can replace it)."""
    return [str(ipaddress.IPv6Address(g.group)) for g in lab[node].multicast_groups(iface)]


def solicited_node_group(node: str, iface: str) -> Callable[["Lab"], str]:
    """The expected answer: the solicited-node group of node's link-local
    address, which the node must also have joined."""
    def expected(lab: "Lab") -> str:
        ll = [a.address for a in lab[node].addresses(iface, 6) if a.scope == "link"]
        if not ll:
            raise CheckFailed(_("{node}:{iface} has no link-local address").format(node=node, iface=iface))
        group = solicited_node_address(ll[0])
        if group not in joined_groups(lab, node, iface):
            raise CheckFailed(_("{node}:{iface} has not joined {group}").format(node=node, iface=iface, group=group))
        return group
    return expected


# An answer is one short line; anything bigger is not an answer.
ANSWER_MAX_BYTES = 4096


_ANSWER_TEXT = re.compile(r"[0-9A-Za-z:./%_-]{1,64}")


def _shown(word: str) -> str:
    """The trainee's answer as it may be echoed back: a short word of the
    characters addresses and names use, so that whatever else a file turned
    out to hold (a hash, a key) is never replayed into a report."""
    # TRANSLATORS: stands for an answer that is not shown, as in
    # "says something else, which is not ...".
    return word if _ANSWER_TEXT.fullmatch(word) else _("something else")


def answer_matches(node: str, path: str, expected: Union[str, Callable[["Lab"], str]],
                   *, what: str = "the answer") -> Check:
    """The trainee's answer, written to `path` inside node, equals the
    expected value (IPv6 addresses compare by value). The file is read from
    outside by the core (Node.read_file) with symlinks refused: an answer
    is a file the trainee wrote, and a FIFO, device, directory, link or huge
    file is a failed step that says so, never a hang or a read of anything
    else. The expected value comes from the lab's real state, so it cannot
    be copied from a stale source."""
    def fn(lab: "Lab") -> str:
        want = expected(lab) if callable(expected) else expected
        try:
            data = lab[node].read_file(path, max_bytes=ANSWER_MAX_BYTES, follow_symlinks=False)
        except NodeFileError as e:
            if e.kind == "not_found":
                raise CheckFailed(_("no answer yet: write {what} to {path} on {node}").format(
                    what=what, path=path, node=node)) from None
            if e.kind in ("process_gone", "io"):
                raise  # the grader could not look: an error, never a pass
            reason = str(e).split(": ", 1)[-1]
            raise CheckFailed(_("{path} on {node} cannot be graded: {reason}; "
                                "write {what} into it as a plain text file").format(
                                    path=path, node=node, reason=reason, what=what)) from None
        got = data.decode("utf-8", "replace").strip()
        if not got:
            raise CheckFailed(_("{path} on {node} is empty: write {what} there").format(path=path, node=node,
                                                                                         what=what))
        first = got.split()[0]
        if _norm(first) != _norm(want):
            raise CheckFailed(_("{path} on {node} says {answer}, which is not {what}").format(
                path=path, node=node, answer=_shown(first), what=what))
        return f"{path}: {first}"
    return Check(_("{node}:{path} holds {what}").format(node=node, path=path, what=what), fn)
