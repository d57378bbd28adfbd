"""What the README tells the trainee to type."""

import json


def radvd_conf(managed: str = "on") -> str:
    return f"""interface eth0 {{
    AdvSendAdvert on;
    AdvManagedFlag {managed};
    AdvOtherConfigFlag on;
    prefix 2001:db8:10::/64 {{
        AdvAutonomous off;
    }};
}};
"""


def kea_conf(lab, *, subnet: str = "", pool: str = "", listen: str = "") -> str:
    v = lab.vars
    return json.dumps({"Dhcp6": {
        "interfaces-config": {"interfaces": [listen or f"eth0/{v['srv']}"]},
        "lease-database": {"type": "memfile", "persist": False},
        "option-data": [{"name": "dns-servers", "data": v["dns"]}],
        "subnet6": [{"id": 1, "subnet": subnet or v["lan1_prefix"],
                     "pools": [{"pool": pool or v["pool"]}]}]}}, indent=2)


def start_radvd(lab, conf: str) -> None:
    lab["r1"].cmd(["sh", "-c", "cat > /etc/radvd.conf"], input=conf, check=True)
    lab["r1"].cmd("radvd -c && { kill -0 $(cat /run/radvd.pid 2>/dev/null) 2>/dev/null || radvd; }",
                  check=True)


def start_kea(lab, conf: str) -> None:
    srv = lab["srv"]
    # Kea opens its sockets once, at start: srv's address must have passed
    # DAD by then (a trainee typing is slower than that; a script is not).
    srv.wait_addresses_ready("eth0")
    srv.cmd(["sh", "-c", "cat > /etc/kea/kea-dhcp6.conf"], input=conf, check=True)
    srv.cmd("mkdir -p /run/kea /var/lib/kea", check=True)
    # kea-dhcp6 stays in the foreground: the shell puts it in the background.
    srv.cmd("kea-dhcp6 -t /etc/kea/kea-dhcp6.conf > /dev/null && "
            "{ pgrep -x kea-dhcp6 > /dev/null || "
            "kea-dhcp6 -c /etc/kea/kea-dhcp6.conf > /var/log/kea-dhcp6.log 2>&1 & }", check=True)


def start_relay(lab, upstream: str) -> None:
    lab["r1"].wait_addresses_ready()          # dhcrelay reads r1's addresses once
    lab["r1"].cmd(f"pgrep -x dhcrelay > /dev/null || dhcrelay -6 -l eth0 -u {upstream}%eth1",
                  check=True)


def ra(lab):
    start_radvd(lab, radvd_conf())


def server(lab):
    start_kea(lab, kea_conf(lab))


def relay(lab):
    start_relay(lab, lab.vars["srv"])


def start_client(lab, flags: str = "") -> None:
    lab["h1"].wait_addresses_ready("eth0")    # dhclient binds h1's link-local address
    lab["h1"].cmd(f"dhclient -6 {flags}-v -lf /run/dhclient6.leases -pf /run/dhclient6.pid eth0",
                  check=True)


def lease(lab):
    from v6lab import wait_until
    start_client(lab)
    wait_until(lambda: [a for a in lab["h1"].addresses("eth0", 6)
                        if a.scope == "global" and a.prefix_len == 128], 10,
               what="h1's DHCPv6 address")


SOLUTION = {"ra": ra, "server": server, "relay": relay, "lease": lease}
