"""The checks of lab 12 (NAT64/DNS64). Each rests on what the grader does
itself, from outside what the trainee controls:

- DNS: the grader's own queries from pc's namespace to the trainee's
  DNS64 (`Node.dns_query`, the core's probe). Fixed names (v4only, dual,
  ipv4only.arpa) show the configuration; `dns64_fresh_name` adds a name
  made up for this grade, in a zone the Internet's resolver delegates to
  the grader: the grader itself answers its A record (a random IPv4
  address) from a socket in a provider node, so only a resolver that
  really looked it up can synthesise the right AAAA. A canned answer, a
  static zone or a fake DNS server on gw cannot know it.
- Translation: the grader's own sockets at both ends. It listens in
  v4only (a provider node: the trainee cannot enter it) on a random port
  and connects from pc to that server's address inside the NAT64 prefix;
  the connection accepted in v4only says which IPv4 address the server
  saw, and data crosses both ways. A raw socket in v4only sees every TCP
  packet that arrives there, which says where a failed connection got to
  and whether a fetch answered to pc ever reached the server. A gw that
  answers in the server's place has nothing arrive at v4only.
- pc's resolver: the one named in pc's /etc/resolv.conf (read through the
  outside view), asked by the grader from pc, then used for the fetch.

Messages and descriptions are the lab's: each factory takes the lab's
translator `_` (docs/translating.md).
"""

from __future__ import annotations

import ipaddress
import os
import select
import socket
import time
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence

from v6lab.errors import NodeFileError
from v6lab.grading import Check, CheckFailed, CheckPending
from v6lab.proto import ProtoError, dns, ipv4

if TYPE_CHECKING:
    from v6lab import Lab

Translate = Callable[[str], str]

DNS_TIMEOUT = 2.0       # the trainee's DNS64 asks the Internet's resolver: a few ms here
TCP_TIMEOUT = 2.0       # a SYN and one retransmission (1 s)
# The client's address leaves DAD about 1 s after it came up (a check run
# right after the lab started); only that is waited for (retry="pending").
SETTLE = 3.0


def _fmt(items: Iterable[object]) -> str:
    return ", ".join(str(x) for x in items) or "-"


def _norm(addr: str) -> str:
    return str(ipaddress.ip_address(addr))


def _ready(lab: "Lab", client: str, _: Translate) -> None:
    """CheckPending while every global address of client is still in DAD:
    its packets would leave from its link-local address, which no DNS64's
    access-control and no route back covers (the answer: REFUSED)."""
    addrs = [a for a in lab[client].addresses(None, 6) if a.scope == "global"]
    if addrs and all(a.tentative for a in addrs):
        raise CheckPending(_("{client}'s address {address} is still tentative (duplicate "
                             "address detection)").format(client=client, address=addrs[0].cidr))


def _probe(description: str, fn: Callable[["Lab"], str]) -> Check:
    """A check that probes from a client: waits only while the client's
    address is in DAD (_ready), fails at once on anything else."""
    return Check(description, fn, within=SETTLE, retry="pending")


def _aaaa(lab: "Lab", client: str, server: str, name: str, _: Translate) -> list[str]:
    """The AAAA addresses server gives client for name (the core's probe,
    from client's namespace); CheckFailed when it gives no answer at all."""
    r = lab[client].dns_query(server, name, "AAAA", timeout=DNS_TIMEOUT)
    if not r.answered:
        raise CheckFailed(_("no DNS answer from {server} to {client} for {name} AAAA: {error} "
                            "(is unbound listening on {server}, and does its access-control "
                            "allow {client}?)").format(server=server, client=client, name=name,
                                                       error=r.error))
    if r.rcode != "NOERROR":
        raise CheckFailed(_("{server} answered {rcode} for {name} AAAA").format(
            server=server, rcode=r.rcode, name=name))
    return sorted(_norm(a.data) for a in r.answers if a.type == "AAAA")


