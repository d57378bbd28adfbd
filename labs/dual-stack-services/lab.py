"""Lab 11: dual-stack services and DNS."""

import ipaddress
import secrets

from v6lab import Topo, wait_until
from v6lab.course import LabDefinition
from v6lab.errors import Error
from v6lab.grading import Step, checks as c
from v6lab.i18n import N_
from v6lab.internet import Internet

INTERNET = Internet()
# Where setup() keeps this run's token: on the edge router, a provider node
# the trainee cannot log into, read by the grader through the outside view.
NONCE_FILE = "/var/lib/v6lab/nonce"


def _reverse(address: str, zone_prefix_len: int) -> tuple[str, str]:
    """(the ip6.arpa name of address, its owner name relative to the
    reverse zone of its /zone_prefix_len)."""
    full = ipaddress.ip_address(address).reverse_pointer
    labels = full.split(".")
    return full, ".".join(labels[:32 - zone_prefix_len // 4])


_WEB6, _NS6 = "2001:db8:100:80::80", "2001:db8:100:80::53"
_WEB_PTR, _WEB_PTR_REL = _reverse(_WEB6, 48)
_NS_PTR, _NS_PTR_REL = _reverse(_NS6, 48)


class Lab(LabDefinition):
    id = "dual-stack-services"
    title = N_("Dual-stack services and DNS")
    level = "intermediate"
    minutes = 60
    order = 110
    # Defined once; the README says ${web6}, the solution lab.vars["web6"].
    variables = {
        **INTERNET.variables,
        "domain": "corp.example", "www": "www.corp.example", "ns1_name": "ns1.corp.example",
        "site_prefix": "2001:db8:100::/48",
        "reverse_zone": "0.0.1.0.8.b.d.0.1.0.0.2.ip6.arpa",
        # the link to the provider
        "wan_prefix": "2001:db8:ff00::/64", "transit_wan6": "2001:db8:ff00::1",
        "edge_wan6": "2001:db8:ff00::2", "wan4": "198.51.100.0/24",
        "transit_wan4": "198.51.100.1", "edge_wan4": "198.51.100.2",
        "site4": "192.0.2.0/24",
        # the DMZ: the web server and the name server
        "dmz_prefix": "2001:db8:100:80::/64", "dmz4": "192.0.2.0/25",
        "edge_dmz6": "2001:db8:100:80::1", "edge_dmz4": "192.0.2.1",
        "web6": _WEB6, "web4": "192.0.2.80",
        "ns1_6": _NS6, "ns1_4": "192.0.2.53",
        "web_ptr": _WEB_PTR, "web_ptr_rel": _WEB_PTR_REL,
        "ns1_ptr": _NS_PTR, "ns1_ptr_rel": _NS_PTR_REL,
        # the office: an IPv6-only client and a dual-stack one
        "office_prefix": "2001:db8:100:10::/64", "office4": "192.0.2.128/25",
        "edge_office6": "2001:db8:100:10::1", "edge_office4": "192.0.2.129",
        "v6client6": "2001:db8:100:10::60",
        "dsclient6": "2001:db8:100:10::46", "dsclient4": "192.0.2.146",
        # the web site
        "webroot": "/var/www/corp", "nonce_path": "/v6lab-nonce.txt",
        "nonce_src": "/root/nonce.txt",
    }
    summary = N_("The company's web server ${www} answers over IPv4 only. Make nginx listen on "
                 "IPv6 as well, publish its AAAA and PTR records on the company's name server, "
                 "and prove it works from an IPv6-only client on the Internet.")

    def topology(self) -> Topo:
        v = self.vars
        t = Topo("dual-stack-services")
        t.add_lan("wan")                        # edge and the transit provider
        t.add_lan("dmz")                        # edge, web, ns1
        t.add_lan("office")                     # edge, v6client, dsclient
        # The company's edge router is ready (dual-stack, routes to the
        # provider): this lab is about services, not routing.
        t.add_router("edge", provider=True, sysctls={"net.ipv6.conf.default.accept_dad": 0})
        # No DAD on the servers' fixed addresses (no one else holds them):
        # nginx and nsd bind them as soon as the lab is up.
        no_dad = {"net.ipv6.conf.default.accept_dad": 0}
        t.add_host("web", image="nginx-server", sysctls=dict(no_dad))
        t.add_host("ns1", image="nsd-server", sysctls=dict(no_dad))
        t.add_host("v6client", binaries=[{"name": "curl", "package": "curl"},
                                         {"name": "dig", "package": "bind9-dnsutils"}])
        t.add_host("dsclient", binaries=[{"name": "curl", "package": "curl"},
                                         {"name": "dig", "package": "bind9-dnsutils"}])
        # edge:eth0, eth1, eth2
        t.add_link("edge", "wan", addrs_a=[v["edge_wan6"] + "/64", v["edge_wan4"] + "/24"])
        t.add_link("edge", "dmz", addrs_a=[v["edge_dmz6"] + "/64", v["edge_dmz4"] + "/25"])
        t.add_link("edge", "office", addrs_a=[v["edge_office6"] + "/64", v["edge_office4"] + "/25"])
        t.add_route("edge", "default", via=v["transit_wan6"])
        t.add_route("edge", "default", via=v["transit_wan4"])
        t.add_link("web", "dmz", addrs_a=[v["web6"] + "/64", v["web4"] + "/25"])
        t.add_link("ns1", "dmz", addrs_a=[v["ns1_6"] + "/64", v["ns1_4"] + "/25"])
        for node in ("web", "ns1"):
            t.add_route(node, "default", via=v["edge_dmz6"])
            t.add_route(node, "default", via=v["edge_dmz4"])
        # v6client has no IPv4 at all: what an IPv6-only user (a mobile
        # network, an IPv6-only office) sees of the company.
        t.add_link("v6client", "office", addrs_a=[v["v6client6"] + "/64"])
        t.add_route("v6client", "default", via=v["edge_office6"])
        t.add_link("dsclient", "office", addrs_a=[v["dsclient6"] + "/64", v["dsclient4"] + "/25"])
        t.add_route("dsclient", "default", via=v["edge_office6"])
        t.add_route("dsclient", "default", via=v["edge_office4"])
        INTERNET.add_to(t, uplink="wan", v6=v["transit_wan6"] + "/64", v4=v["transit_wan4"] + "/24",
                        routes=[(v["site_prefix"], v["edge_wan6"]), (v["site4"], v["edge_wan4"])],
                        # The company's zones are delegated to ns1, as a
                        # registry would: the Internet's resolver asks ns1.
                        delegate={v["domain"]: [v["ns1_6"], v["ns1_4"]],
                                  v["reverse_zone"]: [v["ns1_6"], v["ns1_4"]]})
        return t

    def setup(self, lab) -> None:
        v = lab.vars
        INTERNET.start(lab)
        # This run's token: the trainee publishes it on the web site; the
        # grader reads it back from edge (a provider node) and fetches it.
        token = secrets.token_hex(8)
        lab["edge"].cmd(["sh", "-c", f'mkdir -p /var/lib/v6lab && cat > {NONCE_FILE}'],
                        input=token + "\n", check=True)
        lab["web"].cmd(["sh", "-c", f'cat > {v["nonce_src"]} && chmod 644 {v["nonce_src"]}'],
                       input=token + "\n", check=True)
        # The starting state: both daemons run, with the lab's configuration.
        for node, program, command in (
                ("web", "nginx", "mkdir -p /var/log/nginx /var/lib/nginx && nginx"),
                ("ns1", "nsd", "mkdir -p /run/nsd && chown nsd: /run/nsd && nsd")):
            r = lab[node].cmd(command)
            if r.returncode != 0:
                raise Error(f"{program} on {node} did not start with the lab's configuration: "
                            f"{(r.stderr or r.stdout).strip() or 'exit ' + str(r.returncode)}")
        # Asked from edge, whose addresses skip DAD: a client's are still
        # tentative for a second or two, and could not ask yet.
        wait_until(lambda: lab["edge"].tcp_connect(v["web4"], 80, timeout=0.5).ok, 3,
                   interval=0.02, what="nginx on web to answer over IPv4")
        wait_until(lambda: lab["edge"].dns_query(v["ns1_6"], v["ns1_name"], "AAAA",
                                                 timeout=0.5).rcode == "NOERROR", 3,
                   interval=0.02, what="nsd on ns1 to answer")

    def steps(self) -> list[Step]:
        _, v = self._, self.vars
        nginx, nsd = c.daemon_running("web", "nginx"), c.daemon_running("ns1", "nsd")
        resolver = v["inet_resolver6"]
        # ns1's own answers first; the resolver is asked only once ns1 is
        # right, so a failing grade leaves no negative answer in its cache.
        aaaa = c.dns_answers_on_wire("v6only", "ns1", v["www"], "AAAA", expect=v["web6"],
                                     address=v["ns1_6"])
        ptr = c.dns_answers_on_wire("v6only", "ns1", v["web_ptr"], "PTR", expect=v["www"],
                                    address=v["ns1_6"])
        return [
            # All or nothing: nginx and IPv4 work from the start; they guard
            # against breaking them, and earn nothing on their own.
            Step("listen", _("web answers on port 80 over IPv6 and IPv4"), points=3, partial=False,
                 checks=[
                     nginx,
                     # From the Internet's IPv6-only node (a provider: nothing of
                     # the trainee's on the client side), attributed to web's cable.
                     c.http_fetch("v6only", v["web6"], "/", host=v["www"], server="web"),
                     # IPv4 users must keep working (ipv6only=on without listen 80).
                     c.http_fetch("v4only", v["web4"], "/", host=v["www"]),
                 ], hints=[
                     _("nginx listens only where its configuration says: "
                       "/etc/nginx/nginx.conf on web. Compare what answers with ss -tlnp on "
                       "web, and try curl -6 and curl -4 from dsclient (or curl from v6client, "
                       "which has no IPv4)."),
                     _("listen 80; is IPv4 only. nginx needs a second line for IPv6: "
                       "listen [::]:80; (which is IPv6 only by default, so keep listen 80; "
                       "as well)."),
                     _("On web: add  listen [::]:80;  under  listen 80;  in /etc/nginx/nginx.conf, "
                       "then nginx -t && nginx -s reload"),
                 ]),
            Step("aaaa", _("Publish ${www} AAAA ${web6} on ns1"), points=3, partial=False, checks=[
                nsd,
                # The grader's own query, from the Internet, straight to ns1,
                # answered from ns1's cable.
                aaaa,
                # Dual-stack means both: the A record must stay.
                c.dns_answers_on_wire("v6only", "ns1", v["www"], "A", expect=v["web4"],
                                      address=v["ns1_6"]),
                # And as the world sees it: through the Internet's resolver,
                # which follows the delegation of ${domain} to ns1.
                c.dns_answers("v6only", resolver, v["www"], "AAAA", expect=v["web6"]).after(aaaa),
            ], hints=[
                _("The zone file of ${domain} is /etc/nsd/zones/${domain}.zone on ns1; nsd serves "
                  "what it loaded, not what the file says now. Ask it with dig @${ns1_6} ${www} "
                  "AAAA (from any client)."),
                _("Add the line  www IN AAAA ${web6}  beside the A record (keep the A), raise the "
                  "SOA serial, check with nsd-checkzone ${domain} /etc/nsd/zones/${domain}.zone, "
                  "then nsd-control reload"),
                _("A name without a final dot is relative: www.${domain} (no dot) in the zone "
                  "means www.${domain}.${domain}. Write www, or www.${domain}. with the dot."),
            ]),
            Step("ptr", _("Publish the PTR record of ${web6}"), points=2, checks=[
                ptr,
                c.dns_answers("v6only", resolver, v["web_ptr"], "PTR", expect=v["www"]).after(ptr),
            ], hints=[
                _("Reverse DNS for IPv6 lives under ip6.arpa: the address written out in full (32 "
                  "hex digits, zeros included), one digit per label, backwards. ns1 serves "
                  "${reverse_zone} from /etc/nsd/zones/${reverse_zone}.zone; its record for ns1 "
                  "shows the form. Try dig -x ${web6} @${ns1_6}."),
                _("The owner name of ${web6} inside the zone is ${web_ptr_rel} (the full name is "
                  "${web_ptr}); the PTR target needs its final dot: ${www}."),
                _("Add  ${web_ptr_rel} IN PTR ${www}.  raise the serial, nsd-checkzone, then "
                  "nsd-control reload"),
            ]),
            Step("nonce", _("Prove it from an IPv6-only client: publish your token"), points=2,
                 checks=[
                     c.http_fetch("v6only", v["web6"], v["nonce_path"], host=v["www"],
                                  expect=nonce, server="web"),
                 ], hints=[
                     _("The grader fetches http://${www}${nonce_path} over IPv6 only, from the "
                       "Internet, and expects this lab's token, which is in ${nonce_src} on web. "
                       "nginx serves files from ${webroot}. Try curl -6 "
                       "http://${www}${nonce_path} from v6client."),
                     _("On web: cp ${nonce_src} ${webroot}${nonce_path}  (readable by nginx: "
                       "chmod 644)"),
                 ]),
        ]


def nonce(lab) -> str:
    """This run's token, as setup() left it on edge (a provider node),
    read from outside."""
    return lab["edge"].read_file(NONCE_FILE, max_bytes=256).decode().strip()
