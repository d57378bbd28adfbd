// The validator's last checks (see spec_validator.hpp): static routes, and
// MTUs that would switch IPv6 off. Both need every interface to be known.
#include <sys/socket.h>

#include "spec_validator.hpp"
#include "v6lab/json_text.hpp"

namespace v6lab::detail {

void Validator::parse_routes() {
  for (const auto& [ni, routes] : routes_raw_) {
    NodeSpec& node = spec_.nodes[ni];
    std::string f = "nodes." + node.name + ".routes";
    if (!routes->is_array()) {
      bad(f, "must be a list of {dst, via, dev, metric}");
      continue;
    }
    std::map<std::string, std::string> seen;  // dst+metric -> field
    for (std::size_t i = 0; i < routes->size(); ++i)
      parse_route(node, (*routes)[i], f + "[" + std::to_string(i) + "]", seen);
  }
}

std::optional<IpAddr> Validator::parse_gateway(const json& r, const std::string& fr) {
  const json* v = member(r, "via");
  if (!v) return std::nullopt;
  std::string why;
  std::optional<IpAddr> via;
  if (!v->is_string() || !(via = parse_ip(v->get<std::string>(), false, &why))) {
    bad(fr + ".via", v->is_string() ? why : "must be an address");
    return std::nullopt;
  }
  if (via->prefix_len >= 0) {
    bad(fr + ".via", "a gateway is an address, without a prefix length");
    return std::nullopt;
  }
  if (!(why = gateway_problem(*via)).empty()) {
    bad(fr + ".via", why);
    return std::nullopt;
  }
  return via;
}

bool Validator::parse_dst(const json& r, const std::string& fr, RouteSpec& rs,
                          const std::optional<IpAddr>& via) {
  const json* d = member(r, "dst");
  std::string why;
  if (!d || !d->is_string()) {
    bad(fr + ".dst", "missing: a prefix such as 2001:db8:2::/64, or \"default\"");
    return false;
  }
  if (*d == "default") {
    rs.dst.family = via ? via->family : AF_INET6;
    rs.dst.prefix_len = 0;
    return true;
  }
  auto p = parse_ip(d->get<std::string>(), true, &why);
  if (!p) {
    bad(fr + ".dst", why);
    return false;
  }
  rs.dst = *p;
  // Host bits set would be silently masked by the kernel: say so.
  for (int b = p->prefix_len; b < p->max_len(); ++b)
    if (p->bytes[b / 8] & (0x80 >> (b % 8))) {
      bad(fr + ".dst", "'" + p->cidr() + "' has host bits set after /" +
                           std::to_string(p->prefix_len));
      return false;
    }
  return true;
}

void Validator::parse_route(NodeSpec& node, const json& r, const std::string& fr,
                            std::map<std::string, std::string>& seen) {
  if (!r.is_object()) return bad(fr, "must be an object with dst and via or dev");
  check_keys(r, fr, {"dst", "via", "dev", "metric"});
  RouteSpec rs;
  bool ok = true;
  bool has_via = member(r, "via") != nullptr;
  std::optional<IpAddr> via = parse_gateway(r, fr);
  if (has_via && !via) ok = false;
  if (!parse_dst(r, fr, rs, via)) ok = false;
  if (via && ok && via->family != rs.dst.family) {
    bad(fr + ".via", "gateway " + via->str() + " is not of the destination's address family");
    ok = false;
  }
  rs.via = via;
  if (const json* dev = member(r, "dev")) {
    std::size_t ni = node_index_.at(node.name);
    if (!dev->is_string() || !find_iface(ni, dev->get<std::string>())) {
      bad(fr + ".dev", "node " + node.name + " has no interface " +
                           cut(dev->is_string() ? dev->get<std::string>() : dev->dump()));
      ok = false;
    } else {
      rs.dev = dev->get<std::string>();
    }
  }
  if (!has_via && !member(r, "dev")) {
    bad(fr, "a route needs via (a gateway) or dev (an interface)");
    ok = false;
  }
  if (rs.via && rs.via->is_link_local() && !member(r, "dev")) {
    bad(fr + ".dev", "a link-local gateway (" + rs.via->str() +
                         ") needs dev: the interface it is reached on");
    ok = false;
  }
  if (const json* m = member(r, "metric")) {
    bool in_range = m->is_number_integer() &&
                    (m->is_number_unsigned() ? m->get<std::uint64_t>() <= 0xFFFFFFFFull
                                             : m->get<std::int64_t>() >= 0);
    if (!in_range)
      bad(fr + ".metric", "must be an integer from 0 to 4294967295"), ok = false;
    else
      rs.metric = static_cast<std::uint32_t>(m->get<std::uint64_t>());
  }
  if (!ok) return;
  // The kernel refuses a second route to the same prefix with the same
  // metric (EEXIST), whatever its gateway: say which one it repeats.
  std::uint32_t metric = rs.metric ? *rs.metric : (rs.dst.family == AF_INET6 ? 1024 : 0);
  std::string key = rs.dst.cidr() + " metric " + std::to_string(metric);
  auto [it, fresh] = seen.emplace(key, fr);
  if (!fresh)
    return bad(fr + ".dst", "a route to " + key + " is already given by " + it->second +
                                " (the kernel keeps one; give a different metric)");
  node.routes.push_back(rs);
}

namespace {

// Whether the kernel leaves IPv6 on for ifname, from the node's sysctls
// written in order: conf.all and conf.default first (before the interface
// exists, so it inherits conf.default), then conf.IFNAME.
bool ipv6_on(const NodeSpec& node, const std::string& ifname) {
  std::string dflt = "0", own;
  for (const auto& [k, v] : node.sysctls) {
    if (k == "net.ipv6.conf.all.disable_ipv6" || k == "net.ipv6.conf.default.disable_ipv6")
      dflt = v;
    else if (k == "net.ipv6.conf." + ifname + ".disable_ipv6")
      own = v;
  }
  const std::string& eff = own.empty() ? dflt : own;
  return eff == "0" || eff.empty();
}

}  // namespace

// Below 1280 the kernel silently switches IPv6 off on an interface: refuse
// it unless the spec switches IPv6 off there itself.
void Validator::check_ipv6_mtus() {
  for (const auto& node : spec_.nodes)
    for (const auto& ifc : node.ifaces) {
      if (!ifc.mtu || *ifc.mtu >= 1280 || !ipv6_on(node, ifc.name)) continue;
      auto f = mtu_field_.find(node.name + ":" + ifc.name);
      bad(f == mtu_field_.end() ? "nodes." + node.name + ".interfaces." + ifc.name + ".mtu"
                                : f->second,
          "MTU " + std::to_string(*ifc.mtu) + " of " + node.name + ":" + ifc.name +
              " is below 1280, where the kernel switches IPv6 off; for an IPv4-only "
              "interface set net.ipv6.conf." + ifc.name + ".disable_ipv6: 1 on " +
              node.name);
    }
}

}  // namespace v6lab::detail