def dns64_synthesises(client: str, server: str, name: str, expected: str,
                      _: Translate) -> Check:
    """server answers client's AAAA query for name, which has only an A
    record, with exactly the synthesised `expected`."""
    def fn(lab: "Lab") -> str:
        _ready(lab, client, _)
        got = _aaaa(lab, client, server, name, _)
        if not got:
            raise CheckFailed(_("{server} gives no AAAA for {name}, which has only an A record: "
                                "it does not synthesise one (is dns64 in unbound's "
                                "module-config?)").format(server=server, name=name))
        if got != [_norm(expected)]:
            raise CheckFailed(_("{server} answers {name} AAAA with {got}, not {expected}: the "
                                "DNS64 prefix must be the one tayga translates").format(
                                    server=server, name=name, got=_fmt(got), expected=expected))
        return _("{name} AAAA {address} (synthesised)").format(name=name, address=got[0])
    return _probe(_("{server} synthesises {name} AAAA = {expected} for {client}").format(
        server=server, name=name, expected=expected, client=client), fn)


def real_aaaa_kept(client: str, server: str, name: str, real: str, prefix: str,
                   _: Translate) -> Check:
    """A name with a real AAAA record gets exactly that record: a DNS64
    synthesises only where no AAAA exists (RFC 6147 5.1.6)."""
    net = ipaddress.IPv6Network(prefix)

    def fn(lab: "Lab") -> str:
        _ready(lab, client, _)
        got = _aaaa(lab, client, server, name, _)
        synth = [a for a in got if ipaddress.IPv6Address(a) in net]
        if synth:
            raise CheckFailed(_("{server} answers {name} AAAA with {synthesised}, synthesised "
                                "although {name} has a real AAAA {real}: hosts would send "
                                "IPv6 traffic through the translator for nothing "
                                "(dns64-synthall?)").format(
                                    server=server, name=name, synthesised=_fmt(synth), real=real))
        if got != [_norm(real)]:
            raise CheckFailed(_("{server} answers {name} AAAA with {got}, not its real {real}")
                              .format(server=server, name=name, got=_fmt(got), real=real))
        return _("{name} AAAA {address} (real, kept)").format(name=name, address=got[0])
    return _probe(_("{server} keeps the real AAAA of {name} ({real})").format(
        server=server, name=name, real=real), fn)


def rfc7050_discovery(client: str, server: str, expected: Sequence[str], _: Translate) -> Check:
    """ipv4only.arpa AAAA (RFC 7050: 192.0.0.170 and .171 synthesised)
    gives exactly the two addresses from which a host learns the prefix."""
    want = sorted(_norm(a) for a in expected)

    def fn(lab: "Lab") -> str:
        _ready(lab, client, _)
        got = _aaaa(lab, client, server, "ipv4only.arpa", _)
        if got != want:
            raise CheckFailed(_("{server} answers ipv4only.arpa AAAA with {got}, not {expected}: "
                                "a host that discovers the NAT64 prefix (RFC 7050) would not "
                                "learn it").format(server=server, got=_fmt(got),
                                                   expected=_fmt(want)))
        return _("ipv4only.arpa AAAA {addresses}").format(addresses=_fmt(got))
    return _probe(_("{server} answers ipv4only.arpa AAAA with {expected} (RFC 7050)").format(
        server=server, expected=_fmt(want)), fn)


# ------------------------------------------------------------ a fresh name

def _authority_answer(data: bytes, name: str, zone: str, v4: str) -> Optional[bytes]:
    """The grader's authoritative answer for zone: A v4 for name, an empty
    NOERROR answer (with the zone's SOA) for anything else in the zone,
    REFUSED outside it; None for what is not a query."""
    try:
        q = dns.decode(data)
    except ProtoError:
        return None
    if q.response or len(q.questions) != 1:
        return None
    qn = q.questions[0]
    low = qn.name.rstrip(".").lower()
    if low != zone and not low.endswith("." + zone):
        return dns.encode(dns.Message(q.id, response=True, rcode=5, questions=q.questions,
                                      recursion_desired=q.recursion_desired))
    soa = dns.Record(zone, "SOA", 5, dns.Soa("ns." + zone, "hostmaster." + zone, 1, 60, 60,
                                            600, 5))
    answers = ((dns.Record(qn.name, "A", 5, v4),) if low == name and qn.type == "A" else ())
    return dns.encode(dns.Message(q.id, response=True, authoritative=True,
                                  recursion_desired=q.recursion_desired, questions=q.questions,
                                  answers=answers, authority=() if answers else (soa,)))


