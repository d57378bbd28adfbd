"""Address plans (docs/grading.md, "Address plans"): the checks that grade
the plan a trainee writes in a node and the interfaces deployed from it,
plus, re-exported from planfile.py, the format, its strict parser and
the rules (`parse_plan`, `problems`, `Plan`, `Brief`, `Problem`).

Later labs and the capstone read the same file: `read_plan(lab, node,
path)` gives the parsed plan, and `Plan.find("sites.hanoi.networks.staff")`
the prefix a network should have. The file is read through the core's
outside view of node files, without following links, at most MAX_BYTES:
a link to a host file, a FIFO or a huge file is a failed check that says
so, never a read, a hang or a crash.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import TYPE_CHECKING

from .._core import NodeFileError
from ..i18n import _, language
from .check import Check, CheckFailed, CheckPending
from .planfile import (MAX_BYTES, MAX_DEPTH, MAX_SHOWN, Brief, Entry, Plan, Problem,  # noqa: F401
                       Site, parse_plan, problems)

if TYPE_CHECKING:
    from ..lab import Lab

__all__ = ["MAX_BYTES", "MAX_DEPTH", "Brief", "Entry", "Plan", "Problem", "Site", "loopback_deployed",
           "loopback_reachable", "network_deployed", "parse_plan", "plan_has_room", "plan_is_complete",
           "plan_is_sound", "problems", "read_plan"]


# -- reading a node's plan ---------------------------------------------------

@functools.lru_cache(maxsize=32)
def _parsed(data: bytes, source: str, lang: str) -> Plan:
    # Every check of a grade reads the same file: parse it once per
    # content (and language, since problems are translated text).
    return parse_plan(data, source)


def read_plan(lab: "Lab", node: str, path: str) -> Plan:
    """The plan at `path` in node, read from outside (Node.read_file, links
    not followed, at most MAX_BYTES). CheckFailed when there is no plan
    file to grade; a grader error (NodeFileError) when the node could not
    be looked at."""
    try:
        data = lab[node].read_file(path, max_bytes=MAX_BYTES, follow_symlinks=False)
    except NodeFileError as e:
        if e.kind in ("process_gone", "io"):
            raise
        reason = {
            "not_found": _("no plan yet: write your address plan to {path} on {node}"),
            "not_regular": _("{path} on {node} cannot be graded: it is not a regular file (a FIFO, "
                             "a device or a folder); write the plan into it as a plain text file"),
            "refused": _("{path} on {node} cannot be graded: a symbolic link is on the path, and "
                         "links are not followed; write the plan into it as a plain text file"),
            "too_large": _("{path} on {node} cannot be graded: it is larger than {limit} KiB, and a "
                           "plan is a short text file"),
        }.get(e.kind, _("{path} on {node} cannot be graded: {why}"))
        raise CheckFailed(reason.format(path=path, node=node, limit=MAX_BYTES // 1024,
                                        why=str(e).split(": ", 1)[-1])) from None
    return _parsed(bytes(data), path, language())


def _report(plan: Plan, found: list[Problem], node: str) -> str:
    lines = [p.render(plan.source) for p in found[:MAX_SHOWN]]
    if len(found) > MAX_SHOWN:
        lines.append(_("… and {count} more").format(count=len(found) - MAX_SHOWN))
    if len(found) == 1:
        return lines[0]
    return _("{count} problems in {path} on {node}:").format(
        count=len(found), path=plan.source, node=node) + "\n  " + "\n  ".join(lines)


def _plan_check(node: str, path: str, brief: Brief, kinds: tuple[str, ...], description: str,
                passed: str) -> Check:
    def fn(lab: "Lab") -> str:
        plan = read_plan(lab, node, path)
        found = problems(plan, brief)
        fatal = [p for p in found if p.kind == "file"]
        mine = fatal or [p for p in found if p.kind in kinds]
        if mine:
            raise CheckFailed(_report(plan, mine, node))
        return passed.format(path=path)
    return Check(description, fn)


def plan_is_sound(node: str, path: str, brief: Brief) -> Check:
    """The plan follows the format and its prefixes are sound: the
    allocation the brief gives, every prefix inside it, sites on nibble
    boundaries, one /64 per network inside its site, /128 loopbacks, /127
    or /64 links, nothing overlapping."""
    return _plan_check(node, path, brief, ("format", "prefix", "overlap"),
                       _("{node}:{path} is a well-formed plan of {allocation} with no overlap").format(
                           node=node, path=path, allocation=brief.allocation),
                       _("{path}: every prefix sound, none overlapping"))


def plan_is_complete(node: str, path: str, brief: Brief) -> Check:
    """Every site, network, loopback and link the brief asks for is in the
    plan, with a prefix."""
    return _plan_check(node, path, brief, ("missing",),
                       _("{node}:{path} numbers every site, network, loopback and link of the "
                         "brief").format(node=node, path=path),
                       _("{path}: everything the brief asks for is numbered"))


def plan_has_room(node: str, path: str, brief: Brief) -> Check:
    """Each site's prefix leaves room for brief.room more /64 networks."""
    return _plan_check(node, path, brief, ("room",),
                       _("{node}:{path}: each site has room for {room} more networks").format(
                           node=node, path=path, room=brief.room),
                       _("{path}: every site has room to grow"))


