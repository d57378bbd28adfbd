def accept_ra(lab):
    lab["cpe"].cmd("sysctl -w net.ipv6.conf.eth0.accept_ra=2", check=True)


def address(lab):
    from v6lab import wait_until
    prefix = lab.vars["isp_prefix"].split("::")[0]
    wait_until(lambda: [a for a in lab["cpe"].addresses("eth0", 6)
                        if a.address.startswith(prefix) and not a.tentative], 15,
               what="the CPE's address from the ISP")


SOLUTION = {"accept-ra": accept_ra, "address": address}
