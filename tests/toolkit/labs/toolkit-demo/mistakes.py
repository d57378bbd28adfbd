from v6lab.course import Mistake
from v6lab.i18n import N_


def accept_ra_1(lab):
    lab["cpe"].cmd("sysctl -w net.ipv6.conf.eth0.accept_ra=1", check=True)


MISTAKES = [Mistake("accept-ra-1", "accept-ra", N_("accept_ra 1, which forwarding turns off"),
                    accept_ra_1)]
