"""Reference solution of lab 5: what the README tells the trainee to type.
Each step can be applied again (v6lab solve runs from the first step)."""

from v6lab import wait_until
from v6lab.course import render

from .checks import parse_resolv_conf
from .lab import Lab

# Exactly what the trainee README shows.
RADVD_TEMPLATE = """interface eth0 {
    AdvSendAdvert on;
    AdvManagedFlag off;
    AdvOtherConfigFlag on;
    prefix ${lan1_prefix} {
        AdvOnLink on;
        AdvAutonomous on;
    };
    RDNSS ${dns} {
    };
};
"""

DNSMASQ_TEMPLATE = """# DHCPv6 only: r1 is no DNS server (port=0).
port=0
interface=eth0
dhcp-range=::,constructor:eth0,ra-stateless
dhcp-option=option6:dns-server,[${dns}]
dhcp-option=option6:domain-search,${domain}
"""


def variables(lab) -> dict:
    return lab.vars or Lab.variables


def radvd_conf(lab) -> str:
    return render(RADVD_TEMPLATE, variables(lab), "labs/stateless-dhcpv6/solution.py")


def dnsmasq_conf(lab) -> str:
    return render(DNSMASQ_TEMPLATE, variables(lab), "labs/stateless-dhcpv6/solution.py")


def write(lab, node: str, path: str, text: str) -> None:
    lab[node].cmd(["sh", "-c", f"cat > {path}"], input=text, check=True)


def start_radvd(lab, conf: str) -> None:
    write(lab, "r1", "/etc/radvd.conf", conf)
    # Restarted if it runs, so that a second `v6lab solve` reads the file again.
    lab["r1"].cmd("radvd -c && { kill $(cat /run/radvd.pid 2>/dev/null) 2>/dev/null; "
                  "sleep 0.2; radvd; }", check=True)


def start_dnsmasq(lab, conf: str) -> None:
    write(lab, "r1", "/etc/dnsmasq.conf", conf)
    lab["r1"].cmd("dnsmasq --test && { kill $(pidof dnsmasq) 2>/dev/null; sleep 0.2; dnsmasq; }",
                  check=True)


def radvd(lab):
    start_radvd(lab, radvd_conf(lab))


def dhcpv6(lab):
    start_dnsmasq(lab, dnsmasq_conf(lab))


def resolver(lab, node: str) -> tuple[list[str], list[str]]:
    return parse_resolv_conf(lab[node].read_file("/etc/resolv.conf").decode())


def wait_slaac(lab, node: str) -> None:
    wait_until(lambda: [a for a in lab[node].addresses("eth0", 6)
                        if a.scope == "global" and not a.tentative], 10,
               what=f"a SLAAC address on {node}")


def laptop(lab):
    wait_slaac(lab, "h1")
    # dhclient -S asks once, writes /etc/resolv.conf and exits.
    lab["h1"].cmd("dhclient -6 -S -v eth0", check=True)


def phone(lab):
    wait_slaac(lab, "h2")
    lab["h2"].cmd("mkdir -p /run/rdnssd; chown nobody /run/rdnssd; "
                  "pidof rdnssd >/dev/null || rdnssd -H /etc/rdnssd/merge-hook", check=True)
    # An RA at once rather than at radvd's next turn (minutes).
    dns = variables(lab)["dns"]
    wait_until(lambda: (lab["h2"].cmd("rdisc6 -1 -w 1000 eth0"), dns in resolver(lab, "h2")[0])[1],
               15, what=f"{dns} in h2's /etc/resolv.conf")


def resolve(lab):
    v = variables(lab)
    for h in ("h1", "h2"):
        lab[h].cmd(f"dig +short www.{v['domain']} AAAA | grep -qx {v['www']}", check=True)


SOLUTION = {
    "radvd": radvd,
    "dhcpv6": dhcpv6,
    "laptop": laptop,
    "phone": phone,
    "resolve": resolve,
}
