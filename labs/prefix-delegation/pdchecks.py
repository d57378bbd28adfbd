"""Checks of this lab that the check library does not have (yet): what a
DHCPv6 server *holds* (Kea's lease file, read through the outside view of
the ISP, a provider node whose files the trainee cannot touch) and what
follows from it (the ISP's route, the LANs numbered from the delegation,
the RAs carrying them).

Why the lease file may be trusted: the trainee cannot log into the ISP, so
its Kea and its files are the lab's. The only way to put a lease there is
to ask Kea for one over DHCPv6, which is the skill graded. The lease is
tied to the CPE by the MAC Kea recorded (from the client's DUID or
link-local address) or by the ISP's route via the CPE's own link-local
address; only the CPE and the ISP are on the WAN LAN.

Messages are translated with the lab's catalogue: each factory takes the
lab's translator `_`.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from v6lab.errors import NodeFileError
from v6lab.grading import Check, CheckFailed, CheckPending, checks as c

if TYPE_CHECKING:
    from v6lab import Lab

LEASE_FILE = "/var/lib/kea/kea-leases6.csv"
IA_PD = "2"          # Kea's lease_type column: 0 IA_NA, 1 IA_TA, 2 IA_PD
Translator = Callable[[str], str]


def read_text(node, path: str, max_bytes: int = 4 << 20) -> str:
    """A file of a node read through the outside view; "" if it does not
    exist yet (a daemon that has not written it)."""
    try:
        return node.read_file(path, max_bytes=max_bytes).decode("utf-8", "replace")
    except NodeFileError as e:
        if e.kind == "not_found":
            return ""
        raise


@dataclass(frozen=True)
class Delegation:
    """One active IA_PD lease as Kea's memfile holds it."""
    prefix: ipaddress.IPv6Network
    duid: str
    hwaddr: str
    iaid: str
    expire: int


def active_delegations(lab: "Lab", isp: str, *, now: float | None = None) -> list[Delegation]:
    """Kea's memfile appends a row for each change of a lease; the last row
    for a prefix is its state. Active: valid lifetime above 0 (0 is how
    Kea writes a deleted lease), state 0 (not declined or reclaimed), not
    expired."""
    now = time.time() if now is None else now
    last: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(io.StringIO(read_text(lab[isp], LEASE_FILE))):
        if row.get("lease_type") == IA_PD and row.get("address"):
            last[f"{row['address']}/{row.get('prefix_len', '')}"] = row
    out = []
    for row in last.values():
        try:
            prefix = ipaddress.IPv6Network(f"{row['address']}/{row['prefix_len']}")
            valid, expire = int(row["valid_lifetime"]), int(row["expire"])
        except (KeyError, ValueError):
            continue  # a row Kea did not finish writing
        if valid > 0 and expire > now and row.get("state", "0") in ("0", ""):
            out.append(Delegation(prefix, row.get("duid", ""), row.get("hwaddr", "").lower(),
                                  row.get("iaid", ""), expire))
    return out


def _link_locals(lab: "Lab", node: str, iface: str) -> set[str]:
    return {a.address for a in lab[node].addresses(iface, 6) if a.scope == "link"}


def _routed_via(lab: "Lab", isp: str, prefix: ipaddress.IPv6Network,
                gateways: set[str]) -> bool:
    for r in lab[isp].routes(6):
        if r.dst != str(prefix):
            continue
        if any(h.gateway in gateways for h in r.nexthops):
            return True
    return False


def delegated_to(lab: "Lab", isp: str, cpe: str, iface: str) -> list[Delegation]:
    """The active delegations the ISP holds for cpe:iface: Kea recorded
    that interface's MAC, or the ISP routes the prefix via its link-local
    address."""
    mac = lab[cpe].link(iface).mac.lower()
    gws = _link_locals(lab, cpe, iface)
    return [d for d in active_delegations(lab, isp)
            if d.hwaddr == mac or _routed_via(lab, isp, d.prefix, gws)]


def _fmt(items) -> str:
    return ", ".join(str(x) for x in items) or "-"


def _wanted(lab: "Lab", isp: str, cpe: str, iface: str, length: int,
            _: Translator) -> list[Delegation]:
    """The delegations of `length` for the CPE, or CheckFailed saying
    what the ISP holds instead."""
    mine = delegated_to(lab, isp, cpe, iface)
    good = [d for d in mine if d.prefix.prefixlen == length]
    if good:
        return good
    if mine:
        raise CheckFailed(_("the ISP delegated {prefixes} to {cpe}, not a /{length}: "
                            "ask for a /{length} (the prefix length in the request)").format(
                                prefixes=_fmt(d.prefix for d in mine), cpe=cpe, length=length))
    raise CheckFailed(_("the ISP holds no delegated prefix for {cpe} (no IA_PD lease in its "
                        "DHCPv6 server's lease file): is a DHCPv6 client on {cpe}:{iface} "
                        "asking for a prefix?").format(cpe=cpe, iface=iface))


def prefix_delegated(isp: str, cpe: str, iface: str, length: int, _: Translator) -> Check:
    """The ISP's DHCPv6 server holds an active IA_PD lease of `length` for
    the CPE (read from the ISP's lease file, outside view)."""
    def fn(lab: "Lab") -> str:
        good = _wanted(lab, isp, cpe, iface, length, _)
        return _("the ISP delegated {prefixes} to {cpe} (its DHCPv6 lease file)").format(
            prefixes=_fmt(d.prefix for d in good), cpe=cpe)
    return Check(_("the ISP delegates a /{length} to {cpe}").format(length=length, cpe=cpe), fn)


