"""The reference solution of lab 13: exactly what the README shows."""

from v6lab import wait_until

# /etc/v6lab-ra.conf on r1, as in the README (radvd's syntax).
RA_CONF = """interface eth0 {
    AdvSendAdvert on;
    MaxRtrAdvInterval 30;
    prefix ${lan_prefix} {
        AdvOnLink on;
        AdvAutonomous on;
    };
    RDNSS ${isp_dns} {
    };
    nat64prefix ${nat64_prefix} {
    };
};
"""

# /etc/dnsmasq.conf on r1, as in the README.
DNSMASQ_CONF = """port=0
interface=eth0
dhcp-range=${pool_start},${pool_end},255.255.255.0,1h
dhcp-option=option:router,${r1_lan4_address}
dhcp-option=option:ipv6-only,${v6only_wait}
"""


def write(lab, node: str, path: str, template: str) -> None:
    from v6lab.course import render
    lab[node].cmd(["sh", "-c", f"cat > {path}"], input=render(template, lab.vars), check=True)


def start_ra(lab, conf: str = RA_CONF) -> None:
    # An RA comes from the link-local address, usable once DAD is done.
    lab["r1"].wait_addresses_ready("eth0")
    write(lab, "r1", "/etc/v6lab-ra.conf", conf)
    # Restarted if it runs: a second `v6lab solve` applies the file again.
    lab["r1"].cmd("v6lab-ra -c && { p=$(cat /run/v6lab-ra.pid 2>/dev/null); "
                  "[ -n \"$p\" ] && kill $p 2>/dev/null; "
                  "while [ -n \"$p\" ] && kill -0 $p 2>/dev/null; do sleep 0.05; done; "
                  "v6lab-ra; }", check=True)


def start_dnsmasq(lab, conf: str = DNSMASQ_CONF) -> None:
    write(lab, "r1", "/etc/dnsmasq.conf", conf)
    lab["r1"].cmd("dnsmasq --test && { p=$(pidof dnsmasq); [ -n \"$p\" ] && kill $p; "
                  "while [ -n \"$p\" ] && kill -0 $p 2>/dev/null; do sleep 0.05; done; "
                  "dnsmasq; }", check=True)


def ra(lab):
    start_ra(lab)


def dhcpv4(lab):
    start_dnsmasq(lab)


def personas(lab):
    # The trainee watches; the personas act (dhclient retries every 1-2 s).
    wait_until(lambda: [a for a in lab["printer"].addresses("eth0", 4) if a.scope == "global"],
               15, what="the printer's IPv4 lease")
    from v6lab.errors import NodeFileError

    def offered_108() -> bool:
        try:
            return bool(lab["laptop"].read_file("/run/v6only"))
        except NodeFileError:
            return False
    wait_until(offered_108, 15, what="the laptop's option 108")


def nat64(lab):
    lab["r1"].cmd("ping -c1 -W2 ${web_nat64}".replace("${web_nat64}", lab.vars["web_nat64"]),
                  check=True)


SOLUTION = {"ra": ra, "dhcpv4": dhcpv4, "personas": personas, "nat64": nat64}
