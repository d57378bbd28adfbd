"""The offline Internet's configuration files, written from its variables.

Generated rather than templated because their contents follow what a lab
asks for: the zones a lab delegates appear in the root zone, and the
NAT64's resolver only exists when the lab has one. Every daemon reads its
file from a path of its own under /etc, so a node's files from the host's
Debian packages (/etc/nginx/sites-enabled/default, unbound's trust anchor)
never take part."""

from __future__ import annotations

import ipaddress
from typing import Mapping, Sequence

# One zone: (origin, text of the zone file).
Zone = tuple[str, str]
# A delegation: zone -> {name server name: [its addresses]}.
Delegations = Mapping[str, Mapping[str, Sequence[str]]]

SOA_TIMERS = "1 3600 600 86400 60"   # serial refresh retry expire negative-TTL


def reverse_zone(prefix: str) -> str:
    """The reverse zone of a prefix on a nibble (IPv6) or octet (IPv4)
    boundary: 2001:db8:f00::/64 -> 0.0.0.0.0.0.f.0.8.b.d.0.1.0.0.2.ip6.arpa."""
    net = ipaddress.ip_network(prefix, strict=False)
    if net.version == 6:
        nibbles = net.prefixlen // 4
        digits = net.network_address.exploded.replace(":", "")[:nibbles]
        return ".".join(reversed(digits)) + ".ip6.arpa."
    octets = str(net.network_address).split(".")[: net.prefixlen // 8]
    return ".".join(reversed(octets)) + ".in-addr.arpa."


def reverse_name(address: str) -> str:
    return ipaddress.ip_address(address).reverse_pointer + "."


def fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _zone(origin: str, ns_name: str, records: Sequence[str]) -> Zone:
    head = [f"$ORIGIN {origin}", "$TTL 60",
            f"@ IN SOA {ns_name} hostmaster.{ns_name} ( {SOA_TIMERS} )",
            f"@ IN NS {ns_name}"]
    return origin, "\n".join(head + list(records)) + "\n"


def _rr(name: str, address: str) -> str:
    kind = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    return f"{fqdn(name)} IN {kind} {address}"


def zones(v: Mapping[str, str], hosts: Sequence[tuple[str, Sequence[str]]],
          delegations: Delegations) -> list[Zone]:
    """The root zone, the Internet's forward zone, its two reverse zones and
    ipv4only.arpa (RFC 7050), all served by one nsd. The root zone delegates
    each of the others, and each zone a lab hands to its own server, to that
    server: the resolver finds them by real iterative resolution."""
    ns = fqdn("ns." + v["inet_domain"])
    ns_addrs = [v["inet_ns6"], v["inet_ns4"]]
    rev6, rev4 = reverse_zone(v["inet_prefix6"]), reverse_zone(v["inet_prefix4"])
    own = [fqdn(v["inet_domain"]), rev6, rev4, "ipv4only.arpa."]
    root = [f"{z} IN NS {ns}" for z in own] + [_rr(ns, a) for a in ns_addrs]
    for zone, servers in delegations.items():
        for server, addrs in servers.items():
            root.append(f"{fqdn(zone)} IN NS {fqdn(server)}")
            root += [_rr(server, a) for a in addrs]
    forward = [_rr(ns, a) for a in ns_addrs]
    ptr6, ptr4 = [], []
    for name, addrs in hosts:
        for a in addrs:
            forward.append(_rr(name, a))
            (ptr6 if ipaddress.ip_address(a).version == 6 else ptr4).append(
                f"{reverse_name(a)} IN PTR {fqdn(name)}")
    return [_zone(".", ns, root), _zone(own[0], ns, forward), _zone(rev6, ns, ptr6),
            _zone(rev4, ns, ptr4),
            _zone("ipv4only.arpa.", ns, ["ipv4only.arpa. IN A 192.0.0.170",
                                          "ipv4only.arpa. IN A 192.0.0.171"])]


def zone_file_name(origin: str) -> str:
    return "root.zone" if origin == "." else origin.rstrip(".") + ".zone"


def nsd_conf(v: Mapping[str, str], zone_list: Sequence[Zone]) -> str:
    lines = ["server:",
             f"  ip-address: {v['inet_ns6']}", f"  ip-address: {v['inet_ns4']}",
             "  server-count: 1", "  hide-version: yes", "  verbosity: 1",
             "  rrl-size: 1000", "  tcp-count: 16", "  xfrd-tcp-max: 4",
             "  zonesdir: /etc/v6lab-internet/zones",
             "  pidfile: /run/nsd.pid", "  logfile: /var/log/nsd.log",
             "  zonelistfile: /var/lib/nsd/zone.list", "  xfrdfile: /var/lib/nsd/xfrd.state",
             '  database: ""',
             "remote-control:", "  control-enable: no"]
    for origin, _text in zone_list:
        lines += ["zone:", f'  name: "{origin}"', f"  zonefile: {zone_file_name(origin)}"]
    return "\n".join(lines) + "\n"


def root_hints(v: Mapping[str, str]) -> str:
    """The resolver's list of root servers: the Internet's own nsd."""
    ns = fqdn("ns." + v["inet_domain"])
    return f". 3600000 NS {ns}\n{ns} 3600000 AAAA {v['inet_ns6']}\n{ns} 3600000 A {v['inet_ns4']}\n"


def _unbound_common(v: Mapping[str, str], addrs: Sequence[str]) -> list[str]:
    """What both resolvers share: listen on addrs, answer anyone, recurse
    from the Internet's own root, small caches (a class runs many)."""
    out = ["server:"] + [f"  interface: {a}" for a in addrs] + [
        "  access-control: ::/0 allow", "  access-control: 0.0.0.0/0 allow",
        "  do-daemonize: yes", '  chroot: ""', '  username: ""', "  directory: /etc/v6lab-internet",
        "  pidfile: /run/unbound.pid", "  use-syslog: no", "  logfile: /var/log/unbound.log",
        "  num-threads: 1", "  msg-cache-size: 512k", "  rrset-cache-size: 512k",
        "  key-cache-size: 128k", "  neg-cache-size: 128k", "  outgoing-range: 64",
        "  so-reuseport: no", "  root-hints: /etc/v6lab-internet/root.hints",
        "  do-not-query-localhost: yes", "  qname-minimisation: no",
        "  cache-max-ttl: 5", "  cache-max-negative-ttl: 1"]
    # Unbound answers the documentation and TEST-NET reverse zones itself
    # (RFC 6303 defaults); here they are real, so it must ask.
    for z in ("8.b.d.0.1.0.0.2.ip6.arpa.", "2.0.192.in-addr.arpa.",
              "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa."):
        out.append(f'  local-zone: "{z}" nodefault')
    return out


def unbound_conf(v: Mapping[str, str]) -> str:
    """The Internet's recursive resolver, DNSSEC off (its root is unsigned)."""
    return "\n".join(_unbound_common(v, [v["inet_resolver6"], v["inet_resolver4"]])
                     + ['  module-config: "iterator"']) + "\n"


def dns64_conf(v: Mapping[str, str]) -> str:
    """The NAT64 provider's DNS64 resolver: synthesises AAAA from A in
    64:ff9b::/96 for names that have no AAAA of their own (RFC 6147)."""
    return "\n".join(_unbound_common(v, [v["inet_dns64"]])
                     + ['  module-config: "dns64 iterator"',
                        f"  dns64-prefix: {v['inet_nat64_prefix']}"]) + "\n"


def nginx_conf(name: str, listen: Sequence[str]) -> str:
    """A content server: GET / says who it is, GET /whoami which address the
    client came from (what a NAT64 lab shows the trainee), anything else 404."""
    listens = "\n".join(f"    listen {x};" for x in listen)
    return f"""user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
events {{ worker_connections 64; }}
http {{
  access_log /var/log/nginx/access.log;
  server {{
{listens}
    server_name {name};
    default_type text/plain;
    location = / {{ return 200 "hello from {name}\\n"; }}
    location = /whoami {{ return 200 "$remote_addr\\n"; }}
    location / {{ return 404 "not found\\n"; }}
  }}
}}
"""


def tayga_conf(v: Mapping[str, str]) -> str:
    return (f"tun-device nat64\nipv4-addr {v['inet_nat64_tayga4']}\nipv6-addr {v['inet_nat64_tayga6']}\n"
            f"prefix {v['inet_nat64_prefix']}\ndynamic-pool {v['inet_nat64_pool']}\n"
            "data-dir /var/lib/tayga\n")
