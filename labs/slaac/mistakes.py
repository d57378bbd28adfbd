"""Common mistakes in lab 3, scripted."""

from v6lab.course import Mistake
from v6lab.i18n import N_

from .lab import Lab
from .solution import radvd_conf, write_radvd_conf


def conf(lab) -> str:
    return radvd_conf(lab.vars or Lab.variables)


def forwarding_off(lab):
    # radvd runs anyway ("IPv6 forwarding seems to be disabled, but
    # continuing anyway"), so the hosts even get addresses: only the
    # forwarding check catches it.
    lab["r1"].cmd("sysctl net.ipv6.conf.all.forwarding", check=True)


def start_radvd(lab, conf: str) -> None:
    write_radvd_conf(lab, conf)
    lab["r1"].cmd("radvd", check=True)


def prefix_48(lab):
    prefix = (lab.vars or Lab.variables)["lan1_prefix"]
    start_radvd(lab, conf(lab).replace(prefix, prefix.replace("/64", "/48")))


def autonomous_off(lab):
    start_radvd(lab, conf(lab).replace("AdvAutonomous on", "AdvAutonomous off"))


def wrong_interface(lab):
    start_radvd(lab, conf(lab).replace("interface eth0", "interface eth1"))


def config_without_daemon(lab):
    write_radvd_conf(lab, conf(lab))


# Descriptions are marked N_ and translated when the lab is loaded.
MISTAKES = [
    Mistake("forwarding-off", "forwarding", N_("leaves forwarding off on r1"), forwarding_off,
            expect=("r1: net.ipv6.conf.all.forwarding is 0, expected 1",)),
    Mistake("prefix-48", "radvd", N_("advertises a /48, from which hosts cannot form addresses"),
            prefix_48,
            expect=("RA from r1:eth0", "no prefix ${lan1_prefix} (advertised: 2001:db8:10::/48)")),
    Mistake("autonomous-off", "radvd", N_("sets AdvAutonomous off"), autonomous_off,
            expect=("RA from r1:eth0", "prefix ${lan1_prefix} has A=0")),
    Mistake("wrong-interface", "radvd", N_("advertises on eth1 (lan2) instead of eth0"),
            wrong_interface,
            # Two messages name this cause, depending on whether radvd's RA on
            # eth1 (lan2) fell inside the grader's window: "r1:eth0 sent no
            # Router Advertisement …" or "no Router Advertisement came from
            # r1:eth0; one from … came in on r1:eth1's cable instead".
            expect=("Router Advertisement", "r1:eth0")),
    Mistake("config-without-daemon", "radvd", N_("writes /etc/radvd.conf but never starts radvd"),
            config_without_daemon,
            expect=("radvd is not running on r1",)),
]
