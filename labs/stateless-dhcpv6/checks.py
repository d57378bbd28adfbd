"""Checks of lab 5 that the library does not have (yet), written with its
public names only (docs/grading.md: Writing a custom check).

Each takes the lab's translator `_` first, so that its description and
messages are in the trainee's language. Evidence, and the forgery each one
defeats:

- `information_reply`: the grader's own Information-Request from the
  client's namespace; the Reply counts only if its frame came in on the
  server's switch port (a fake server on another node fails). Like
  `checks.dhcp6_information_reply`, but it stops at the first good Reply
  from the server instead of waiting 0.3 s for others, so that a solved
  lab grades fast.
- `resolver_names`: the node's /etc/resolv.conf, read through the outside
  view (links stay inside the node, FIFOs are refused). It can be written by
  hand: pair it with `follows_rdnss` or a DHCPv6 check.
- `follows_rdnss`: behaviour. The grader sends the host, on its cable only,
  an RA from a random router carrying a random DNS server address; the
  host's resolver configuration must take it in, and drop it again when
  the grader withdraws it (lifetime 0). A hand-written resolv.conf cannot
  know the address.
- `resolves_through`: the grader's own DNS query from the host's namespace
  to the first name server of the host's resolv.conf; the answer counts
  only if its frame came in on the DNS server node's switch port (an
  address added to the host itself, with a local DNS server behind it,
  fails).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import time
from typing import Callable, Optional

from v6lab.errors import NodeFileError, SocketError
from v6lab.grading import Check, CheckFailed, CheckPending
from v6lab.grading import wire
from v6lab.proto import ProtoError, dhcp6, dns, ndp

Translate = Callable[[str], str]
RESOLV_CONF = "/etc/resolv.conf"


def _fmt(items) -> str:
    return ", ".join(str(x) for x in items) or "-"


def _addr(text: str) -> str:
    return str(ipaddress.ip_address(text))


def _domain(d: str) -> str:
    return d.rstrip(".").lower()


# ------------------------------------------------------------ DHCPv6

def _usable_link_local(_: Translate, lab, node: str, iface: str, wait: float = 2.0) -> str:
    """The client's link-local address, waiting up to `wait` s while it is
    in DAD (a lab graded right after it started)."""
    deadline = time.monotonic() + wait
    while True:
        lls = [a for a in lab[node].addresses(iface, 6) if a.scope == "link"]
        ok = [a.address for a in lls if not a.tentative and not a.dadfailed]
        if ok or not any(a.tentative for a in lls) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if not ok:
        kind = CheckPending if any(a.tentative for a in lls) else CheckFailed
        raise kind(_("{node}:{iface} has no usable link-local address, so it cannot ask "
                     "DHCPv6").format(node=node, iface=iface))
    return ok[0]


def _client_socket(lab, node: str, iface: str, ll: str) -> socket.socket:
    """[ll%iface]:546 in the client's namespace, or an ephemeral port when
    the node's own DHCPv6 client holds 546 (servers answer the source port)."""
    kw = dict(bind_iface=iface, bind_addr=ll, reuse_addr=True, multicast_hops=1, timeout=0)
    try:
        return lab[node].socket(socket.AF_INET6, socket.SOCK_DGRAM, port=dhcp6.CLIENT_PORT, **kw)
    except SocketError as e:
        if e.errno != errno.EADDRINUSE:
            raise
    return lab[node].socket(socket.AF_INET6, socket.SOCK_DGRAM, port=0, **kw)


def _replies(tap: wire.Tap, xid: int, client_port: Optional[str]) -> list[tuple[str, dhcp6.Message]]:
    """(node whose cable it came in on, Reply) for each Reply to xid seen."""
    out = []
    for s in tap.seen:
        p = s.packet
        if (isinstance(p, wire.UdpPacket) and not s.outgoing and not s.injected and s.node
                and p.sport == dhcp6.SERVER_PORT and s.ifname != client_port):
            try:
                m = dhcp6.decode(p.payload)
            except ProtoError:
                continue
            if isinstance(m, dhcp6.Message) and m.type == dhcp6.REPLY and m.xid == xid:
                out.append((s.node, m))
    return out


def _reply_problems(_: Translate, m: dhcp6.Message, dns_server: str, domain: str) -> list[str]:
    problems = []
    st = m.option(dhcp6.StatusCode)
    if st is not None and st.status != 0:
        problems.append(_("status {status}").format(status=st.name))
    have = m.option(dhcp6.DnsServers)
    have_dns = [_addr(a) for a in (have.addresses if have else ())]
    if _addr(dns_server) not in have_dns:
        problems.append(_("no DNS server {dns} (it gave: {given})").format(
            dns=dns_server, given=_fmt(have_dns)))
    dl = m.option(dhcp6.DomainList)
    have_dom = [_domain(d) for d in (dl.domains if dl else ())]
    if domain and _domain(domain) not in have_dom:
        problems.append(_("no search domain {domain} (it gave: {given})").format(
            domain=domain, given=_fmt(have_dom)))
    return problems


