"""Common mistakes in lab 11, scripted: each is what people really do when
they first put a service on IPv6 (and what took real sites down)."""

from v6lab import wait_until
from v6lab.course import Mistake
from v6lab.i18n import N_

from .solution import (LISTEN6, add_record, nginx_listen, reload_nginx, reload_nsd, wait_answer,
                       zone_file)


def ipv6only_listen(lab):
    # "listen [::]:80;" instead of "listen 80;": nginx's IPv6 socket is
    # IPv6-only by default, so every IPv4 user is now refused.
    nginx_listen(lab, LISTEN6)
    reload_nginx(lab)
    # The old workers keep the IPv4 socket until the new ones run.
    wait_until(lambda: not lab["edge"].tcp_connect(lab.vars["web4"], 80, timeout=0.5).ok, 3,
               interval=0.02, what="nginx on web to stop answering over IPv4")


def no_reload(lab):
    # The file is right; the running nginx never read it.
    nginx_listen(lab, f"listen 80;\n{LISTEN6}")
    lab["web"].cmd("nginx -t", check=True)


def no_final_dot(lab):
    # "www.corp.example" without the dot is www.corp.example.corp.example.
    v = lab.vars
    add_record(lab, "domain", f"{v['www']} IN AAAA {v['web6']}")
    reload_nsd(lab, "domain")
    wait_answer(lab, f"{v['www']}.{v['domain']}", "AAAA", v["web6"])


def aaaa_typo(lab):
    # One zero too few: ::8 instead of ::80. DNS works; the address is
    # someone else's (or no one's).
    v = lab.vars
    add_record(lab, "domain", f"www     IN AAAA {v['web6'][:-1]}")
    reload_nsd(lab, "domain")
    wait_answer(lab, v["www"], "AAAA", v["web6"][:-1])


def a_replaced(lab):
    # "Move to IPv6": the A record turned into an AAAA, so IPv4 users lose
    # the name.
    v = lab.vars
    f = zone_file(lab, "domain")
    lab["ns1"].cmd(["sed", "-i", f"s/^www .*IN A .*$/www     IN AAAA {v['web6']}/", f], check=True)
    add_record(lab, "domain", "; A replaced by AAAA")
    reload_nsd(lab, "domain")
    wait_answer(lab, v["www"], "AAAA", v["web6"])


def ptr_no_final_dot(lab):
    # The PTR's target without its dot is relative to the reverse zone.
    v = lab.vars
    add_record(lab, "reverse_zone", f"{v['web_ptr_rel']} IN PTR {v['www']}")
    reload_nsd(lab, "reverse_zone")
    wait_answer(lab, v["web_ptr"], "PTR", f"{v['www']}.{v['reverse_zone']}")


def ptr_forward_order(lab):
    # The nibbles written in the address's own order, not backwards.
    v = lab.vars
    forward = ".".join(reversed(v["web_ptr_rel"].split(".")))
    add_record(lab, "reverse_zone", f"{forward} IN PTR {v['www']}.")
    reload_nsd(lab, "reverse_zone")
    wait_answer(lab, f"{forward}.{v['reverse_zone']}", "PTR", v["www"])


def nonce_wrong_root(lab):
    # Debian's usual web root, not the one this server's nginx.conf names.
    v = lab.vars
    lab["web"].cmd(["sh", "-c", f"mkdir -p /var/www/html && cp {v['nonce_src']} "
                    f"/var/www/html{v['nonce_path']}"], check=True)


def nonce_unreadable(lab):
    # Copied as root with a private mode: nginx's workers (www-data) may
    # not read it, and answer 403.
    v = lab.vars
    target = v["webroot"] + v["nonce_path"]
    lab["web"].cmd(["sh", "-c", f"cp {v['nonce_src']} {target} && chmod 600 {target}"], check=True)


# Descriptions are marked N_ and translated when the lab is loaded.
MISTAKES = [
    Mistake("ipv6only-listen", "listen",
            N_("replaces listen 80; with listen [::]:80; (IPv6 only: IPv4 users are refused)"),
            ipv6only_listen,
            expect=("v4only cannot connect to ${web4}:80: connection refused",)),
    Mistake("no-reload", "listen", N_("edits nginx.conf but never reloads nginx"), no_reload,
            expect=("v6only cannot connect to [${web6}]:80: connection refused",)),
    Mistake("no-final-dot", "aaaa",
            N_("writes ${www} without the final dot (the name becomes ${www}.${domain})"),
            no_final_dot,
            expect=("ns1 has no AAAA record for ${www}",)),
    Mistake("aaaa-typo", "aaaa", N_("publishes the AAAA with a typo in the address"), aaaa_typo,
            expect=("ns1 answers ${www} AAAA with 2001:db8:100:80::8, not ${web6}",)),
    Mistake("a-replaced", "aaaa", N_("replaces the A record with the AAAA instead of adding it"),
            a_replaced,
            expect=("ns1 has no A record for ${www}",)),
    Mistake("ptr-no-final-dot", "ptr",
            N_("writes the PTR target without the final dot"), ptr_no_final_dot,
            expect=("ns1 answers ${web_ptr} PTR with ${www}.${reverse_zone}, not ${www}",)),
    Mistake("ptr-forward-order", "ptr",
            N_("writes the address's hex digits in their own order instead of backwards"),
            ptr_forward_order,
            expect=("ns1 answered NXDOMAIN for ${web_ptr} PTR",)),
    Mistake("nonce-wrong-root", "nonce",
            N_("copies the token to /var/www/html, which this nginx does not serve"),
            nonce_wrong_root,
            expect=("http://${www}${nonce_path} answered HTTP 404, not 200",)),
    Mistake("nonce-unreadable", "nonce",
            N_("leaves the token file readable by root only (chmod 600): nginx answers 403"),
            nonce_unreadable,
            expect=("http://${www}${nonce_path} answered HTTP 403, not 200",)),
]
