"""An offline Internet that any lab includes in a few lines.

A transition lab needs somewhere to go: IPv4-only, dual-stack and
IPv6-only servers with names, a DNS that answers for them (forward,
ip6.arpa and ipv4only.arpa), a recursive resolver, and for some labs a
provider's NAT64. None of it may need an uplink, so v6lab brings it along:

    INTERNET = Internet()                      # Internet(nat64=True) adds NAT64 + DNS64

    class Lab(LabDefinition):
        variables = {**INTERNET.variables, "wan_prefix": "2001:db8:ff00::/64"}

        def topology(self):
            t = Topo("my-lab")
            t.add_lan("wan")
            ...
            INTERNET.add_to(t, uplink="wan", v6="2001:db8:ff00::1/64", v4="198.51.100.1/24",
                            routes=[("2001:db8:100::/48", "2001:db8:ff00::2")])
            return t

        def setup(self, lab):
            INTERNET.start(lab)

Every node it adds is a provider node (trainees cannot log in) and runs
Debian's own daemons: nsd (authoritative, including a root zone of its
own), unbound (recursive, resolving from that root), nginx, and tayga for
the NAT64. docs/writing-labs.md ("An offline Internet") lists the names,
addresses and variables."""

from __future__ import annotations

import ipaddress
import re
import secrets
import threading
from typing import TYPE_CHECKING, Mapping, Optional, Sequence, Union

from ..errors import Error, SpecError
from ..i18n import _
from ..node import wait_until
from . import configs

if TYPE_CHECKING:
    from ..lab import Lab
    from ..topo import Topo

__all__ = ["Internet", "DEFAULTS", "NODES"]

DEFAULTS: dict[str, str] = {
    "inet_domain": "example.net",
    "inet_prefix6": "2001:db8:f00::/64", "inet_prefix4": "203.0.113.0/25",
    "inet_transit6": "2001:db8:f00::1", "inet_transit4": "203.0.113.1",
    "inet_ns6": "2001:db8:f00::53", "inet_ns4": "203.0.113.53",
    "inet_resolver6": "2001:db8:f00::35", "inet_resolver4": "203.0.113.35",
    "inet_v4only": "v4only.example.net", "inet_v4only4": "203.0.113.40",
    "inet_dual": "dual.example.net", "inet_dual4": "203.0.113.46", "inet_dual6": "2001:db8:f00::46",
    "inet_v6only": "v6only.example.net", "inet_v6only6": "2001:db8:f00::60",
}
NAT64_DEFAULTS: dict[str, str] = {
    # A network-specific prefix, not the well-known 64:ff9b::/96: RFC 6052
    # (section 3.1) forbids the well-known prefix for non-global IPv4
    # addresses, this Internet's IPv4 addresses are documentation ones, and
    # tayga 0.9.2 enforces the rule (it also refuses RFC 8215's 64:ff9b:1::).
    "inet_nat64_prefix": "2001:db8:64::/96",
    "inet_nat64_6": "2001:db8:f00::64", "inet_nat64_4": "203.0.113.64",
    "inet_dns64": "2001:db8:f00::64:53",
    # tayga's own addresses, and the IPv4 addresses it maps IPv6 clients to:
    # an IPv4 server sees a client as one of the pool's addresses, which the
    # transit routes to the NAT64.
    "inet_nat64_tayga4": "203.0.113.193", "inet_nat64_tayga6": "2001:db8:f01::1",
    "inet_nat64_pool": "203.0.113.192/26",
}
# The content servers: node -> (name variable, address variables, listens).
SERVERS = {
    "v4only": ("inet_v4only", ("inet_v4only4",), ("80",)),
    "dual": ("inet_dual", ("inet_dual4", "inet_dual6"), ("80", "[::]:80")),
    "v6only": ("inet_v6only", ("inet_v6only6",), ("[::]:80",)),
}
NODES = ("transit", "dns", *SERVERS)
# Provider nodes answer at once: no DAD delay before the daemons bind.
_NO_DAD = {"net.ipv6.conf.default.accept_dad": 0, "net.ipv6.conf.all.accept_dad": 0}
_NO_IPV6 = {"net.ipv6.conf.default.disable_ipv6": 1, "net.ipv6.conf.all.disable_ipv6": 1}

Route = tuple[str, str]
Delegate = Union[Sequence[str], Mapping[str, Sequence[str]]]


_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")


def _fail(t: "Topo", field: str, message: str) -> SpecError:
    return SpecError(f"{t.source}: {field}: {message}", [(t.source, field, message)])


def _prefix_len(net: str) -> int:
    return ipaddress.ip_network(net, strict=False).prefixlen