def isp_routes_delegation(isp: str, cpe: str, iface: str, length: int,
                          _: Translator) -> Check:
    """The ISP's routing table (netlink, from outside) sends the delegated
    prefix to the CPE's link-local address on the WAN: without that route,
    nothing numbered from the prefix is reachable from the Internet."""
    def fn(lab: "Lab") -> str:
        good = _wanted(lab, isp, cpe, iface, length, _)
        gws = _link_locals(lab, cpe, iface)
        for d in good:
            if _routed_via(lab, isp, d.prefix, gws):
                return _("the ISP routes {prefix} via {cpe}:{iface}").format(
                    prefix=d.prefix, cpe=cpe, iface=iface)
        routes = [f"{r.dst} via {_fmt(h.gateway for h in r.nexthops)}"
                  for r in lab[isp].routes(6) if r.dst != "::/0" and any(
                      ipaddress.ip_network(r.dst).overlaps(d.prefix) for d in good)]
        raise CheckFailed(_("the ISP has no route to {prefix} via {cpe}:{iface}'s link-local "
                            "address ({gateways}); its routes there: {routes}").format(
                                prefix=good[0].prefix, cpe=cpe, iface=iface,
                                gateways=_fmt(sorted(gws)), routes=_fmt(routes)))
    return Check(_("the ISP routes the delegated prefix to {cpe}").format(cpe=cpe), fn)


def lan_prefix(lab: "Lab", isp: str, cpe: str, wan: str, iface: str, length: int,
               _: Translator) -> ipaddress.IPv6Network:
    """The /64 of cpe:iface's global address inside a delegation of
    `length`, or CheckFailed naming what the interface has instead."""
    good = _wanted(lab, isp, cpe, wan, length, _)
    addrs = [a for a in lab[cpe].addresses(iface, 6) if a.scope == "global"]
    inside = [a for a in addrs if not a.tentative and not a.dadfailed and a.prefix_len == 64
              and any(ipaddress.ip_address(a.address) in d.prefix for d in good)]
    if inside:
        return ipaddress.IPv6Network(f"{inside[0].address}/64", strict=False)
    if any(a.tentative and any(ipaddress.ip_address(a.address) in d.prefix for d in good)
           for a in addrs):
        raise CheckPending(_("{cpe}:{iface}'s address from the delegation is still tentative "
                             "(duplicate address detection)").format(cpe=cpe, iface=iface))
    if not addrs:
        raise CheckFailed(_("{cpe}:{iface} has no global address: give it a /64 from the "
                            "delegated prefix {prefix}").format(
                                cpe=cpe, iface=iface, prefix=good[0].prefix))
    raise CheckFailed(_("{cpe}:{iface} has {addresses}, which is not a /64 inside the "
                        "delegated prefix {prefix}").format(
                            cpe=cpe, iface=iface, addresses=_fmt(a.cidr for a in addrs),
                            prefix=_fmt(d.prefix for d in good)))


def lan_numbered(isp: str, cpe: str, wan: str, iface: str, others: Sequence[str], length: int,
                 _: Translator) -> Check:
    """cpe:iface has a /64 inside the delegation, and not the /64 of any
    of the `others` interfaces: each LAN needs a prefix of its own."""
    def fn(lab: "Lab") -> str:
        mine = lan_prefix(lab, isp, cpe, wan, iface, length, _)
        for other in others:
            if any(a.scope == "global" and a.prefix_len == 64 and
                   ipaddress.ip_address(a.address) in mine
                   for a in lab[cpe].addresses(other, 6)):
                raise CheckFailed(_("{cpe}:{iface} and {cpe}:{other} are both numbered from "
                                    "{prefix}: each LAN needs a /64 of its own").format(
                                        cpe=cpe, iface=iface, other=other, prefix=mine))
        return _("{cpe}:{iface} is numbered from {prefix}").format(
            cpe=cpe, iface=iface, prefix=mine)
    return Check(_("{cpe}:{iface} has a /64 from the delegated prefix").format(
        cpe=cpe, iface=iface), fn)


def advertises_lan_prefix(isp: str, cpe: str, wan: str, iface: str, length: int,
                          _: Translator) -> Check:
    """The library's router_advertises (the grader solicits; the answer
    must come in on cpe:iface's switch port) for the /64 the interface is
    numbered from, which is known only once the ISP has delegated."""
    def fn(lab: "Lab") -> str:
        p = lan_prefix(lab, isp, cpe, wan, iface, length, _)
        try:
            return c.router_advertises(cpe, iface, prefixes=[str(p)], autonomous=True,
                                       default_router=True).fn(lab) or ""
        except CheckFailed as e:
            # Says which /64 was expected: the library's message names the
            # prefix it was given, not why that one.
            raise CheckFailed(_("{cpe}:{iface} does not advertise its own /64 {prefix}: "
                                "{reason}").format(cpe=cpe, iface=iface, prefix=p,
                                                   reason=e)) from None
    return Check(_("{cpe} advertises {iface}'s /64 from the delegation (seen on its switch "
                   "port)").format(cpe=cpe, iface=iface), fn)
