"""Checks this lab needs that the library does not have (yet).

- `address_from_pool(host, pool)`: the host holds a leased (not
  hand-written) address inside a DHCPv6 pool *range*; `has_address` takes
  a prefix only.
- `server_holds_lease(server, host)`: the lease as the DHCPv6 server holds
  it, read from Kea's memfile lease file through the outside view of the
  server node (`Node.read_file`). The server here is a provider node: the
  trainee cannot log into it, so its file is the server's word, not the
  trainee's. The library has no lease-file reader.

Messages and descriptions are the lab's: each factory takes the lab's
translator `_` (docs/translating.md).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import time
from typing import TYPE_CHECKING, Callable, Optional

from v6lab.grading import Check, CheckFailed, CheckPending
from v6lab.grading.dhcp6_stateful import Pool
from v6lab.errors import NodeFileError

if TYPE_CHECKING:
    from v6lab import Lab

Translate = Callable[[str], str]

# Where the lab's Kea keeps its leases (nodes/dhcp/etc/kea/kea-dhcp6.conf.tmpl).
LEASE_FILE = "/var/lib/kea/kea-leases6.csv"
# A lease file grows by a line per lease change; a day of renewals of a
# few hosts is far below this.
LEASE_FILE_MAX = 1 << 20


def _pool_addresses(lab: "Lab", host: str, iface: str, pool: Pool) -> list:
    return [a for a in lab[host].addresses(iface, 6)
            if a.scope == "global" and a.address in pool]


def address_from_pool(host: str, pool: str, _: Translate, *, iface: str = "eth0",
                      within: float = 0.0) -> Check:
    """host:iface has a usable address inside `pool` that the kernel was
    given with lifetimes (a DHCPv6 client's), not one added by hand
    (permanent). Read over netlink."""
    p = Pool(pool)
    where = f"{host}:{iface}"

    def fn(lab: "Lab") -> str:
        mine = _pool_addresses(lab, host, iface, p)
        if not mine:
            have = ", ".join(a.cidr for a in lab[host].addresses(iface, 6)) or "-"
            raise CheckFailed(_("{where} has no address from the pool {pool} (it has: "
                                "{addresses})").format(where=where, pool=p, addresses=have))
        good = [a for a in mine if not a.permanent and not a.dadfailed]
        if not good:
            raise CheckFailed(_("{address} on {where} was added by hand (permanent), not "
                                "leased by DHCPv6").format(address=mine[0].address, where=where))
        ready = [a for a in good if not a.tentative]
        if not ready:
            raise CheckPending(_("{address} on {where} is still tentative").format(
                address=good[0].address, where=where))
        a = ready[0]
        return _("{where} has {address} from the pool {pool} (valid {seconds} s more)").format(
            where=where, address=a.address, pool=p, seconds=a.valid_lft)
    return Check(_("{where} has an address from the pool {pool} (dynamic)").format(
        where=where, pool=p), fn, within=within)


def _mac_of_duid(duid: str) -> Optional[str]:
    """The link-layer address inside a DUID-LLT or DUID-LL of Ethernet
    (hardware type 1), as Kea writes DUIDs (hex pairs with colons)."""
    try:
        b = bytes.fromhex(duid.replace(":", ""))
    except ValueError:
        return None
    kind, hw = int.from_bytes(b[0:2], "big"), int.from_bytes(b[2:4], "big")
    mac = b[8:] if kind == 1 else b[4:] if kind == 3 else b""
    if hw != 1 or len(mac) != 6:
        return None
    return ":".join(f"{x:02x}" for x in mac)


def read_leases(lab: "Lab", server: str, path: str = LEASE_FILE) -> dict[str, dict[str, str]]:
    """The active IA_NA leases Kea's memfile holds, by address: the file
    is a log (a line per change, a deleted lease is written again with
    valid lifetime 0), so the last line of an address wins. A missing file
    is no lease; a file the server node cannot hand over is a grader
    error (NodeFileError), never a pass."""
    try:
        raw = lab[server].read_file(path, max_bytes=LEASE_FILE_MAX)
    except NodeFileError as e:
        if e.kind == "not_found":
            return {}
        raise
    last: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(io.StringIO(raw.decode("utf-8", "replace"))):
        try:
            last[str(ipaddress.IPv6Address(row.get("address") or ""))] = row
        except ValueError:
            continue
    now = time.time()

    def active(r: dict[str, str]) -> bool:
        try:
            return (r.get("lease_type") == "0" and r.get("state", "0") == "0"
                    and int(r.get("valid_lifetime") or 0) > 0 and int(r.get("expire") or 0) > now)
        except ValueError:
            return False
    return {a: r for a, r in last.items() if active(r)}


def server_holds_lease(server: str, host: str, pool: str, _: Translate, *,
                       iface: str = "eth0", path: str = LEASE_FILE) -> Check:
    """The DHCPv6 server on `server` (a provider node) holds an active
    lease for the address host:iface has from `pool`, and the lease's
    client DUID carries host:iface's MAC when it is MAC-based (DUID-LLT or
    DUID-LL, what dhclient and Kea's hwaddr column use)."""
    p = Pool(pool)
    where = f"{host}:{iface}"

    def fn(lab: "Lab") -> str:
        mine = [a.address for a in _pool_addresses(lab, host, iface, p)]
        if not mine:
            raise CheckFailed(_("{where} has no address from the pool {pool}, so {server} "
                                "holds no lease for it").format(where=where, pool=p,
                                                                server=server))
        leases = read_leases(lab, server, path)
        mac = lab[host].link(iface).mac.lower()
        for addr in mine:
            row = leases.get(str(ipaddress.IPv6Address(addr)))
            if row is None:
                continue
            duid = row.get("duid", "")
            leased_mac = _mac_of_duid(duid) or (row.get("hwaddr") or "").lower() or None
            if leased_mac is not None and leased_mac != mac:
                raise CheckFailed(_("{server} leased {address} to another client (DUID {duid}, "
                                    "MAC {leased}), not to {where} (MAC {mac})").format(
                    server=server, address=addr, duid=duid, leased=leased_mac, where=where,
                    mac=mac))
            until = time.strftime("%H:%M:%S", time.localtime(int(row["expire"])))
            return _("{server} leased {address} to {where} (DUID {duid}, valid until "
                     "{until}), as its lease file says").format(
                server=server, address=addr, where=where, duid=duid, until=until)
        held = ", ".join(sorted(leases)) or "-"
        raise CheckFailed(_("{server} holds no lease for {addresses} of {where} (it holds: "
                            "{held})").format(server=server, addresses=", ".join(mine),
                                              where=where, held=held))
    return Check(_("{server} holds a DHCPv6 lease for {where}'s address (its lease file)").format(
        server=server, where=where), fn)