class Internet:
    """The building block. One instance per lab class; add_to() puts its
    nodes in a topology and start() brings its daemons up in a built lab."""

    def __init__(self, *, nat64: bool = False, lan: str = "internet") -> None:
        self.nat64 = nat64
        self.lan = lan
        self.variables: dict[str, str] = dict(DEFAULTS, **(NAT64_DEFAULTS if nat64 else {}))
        self.nodes: tuple[str, ...] = NODES + (("nat64",) if nat64 else ())
        self._delegations: dict[str, dict[str, list[str]]] = {}

    # -- topology ------------------------------------------------------------
    def add_to(self, t: "Topo", *, uplink: str, v6: str, v4: Optional[str] = None,
               routes: Sequence[Route] = (), delegate: Mapping[str, Delegate] = {}) -> None:
        """Adds the Internet's LAN and nodes to t. The transit provider gets
        v6 (and v4) on the lab's LAN `uplink` and routes each (prefix, via)
        of `routes` to the lab. `delegate` hands zones to the lab's own name
        servers: {"corp.example": ["2001:db8:100::53"]} (the server is then
        called ns1.corp.example) or {"corp.example": {"ns1.corp.example":
        [addresses]}}; reverse zones are delegated the same way."""
        v = self.variables
        self._delegations = {z: self._servers(t, z, s) for z, s in delegate.items()}
        t.add_lan(self.lan)
        t.add_router("transit", provider=True, sysctls=dict(_NO_DAD))
        t.add_link("transit", self.lan, addrs_a=[self._cidr("inet_transit6"), self._cidr("inet_transit4")])
        t.add_link("transit", uplink, addrs_a=[v6] + ([v4] if v4 else []))
        for dst, via in routes:
            t.add_route("transit", dst, via=via)
        if self.nat64:
            t.add_route("transit", v["inet_nat64_prefix"], via=v["inet_nat64_6"])
            t.add_route("transit", v["inet_nat64_pool"], via=v["inet_nat64_4"])
        dns_addrs = [self._cidr(k) for k in ("inet_ns6", "inet_ns4", "inet_resolver6", "inet_resolver4")]
        self._add_server(t, "dns", "internet-dns", dns_addrs, six=True, four=True)
        for node, (_name, addr_keys, _listen) in SERVERS.items():
            addrs = [self._cidr(k) for k in addr_keys]
            self._add_server(t, node, "internet-web", addrs, six=node != "v4only", four=node != "v6only")
        if self.nat64:
            self._add_nat64(t)

    def _cidr(self, key: str) -> str:
        a = self.variables[key]
        net = "inet_prefix6" if ipaddress.ip_address(a).version == 6 else "inet_prefix4"
        return f"{a}/{_prefix_len(self.variables[net])}"

    def _add_server(self, t: "Topo", node: str, image: str, addrs: list[str], *,
                    six: bool, four: bool) -> None:
        t.add_node(node, image=image, provider=True, sysctls=dict(_NO_DAD if six else _NO_IPV6))
        t.add_link(node, self.lan, addrs_a=addrs)
        if six:
            t.add_route(node, "default", via=self.variables["inet_transit6"])
        if four:
            t.add_route(node, "default", via=self.variables["inet_transit4"])

    def _add_nat64(self, t: "Topo") -> None:
        v = self.variables
        t.add_router("nat64", image=["router", "internet-nat64"], provider=True, sysctls=dict(_NO_DAD))
        t.add_link("nat64", self.lan, addrs_a=[self._cidr("inet_nat64_6"), self._cidr("inet_nat64_4"),
                                               self._cidr("inet_dns64")])
        t.add_route("nat64", "default", via=v["inet_transit6"])
        t.add_route("nat64", "default", via=v["inet_transit4"])

    @staticmethod
    def _servers(t: "Topo", zone: str, servers: Delegate) -> dict[str, list[str]]:
        """The name servers of a delegated zone, checked: a typo here would
        otherwise surface as a zone file nsd refuses at start."""
        field = f"internet.delegate.{zone}"
        if not isinstance(zone, str) or not _NAME.fullmatch(zone.rstrip(".")):
            raise _fail(t, field, f"'{zone}' is not a DNS zone name")
        named = (servers if isinstance(servers, Mapping)
                 else {"ns1." + zone.rstrip("."): servers})
        out = {}
        for name, addrs in named.items():
            if not isinstance(name, str) or not _NAME.fullmatch(name.rstrip(".")):
                raise _fail(t, field, f"'{name}' is not a name server's name")
            if isinstance(addrs, str) or not addrs:
                raise _fail(t, f"{field}.{name}", "give a list of one or more addresses")
            for a in addrs:
                try:
                    ipaddress.ip_address(a)
                except ValueError:
                    raise _fail(t, f"{field}.{name}", f"'{a}' is not an IP address") from None
            out[name] = list(addrs)
        return out

    # -- the running Internet ---------------------------------------------------
    def files(self) -> dict[str, dict[str, str]]:
        """node -> {path: content}: every file the Internet's daemons read."""
        v = self.variables
        hosts = [(v[name], [v[k] for k in keys]) for name, keys, _l in SERVERS.values()]
        hosts += [("transit." + v["inet_domain"], [v["inet_transit6"], v["inet_transit4"]]),
                  ("resolver." + v["inet_domain"], [v["inet_resolver6"], v["inet_resolver4"]])]
        if self.nat64:
            hosts.append(("nat64." + v["inet_domain"], [v["inet_nat64_6"], v["inet_nat64_4"]]))
        zone_list = configs.zones(v, hosts, self._delegations)
        dns = {f"/etc/v6lab-internet/zones/{configs.zone_file_name(o)}": text for o, text in zone_list}
        dns["/etc/v6lab-internet/nsd.conf"] = configs.nsd_conf(v, zone_list)
        dns["/etc/v6lab-internet/unbound.conf"] = configs.unbound_conf(v)
        dns["/etc/v6lab-internet/root.hints"] = configs.root_hints(v)
        out = {"dns": dns}
        for node, (name, _keys, listen) in SERVERS.items():
            out[node] = {"/etc/v6lab-internet/nginx.conf": configs.nginx_conf(v[name], listen)}
        if self.nat64:
            out["nat64"] = {"/etc/v6lab-internet/tayga.conf": configs.tayga_conf(v),
                            "/etc/v6lab-internet/unbound.conf": configs.dns64_conf(v),
                            "/etc/v6lab-internet/root.hints": configs.root_hints(v)}
        return out

    def _commands(self, node: str) -> str:
        """How each node starts its daemons (each daemonises itself, so the
        lab keeps them when `v6lab start` returns)."""
        c = "/etc/v6lab-internet"
        if node == "dns":
            return (f"mkdir -p /var/lib/nsd && nsd -c {c}/nsd.conf && "
                    f"unbound -c {c}/unbound.conf")
        if node in SERVERS:
            return f"mkdir -p /var/log/nginx /var/lib/nginx && nginx -c {c}/nginx.conf"
        if node == "nat64":
            v = self.variables
            return ("mkdir -p /var/lib/tayga && "
                    f"tayga -c {c}/tayga.conf --mktun && ip link set nat64 up && "
                    f"ip route add {v['inet_nat64_pool']} dev nat64 && "
                    f"ip -6 route add {v['inet_nat64_prefix']} dev nat64 && "
                    f"ip -6 route add {v['inet_nat64_tayga6']} dev nat64 && "
                    f"tayga -c {c}/tayga.conf && "
                    f"unbound -c {c}/unbound.conf")
        return "true"

    def start(self, lab: "Lab", timeout: float = 5.0) -> None:
        """Writes each node's files, starts its daemons (the nodes in
        parallel) and waits until every server answers, so that a trainee's
        first look finds the Internet up. Raises Error naming the node and
        the daemon's own words when one does not start."""
        files = self.files()
        errors: list[str] = []

        def bring_up(node: str) -> None:
            script = self._script(files.get(node, {}), self._commands(node))
            r = lab[node].cmd(["sh", "-ec", script], timeout=timeout)
            if not r.ok:
                errors.append(f"{node}: {(r.stderr or r.stdout).strip() or 'exit ' + str(r.returncode)}")

        threads = [threading.Thread(target=bring_up, args=(n,)) for n in self.nodes if n != "transit"]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise Error(_("the offline Internet did not start: {why}").format(why="; ".join(sorted(errors))))
        self.wait_serving(lab, timeout)

    @staticmethod
    def _script(files: Mapping[str, str], then: str) -> str:
        mark = "V6LAB_" + secrets.token_hex(6)
        parts = []
        for path, text in files.items():
            parts.append(f"mkdir -p '{path.rsplit('/', 1)[0]}'\ncat > '{path}' <<'{mark}'\n{text}{mark}")
        return "\n".join(parts + [then]) + "\n"

    def wait_serving(self, lab: "Lab", timeout: float = 5.0) -> None:
        """Until the resolver resolves a name through the root and each web
        server accepts a connection, each asked from its own node."""
        v = self.variables
        probes = [("dns", lambda: lab["dns"].dns_query(v["inet_resolver6"], v["inet_dual"], "AAAA",
                                                       timeout=0.5).rcode == "NOERROR")]
        for node, (_name, keys, _l) in SERVERS.items():
            addr = v[keys[-1]]
            probes.append((node, lambda n=node, a=addr: lab[n].tcp_connect(a, 80, timeout=0.5).ok))
        if self.nat64:
            probes.append(("nat64", lambda: lab["nat64"].dns_query(
                v["inet_dns64"], v["inet_v4only"], "AAAA", timeout=0.5).rcode == "NOERROR"))
        for node, probe in probes:
            wait_until(probe, timeout, interval=0.02, what=f"the offline Internet's {node} to serve")
