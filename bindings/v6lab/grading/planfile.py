"""Address plans, the pure part: the documented YAML format, its strict
parser and what can be wrong with a plan (docs/grading.md, "Address
plans"). The checks that read a node's plan are in plan.py, which
re-exports all of this as v6lab.grading.plan: use that.

A plan is what an enterprise writes when its ISP hands it a prefix: which
part of the /48 each site gets, which /64 each network, the routers'
loopbacks and the point-to-point links. Lab 4 grades one; later labs and
the capstone read the same file to know what the network should look like,
so the format and the parser live here rather than in the lab:

    allocation: 2001:db8:4c00::/48          # what the ISP gave
    sites:
      hanoi:
        prefix: 2001:db8:4c00:100::/56      # nibble-aligned, inside the allocation
        networks:
          staff: 2001:db8:4c00:110::/64     # one /64 per LAN, inside its site
    loopbacks:
      r1: 2001:db8:4c00::1/128              # one address
    links:
      r1-r2: 2001:db8:4c00:1::/127          # a /127 (RFC 6164) or a /64

The file is the trainee's, so the parser trusts nothing in it: the YAML is
composed (never constructed: no tag can run anything), anchors and aliases
are refused (no alias bomb), nesting and size are bounded, duplicate keys
are an error, and every problem of a plan is reported at once with the line
it is on. A node's plan is read through the core's outside view of node
files, without following links, so a link to a host file, a FIFO or a huge
file is a failed check that says so, never a read, a hang or a crash.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Optional, Sequence, Union

import yaml

from ..i18n import _

Net = ipaddress.IPv6Network

# A plan is a short text file: a few hundred lines at most.
MAX_BYTES = 65536
# root -> sites -> site -> networks -> network is 5 levels.
MAX_DEPTH = 6
# At most this many problems are listed in one message.
MAX_SHOWN = 20
KINDS = ("allocation", "site", "network", "loopback", "link")
TOP_KEYS = ("allocation", "sites", "loopbacks", "links")
SITE_KEYS = ("prefix", "networks")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_NULL = "tag:yaml.org,2002:null"
# The tags YAML's resolver gives plain scalars and collections: anything
# else was written by hand (!!python/object, !foo) and is not the format.
_PLAIN_TAGS = {"tag:yaml.org,2002:" + t for t in
               ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a plan, on a line of its file (1-based; 0 when
    the file as a whole is wrong). `kind` sorts problems into the checks
    that report them: "file" (cannot be read as a plan), "format",
    "prefix" (size, alignment, inside the allocation), "overlap",
    "missing" (the brief asks for it) and "room"."""

    line: int
    kind: str
    text: str

    def render(self, source: str) -> str:
        return f"{source}:{self.line}: {self.text}" if self.line else f"{source}: {self.text}"


@dataclass(frozen=True)
class Entry:
    """One prefix of the plan. `key` is its dotted path in the file
    ("sites.hanoi.networks.staff"); `prefix` is None when it is missing or
    unreadable (a problem says why)."""

    key: str
    kind: str
    name: str
    line: int
    text: str
    prefix: Optional[Net]
    site: str = ""


@dataclass
class Site:
    name: str
    line: int
    entry: Entry
    networks: dict[str, Entry] = field(default_factory=dict)


