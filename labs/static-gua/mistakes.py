"""Common mistakes in lab 2, scripted."""

from v6lab.course import Mistake
from v6lab.i18n import N_

from .solution import v


def prefix_48(lab):
    lab["h2"].cmd(f"ip -6 addr add {v(lab)['h2']}/48 dev eth0", check=True)


def keeps_the_duplicate(lab):
    # Adds the new address but leaves the dadfailed one behind.
    lab["h1"].cmd(f"ip -6 addr add {v(lab)['h1']}/64 dev eth0", check=True)


def takes_h2s_address(lab):
    lab["h1"].cmd(f"ip -6 addr del {v(lab)['duplicate']}/64 dev eth0 && "
                  f"ip -6 addr add {v(lab)['h2']}/64 dev eth0", check=True)


# Descriptions are marked N_ and translated when the lab is loaded.
MISTAKES = [
    Mistake("prefix-48", "h2-address", N_("gives h2 its address with /48 instead of /64"), prefix_48,
            expect=("h2:eth0 has ${h2}/48 but prefix length /48, expected /64",)),
    Mistake("keeps-the-duplicate", "fix-duplicate",
            N_("adds ::11 but does not remove the dadfailed ::10"), keeps_the_duplicate,
            expect=("h1:eth0 has", "${duplicate}/64 on eth0 (duplicate: DAD failed)")),
    Mistake("takes-h2s-address", "fix-duplicate",
            N_("replaces ::10 with ::20, which h2 already has (a new duplicate)"), takes_h2s_address,
            expect=("h1:eth0 has ${h2}/64 on eth0 (duplicate: DAD failed)",)),
]