def dns64_fresh_name(client: str, server: str, prefix: str, zone: str, auth_node: str,
                     auth_addr: str, _: Translate) -> Check:
    """server synthesises the AAAA of a name made up for this grade, whose
    A record (a random IPv4 address) the grader serves itself at
    auth_node's auth_addr, where the Internet's resolver sends queries for
    `zone`. The query goes from client's namespace (the grader's socket)."""
    net = ipaddress.IPv6Network(prefix)
    zone = zone.rstrip(".").lower()

    def fn(lab: "Lab") -> str:
        _ready(lab, client, _)
        name = f"v6lab-{os.urandom(5).hex()}.{zone}"
        v4 = str(ipaddress.IPv4Address("203.0.113.128") + 1 + os.urandom(1)[0] % 126)
        expected = str(net[int(ipaddress.IPv4Address(v4))])
        asked: list[str] = []
        answer = None
        q = dns.query(name, "AAAA")
        with lab[auth_node].socket(socket.AF_INET, socket.SOCK_DGRAM, bind_addr=auth_addr,
                                   port=53, reuse_addr=True) as auth, \
                lab[client].socket(socket.AF_INET6, socket.SOCK_DGRAM) as cl:
            # Connected: an ICMP port unreachable ends the wait at once.
            cl.connect((server, 53))
            cl.send(dns.encode(q))
            deadline = time.monotonic() + DNS_TIMEOUT
            error = _("no answer within {seconds} s").format(seconds=f"{DNS_TIMEOUT:g}")
            while answer is None and (left := deadline - time.monotonic()) > 0:
                ready = select.select([auth, cl], [], [], left)[0]
                if auth in ready:
                    data, peer = auth.recvfrom(4096)
                    reply = _authority_answer(data, name, zone, v4)
                    if reply is not None:
                        asked.append(dns.decode(data).questions[0].type)
                        auth.sendto(reply, peer)
                if cl in ready:
                    try:
                        m = dns.decode(cl.recv(4096))
                    except OSError as e:
                        error = e.strerror or str(e)
                        break
                    except ProtoError as e:
                        raise CheckFailed(_("{server} sent a malformed answer: {error}").format(
                            server=server, error=e)) from None
                    if m.response and m.id == q.id:
                        answer = m
        if answer is None:
            raise CheckFailed(_("no DNS answer from {server} for {name} AAAA: {error} (the "
                                "Internet's resolver was asked for it: {asked})").format(
                                    server=server, name=name, error=error, asked=_fmt(asked)))
        got = sorted(_norm(r.data) for r in answer.answers if r.type == "AAAA")
        if got != [expected]:
            raise CheckFailed(_("{server} answers {name} (the grader's own name: A {v4}, no AAAA) "
                                "with {got}, not {expected} (the Internet's resolver was asked "
                                "for it: {asked})").format(
                                    server=server, name=name, v4=v4, got=_fmt(got) if got else
                                    answer.rcode_name, expected=expected, asked=_fmt(asked)))
        return _("{name} (made up for this grade: A {v4}) AAAA {address}, looked up through the "
                 "Internet").format(name=name, v4=v4, address=expected)
    return _probe(_("{server} synthesises the AAAA of a name it cannot have seen before "
                   "(the grader answers its A record)").format(server=server), fn)


# ------------------------------------------------------------- translation

def _segments(raw: socket.socket, wait: float = 0.0) -> list[ipv4.TcpSegment]:
    """Every IPv4 TCP packet the raw socket holds, waiting up to `wait`
    for the first."""
    out = []
    while select.select([raw], [], [], wait)[0]:
        wait = 0.0
        seg = ipv4.try_decode_tcp(raw.recv(65535))
        if seg is not None:
            out.append(seg)
    return out


def _arrived(segs: Sequence[ipv4.TcpSegment], dst: str, port: int) -> list[ipv4.TcpSegment]:
    return [s for s in segs if s.dst == dst and s.dport == port]


def _raw_tcp(lab: "Lab", node: str) -> socket.socket:
    return lab[node].socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)