@dataclass
class Plan:
    """A parsed plan. It is always returned, even for a file that is not a
    plan at all: then it is empty and `problems` says why."""

    source: str
    allocation: Optional[Entry] = None
    sites: dict[str, Site] = field(default_factory=dict)
    loopbacks: dict[str, Entry] = field(default_factory=dict)
    links: dict[str, Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # The line of each top-level key ("sites": 3), for problems about what
    # a section lacks.
    lines: dict[str, int] = field(default_factory=dict)

    def entries(self) -> Iterator[Entry]:
        """Every prefix but the allocation, in file order."""
        for s in self.sites.values():
            yield s.entry
            yield from s.networks.values()
        yield from self.loopbacks.values()
        yield from self.links.values()

    def network(self, site: str, name: str) -> Optional[Entry]:
        s = self.sites.get(site)
        return s.networks.get(name) if s else None

    def find(self, key: str) -> Optional[Entry]:
        return next((e for e in self.entries() if e.key == key), None)


@dataclass(frozen=True)
class Brief:
    """What the company asked for: the allocation the ISP gave, the sites
    and the networks each must have, the loopbacks and links, and how many
    more /64 networks each site must leave room for."""

    allocation: str
    sites: Mapping[str, Sequence[str]]
    loopbacks: Sequence[str] = ()
    links: Sequence[str] = ()
    room: int = 0


# -- reading YAML ---------------------------------------------------------

class _Refused(Exception):
    def __init__(self, line: int, text: str):
        super().__init__(text)
        self.line, self.text = line, text


class _StrictLoader(yaml.SafeLoader):
    """Composes nodes only (the caller never constructs Python objects),
    refuses anchors and aliases, and bounds the nesting before the
    recursive composer descends."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        ev = self.peek_event()
        line = ev.start_mark.line + 1
        if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
            raise _Refused(line, _("anchors and aliases (&{name}, *{name}) are not part of the plan "
                                   "format: write each prefix out").format(name=ev.anchor))
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(line, _("nested deeper than a plan is ({depth} levels)").format(
                    depth=MAX_DEPTH))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _compose(text: str) -> yaml.Node:
    loader = _StrictLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _yaml_problem(e: yaml.YAMLError, text: str) -> Problem:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    if mark is not None:
        line = mark.line + 1
    elif isinstance(getattr(e, "position", None), int):
        line = text.count("\n", 0, e.position) + 1   # ReaderError: a character YAML refuses
    else:
        line = 0
    what = getattr(e, "problem", None) or str(e).splitlines()[0]
    context = getattr(e, "context", None)
    if context:
        what = f"{context}, {what}"
    text = _("not valid YAML: {problem}").format(problem=what)
    if "mapping values are not allowed" in what:
        # The usual cause in a plan: an address that ends with "::" reads
        # as a key. Say so, in the trainee's language.
        text += " " + _("(a value that ends with ':' must be in quotes: '2001:db8:1::')")
    return Problem(line, "file", text)


# -- parsing ----------------------------------------------------------------

class _Parser:
    """Walks the composed YAML and builds a Plan, collecting problems."""

    def __init__(self, source: str):
        self.plan = Plan(source)

    def problem(self, node_or_line: Union[yaml.Node, int], kind: str, text: str) -> None:
        line = node_or_line if isinstance(node_or_line, int) else node_or_line.start_mark.line + 1
        self.plan.problems.append(Problem(line, kind, text))

    def mapping(self, node: yaml.Node, key: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key text, key node, value node) of a mapping, with duplicate
        keys and non-scalar keys reported."""
        if _is_null(node):
            return []
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "format", _("{key} must be a list of names with a colon after "
                                           "each (name: value)").format(key=key))
            return []
        out, seen = [], {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode) or k.tag not in _PLAIN_TAGS:
                self.problem(k, "format", _("{key}: a key must be a plain name").format(key=key))
                continue
            if k.value in seen:
                self.problem(k, "format", _("{key} is written twice (first on line {line})").format(
                    key=k.value if key == "plan" else f"{key}.{k.value}", line=seen[k.value]))
                continue
            seen[k.value] = k.start_mark.line + 1
            out.append((k.value, k, v))
        return out

    def name(self, knode: yaml.Node, key: str, name: str) -> bool:
        if _NAME.fullmatch(name):
            return True
        self.problem(knode, "format", _("{key}: '{name}' is not a usable name (letters, digits, "
                                        "'-', '_' and '.', at most 63)").format(key=key, name=name[:64]))
        return False

    def parse(self, root: yaml.Node) -> Plan:
        if not isinstance(root, yaml.MappingNode):
            self.problem(root, "file", _("a plan is a YAML mapping that starts with 'allocation:' "
                                         "(see the format in the comments of the template)"))
            return self.plan
        for key, knode, v in self.mapping(root, "plan"):
            self.plan.lines[key] = knode.start_mark.line + 1
            if key == "allocation":
                self.plan.allocation = self.prefix(v, "allocation", "allocation", "allocation")
            elif key == "sites":
                for name, kn, sv in self.mapping(v, "sites"):
                    if self.name(kn, "sites", name):
                        self.site(name, kn, sv)
            elif key in ("loopbacks", "links"):
                kind = key[:-1]
                target = self.plan.loopbacks if kind == "loopback" else self.plan.links
                for name, kn, ev in self.mapping(v, key):
                    if self.name(kn, key, name):
                        target[name] = self.prefix(ev, f"{key}.{name}", kind, name)
            else:
                self.problem(knode, "format", _("unknown key '{key}' (a plan has: {known})").format(
                    key=key, known=", ".join(TOP_KEYS)))
        if self.plan.allocation is None:
            self.problem(1, "format", _("allocation is missing: write the prefix your ISP gave "
                                        "(allocation: …/48)"))
        return self.plan

    def site(self, name: str, knode: yaml.Node, node: yaml.Node) -> None:
        key = f"sites.{name}"
        entry = None
        site = Site(name, knode.start_mark.line + 1, Entry(key, "site", name, knode.start_mark.line + 1,
                                                           "", None, name))
        for k, kn, v in self.mapping(node, key):
            if k == "prefix":
                entry = self.prefix(v, f"{key}.prefix", "site", name, site=name, key=key)
                site.entry = entry
            elif k == "networks":
                for nname, nkn, nv in self.mapping(v, f"{key}.networks"):
                    if self.name(nkn, f"{key}.networks", nname):
                        site.networks[nname] = self.prefix(nv, f"{key}.networks.{nname}", "network",
                                                           nname, site=name)
            else:
                self.problem(kn, "format", _("{key}: unknown key '{name}' (a site has: {known})").format(
                    key=key, name=k, known=", ".join(SITE_KEYS)))
        if entry is None and (isinstance(node, yaml.MappingNode) or _is_null(node)):
            # (a site written as one value was reported by mapping())
            self.problem(knode, "format",
                         _("{key} has no prefix: write prefix: … under it").format(key=key))
        self.plan.sites[name] = site

    def prefix(self, node: yaml.Node, where: str, kind: str, name: str, *, site: str = "",
               key: str = "") -> Entry:
        """The prefix a scalar holds, or an Entry without one and a problem."""
        key = key or where
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _PLAIN_TAGS:
            self.problem(node, "format", _("{key} must be one prefix written as text, such as "
                                           "2001:db8:1::/64").format(key=where))
            return Entry(key, kind, name, line, "", None, site)
        text = node.value.strip()
        if node.tag == _NULL or not text:
            self.problem(node, "format", _("{key} has no prefix yet").format(key=where))
            return Entry(key, kind, name, line, "", None, site)
        net = self.network(node, where, kind, text)
        return Entry(key, kind, name, line, text, net, site)

    def network(self, node: yaml.Node, where: str, kind: str, text: str) -> Optional[Net]:
        shown = text[:60]
        if "/" not in text and kind != "loopback":
            self.problem(node, "prefix", _(
                "{key}: {text} has no prefix length (write it as …/{length})").format(
                    key=where, text=shown, length=_EXPECTED_LENGTH.get(kind, "64")))
            return None
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            self.problem(node, "prefix",
                         _("{key}: {text} is not an IPv6 prefix").format(key=where, text=shown))
            return None
        if net.version != 6:
            self.problem(node, "prefix", _("{key}: {text} is IPv4, not IPv6").format(key=where, text=shown))
            return None
        if ipaddress.ip_interface(text).ip != net.network_address and kind != "loopback":
            self.problem(node, "prefix", _("{key}: {text} has bits set after /{length}: the prefix "
                                           "is {prefix}").format(key=where, text=shown,
                                                                 length=net.prefixlen, prefix=net))
        return net