def _planned(lab: "Lab", node: str, path: str, key: str) -> tuple[Plan, Entry]:
    """The entry `key` of node's plan, usable: else CheckFailed (the plan
    step says what is wrong with it)."""
    plan = read_plan(lab, node, path)
    entry = plan.find(key)
    if entry is None or entry.prefix is None or any(p.kind == "file" for p in plan.problems):
        raise CheckFailed(_("{path} on {node} has no usable prefix for {key}: the plan comes "
                            "first").format(path=path, node=node, key=key))
    return plan, entry


def network_deployed(node: str, iface: str, path: str, key: str) -> Check:
    """node:iface carries an address of the plan's /64 `key` with prefix
    length 64, no tentative or failed one, and no other global address (a
    typo deployed beside the right one is still a typo)."""
    def fn(lab: "Lab") -> str:
        plan, entry = _planned(lab, node, path, key)
        where = f"{plan.source}:{entry.line}"
        addrs = [a for a in lab[node].addresses(iface, 6) if a.scope == "global"]
        inside = [a for a in addrs if ipaddress.ip_address(a.address) in entry.prefix
                  and a.prefix_len == entry.prefix.prefixlen and not a.dadfailed]
        good = [a for a in inside if not a.tentative]
        stray = [a for a in addrs if ipaddress.ip_address(a.address) not in entry.prefix]
        if inside and not good and not stray:
            raise CheckPending(_("{node}:{iface} has {address}, still in duplicate address "
                                 "detection").format(node=node, iface=iface, address=inside[0].cidr))
        if stray or not good:
            raise CheckFailed(_("{node}:{iface} has {addresses}, but the plan gives it {key} "
                                "{prefix} ({where})").format(
                                    node=node, iface=iface, key=key, prefix=entry.prefix, where=where,
                                    addresses=", ".join(a.cidr for a in addrs) or _("no global address")))
        return ", ".join(a.cidr for a in good)
    return Check(_("{node}:{iface} carries {key} of {path}").format(node=node, iface=iface, key=key,
                                                                     path=path), fn,
                 within=3.0, retry="pending")


def loopback_deployed(node: str, path: str, name: str, iface: str = "lo") -> Check:
    """node's loopback interface has exactly the plan's address for
    loopbacks.name, as a /128."""
    key = f"loopbacks.{name}"

    def fn(lab: "Lab") -> str:
        plan, entry = _planned(lab, node, path, key)
        want = entry.prefix.network_address
        addrs = [a for a in lab[node].addresses(iface, 6) if a.scope == "global"]
        for a in addrs:
            if ipaddress.ip_address(a.address) == want and a.prefix_len == 128:
                return a.cidr
        raise CheckFailed(_("{node}:{iface} has {addresses}, but the plan gives it {address}/128 "
                            "({where})").format(node=node, iface=iface, address=want,
                                                where=f"{plan.source}:{entry.line}",
                                                addresses=", ".join(a.cidr for a in addrs)
                                                or _("no global address")))
    return Check(_("{node}:{iface} carries {key} of {path}").format(node=node, iface=iface, key=key,
                                                                     path=path), fn)


def loopback_reachable(src: str, node: str, path: str, name: str, *, timeout: float = 0.5) -> Check:
    """The grader's own ping from src (a provider node, such as the ISP)
    gets an answer from the plan's loopback address of `name`, and the
    address is node's: the loopback is deployed and routed, not just
    written down."""
    key = f"loopbacks.{name}"

    def fn(lab: "Lab") -> str:
        _plan, entry = _planned(lab, node, path, key)
        addr = str(entry.prefix.network_address)
        if addr not in {a.address for a in lab[node].addresses(family=6)}:
            raise CheckFailed(_("{addr} ({key}) is not an address of {node}").format(
                addr=addr, key=key, node=node))
        r = lab[src].ping(addr, timeout=timeout)
        if not r.received:
            why = "; ".join(f"{e.detail} from {e.source}" for e in r.errors) or \
                _("no reply within {seconds} s").format(seconds=f"{timeout:g}")
            raise CheckFailed(_("{src} cannot reach {node}'s loopback {addr}: {why}").format(
                src=src, node=node, addr=addr, why=why))
        return _("{src} reaches {addr}").format(src=src, addr=addr)
    return Check(_("{src} reaches {node}'s loopback from {path}").format(src=src, node=node, path=path), fn)
