"""Reference solution of lab 12. Each step can be applied again (v6lab solve
runs from the first step); the files are exactly what the README shows."""

from v6lab.course import render

from .lab import Lab

UNBOUND_TEMPLATE = """server:
    interface: ${gw_lan}
    access-control: ${office_prefix} allow
    module-config: "dns64 iterator"
    dns64-prefix: ${nat64_prefix}
    username: ""
    chroot: ""
    pidfile: /run/unbound.pid
    use-syslog: no
    logfile: /var/log/unbound.log

forward-zone:
    name: "."
    forward-addr: ${inet_resolver6}
"""

TAYGA_TEMPLATE = """tun-device nat64
ipv4-addr ${tayga4}
prefix ${nat64_prefix}
dynamic-pool ${pool4}
data-dir /var/lib/tayga
"""

# NAT44: what leaves eth1 (towards the ISP) from tayga's pool takes gw's
# public address. The README's three commands, run once.
NAT44_START = """nft list chain ip nat postrouting >/dev/null 2>&1 || {
nft add table ip nat
nft 'add chain ip nat postrouting { type nat hook postrouting priority srcnat; }'
nft add rule ip nat postrouting oifname eth1 ip saddr ${pool4} masquerade
}
"""

# The interface, the routes into it and tayga itself, as the README lists
# them (each guarded, so that a second solve changes nothing).
TAYGA_START = """mkdir -p /var/lib/tayga
ip link show nat64 >/dev/null 2>&1 || tayga --mktun
ip link set nat64 up
ip route replace ${pool4} dev nat64
ip -6 route replace ${nat64_prefix} dev nat64
pgrep -x tayga >/dev/null || tayga
"""


def text(lab, template: str) -> str:
    return render(template, lab.vars or Lab.variables, "labs/nat64/solution.py")


def write(lab, node: str, path: str, content: str) -> None:
    lab[node].cmd(["sh", "-c", f"cat > {path}"], input=content, check=True)


def forwarding(lab):
    lab["gw"].cmd("sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1", check=True)


def start_unbound(lab, conf: str) -> None:
    write(lab, "gw", "/etc/unbound/unbound.conf", conf)
    # unbound binds its address once, at start: after DAD (a script is
    # faster than a trainee).
    lab["gw"].wait_addresses_ready("eth0")
    # Restarted, so that a second solve (or a fixed file) takes effect.
    lab["gw"].cmd("unbound-checkconf >/dev/null && { kill $(pidof unbound) 2>/dev/null; "
                  "while pidof unbound >/dev/null; do sleep 0.05; done; unbound; }", check=True)


def dns64(lab):
    start_unbound(lab, text(lab, UNBOUND_TEMPLATE))


def start_tayga(lab, conf: str, nat44: bool = True) -> None:
    write(lab, "gw", "/etc/tayga.conf", conf)
    lab["gw"].cmd(["sh", "-ec", text(lab, TAYGA_START)], check=True)
    if nat44:
        lab["gw"].cmd(["sh", "-ec", text(lab, NAT44_START)], check=True)


def nat64(lab):
    start_tayga(lab, text(lab, TAYGA_TEMPLATE))


def client(lab):
    v = lab.vars or Lab.variables
    write(lab, "pc", "/etc/resolv.conf", f"nameserver {v['gw_lan']}\n")
    # Right after the lab started pc's address may still be in DAD: its
    # query would leave from its link-local address, which unbound's
    # access-control refuses (a trainee is slower than that).
    lab["pc"].wait_addresses_ready("eth0")
    lab["pc"].cmd(f"curl -sS -m 3 http://{v['inet_v4only']}/", check=True)


SOLUTION = {
    "forwarding": forwarding,
    "dns64": dns64,
    "nat64": nat64,
    "client": client,
}