_EXPECTED_LENGTH = {"allocation": "48", "site": "56", "network": "64", "loopback": "128",
                    "link": "127"}


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and (node.tag == _NULL or not node.value.strip())


def parse_plan(data: Union[bytes, str], source: str = "plan.yaml") -> Plan:
    """The plan in `data` (a file's bytes or text). Never raises for bad
    input: a file that is not a plan gives an empty Plan whose `problems`
    say why, with the line. `source` names the file in messages."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            return Plan(source, problems=[Problem(0, "file", _too_large())])
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            return Plan(source, problems=[Problem(line, "file", _("not UTF-8 text (byte {offset})").format(
                offset=e.start))])
    if len(data) > MAX_BYTES:
        return Plan(source, problems=[Problem(0, "file", _too_large())])
    try:
        root = _compose(data)
    except _Refused as e:
        return Plan(source, problems=[Problem(e.line, "file", e.text)])
    except yaml.YAMLError as e:
        return Plan(source, problems=[_yaml_problem(e, data)])
    if root is None:
        return Plan(source, problems=[Problem(0, "file", _("the file is empty: write the plan in it"))])
    return _Parser(source).parse(root)


def _too_large() -> str:
    return _("larger than {limit} KiB: a plan is a short text file").format(limit=MAX_BYTES // 1024)


# -- what is wrong with a plan ---------------------------------------------

def problems(plan: Plan, brief: Optional[Brief] = None) -> list[Problem]:
    """Every problem of the plan, sorted by line: what parsing found, then
    sizes, alignment, inside the allocation and overlaps. With a brief,
    also the allocation it gives, the entries it asks for and the room each
    site must leave."""
    out = list(plan.problems)
    if not any(p.kind == "file" for p in out):
        out += _sizes(plan) + _outside(plan, brief) + _overlaps(plan)
        if brief is not None:
            out += _missing(plan, brief) + _room(plan, brief)
    return sorted(out, key=lambda p: p.line)


def _sizes(plan: Plan) -> list[Problem]:
    out = []
    alloc = plan.allocation.prefix if plan.allocation else None
    for e in plan.entries():
        n = e.prefix
        if n is None:
            continue
        if e.kind == "site":
            if n.prefixlen % 4:
                out.append(Problem(e.line, "prefix", _(
                    "{key}: /{length} is not on a nibble boundary: use a length divisible by 4 "
                    "(/52, /56, /60), so that the site is whole hexadecimal digits").format(
                        key=e.key, length=n.prefixlen)))
            elif n.prefixlen >= 64 or (alloc is not None and n.prefixlen <= alloc.prefixlen):
                out.append(Problem(e.line, "prefix", _(
                    "{key}: a site's prefix must be longer than the allocation's and shorter than "
                    "/64 (it has /{length})").format(key=e.key, length=n.prefixlen)))
        elif e.kind == "network" and n.prefixlen != 64:
            out.append(Problem(e.line, "prefix", _(
                "{key}: a LAN is one /64 (SLAAC needs exactly /64), not a /{length}").format(
                    key=e.key, length=n.prefixlen)))
        elif e.kind == "loopback" and n.prefixlen != 128:
            out.append(Problem(e.line, "prefix", _(
                "{key}: a loopback is one address, a /128, not a /{length}").format(
                    key=e.key, length=n.prefixlen)))
        elif e.kind == "link" and n.prefixlen not in (64, 127):
            out.append(Problem(e.line, "prefix", _(
                "{key}: a point-to-point link is a /127 (RFC 6164) or a /64, not a /{length}").format(
                    key=e.key, length=n.prefixlen)))
    return out


def _outside(plan: Plan, brief: Optional[Brief]) -> list[Problem]:
    """Each prefix inside the allocation the ISP gave (the brief's when
    there is one: a typo on the allocation line must not hide typos in
    the prefixes), and each network inside its own site."""
    out = []
    given = ipaddress.ip_network(brief.allocation) if brief else None
    written = plan.allocation.prefix if plan.allocation else None
    if given is not None and plan.allocation is not None and written is not None and written != given:
        out.append(Problem(plan.allocation.line, "prefix", _(
            "allocation: {written} is not the prefix your ISP gave ({given})").format(
                written=written, given=given)))
    alloc = given or written
    for e in plan.entries():
        if e.prefix is None or alloc is None:
            continue
        if not e.prefix.subnet_of(alloc):
            out.append(Problem(e.line, "prefix", _(
                "{key}: {prefix} is outside the allocation {allocation}").format(
                    key=e.key, prefix=e.prefix, allocation=alloc)))
        elif e.kind == "network":
            site = plan.sites[e.site].entry
            if site.prefix is not None and not e.prefix.subnet_of(site.prefix):
                out.append(Problem(e.line, "prefix", _(
                    "{key}: {prefix} is not inside its site {site} ({site_prefix}, line {line})").format(
                        key=e.key, prefix=e.prefix, site=e.site, site_prefix=site.prefix,
                        line=site.line)))
    return out


def _overlaps(plan: Plan) -> list[Problem]:
    """Prefixes that overlap, other than a network inside its own site.
    Prefixes nest or are disjoint, so one sweep in address order with a
    stack of the prefixes still open finds, for each entry, the innermost
    one it collides with: linear in the plan's size, not quadratic."""
    out: list[Problem] = []
    ordered = sorted((e for e in plan.entries() if e.prefix is not None),
                     key=lambda e: (int(e.prefix.network_address), e.prefix.prefixlen, e.line))
    open_: list[Entry] = []
    for e in ordered:
        while open_ and not e.prefix.subnet_of(open_[-1].prefix):
            open_.pop()
        clash = next((o for o in reversed(open_) if not _may_contain(o, e)), None)
        if clash is not None:
            # Blame the more specific prefix (the one numbered from
            # someone else's space), or the later of two equal ones.
            first, second = sorted((clash, e), key=lambda x: x.line) \
                if clash.prefix == e.prefix else (clash, e)
            out.append(Problem(second.line, "overlap", _(
                "{key}: {prefix} overlaps {other} ({other_prefix}, line {line})").format(
                    key=second.key, prefix=second.prefix, other=first.key,
                    other_prefix=first.prefix, line=first.line)))
        open_.append(e)
    return out


