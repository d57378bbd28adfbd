"""Reference solution of lab 6: what the README tells the trainee to type.
Each step can be applied again (v6lab solve runs from the first step)."""

from v6lab.course import render

from .lab import Lab

# Exactly the file the README shows.
RADVD_TEMPLATE = """interface eth0 {
    AdvSendAdvert on;
    AdvManagedFlag on;
    prefix ${lan1_prefix} {
        AdvOnLink on;
        AdvAutonomous off;
    };
};
"""

DHCLIENT = "dhclient -6 -nw -v -lf /run/dhclient6.leases -pf /run/dhclient6.pid eth0"


def variables(lab) -> dict:
    return lab.vars or Lab.variables


def radvd_conf(lab) -> str:
    return render(RADVD_TEMPLATE, variables(lab), "labs/stateful-dhcpv6/solution.py")


def start_radvd(lab, conf: str) -> None:
    r1 = lab["r1"]
    r1.cmd(["sh", "-c", "cat > /etc/radvd.conf"], input=conf, check=True)
    # Started once; a running radvd rereads the file (SIGHUP), as after an edit.
    r1.cmd("radvd -c && { kill -HUP $(cat /run/radvd.pid 2>/dev/null) 2>/dev/null || radvd; }",
           check=True)


def start_relay(lab, args: str) -> None:
    r1 = lab["r1"]
    # dhcrelay reads r1's addresses once, at start: they must have passed DAD
    # (a trainee typing is slower than that; a script is not).
    r1.wait_addresses_ready()
    r1.cmd(f"pgrep -x dhcrelay > /dev/null || dhcrelay -6 {args}", check=True)


def start_clients(lab, command: str = DHCLIENT) -> None:
    for h in ("h1", "h2"):
        lab[h].wait_addresses_ready("eth0")      # dhclient binds the link-local address
        lab[h].cmd(f"pgrep -x dhclient > /dev/null || {command}", check=True)


def wait_for_leases(lab) -> None:
    from v6lab import wait_until
    for h in ("h1", "h2"):
        wait_until(lambda: [a for a in lab[h].addresses("eth0", 6)
                            if a.scope == "global" and a.prefix_len == 128
                            and not a.tentative], 10, what=f"{h}'s DHCPv6 address")


def ra(lab):
    start_radvd(lab, radvd_conf(lab))


def relay(lab):
    start_relay(lab, f"-l eth0 -u {variables(lab)['dhcp']}%eth1")


def hosts(lab):
    from v6lab import wait_until
    start_clients(lab)
    wait_for_leases(lab)
    for h in ("h1", "h2"):
        wait_until(lambda: [r for r in lab[h].routes(6) if r.dst == "::/0"], 10,
                   what=f"{h}'s default route from the RA")


def reach_www(lab):
    lab["h1"].cmd(f"ping -c1 -W2 {variables(lab)['www']}", check=True)


SOLUTION = {
    "ra": ra,
    "relay": relay,
    "hosts": hosts,
    "reach-www": reach_www,
}
