"""What the README tells the trainee to type, on cpe."""

from __future__ import annotations

import ipaddress

from v6lab import wait_until

# Exactly the files the README gives the trainee.
DHCPCD_CONF = """# The office router (CPE): IPv6 only; the kernel takes the ISP's RA
# (accept_ra 2), dhcpcd asks for the prefix.
ipv6only
noipv6rs
duid
interface eth0
    ia_pd 1/::/${pd_length}
"""

RADVD_CONF = """# ::/64 advertises the /64 of each address the interface has.
interface eth1 {
    AdvSendAdvert on;
    prefix ::/64 {
    };
};
interface eth2 {
    AdvSendAdvert on;
    prefix ::/64 {
    };
};
"""


def write(lab, path: str, text: str) -> None:
    from v6lab.course import render
    lab["cpe"].cmd(["sh", "-c", f"cat > {path}"], input=render(text, lab.vars), check=True)


def delegated_prefix(lab, within: float = 10.0) -> ipaddress.IPv6Network:
    """What the README has the trainee look at: the unreachable route
    dhcpcd installs for the prefix it received."""
    def found():
        for r in lab["cpe"].routes(6):
            if r.type == "unreachable" and r.protocol == "dhcp":
                return ipaddress.IPv6Network(r.dst)
        return None
    return wait_until(found, within, what="the delegated prefix on cpe")


def lan_address(prefix: ipaddress.IPv6Network, subnet: int) -> str:
    """The router's address (::1) in the subnet-th /64 of the delegation:
    in a /56, the subnet number is the last two hex digits before the ::."""
    net = ipaddress.IPv6Network((int(prefix.network_address) + (subnet << 64), 64))
    return f"{net.network_address + 1}/64"


def start_dhcpcd(lab, conf: str) -> None:
    cpe = lab["cpe"]
    cpe.wait_addresses_ready("eth0")     # dhcpcd binds the link-local address
    write(lab, "/etc/dhcpcd.conf", conf)
    cpe.cmd("dhcpcd -6 -U eth0 > /dev/null 2>&1 || dhcpcd -b eth0", check=True)


def wan(lab):
    lab["cpe"].cmd("sysctl -w net.ipv6.conf.eth0.accept_ra=2", check=True)
    lab["cpe"].cmd("sysctl -w net.ipv6.conf.all.forwarding=1", check=True)


def pd(lab):
    start_dhcpcd(lab, DHCPCD_CONF)
    delegated_prefix(lab)


def number_lans(lab, staff: str, guest: str) -> None:
    cpe = lab["cpe"]
    cpe.cmd(f"ip -6 addr replace {staff} dev eth1", check=True)
    cpe.cmd(f"ip -6 addr replace {guest} dev eth2", check=True)
    cpe.wait_addresses_ready("eth1")
    cpe.wait_addresses_ready("eth2")


def lans(lab):
    p = delegated_prefix(lab)
    number_lans(lab, lan_address(p, 1), lan_address(p, 2))


def start_radvd(lab, conf: str) -> None:
    write(lab, "/etc/radvd.conf", conf)
    lab["cpe"].cmd("radvd -c && { kill -0 $(cat /run/radvd.pid 2>/dev/null) 2>/dev/null || "
                   "radvd; }", check=True)


def radvd(lab):
    start_radvd(lab, RADVD_CONF)


def reach(lab):
    for h in ("staff1", "guest1"):
        wait_until(lambda: [a for a in lab[h].addresses("eth0", 6)
                            if a.scope == "global" and not a.tentative], 10,
                   what=f"a SLAAC address on {h}")
    lab["staff1"].cmd(f"ping -c1 -W2 {lab.vars['www_name']}", check=True)


SOLUTION = {"wan": wan, "pd": pd, "lans": lans, "radvd": radvd, "reach": reach}