def _may_contain(outer: Entry, inner: Entry) -> bool:
    return outer.kind == "site" and inner.kind == "network" and inner.site == outer.name \
        and outer.prefix != inner.prefix


def _missing(plan: Plan, brief: Brief) -> list[Problem]:
    """What the brief asks for and the plan lacks, or has without a
    usable prefix."""
    out = []

    def need(entry: Optional[Entry], key: str, line: int) -> None:
        if entry is None:
            out.append(Problem(line, "missing", _("{key} is missing: the brief asks for it").format(key=key)))
        elif entry.prefix is None:
            out.append(Problem(entry.line, "missing", _("{key} is not numbered yet").format(key=key)))

    for site, nets in brief.sites.items():
        s = plan.sites.get(site)
        if s is None:
            need(None, f"sites.{site}", plan.lines.get("sites", 0))
            continue
        need(s.entry, f"sites.{site}", s.line)
        for n in nets:
            need(s.networks.get(n), f"sites.{site}.networks.{n}", s.line)
    for name in brief.loopbacks:
        need(plan.loopbacks.get(name), f"loopbacks.{name}", plan.lines.get("loopbacks", 0))
    for name in brief.links:
        need(plan.links.get(name), f"links.{name}", plan.lines.get("links", 0))
    return out


def _room(plan: Plan, brief: Brief) -> list[Problem]:
    """Each site of the brief holds its networks and `room` more /64s."""
    out = []
    for name in brief.sites:
        s = plan.sites.get(name)
        if s is None or s.entry.prefix is None or s.entry.prefix.prefixlen > 64:
            # Nothing to count yet: that is no room either.
            out.append(Problem(s.line if s else plan.lines.get("sites", 0), "room", _(
                "sites.{site} has no usable prefix yet, so it has no room to grow").format(site=name)))
            continue
        size = 1 << (64 - s.entry.prefix.prefixlen)
        used = len(s.networks)
        if size - used < brief.room:
            out.append(Problem(s.entry.line, "room", _(
                "{key}: {prefix} holds {size} networks (/64); with {used} planned, it has room for "
                "{free} more, and the brief asks for room for {room} more").format(
                    key=s.entry.key, prefix=s.entry.prefix, size=size, used=used,
                    free=max(size - used, 0), room=brief.room)))
    return out
