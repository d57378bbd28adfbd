"""Mistakes seen in real PMTUD outages, each in place of one step's solution."""

from __future__ import annotations

from v6lab.course import Mistake
from v6lab.i18n import N_


def payload_size(lab):
    # ping -s is the ICMP payload, not the packet: 1352 is 48 bytes short.
    lab["pc"].wait_addresses_ready("eth0")
    lab["pc"].cmd(f"echo 1352 > {lab.vars['answer']}", check=True)


def input_only(lab):
    # r1's own pings work again; pc's forwarded traffic still black-holes.
    lab["r1"].cmd("nft insert rule inet edge input icmpv6 type packet-too-big accept", check=True)


def forward_only(lab):
    # pc works; r1's own traffic (updates, DNS over TCP, BGP...) still hangs.
    lab["r1"].cmd("nft insert rule inet edge forward icmpv6 type packet-too-big accept",
                  check=True)


def mss_clamp(lab):
    # The classic workaround: TCP through r1 works, Packet Too Big is still
    # dropped (UDP, QUIC, tunnels and r1 itself stay broken).
    lab["r1"].cmd("nft insert rule inet edge forward tcp flags syn tcp option maxseg size set 1340",
                  check=True)


def r1_uplink_mtu(lab):
    # r1 then sends its own Packet Too Big, which no firewall rule of the
    # forward chain sees: pc works, but only for this one narrow link.
    lab["r1"].cmd("ip link set dev eth1 mtu 1400", check=True)


def pc_mtu(lab):
    lab["pc"].cmd("ip link set dev eth0 mtu 1400", check=True)


def route_mtu_lock(lab):
    v = lab.vars
    lab["pc"].cmd(f"ip -6 route add {v['srv']}/128 via {v['r1_office']} dev eth0 mtu lock 1400",
                  check=True)


def flush_ruleset(lab):
    # "It works without the firewall": everything passes, the office is open.
    lab["r1"].cmd("nft flush ruleset", check=True)


MISTAKES = [
    Mistake("payload-size", "diagnose", N_("writes ping's payload size (1352) instead of the "
                                           "packet size"), payload_size,
            expect=("says 1352, which is not the path MTU",)),
    Mistake("input-only", "ptb", N_("accepts Packet Too Big in r1's input chain only, not in "
                                    "forward"), input_only,
            expect=("never reached pc:eth0: r1 drops it",)),
    Mistake("forward-only", "ptb", N_("accepts Packet Too Big in r1's forward chain only, not "
                                      "in input"), forward_only,
            expect=("r1 itself never received it: r1's input rules drop it",)),
    Mistake("mss-clamp", "ptb", N_("clamps the TCP MSS on r1 instead of letting Packet Too Big "
                                   "through"), mss_clamp,
            expect=("r1 drops it",)),
    Mistake("r1-uplink-mtu", "ptb", N_("lowers r1's uplink MTU to 1400 instead of fixing the "
                                       "firewall"), r1_uplink_mtu,
            expect=("not from the provider's isp",)),
    Mistake("pc-mtu", "pmtu", N_("lowers pc's MTU to 1400 by hand"), pc_mtu,
            expect=("pc:eth0's MTU is 1400, lowered from 1500",)),
    Mistake("route-mtu-lock", "pmtu", N_("pins the MTU toward srv with a hand-made route (mtu "
                                         "lock 1400)"), route_mtu_lock,
            expect=("has its MTU set by hand (mtu 1400 lock)",)),
    Mistake("flush-ruleset", "upload", N_("flushes r1's whole rule set to make the upload work"),
            flush_ruleset,
            expect=("a new flow from srv reached pc",)),
]
