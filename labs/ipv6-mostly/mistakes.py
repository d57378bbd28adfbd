"""Mistakes seen when IPv6-mostly networks are rolled out."""

from v6lab.course import Mistake
from v6lab.i18n import N_

from .solution import DNSMASQ_CONF, RA_CONF, start_dnsmasq, start_ra


def pref64_wrong_length(lab):
    # The NAT64 translates a /96; the RA says /64 (a "round" length).
    start_ra(lab, RA_CONF.replace("nat64prefix ${nat64_prefix}",
                                  "nat64prefix ${nat64_prefix_64}"))


def pref64_well_known(lab):
    # The well-known prefix from a blog post, while this ISP's NAT64 uses
    # its own network-specific prefix.
    start_ra(lab, RA_CONF.replace("nat64prefix ${nat64_prefix}", "nat64prefix 64:ff9b::/96"))


def no_pref64(lab):
    # "We have DNS64, that is enough": the RA carries RDNSS but no PREF64.
    conf = RA_CONF.replace("    nat64prefix ${nat64_prefix} {\n    };\n", "")
    assert conf != RA_CONF
    start_ra(lab, conf)


def v6only_forced(lab):
    # dhcp-option-force sends 108 to every client, asked or not: the legacy
    # printer is told to drop IPv4 (or, if it ignores 108, breaks RFC 8925).
    start_dnsmasq(lab, DNSMASQ_CONF.replace("dhcp-option=option:ipv6-only",
                                            "dhcp-option-force=option:ipv6-only"))


def no_addresses(lab):
    # "IPv6-mostly: no more IPv4 pool": a static-only range offers nothing
    # to unknown clients, and the printer has no address any more.
    start_dnsmasq(lab, DNSMASQ_CONF.replace(
        "dhcp-range=${pool_start},${pool_end},255.255.255.0,1h",
        "dhcp-range=${r1_lan4_address},static,255.255.255.0,1h"))


MISTAKES = [
    Mistake("pref64-wrong-length", "ra",
            N_("advertises the NAT64 prefix with length /64 instead of the NAT64's /96"),
            pref64_wrong_length,
            expect=("the RA from r1:eth0 advertises PREF64 ${nat64_prefix_64}",
                    "the ISP's NAT64 translates ${nat64_prefix}")),
    Mistake("pref64-well-known", "ra",
            N_("advertises the well-known prefix 64:ff9b::/96, not the ISP's NAT64 prefix"),
            pref64_well_known,
            expect=("advertises PREF64 64:ff9b::/96",
                    "the ISP's NAT64 translates ${nat64_prefix}")),
    Mistake("no-pref64", "ra", N_("advertises DNS64 (RDNSS) but no PREF64"), no_pref64,
            expect=("the RA from r1:eth0 carries no PREF64 option",)),
    Mistake("v6only-forced", "dhcpv4",
            N_("forces option 108 on every client with dhcp-option-force"), v6only_forced,
            expect=("OFFER to a client that did not ask for option 108 carries it anyway",)),
    Mistake("no-addresses", "dhcpv4",
            N_("offers no DHCPv4 addresses at all (a static-only range)"), no_addresses,
            expect=("r1:eth0 did not answer the grader's DHCPDISCOVER within 8 s",)),
]
