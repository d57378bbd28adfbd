"""Lab 11, solved: what the README's tasks and last hints tell the trainee
to type. Helpers here are reused by mistakes.py."""

from v6lab import wait_until

NGINX_CONF = "/etc/nginx/nginx.conf"
ZONES = "/etc/nsd/zones"
# The line the README adds under "listen 80;".
LISTEN6 = "listen [::]:80;"


def zone_file(lab, zone: str) -> str:
    return f"{ZONES}/{lab.vars[zone]}.zone"


def nginx_listen(lab, lines: str) -> None:
    """Replaces the listen lines of web's nginx.conf with `lines` (one or
    more "listen ...;" separated by newlines) and reloads nginx."""
    web = lab["web"]
    conf = web.cmd(["cat", NGINX_CONF], check=True).stdout
    body = [x for x in conf.splitlines() if not x.strip().startswith("listen ")]
    at = next(i for i, x in enumerate(body) if x.strip().startswith("server_name"))
    body[at:at] = ["        " + x.strip() for x in lines.splitlines()]
    web.cmd(["sh", "-c", f"cat > {NGINX_CONF}"], input="\n".join(body) + "\n", check=True)


def reload_nginx(lab) -> None:
    lab["web"].cmd("nginx -t && nginx -s reload", check=True)


def add_record(lab, zone: str, line: str, *, serial: bool = True) -> None:
    """Appends line to the zone file of lab.vars[zone] (once) and raises
    the SOA serial, as the README says."""
    f = zone_file(lab, zone)
    ns1 = lab["ns1"]
    ns1.cmd(["sh", "-c", 'grep -qxF "$1" "$2" || printf "%s\\n" "$1" >> "$2"', "add", line, f],
            check=True)
    if serial:
        ns1.cmd(["sh", "-c", 's=$(awk \'/; serial/ {print $1; exit}\' "$1"); '
                 'sed -i "s/^\\( *\\)$s ; serial/\\1$((s + 1)) ; serial/" "$1"', "serial", f],
                check=True)


def reload_nsd(lab, zone: str) -> None:
    f = zone_file(lab, zone)
    lab["ns1"].cmd(["sh", "-c", 'nsd-checkzone "$1" "$2" && nsd-control reload "$1"', "reload",
                    lab.vars[zone], f], check=True)


def wait_answer(lab, name: str, qtype: str, want: str) -> None:
    v = lab.vars
    wait_until(lambda: any(a.data.rstrip(".") == want for a in lab["edge"].dns_query(
        v["ns1_6"], name, qtype, timeout=0.5).answers), 3, interval=0.02,
        what=f"ns1 to answer {name} {qtype} {want}")


def listen(lab):
    nginx_listen(lab, f"listen 80;\n{LISTEN6}")
    reload_nginx(lab)
    # nginx -s reload returns before the new workers listen (asked from
    # edge, whose addresses skip DAD, unlike the clients').
    wait_until(lambda: lab["edge"].tcp_connect(lab.vars["web6"], 80, timeout=0.5).ok, 3,
               interval=0.02, what="nginx on web to answer over IPv6")


def aaaa(lab):
    v = lab.vars
    add_record(lab, "domain", f"www     IN AAAA {v['web6']}")
    reload_nsd(lab, "domain")
    wait_answer(lab, v["www"], "AAAA", v["web6"])


def ptr(lab):
    v = lab.vars
    add_record(lab, "reverse_zone", f"{v['web_ptr_rel']} IN PTR {v['www']}.")
    reload_nsd(lab, "reverse_zone")
    wait_answer(lab, v["web_ptr"], "PTR", v["www"])


def nonce(lab):
    v = lab.vars
    lab["web"].cmd(["cp", v["nonce_src"], v["webroot"] + v["nonce_path"]], check=True)


SOLUTION = {
    "listen": listen,
    "aaaa": aaaa,
    "ptr": ptr,
    "nonce": nonce,
}
