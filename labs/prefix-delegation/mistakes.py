"""Mistakes seen when offices first connect behind a delegating ISP."""

from __future__ import annotations

import ipaddress

from v6lab import wait_until
from v6lab.course import Mistake
from v6lab.i18n import N_

from .solution import (DHCPCD_CONF, RADVD_CONF, delegated_prefix, lan_address, number_lans,
                       start_dhcpcd, start_radvd)


def forwarding_only(lab):
    # As on any router: forwarding on, accept_ra left as it was (1). The
    # kernel drops the RA's default route at once and ignores later RAs.
    lab["cpe"].cmd("sysctl -w net.ipv6.conf.all.forwarding=1", check=True)


def request_64(lab):
    # The prefix length a PD client asks for by default in many examples.
    start_dhcpcd(lab, DHCPCD_CONF.replace("/::/${pd_length}", "/::/64"))
    p = delegated_prefix(lab)
    assert p.prefixlen == 64, p


def lan_from_wan(lab):
    # "The ISP's prefix is 2001:db8:ff00:1::/64, so :2 and :3 are ours."
    wan = ipaddress.IPv6Network(lab.vars["wan_prefix"])
    nxt = [ipaddress.IPv6Network((int(wan.network_address) + (k << 64), 64)) for k in (1, 2)]
    number_lans(lab, f"{nxt[0].network_address + 1}/64", f"{nxt[1].network_address + 1}/64")


def one_prefix_for_both(lab):
    # One /64 typed twice: the two LANs overlap and routing breaks.
    p = delegated_prefix(lab)
    addr = lan_address(p, 1)
    number_lans(lab, addr, addr.replace("::1/64", "::2/64"))


def radvd_wan_prefix(lab):
    # The prefix the ISP advertised on the WAN, copied to the LANs.
    start_radvd(lab, RADVD_CONF.replace("prefix ::/64", "prefix ${wan_prefix}"))


MISTAKES = [
    Mistake("forwarding-only", "wan",
            N_("turns forwarding on and leaves accept_ra at 1 on eth0: the CPE drops its "
               "default route"), forwarding_only,
            expect=("cpe has no default route",)),
    Mistake("request-64", "pd",
            N_("asks for a /64 (ia_pd 1/::/64): one LAN's worth, not an office's"), request_64,
            expect=("/64 to cpe, not a /${pd_length}: ask for a /${pd_length}",)),
    Mistake("lan-from-wan", "lans",
            N_("numbers the LANs from /64 prefixes next to the WAN prefix, which the ISP never "
               "delegated"), lan_from_wan,
            expect=("cpe:eth1 has 2001:db8:ff00:2::1/64, which is not a /64 inside the delegated "
                    "prefix",)),
    Mistake("one-prefix-for-both", "lans",
            N_("numbers staff and guest from the same /64"), one_prefix_for_both,
            expect=("cpe:eth1 and cpe:eth2 are both numbered from",
                    "each LAN needs a /64 of its own")),
    Mistake("radvd-wan-prefix", "radvd",
            N_("advertises the WAN prefix on the LANs instead of their own /64 prefixes"),
            radvd_wan_prefix,
            expect=("cpe:eth1 does not advertise its own /64",
                    "(advertised: ${wan_prefix})")),
]
