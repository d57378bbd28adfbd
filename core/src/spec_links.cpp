// The second half of the validator (see spec_validator.hpp): links and the
// interfaces they create, interface settings, routes, and the checks that
// need every interface to be known.
#include <sys/socket.h>

#include "spec_validator.hpp"
#include "v6lab/json_text.hpp"

namespace v6lab::detail {

void Validator::parse_links() {
  const json* links = member(raw_, "links");
  if (!links) return;
  if (!links->is_array()) return bad("links", "must be a list of {endpoints: [a, b]}");
  links_.reserve(links->size());
  for (std::size_t i = 0; i < links->size(); ++i) {
    const json& lj = (*links)[i];
    std::string f = "links[" + std::to_string(i) + "]";
    const json* eps = member(lj, "endpoints");
    if (!eps || !eps->is_array() || eps->size() != 2) {
      bad(f + ".endpoints", "a link needs exactly two endpoints");
      continue;
    }
    check_keys(lj, f, {"endpoints", "mtu"});
    RawLink link;
    link.field = f;
    bool ok = true;
    for (int k = 0; k < 2; ++k)
      ok &= parse_endpoint((*eps)[k], f + ".endpoints[" + std::to_string(k) + "]",
                           link.ends[k]);
    if (!ok) continue;
    if (is_lan(link.ends[0].node) && is_lan(link.ends[1].node)) {
      bad(f + ".endpoints", "a link cannot join two LANs");
      continue;
    }
    link.mtu = get_mtu(lj, f);
    links_.push_back(std::move(link));
  }
}

bool Validator::parse_endpoint(const json& e, const std::string& fe, EndpointRef& ep) {
  ep.field = fe;
  std::string ref;
  bool ok = true;
  if (e.is_string()) {
    ref = e.get<std::string>();
  } else if (const json* node = member(e, "node"); node && node->is_string()) {
    check_keys(e, fe, {"node", "interface", "addresses", "mtu", "mac"});
    ref = node->get<std::string>();
    if (const json* ifn = member(e, "interface")) {
      if (!ifn->is_string()) {
        bad(fe + ".interface", "must be a string");
        ok = false;
      } else {
        ref += ":" + ifn->get<std::string>();
      }
    }
    // Any key besides node and interface is a setting (unknown ones are
    // reported above), which a LAN end cannot take.
    if (e.size() > 1 + (member(e, "interface") ? 1u : 0u)) ep.config = &e;
  } else {
    bad(fe, "must be \"node\", \"node:interface\", a LAN name, or an object with node");
    return false;
  }
  auto colon = ref.find(':');
  ep.node = ref.substr(0, colon);
  if (colon != std::string::npos) {
    ep.iface = ref.substr(colon + 1);
    std::string why;
    if (!valid_ifname(ep.iface, &why)) {
      bad(fe, why);
      ok = false;
    }
  }
  if (!is_node(ep.node) && !is_lan(ep.node)) {
    bad(fe, "'" + cut(ep.node) + "' is neither a node nor a LAN");
    ok = false;
  } else if (is_lan(ep.node) && (!ep.iface.empty() || ep.config)) {
    bad(fe, "a LAN endpoint takes no interface or settings");
    ok = false;
  }
  return ok;
}

// Explicit interface names are reserved first, across all links; then each
// unnamed node end gets its node's next free ethN, in link order.
void Validator::assign_names() {
  std::unordered_map<std::string, std::unordered_set<std::string>> used;
  std::unordered_map<std::string, std::string> used_by;  // node:iface -> field
  for (auto& l : links_)
    for (auto& e : l.ends) {
      if (is_lan(e.node) || e.iface.empty()) continue;
      std::string key = e.node + ":" + e.iface;
      auto [it, fresh] = used_by.emplace(key, e.field);
      if (!fresh) {
        bad(e.field, "interface " + key + " is already used by " + it->second);
        continue;
      }
      used[e.node].insert(e.iface);
    }
  std::unordered_map<std::string, long> next;
  for (auto& l : links_)
    for (auto& e : l.ends) {
      if (is_lan(e.node) || !e.iface.empty()) continue;
      auto& taken = used[e.node];
      std::string n;
      do n = "eth" + std::to_string(next[e.node]++);
      while (taken.count(n));
      taken.insert(n);
      e.iface = n;
    }
}

void Validator::add_iface(const EndpointRef& e, IfaceSpec ifc, std::optional<int> mtu,
                          const std::string& mtu_field) {
  auto it = node_index_.find(e.node);
  if (it == node_index_.end()) return;
  std::size_t ni = it->second;
  if (!iface_index_[ni].emplace(e.iface, spec_.nodes[ni].ifaces.size()).second)
    return;  // a duplicate name, already reported
  std::string key = e.node + ":" + e.iface;
  ifc.name = e.iface;
  ifc.mtu = mtu;
  if (mtu) mtu_field_[key] = mtu_field;
  if (e.config) {
    if (auto m = get_mtu(*e.config, e.field)) {
      ifc.mtu = m;
      mtu_field_[key] = e.field + ".mtu";
    }
    ifc.mac = get_mac(*e.config, e.field);
    ifc.addresses = get_addresses(*e.config, e.field, addrs_seen_[key]);
  }
  spec_.nodes[ni].ifaces.push_back(std::move(ifc));
}

void Validator::build_ifaces() {
  for (const auto& l : links_) {
    const EndpointRef &a = l.ends[0], &b = l.ends[1];
    bool lan_a = is_lan(a.node), lan_b = is_lan(b.node);
    std::string link_mtu_field = l.field + ".mtu";
    if (lan_a || lan_b) {
      const EndpointRef& n = lan_a ? b : a;
      LanSpec& lan = spec_.lans[lan_index_.at(lan_a ? a.node : b.node)];
      IfaceSpec ifc;
      ifc.kind = "lan";
      ifc.lan = lan.name;
      lan.members.emplace_back(n.node, n.iface);
      add_iface(n, ifc, l.mtu ? l.mtu : lan.mtu,
                l.mtu ? link_mtu_field : "lans." + lan.name + ".mtu");
    } else {
      IfaceSpec ia, ib;
      ia.kind = ib.kind = "link";
      ia.peer_node = b.node;
      ia.peer_iface = b.iface;
      ib.peer_node = a.node;
      ib.peer_iface = a.iface;
      add_iface(a, ia, l.mtu, link_mtu_field);
      add_iface(b, ib, l.mtu, link_mtu_field);
      spec_.links.push_back({a.node, a.iface, b.node, b.iface, l.mtu});
    }
  }
}

// Settings given under nodes.X.interfaces, applied to the interfaces that
// links created.
void Validator::apply_iface_config() {
  for (const auto& c : iface_config_) {
    NodeSpec& node = spec_.nodes[c.node];
    std::string key = node.name + ":" + c.iface;
    IfaceSpec* ifc = find_iface(c.node, c.iface);
    if (!ifc) {
      std::string have;
      for (std::size_t i = 0; i < node.ifaces.size() && i < 20; ++i)
        have += (have.empty() ? "" : ", ") + node.ifaces[i].name;
      if (node.ifaces.size() > 20) have += ", …";
      bad(c.field, "node " + node.name + " has no interface " + c.iface +
                       " (no link creates it; it has: " + (have.empty() ? "none" : have) + ")");
      continue;
    }
    if (auto m = get_mtu(*c.cfg, c.field)) {
      ifc->mtu = m;
      mtu_field_[key] = c.field + ".mtu";
    }
    if (auto m = get_mac(*c.cfg, c.field)) {
      if (ifc->mac) bad(c.field + ".mac", "the MAC of " + key + " is also set on its link");
      ifc->mac = m;
    }
    std::unordered_map<std::string, std::string> own;
    auto& seen = addrs_seen_[key];
    for (auto& a : get_addresses(*c.cfg, c.field, own)) {
      if (!seen.emplace(address_key(a), a.cidr()).second)
        bad(c.field + ".addresses",
            "address " + a.cidr() + " is also given on the link that creates " + key);
      else
        ifc->addresses.push_back(a);
    }
  }
}

// Per-interface sysctls must name an interface the node has.
void Validator::check_sysctl_ifaces() {
  for (std::size_t ni = 0; ni < spec_.nodes.size(); ++ni) {
    const NodeSpec& node = spec_.nodes[ni];
    for (const auto& [k, v] : node.sysctls) {
      std::string ifn = sysctl_interface(k);
      if (!ifn.empty() && ifn != "lo" && !find_iface(ni, ifn))
        bad("nodes." + node.name + ".sysctls." + cut(k, 64),
            "node " + node.name + " has no interface " + cut(ifn));
    }
  }
}

}  // namespace v6lab::detail
