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
from .behaviour import ra_problems
from .behaviour import reaches_on_wire, router_advertises, slaac_autoconfigures  # noqa: F401 (re-exported as checks.*)
from .check import Check, CheckFailed, CheckPending
from .dhcp6 import dhcp6_information_reply, dhcp6_seen_on_wire, ra_flags_on_wire  # noqa: F401 (re-exported as checks.*)
from .dhcp6_relay import dhcp6_relay_on_wire, dhcp6_relays, dhcp6_reply_on_wire  # noqa: F401 (re-exported as checks.*)
from .dhcp6_stateful import dhcp6_delegates_prefix, dhcp6_offers_address, dhcp6_server_answers_relay  # noqa: F401 (re-exported as checks.*)

if TYPE_CHECKING:
    from ..lab import Lab

BAD_FLAGS = ("tentative", "dadfailed")


def _fmt(addrs: Iterable[object]) -> str:
    s = ", ".join(str(a) for a in addrs)
    return s or "none"


def _link(lab: "Lab", node: str, iface: str):
    """The interface, or a failure the trainee can act on (they may have
    renamed or deleted it): not a grader error."""
    for link in lab[node].links():
        if link.name == iface:
            return link
    raise CheckFailed(f"{node} has no interface {iface} any more "
                      f"(it has: {_fmt(x.name for x in lab[node].links() if x.kind != 'loopback')})")


def _gateways(lab: "Lab", via: str) -> set[str]:
    """via as gateway addresses: a literal, or "router:iface" meaning that
    interface's link-local address (how RAs and link-local routes name it)."""
    if _is_addr(via):
        return {str(ipaddress.ip_address(via.split("%")[0]))}
    rnode, _, rif = via.partition(":")
    return {a.address for a in lab[rnode].addresses(rif or None, 6) if a.scope == "link"}


def global_address(lab: "Lab", target: str, family: int = 6) -> str:
    """The address a target names (see module doc)."""
    try:
        ipaddress.ip_address(target.split("%")[0])
        return target
    except ValueError:
        pass
    node, _, iface = target.partition(":")
    addrs = [a for a in lab[node].addresses(iface or None, family)
             if a.scope == "global" and not a.tentative and not a.dadfailed]
    if not addrs:
        where = f"{node}:{iface}" if iface else node
        raise CheckFailed(f"{where} has no usable global IPv{family} address "
                          f"(addresses: {_fmt(a.cidr for a in lab[node].addresses(iface or None, family))})")
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
    desc = f"{where} has {net.network_address}" if net.num_addresses == 1 else \
        f"{where} has an address in {net}"
    if flags:
        desc += f" ({', '.join(flags)})"

    def fn(lab: "Lab") -> str:
        addrs = lab[node].addresses(iface, fam)
        inside = [a for a in addrs if ipaddress.ip_address(a.address) in net]
        if not inside:
            raise CheckFailed(f"{where} has no address in {net} "
                              f"(it has: {_fmt(a.cidr for a in addrs if a.scope != 'host')})")
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
            why.append(f"prefix length /{a.prefix_len}, expected /{prefix_len}")
        if bad:
            why.append("it is " + " and ".join(bad))
        if missing:
            why.append("it lacks " + ", ".join(missing))
        msg = f"{where} has {a.cidr} but {'; '.join(why) or 'it does not match'}"
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
            raise (CheckFailed if final else CheckPending)(f"{where} has " + ", ".join(
                f"{a.cidr} on {a.ifname} ({'duplicate: DAD failed' if a.dadfailed else 'still tentative'})"
                for a in bad))
        return "no tentative or duplicate address"
    return Check(f"{where} has no tentative or duplicate address", fn, within=within,
                 retry="pending")