def information_reply(_: Translate, client: str, server: str, *, dns_server: str, domain: str,
                      iface: str = "eth0", timeout: float = 1.5) -> Check:
    """The grader asks DHCPv6 from client:iface (Information-Request to
    ff02::1:2) and a Reply that came in on server's cable names dns_server
    and the search domain."""
    def fn(lab) -> str:
        ll = _usable_link_local(_, lab, client, iface)
        req = dhcp6.information_request(dhcp6.DuidLl(1, lab[client].link(iface).mac))
        client_port = wire.port_of(lab, client, iface)
        with wire.Tap.switch(lab, udp_ports=(dhcp6.CLIENT_PORT, dhcp6.SERVER_PORT)) as tap, \
                _client_socket(lab, client, iface, ll) as s:
            s.sendto(dhcp6.encode(req), (dhcp6.ALL_DHCP_RELAY_AGENTS_AND_SERVERS,
                                         dhcp6.SERVER_PORT))
            tap.collect(timeout, until=lambda seen: any(
                n == server for n, _m in _replies(tap, req.xid, client_port)))
            replies = _replies(tap, req.xid, client_port)
        mine = [m for n, m in replies if n == server]
        if not replies:
            raise CheckFailed(_("no DHCPv6 Reply to the grader's Information-Request from "
                                "{client}:{iface} within {seconds} s: no DHCPv6 server answers "
                                "on this link").format(client=client, iface=iface,
                                                       seconds=f"{timeout:g}"))
        if not mine:
            raise CheckFailed(_("{client}:{iface} got a DHCPv6 Reply, but it came in on "
                                "{others}'s cable, not from {server}").format(
                client=client, iface=iface, others=_fmt(sorted({n for n, _m in replies})),
                server=server))
        problems = _reply_problems(_, mine[0], dns_server, domain)
        if problems:
            raise CheckFailed(_("DHCPv6 Reply from {server} to {client}:{iface}: {problems}").format(
                server=server, client=client, iface=iface, problems="; ".join(problems)))
        return _("{server} answered {client}'s Information-Request: DNS {dns}, search "
                 "{domain} (seen on {server}'s cable)").format(
            server=server, client=client, dns=dns_server, domain=domain)
    return Check(_("{server} answers Information-Requests from {client}:{iface} with DNS {dns} "
                   "and search domain {domain}").format(
        server=server, client=client, iface=iface, dns=dns_server, domain=domain), fn)


# ------------------------------------------------------------ resolver

def parse_resolv_conf(text: str) -> tuple[list[str], list[str]]:
    """(name servers, search domains) as glibc reads them: the last
    search/domain line wins."""
    servers, search = [], []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            servers.append(words[1].split("%", 1)[0])
        elif words and words[0] in ("search", "domain"):
            search = [_domain(d) for d in words[1:]]
    return servers, search


def read_resolver(_: Translate, lab, node: str) -> tuple[list[str], list[str]]:
    try:
        data = lab[node].read_file(RESOLV_CONF, max_bytes=16384)
    except NodeFileError as e:
        if e.kind == "process_gone":
            raise
        raise CheckFailed(_("{node}'s {path} cannot be read: {error}").format(
            node=node, path=RESOLV_CONF, error=e)) from None
    return parse_resolv_conf(data.decode("utf-8", "replace"))