def _recv_exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _not_connected(_: Translate, client: str, addr: str, port: int, error: str,
                   segs: Sequence[ipv4.TcpSegment], server: str, server4: str,
                   nat: str, nat4: str) -> CheckFailed:
    """Why client's connection failed, from where its packets got to."""
    sources = sorted({s.src for s in segs})
    if not sources:
        return CheckFailed(_("{client} cannot connect to [{address}]:{port} ({error}); nothing "
                             "arrived at {server} ({server4})").format(
                                 client=client, address=addr, port=port, error=error,
                                 server=server, server4=server4))
    if nat4 not in sources:
        return CheckFailed(_("{client}'s connection to [{address}]:{port} arrived at {server} "
                             "from {sources}, not from {nat}'s public address {nat4}, and no "
                             "answer came back ({error}): the Internet has no route back to "
                             "{sources}").format(client=client, address=addr, port=port,
                                                 server=server, sources=_fmt(sources), nat=nat,
                                                 nat4=nat4, error=error))
    return CheckFailed(_("{client}'s connection to [{address}]:{port} arrived at {server} from "
                         "{nat4}, but {server}'s answer did not get back to {client} "
                         "({error})").format(client=client, address=addr, port=port,
                                             server=server, nat4=nat4, error=error))


def translated_source(client: str, server: str, prefix: str, server4: str, nat: str,
                      nat4: str, _: Translate) -> Check:
    """client reaches the IPv4-only server at its address inside prefix,
    and server sees the connection come from nat's public IPv4 address
    nat4: the grader listens in server on a random port, connects from
    client, and sends random data both ways."""
    addr = str(ipaddress.IPv6Network(prefix)[int(ipaddress.IPv4Address(server4))])

    def fn(lab: "Lab") -> str:
        _ready(lab, client, _)
        port = 20000 + int.from_bytes(os.urandom(2), "big") % 40000
        up, down = os.urandom(16).hex().encode(), os.urandom(16).hex().encode()
        with lab[server].socket(socket.AF_INET, socket.SOCK_STREAM, bind_addr=server4,
                                port=port, reuse_addr=True) as lsn, _raw_tcp(lab, server) as raw:
            lsn.listen(4)
            lsn.settimeout(1.0)
            with lab[client].socket(socket.AF_INET6, socket.SOCK_STREAM,
                                    timeout=TCP_TIMEOUT) as cl:
                try:
                    cl.connect((addr, port))
                except OSError as e:
                    segs = _arrived(_segments(raw), server4, port)
                    raise _not_connected(_, client, addr, port, e.strerror or str(e), segs,
                                         server, server4, nat, nat4) from None
                try:
                    conn, peer = lsn.accept()
                except socket.timeout:
                    raise CheckFailed(_("{client}'s connection to [{address}]:{port} was "
                                        "accepted, but nothing reached {server}: something on "
                                        "the way answered in its place").format(
                                            client=client, address=addr, port=port,
                                            server=server)) from None
                with conn:
                    conn.settimeout(TCP_TIMEOUT)
                    try:
                        cl.sendall(up)
                        heard = _recv_exactly(conn, len(up))
                        conn.sendall(down)
                        back = _recv_exactly(cl, len(down))
                    except OSError:     # a timeout or a reset: judged below
                        heard = back = b""
        if peer[0] != nat4:
            raise CheckFailed(_("{server} saw {client}'s connection come from {source}, not from "
                                "{nat}'s public address {nat4}").format(
                                    server=server, client=client, source=peer[0], nat=nat,
                                    nat4=nat4))
        if heard != up or back != down:
            raise CheckFailed(_("{client} and {server} connected, but the grader's data did not "
                                "cross both ways intact").format(client=client, server=server))
        return _("{server} ({server4}) saw {client}'s connection to [{address}]:{port} come from "
                 "{nat4}, and data crossed both ways").format(
                     server=server, server4=server4, client=client, address=addr, port=port,
                     nat4=nat4)
    return _probe(_("{client} reaches {server} at [{address}], which sees {nat}'s public address "
                   "{nat4} (the grader's sockets at both ends)").format(
                       client=client, server=server, address=addr, nat=nat, nat4=nat4), fn)


# ---------------------------------------------------------------- the client