def link_local(node: str, iface: str, *, eui64: Optional[bool] = None) -> Check:
    """iface has exactly one usable fe80::/64 address; eui64=True/False
    also checks how its interface identifier was formed."""
    def fn(lab: "Lab") -> str:
        n = lab[node]
        ll = [a for a in n.addresses(iface, 6) if a.scope == "link"]
        if len(ll) != 1:
            raise CheckFailed(f"{node}:{iface} has {len(ll)} link-local addresses ({_fmt(a.cidr for a in ll)})")
        a = ll[0]
        if a.dadfailed:
            raise CheckFailed(f"{node}:{iface} link-local {a.cidr} is dadfailed")
        if a.tentative:
            raise CheckPending(f"{node}:{iface} link-local {a.cidr} is tentative")
        if eui64 is not None:
            mac = _link(lab, node, iface).mac
            is_eui = a.address == str(eui64_address("fe80::", mac))
            if is_eui != eui64:
                kind = "EUI-64 (from the MAC)" if is_eui else "not EUI-64"
                raise CheckFailed(f"{node}:{iface} link-local {a.address} is {kind}")
        return a.cidr
    return Check(f"{node}:{iface} has one link-local address", fn, within=3.0, retry="pending")


def eui64_address(prefix: str, mac: str) -> ipaddress.IPv6Address:
    b = bytearray(int(x, 16) for x in mac.split(":"))
    iid = bytes([b[0] ^ 0x02, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    net = ipaddress.IPv6Network(prefix + "/64" if "/" not in prefix else prefix, strict=False)
    return ipaddress.IPv6Address(int(net.network_address) | int.from_bytes(iid, "big"))


def default_route(node: str, *, via: Optional[str] = None, protocol: Optional[str] = None,
                  iface: Optional[str] = None, family: int = 6, within: float = 0.0) -> Check:
    """node has a default route; via may be an address or "router:iface"
    (meaning that interface's link-local address, as RAs install it)."""
    desc = f"{node} has a default route" + (f" via {via}" if via else "") + \
        (f" learned from {protocol}" if protocol else "")

    def fn(lab: "Lab") -> str:
        routes = [r for r in lab[node].routes(family) if r.dst.endswith("/0")]
        if not routes:
            raise CheckFailed(f"{node} has no default route")
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
        seen = "; ".join(f"via {_fmt(nh.gateway or 'direct' for nh in r.nexthops)} proto {r.protocol}"
                         for r in routes)
        raise CheckFailed(f"{node}'s default route is not the expected one (it has: {seen})")
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
            raise CheckFailed(f"{node} has no route to {want}")
        want_gw = _gateways(lab, via) if via else None
        for r in match:
            gws = {nh.gateway for nh in r.nexthops}
            if want_gw is not None and not (gws & want_gw):
                continue
            if protocol and r.protocol != protocol:
                continue
            return f"{want} via {_fmt(gws)} proto {r.protocol}"
        r = match[0]
        raise CheckFailed(f"{node}'s route to {want} goes via "
                          f"{_fmt(nh.gateway or 'direct' for nh in r.nexthops)} (proto {r.protocol})")
    return Check(f"{node} has a route to {want}" + (f" via {via}" if via else ""), fn, within=within)


def sysctl_equals(node: str, key: str, value: Union[str, int]) -> Check:
    def fn(lab: "Lab") -> str:
        got = lab[node].sysctl(key)
        if got != str(value):
            raise CheckFailed(f"{node}: {key} is {got}, expected {value}")
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
            raise CheckFailed(f"{node} has no neighbour entry for {addr}")
        e = entries[0]
        if e.state not in states:
            # Being resolved right now: the answer is on its way (or not).
            kind = CheckPending if e.state in ("INCOMPLETE", "DELAY", "PROBE") else CheckFailed
            raise kind(f"{node}'s neighbour entry for {addr} is {e.state}")
        if lladdr_of:
            rn, _, ri = lladdr_of.partition(":")
            mac = _link(lab, rn, ri).mac
            if e.lladdr != mac:
                raise CheckFailed(f"{node} maps {addr} to {e.lladdr}, but {lladdr_of} is {mac}")
        return f"{addr} lladdr {e.lladdr} {e.state}"
    return Check(f"{node} knows its neighbour {address}", fn, within=2.0, retry="pending")


def _target_ll_or_global(lab: "Lab", target: str) -> str:
    node, _, iface = target.partition(":")
    ll = [a.address for a in lab[node].addresses(iface or None, 6) if a.scope == "link"]
    return ll[0] if ll else global_address(lab, target)


def link_up(node: str, iface: str, *, mtu: Optional[int] = None) -> Check:
    def fn(lab: "Lab") -> str:
        link = _link(lab, node, iface)
        if not link.up:
            raise CheckFailed(f"{node}:{iface} is down (ip link set {iface} up)")
        if mtu is not None and link.mtu != mtu:
            raise CheckFailed(f"{node}:{iface} has MTU {link.mtu}, expected {mtu}")
        return f"{iface} up, mtu {link.mtu}"
    return Check(f"{node}:{iface} is up" + (f" with MTU {mtu}" if mtu else ""), fn)


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
            raise RuntimeError(f"{program} is not installed on this machine")
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
                return f"{program} is running (pid {p.host_pid} on the host)"
            if p.exe_path and os.path.basename(p.exe_path.removesuffix(" (deleted)")) == program:
                impostor = p.host_pid
        if stopped is not None:
            raise CheckFailed(f"{program} on {node} is not running: its state is {stopped.state} "
                              "(stopped or exited)")
        if impostor:
            raise CheckFailed(f"a process called {program} runs on {node}, but it is not {path}")
        raise CheckFailed(f"{program} is not running on {node}")
    return Check(f"{program} runs on {node}", fn)


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
    return Check(f"{description} (trusts {program})", fn)


# ----------------------------------------------------------------- probes

def reachable(src: str, dst: str, *, count: int = 1, timeout: float = 1.0,
              iface: Optional[str] = None, size: int = 56, within: float = 0.0) -> Check:
    """src gets an echo reply from dst (a real ICMPv6/ICMP probe)."""
    def fn(lab: "Lab") -> str:
        addr = global_address(lab, dst)
        r = lab[src].ping(addr, count=count, timeout=timeout, iface=iface, size=size)
        if r.received:
            return f"{r.received}/{r.sent} replies from {addr}, {r.replies[0].rtt_ms:.2f} ms"
        errs = "; ".join(f"{e.detail} from {e.source or 'local stack'}" for e in r.errors)
        raise CheckFailed(f"{src} cannot reach {dst} ({addr}): "
                          + (errs or f"no reply within {timeout:g} s"))
    return Check(f"{src} reaches {dst}", fn, within=within)


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
            raise CheckFailed(f"the probe could not leave {src} ({local[0].detail}): "
                              f"{src} must work for this check")
        if r.received:
            raise CheckFailed(f"{src} still reaches {dst} ({addr})")
        return "no reply" + (f" ({r.errors[0].detail})" if r.errors else "")
    return Check(f"{src} does not reach {dst}", fn)


def tcp_service(src: str, dst: str, port: int, *, timeout: float = 2.0,
                expect: Optional[bytes] = None, send: str = "", within: float = 0.0) -> Check:
    def fn(lab: "Lab") -> str:
        addr = global_address(lab, dst)
        r = lab[src].tcp_connect(addr, port, timeout=timeout, send=send)
        if not r.ok:
            raise CheckFailed(f"{src} cannot connect to [{addr}]:{port}: {r.error}")
        if expect is not None and expect not in r.received:
            raise CheckFailed(f"[{addr}]:{port} answered {r.received[:60]!r}, "
                              f"which lacks {expect!r}")
        return f"connected to [{addr}]:{port} in {r.ms:.1f} ms"
    return Check(f"{src} connects to {dst} port {port}/tcp", fn, within=within)


def dns_answers(src: str, server: str, name: str, qtype: str = "AAAA", *,
                expect: Union[str, Sequence[str], None] = None, timeout: float = 2.0,
                within: float = 0.0) -> Check:
    """server answers name/qtype for src, with expect among the answers."""
    wanted = [expect] if isinstance(expect, str) else list(expect or [])

    def fn(lab: "Lab") -> str:
        addr = global_address(lab, server)
        r = lab[src].dns_query(addr, name, qtype, timeout=timeout)
        if not r.answered:
            raise CheckFailed(f"no DNS answer from {server} ({addr}) for {name} {qtype}: {r.error}")
        if r.rcode != "NOERROR":
            raise CheckFailed(f"{server} answered {r.rcode} for {name} {qtype}")
        data = [a.data for a in r.answers if a.type == qtype]
        if not data:
            raise CheckFailed(f"{server} has no {qtype} record for {name} "
                              f"(answers: {_fmt(f'{a.type} {a.data}' for a in r.answers)})")
        norm = {_norm(d) for d in data}
        missing = [w for w in wanted if _norm(w) not in norm]
        if missing:
            raise CheckFailed(f"{server} answers {name} {qtype} with {_fmt(data)}, not {_fmt(missing)}")
        return f"{name} {qtype} {_fmt(data)}"
    return Check(f"{server} answers {name} {qtype}" + (f" = {_fmt(wanted)}" if wanted else ""),
                 fn, within=within)


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
        parts.append("default router" if default_router else "not a default router")
    parts += [f"RDNSS {r}" for r in rdnss]
    duration = within

    def fn(lab: "Lab") -> str:
        _link(lab, node, iface)
        try:
            ras = lab[node].router_adverts(iface, solicit=True, duration=duration)
        except Error as e:  # e.g. the trainee took the interface down
            raise CheckFailed(f"cannot listen on {node}:{iface}: {e}") from None
        if not ras:
            raise CheckFailed(f"no Router Advertisement on {node}:{iface} within {duration:g} s "
                              "(is a router running radvd on this link, with AdvSendAdvert on?)")
        ra = ras[0]
        problems = [f"hop limit {ra.hop_limit} (must be 255)"] if ra.hop_limit != 255 else []
        problems += ra_problems(ra, want, managed=managed, other=other, autonomous=autonomous,
                                default_router=default_router, rdnss=rdnss)
        have = {ipaddress.ip_network(p.prefix, strict=False): p for p in ra.prefixes}
        if problems:
            raise CheckFailed(f"RA from {ra.source} on {node}:{iface}: " + "; ".join(problems))
        return (f"RA from {ra.source}: M={int(ra.managed)} O={int(ra.other)} "
                f"lifetime {ra.router_lifetime} prefixes {_fmt(have)}")
    return Check(f"Router Advertisement on {node}:{iface}" + (f" ({', '.join(parts)})" if parts else ""),
                 fn)


# ---------------------------------------------------------------- answers

def sysctl_in(node: str, key: str, values: Sequence[Union[str, int]]) -> Check:
    allowed = [str(v) for v in values]

    def fn(lab: "Lab") -> str:
        got = lab[node].sysctl(key)
        if got not in allowed:
            raise CheckFailed(f"{node}: {key} is {got}, expected one of {', '.join(allowed)}")
        return f"{key} = {got}"
    return Check(f"{node}: {key} in {{{', '.join(allowed)}}}", fn)


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
            raise CheckFailed(f"{node}:{iface} has no link-local address")
        group = solicited_node_address(ll[0])
        if group not in joined_groups(lab, node, iface):
            raise CheckFailed(f"{node}:{iface} has not joined {group}")
        return group
    return expected


# An answer is one short line; anything bigger is not an answer.
ANSWER_MAX_BYTES = 4096


_ANSWER_TEXT = re.compile(r"[0-9A-Za-z:./%_-]{1,64}")


def _shown(word: str) -> str:
    """The trainee's answer as it may be echoed back: a short word of the
    characters addresses and names use, so that whatever else a file turned
    out to hold (a hash, a key) is never replayed into a report."""
    return word if _ANSWER_TEXT.fullmatch(word) else "something else"


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
                raise CheckFailed(f"no answer yet: write {what} to {path} on {node}") from None
            if e.kind in ("process_gone", "io"):
                raise  # the grader could not look: an error, never a pass
            reason = str(e).split(": ", 1)[-1]
            raise CheckFailed(f"{path} on {node} cannot be graded: {reason}; "
                              f"write {what} into it as a plain text file") from None
        got = data.decode("utf-8", "replace").strip()
        if not got:
            raise CheckFailed(f"{path} on {node} is empty: write {what} there")
        first = got.split()[0]
        if _norm(first) != _norm(want):
            raise CheckFailed(f"{path} on {node} says {_shown(first)}, which is not {what}")
        return f"{path}: {first}"
    return Check(f"{node}:{path} holds {what}", fn)