def _same(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def resolver_names(_: Translate, node: str, *, nameserver: str, search: str = "",
                   within: float = 0.0) -> Check:
    """node's /etc/resolv.conf has nameserver (and search, if given)."""
    def fn(lab) -> str:
        servers, domains = read_resolver(_, lab, node)
        if not any(_same(s, nameserver) for s in servers):
            raise CheckFailed(_("{node}'s {path} has no nameserver {dns} (name servers: "
                                "{servers})").format(node=node, path=RESOLV_CONF, dns=nameserver,
                                                      servers=_fmt(servers)))
        if search and _domain(search) not in domains:
            raise CheckFailed(_("{node}'s {path} does not search {domain} (search: "
                                "{domains})").format(node=node, path=RESOLV_CONF,
                                                      domain=search, domains=_fmt(domains)))
        return _("{node}'s {path}: name servers {servers}; search {domains}").format(
            node=node, path=RESOLV_CONF, servers=_fmt(servers), domains=_fmt(domains))
    what = _("nameserver {dns}").format(dns=nameserver)
    if search:
        what += ", " + _("search {domain}").format(domain=search)
    return Check(_("{node}'s resolver configuration has {what}").format(node=node, what=what),
                 fn, within=within)


# ------------------------------------------------------------ RDNSS, provoked

def _rdnss_frame(mac: str, ll: str, server: str, lifetime: int) -> bytes:
    ra = ndp.RouterAdvert(64, False, False, 0, 0, 0, rdnss=(server,), rdnss_lifetime=lifetime,
                          source_lladdr=mac)
    return wire.frame(mac, ll, wire.ALL_NODES, ndp.encode_ra(ra))


def _has(lab, node: str, server: str) -> bool:
    try:
        text = lab[node].read_file(RESOLV_CONF, max_bytes=16384).decode("utf-8", "replace")
    except NodeFileError as e:
        if e.kind == "process_gone":
            raise
        return False
    return any(_same(s, server) for s in parse_resolv_conf(text)[0])


def follows_rdnss(_: Translate, host: str, iface: str = "eth0", *, within: float = 2.0) -> Check:
    """host:iface takes a DNS server from an RA's RDNSS option into its
    resolv.conf, and drops it when the RA withdraws it: the grader sends an
    RA (router lifetime 0, no prefix) from a random router with a random
    server address, on host's cable only, then the same with lifetime 0."""
    def fn(lab) -> str:
        port = wire.port_of(lab, host, iface)
        if port is None:
            raise RuntimeError(f"{host}:{iface} is not on a LAN: no switch port to send from")
        mac, ll = wire.random_identity()
        server = str(ipaddress.IPv6Network(wire.random_prefix())[0x53])
        with wire.Tap.switch(lab, types=(wire.RA,)) as tap:
            t0 = time.monotonic()
            seen = False
            sent = t0 - 1.0
            while time.monotonic() - t0 < within:
                if time.monotonic() - sent >= 0.5:
                    tap.inject(port, _rdnss_frame(mac, ll, server, 30))
                    sent = time.monotonic()
                if _has(lab, host, server):
                    seen = True
                    break
                time.sleep(0.02)
            took = time.monotonic() - t0
            tap.inject(port, _rdnss_frame(mac, ll, server, 0))
            gone = not seen
            end = time.monotonic() + 1.0
            while not gone and time.monotonic() < end:
                gone = not _has(lab, host, server)
                if not gone:
                    time.sleep(0.02)
        if not seen:
            raise CheckFailed(_("{host}'s {path} did not take in the DNS server {dns} from a "
                                "Router Advertisement the grader sent (RDNSS) within {seconds} s: "
                                "nothing on {host} turns RDNSS options into name servers").format(
                host=host, path=RESOLV_CONF, dns=server, seconds=f"{within:g}"))
        if not gone:
            raise CheckFailed(_("{host} kept the DNS server {dns} after the grader withdrew it "
                                "(RDNSS lifetime 0)").format(host=host, dns=server))
        return _("{host} took the grader's RDNSS {dns} into {path} in {seconds} s, and dropped "
                 "it when withdrawn").format(host=host, dns=server, path=RESOLV_CONF,
                                             seconds=f"{took:.2f}")
    return Check(_("{host}:{iface} learns DNS servers from RDNSS (provoked by the grader)").format(
        host=host, iface=iface), fn)


# ------------------------------------------------------------ resolution

def _answers_from(tap: wire.Tap, node: str, name: str) -> list[dns.Message]:
    out = []
    for s in tap.seen:
        p = s.packet
        if (isinstance(p, wire.UdpPacket) and s.node == node and not s.outgoing
                and not s.injected and p.sport == 53):
            try:
                m = dns.decode(p.payload)
            except ProtoError:
                continue
            if m.response and any(_domain(q.name) == _domain(name) for q in m.questions):
                out.append(m)
    return out


def resolves_through(_: Translate, host: str, name: str, expect: str, *, server_node: str,
                     timeout: float = 1.0) -> Check:
    """The grader asks the first name server of host's resolv.conf for
    name AAAA, from host's namespace; the answer includes expect and its
    frame came in on server_node's switch port."""
    def fn(lab) -> str:
        servers, _domains = read_resolver(_, lab, host)
        if not servers:
            raise CheckFailed(_("{host}'s {path} names no name server").format(
                host=host, path=RESOLV_CONF))
        first = servers[0]
        try:
            if ipaddress.ip_address(first).version != 6:
                raise ValueError
        except ValueError:
            raise CheckFailed(_("{host} asks {server} first ({path}), not an IPv6 DNS "
                                "server").format(host=host, server=first,
                                                 path=RESOLV_CONF)) from None
        with wire.Tap.switch(lab, udp_ports=(53,)) as tap:
            r = lab[host].dns_query(first, name, "AAAA", timeout=timeout)
            tap.collect(0.2 if r.answered else 0.0,
                        until=lambda seen: bool(_answers_from(tap, server_node, name)))
            genuine = _answers_from(tap, server_node, name)
        if not r.answered:
            raise CheckFailed(_("{server} (the first name server of {host}) does not answer "
                                "{host}: {error}").format(server=first, host=host, error=r.error))
        got = [a.data for a in r.answers if a.type == "AAAA"]
        if r.rcode != "NOERROR" or not any(_same(g, expect) for g in got):
            raise CheckFailed(_("{server} answers {name} AAAA for {host} with {rcode} "
                                "{answers}, not {expect}").format(
                server=first, name=name, host=host, rcode=r.rcode, answers=_fmt(got),
                expect=expect))
        if not genuine:
            raise CheckFailed(_("{host} got an answer from {server}, but it did not come in on "
                                "{node}'s cable: something other than the DNS server "
                                "answered").format(host=host, server=first, node=server_node))
        return _("{host} resolves {name} to {expect} through {server} (answer seen on {node}'s "
                 "cable)").format(host=host, name=name, expect=expect, server=first,
                                  node=server_node)
    return Check(_("{host} resolves {name} through the name server it learned").format(
        host=host, name=name), fn)
