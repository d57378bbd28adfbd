"""Reference solution of lab 14: fw's /etc/nftables.conf, grown one step at
a time as the README's tasks do, and loaded with nft -f. Each step writes
the whole file again, so `v6lab solve` can run twice."""

from v6lab.course import render

from .lab import Lab

# The README's final file, line by line: (the step that adds the line, the
# chain it belongs to, the line). Exactly what README.md shows at the end.
INPUT, FORWARD = "input", "forward"
ND_TYPES = "nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert"
ERROR_TYPES = "destination-unreachable, packet-too-big, time-exceeded, parameter-problem"
RULES = [
    ("block-inbound", INPUT, 'iif "lo" accept'),
    ("stateful", INPUT, "ct state established,related accept"),
    ("ndp", INPUT, "# RFC 4890: neighbour and router discovery"),
    ("ndp", INPUT, f"icmpv6 type {{ {ND_TYPES} }} accept"),
    ("stateful", INPUT, "# RFC 4890: the error messages"),
    ("stateful", INPUT, f"icmpv6 type {{ {ERROR_TYPES} }} accept"),
    ("echo", INPUT, "icmpv6 type echo-request limit rate 10/second accept"),
    ("stateful", FORWARD, "ct state established,related accept"),
    ("stateful", FORWARD, f"icmpv6 type {{ {ERROR_TYPES} }} accept"),
    ("echo", FORWARD, "icmpv6 type echo-request limit rate 10/second accept"),
    ("stateful", FORWARD, 'iifname "eth1" oifname "eth0" accept'),
    ("publish", FORWARD, "ip6 daddr ${srv} tcp dport 80 accept"),
]
ORDER = ["block-inbound", "ndp", "stateful", "publish", "echo"]

HEAD = """#!/usr/sbin/nft -f
# fw's firewall: one table of the inet family filters IPv6 (and IPv4).
flush ruleset

table inet edge {
"""
CHAIN = "\tchain {name} {{\n\t\ttype filter hook {name} priority filter; policy drop;\n"


def ruleset(upto: str, *, drop=(), add=()) -> str:
    """The file after step `upto`: without the lines in `drop`, with the
    (chain, line, before) of `add` inserted before `before` (or at the
    chain's end when before is None): how the mistakes change it."""
    last = ORDER.index(upto)
    lines = {INPUT: [], FORWARD: []}
    for step, chain, line in RULES:
        if ORDER.index(step) <= last and line not in drop:
            lines[chain].append(line)
    for chain, line, before in add:
        at = lines[chain].index(before) if before in lines[chain] else len(lines[chain])
        lines[chain].insert(at, line)
    text = HEAD
    for chain in (INPUT, FORWARD):
        text += CHAIN.format(name=chain)
        text += "".join(f"\t\t{x}\n" for x in lines[chain])
        text += "\t}\n"
    return text + "}\n"


def load(lab, text: str) -> None:
    """Writes fw's /etc/nftables.conf and loads it, as the trainee does."""
    text = render(text, lab.vars or Lab.variables, "labs/icmpv6-firewall/solution.py")
    lab["fw"].cmd(["sh", "-c", "cat > /etc/nftables.conf"], input=text, check=True)
    lab["fw"].cmd("nft -f /etc/nftables.conf", check=True)


def block_inbound(lab):
    load(lab, ruleset("block-inbound"))
    # The grader probes addresses that have passed DAD (a fresh lab's are
    # tentative for about a second).
    for node in ("fw", "pc"):
        lab[node].wait_addresses_ready()


def ndp(lab):
    load(lab, ruleset("ndp"))


def stateful(lab):
    load(lab, ruleset("stateful"))


def publish(lab):
    load(lab, ruleset("publish"))


def echo(lab):
    load(lab, ruleset("echo"))


SOLUTION = {
    "block-inbound": block_inbound,
    "ndp": ndp,
    "stateful": stateful,
    "publish": publish,
    "echo": echo,
}
