"""Common mistakes in lab 14, scripted: each is what a trainee writes for
its step, taken from real outages."""

from v6lab.course import Mistake
from v6lab.i18n import N_

from .solution import ERROR_TYPES, FORWARD, INPUT, ND_TYPES, load, ruleset

ND_RULE = f"icmpv6 type {{ {ND_TYPES} }} accept"
ERRORS_RULE = f"icmpv6 type {{ {ERROR_TYPES} }} accept"
ECHO_RULE = "icmpv6 type echo-request limit rate 10/second accept"
OUT_RULE = 'iifname "eth1" oifname "eth0" accept'
CT_RULE = "ct state established,related accept"


def ipv4_table(lab):
    # The old habit: the rules go into the table the previous admin left,
    # of the ip family. IPv6 is not filtered at all.
    load(lab, """#!/usr/sbin/nft -f
flush ruleset
table ip edge4 {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
}
""")
    for node in ("fw", "pc"):
        lab[node].wait_addresses_ready()


def forward_only(lab):
    # Only traffic through fw is filtered: fw's own services are open.
    text = ruleset("block-inbound")
    start = text.index("\tchain input")
    load(lab, text[:start] + text[text.index("\tchain forward"):])
    for node in ("fw", "pc"):
        lab[node].wait_addresses_ready()


def inside_only(lab):
    # "ICMPv6 from the Internet is dangerous": NDP allowed from the inside only.
    load(lab, ruleset("ndp", drop=[ND_RULE], add=[(INPUT, f'iifname "eth1" {ND_RULE}', None)]))


def na_forgotten(lab):
    load(lab, ruleset("ndp", drop=[ND_RULE], add=[
        (INPUT, "icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit } "
                "accept", None)]))


def accept_after_drop(lab):
    # The classic outage: "drop all ICMPv6" on top, the NDP rule below it
    # never matches.
    load(lab, ruleset("ndp", add=[(INPUT, "meta l4proto ipv6-icmp drop", ND_RULE)]))


def no_established(lab):
    # Out is allowed, but nothing lets the replies back in.
    load(lab, ruleset("stateful", drop=[CT_RULE],
                      add=[(INPUT, CT_RULE, "# RFC 4890: the error messages")]))


def established_only(lab):
    # ct state established, but not related, and no ICMPv6 errors in
    # forward: replies come back, Packet Too Big does not (PMTUD black hole).
    load(lab, ruleset("stateful", drop=[CT_RULE, ERRORS_RULE], add=[
        (INPUT, CT_RULE, None), (INPUT, ERRORS_RULE, None),
        (FORWARD, "ct state established accept", OUT_RULE)]))


def publish_in_input(lab):
    # input is for fw itself; srv's traffic goes through forward.
    load(lab, ruleset("stateful", add=[(INPUT, "tcp dport 80 accept", None)]))


def port_80_everywhere(lab):
    load(lab, ruleset("stateful", add=[(FORWARD, "tcp dport 80 accept", None)]))


def echo_input_only(lab):
    load(lab, ruleset("publish", add=[(INPUT, ECHO_RULE, None)]))


MISTAKES = [
    Mistake("ipv4-table", "block-inbound",
            N_("writes the rules into the old table of the ip family, which IPv6 never meets"),
            ipv4_table, expect=("fw lets new inbound IPv6 connections in",)),
    Mistake("forward-only", "block-inbound",
            N_("filters the forward chain only, so fw's own ports stay open"),
            forward_only, expect=("to fw port", "reached fw")),
    Mistake("drop-all-icmpv6", "ndp",
            N_("drops all ICMPv6 above the neighbour discovery rule (the classic outage)"),
            accept_after_drop,
            expect=("did not answer the grader's Neighbour Solicitation",
                    "drops Neighbour Solicitations arriving on")),
    Mistake("ndp-inside-only", "ndp",
            N_("accepts neighbour discovery from the inside only"),
            inside_only,
            expect=("fw:eth0 did not answer the grader's Neighbour Solicitation for ${fw_wan}",
                    "drops Neighbour Solicitations arriving on eth0")),
    Mistake("na-forgotten", "ndp",
            N_("accepts Neighbour Solicitations but forgets Neighbour Advertisements"),
            na_forgotten,
            expect=("ignored the grader's Neighbour Advertisement",
                    "drops Neighbour Advertisements")),
    Mistake("no-established", "stateful",
            N_("lets staff out but forgets ct state established,related in forward"),
            no_established,
            expect=("pc's connection to the Internet", "the answer never came back to pc")),
    Mistake("established-only", "stateful",
            N_("accepts ct state established but not related, and no ICMPv6 errors in forward"),
            established_only,
            expect=("Packet Too Big", "never left fw toward srv")),
    Mistake("publish-in-input", "publish",
            N_("opens port 80 in the input chain, which is for fw itself"),
            publish_in_input,
            expect=("to srv port 80 got no answer", "fw drops it")),
    Mistake("port-80-everywhere", "publish",
            N_("opens port 80 to every inside host, not just the web server"),
            port_80_everywhere,
            expect=("to pc port 80 reached pc",)),
    Mistake("echo-input-only", "echo",
            N_("lets ping in to fw only (input), not through it to srv"),
            echo_input_only,
            expect=("never reached srv's cable", "fw drops Echo Requests to srv")),
]