def _resolver_of(lab: "Lab", client: str, _: Translate) -> str:
    """The first nameserver of client's /etc/resolv.conf, read from outside."""
    try:
        text = lab[client].read_file("/etc/resolv.conf").decode("utf-8", "replace")
    except NodeFileError as e:
        raise CheckFailed(_("cannot read {client}'s /etc/resolv.conf: {error}").format(
            client=client, error=e)) from None
    servers = [ln.split()[1] for ln in text.splitlines()
               if ln.split()[:1] == ["nameserver"] and len(ln.split()) > 1]
    if not servers:
        raise CheckFailed(_("{client}'s /etc/resolv.conf names no nameserver").format(
            client=client))
    ns = servers[0].split("%")[0]
    try:
        ip = ipaddress.ip_address(ns)
    except ValueError:
        raise CheckFailed(_("{client}'s /etc/resolv.conf names {server}, which is not an "
                            "address").format(client=client, server=ns)) from None
    if ip.version == 4:
        raise CheckFailed(_("{client}'s resolver {server} (/etc/resolv.conf) is an IPv4 address, "
                            "which an IPv6-only host cannot reach").format(client=client,
                                                                          server=ns))
    return str(ip)


def _http_get(lab: "Lab", client: str, addr: str, host: str, path: str) -> bytes:
    """The whole answer to one HTTP/1.1 GET from the grader's socket in client."""
    with lab[client].socket(socket.AF_INET6, socket.SOCK_STREAM, timeout=TCP_TIMEOUT) as s:
        s.connect((addr, 80))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while len(data) < 65536:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def client_fetches(client: str, name: str, prefix: str, server: str, server4: str, nat: str,
                   nat4: str, text: str, _: Translate) -> Check:
    """client's own resolver (its /etc/resolv.conf) gives an AAAA for the
    IPv4-only name inside prefix, and an HTTP GET from client to it gets
    `text` from the real server: the request, with a token made up for
    this grade, is seen arriving at server from nat's public nat4."""
    net = ipaddress.IPv6Network(prefix)

    def fn(lab: "Lab") -> str:
        _ready(lab, client, _)
        ns = _resolver_of(lab, client, _)
        r = lab[client].dns_query(ns, name, "AAAA", timeout=DNS_TIMEOUT)
        if not r.answered:
            raise CheckFailed(_("{client}'s resolver {server} (/etc/resolv.conf) does not answer "
                                "{name} AAAA: {error}").format(client=client, server=ns,
                                                               name=name, error=r.error))
        got = [_norm(a.data) for a in r.answers if a.type == "AAAA"]
        inside = [a for a in got if ipaddress.IPv6Address(a) in net]
        if not inside:
            raise CheckFailed(_("{client}'s resolver {server} (/etc/resolv.conf) gives no AAAA "
                                "in {prefix} for {name} ({rcode}, AAAA: {got}): it is not the "
                                "DNS64").format(client=client, server=ns, prefix=prefix,
                                                name=name, rcode=r.rcode, got=_fmt(got)))
        addr = inside[0]
        token = os.urandom(8).hex()
        with _raw_tcp(lab, server) as raw:
            try:
                answer = _http_get(lab, client, addr, name, f"/?v6lab={token}")
            except OSError as e:
                raise CheckFailed(_("{client} cannot fetch http://{name}/ from [{address}]:80: "
                                    "{error}").format(client=client, name=name, address=addr,
                                                      error=e.strerror or str(e))) from None
            segs = _arrived(_segments(raw, wait=0.05), server4, 80)
        carried = [s for s in segs if token.encode() in s.payload]
        if not carried:
            raise CheckFailed(_("{client} got an answer from [{address}]:80, but its request "
                                "never reached {server} ({server4}): something on the way "
                                "answered in its place").format(client=client, address=addr,
                                                                server=server, server4=server4))
        if carried[0].src != nat4:
            raise CheckFailed(_("{client}'s request reached {server} from {source}, not from "
                                "{nat}'s public address {nat4}").format(
                                    client=client, server=server, source=carried[0].src,
                                    nat=nat, nat4=nat4))
        body = answer.partition(b"\r\n\r\n")[2]
        if text.encode() not in body:
            raise CheckFailed(_("{client} fetched http://{name}/ but the answer lacks "
                                "'{text}': {answer}").format(client=client, name=name, text=text,
                                                             answer=repr(answer[:80])))
        return _("{client} resolved {name} to {address} through {server_ns} and fetched "
                 "'{text}' from {server} (request seen arriving from {nat4})").format(
                     client=client, name=name, address=addr, server_ns=ns, text=text,
                     server=server, nat4=nat4)
    return _probe(_("{client} resolves {name} with its own resolver and fetches it over IPv6 "
                   "(the request seen arriving at {server})").format(
                       client=client, name=name, server=server), fn)
