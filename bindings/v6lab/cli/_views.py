"""The view of a running lab that several verbs print: its nodes,
interfaces and addresses, read live (`inspect`, and the table `demo` and
`start` show once the lab is up)."""

from __future__ import annotations

from typing import Any

from ..i18n import _
from ..lab import Lab


def _inspect_data(lab: Lab) -> dict[str, Any]:
    out: dict[str, Any] = {"name": lab.name, "id": lab.id, "nodes": {}}
    for node in lab:
        ifaces = {}
        addrs = node.addresses()
        for link in sorted(node.links(), key=lambda l: l.name):
            if link.kind == "loopback":
                continue
            spec_if = node.spec.iface(link.name)
            ifaces[link.name] = {
                "state": link.operstate, "mtu": link.mtu, "mac": link.mac,
                "connects": (spec_if.lan or spec_if.peer) if spec_if else "",
                "addresses": [{"address": a.cidr, "scope": a.scope,
                               "flags": a.flag_names}
                              for a in addrs if a.ifname == link.name],
            }
        out["nodes"][node.name] = {"image": node.image, "pid": node.pid,
                                   "roles": node.roles,
                                   "provider": node.provider,
                                   "interfaces": ifaces}
    return out


def _print_inspect(con: Any, lab: Lab, mark_tentative: bool = True) -> None:
    """The address table. `start` passes mark_tentative=False: right after a
    build every address is tentative for a second, and a column of
    "(tentative)" reads as a fault; it says once that addresses settle."""
    from rich.table import Table

    # TRANSLATORS: column headings of the address table (`v6lab inspect`):
    # the node, its image, the interface, the LAN or node it connects to,
    # the interface's state (UP, DOWN: the kernel's words) and addresses.
    t = Table(_("node"), _("image"), _("iface"), _("to"), _("state"), _("addresses"))
    # "tentative" is the kernel's word (ip -6 addr shows it): not translated.
    # TRANSLATORS: after the image of a node the lab provides (the ISP).
    provided = " " + _("(provided)")
    data = _inspect_data(lab)
    for name, n in data["nodes"].items():
        first = True
        for ifn, i in n["interfaces"].items():
            addrs = " ".join(a["address"] + (" (tentative)" if mark_tentative
                                             and "tentative" in a["flags"] else "")
                             for a in i["addresses"])
            image = n["image"] + (provided if n["provider"] else "")
            t.add_row(name if first else "", image if first else "", ifn,
                      i["connects"], i["state"], addrs)
            first = False
    # A heading longer than its column's words (Vietnamese "trạng thái"
    # over "up") wraps instead of taking the width the addresses need.
    from rich.cells import cell_len
    for col in t.columns[:5]:
        words = [w for cell in col.cells for w in str(cell).split()]
        longest = max([cell_len(w) for w in words + str(col.header).split()], default=0)
        col.max_width = max([cell_len(str(cell)) for cell in col.cells] + [longest])
    con.print(t)
