// parse_spec: validates a raw spec and resolves it. Every lookup here is a
// hash or tree lookup, never a scan of a growing list, so that validation
// stays linear in the size of the spec (100,000 nodes in well under a
// second), and nothing recurses over the input (its depth is checked
// first).
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "spec_validator.hpp"
#include "v6lab/json_text.hpp"

namespace v6lab {

namespace detail {

void Validator::bad(const std::string& field, const std::string& msg) {
  if (issues_.size() >= kMaxIssues) {
    ++dropped_;
    return;
  }
  issues_.push_back({source_, field, msg});
}

void Validator::check_keys(const json& j, const std::string& field,
                           const std::set<std::string>& allowed) {
  for (const auto& [k, v] : j.items()) {
    if (allowed.count(k)) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    bad(field.empty() ? cut(k, 64) : field + "." + cut(k, 64),
        "unknown key (expected one of: " + list + ")");
  }
}

std::optional<int> Validator::get_mtu(const json& j, const std::string& field) {
  const json* v = member(j, "mtu");
  if (!v) return std::nullopt;
  bool ok = v->is_number_integer() &&
            (v->is_number_unsigned() ? v->get<std::uint64_t>() <= 65535
                                     : v->get<std::int64_t>() >= 68 &&
                                           v->get<std::int64_t>() <= 65535);
  if (!ok || v->get<std::int64_t>() < 68) {
    bad(field + ".mtu", "must be an integer from 68 to 65535 (1280 or more where IPv6 is on)");
    return std::nullopt;
  }
  return v->get<int>();
}

std::optional<std::string> Validator::get_mac(const json& j, const std::string& field) {
  const json* v = member(j, "mac");
  if (!v) return std::nullopt;
  std::string m = v->is_string() ? v->get<std::string>() : "";
  std::string why;
  if (!valid_mac(m, &why)) {
    bad(field + ".mac", v->is_string() ? why : "must be a MAC address like 02:00:00:00:00:01");
    return std::nullopt;
  }
  return m;
}

std::vector<IpAddr> Validator::get_addresses(
    const json& j, const std::string& field,
    std::unordered_map<std::string, std::string>& seen) {
  std::vector<IpAddr> out;
  const json* v = member(j, "addresses");
  if (!v) return out;
  if (!v->is_array()) {
    bad(field + ".addresses", "must be a list of address/length strings");
    return out;
  }
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& x = (*v)[i];
    std::string f = field + ".addresses[" + std::to_string(i) + "]";
    if (!x.is_string()) {
      bad(f, "must be a string like 2001:db8:1::1/64");
      continue;
    }
    std::string why;
    auto a = parse_ip(x.get<std::string>(), true, &why);
    if (!a || !(why = address_problem(*a)).empty()) {
      bad(f, why);
      continue;
    }
    auto [it, fresh] = seen.emplace(address_key(*a), a->cidr());
    if (!fresh) {
      bad(f, "address " + a->cidr() + " is listed twice" +
                 (it->second != a->cidr() ? " (as " + it->second + ")" : std::string()));
      continue;
    }
    out.push_back(*a);
  }
  return out;
}

const std::string& Validator::known_images() {
  if (known_images_.empty())
    for (const auto& k : images_.names())
      known_images_ += (known_images_.empty() ? "" : ", ") + k;
  return known_images_;
}

IfaceSpec* Validator::find_iface(std::size_t node, const std::string& name) {
  auto it = iface_index_[node].find(name);
  return it == iface_index_[node].end() ? nullptr : &spec_.nodes[node].ifaces[it->second];
}

Spec Validator::run() {
  if (!raw_.is_object()) {
    bad("", "a topology must be an object with nodes, lans and links");
    throw SpecError(issues_);
  }
  if (json_depth(raw_) > kMaxJsonDepth) {
    bad("", "nested more than " + std::to_string(kMaxJsonDepth) +
                " levels deep (a topology needs about 6)");
    throw SpecError(issues_);
  }
  check_keys(raw_, "", {"name", "nodes", "lans", "links"});
  parse_name();
  parse_nodes();
  parse_lans();
  parse_links();
  assign_names();
  build_ifaces();
  apply_iface_config();
  check_sysctl_ifaces();
  // Duplicate MACs and duplicate addresses are allowed on purpose (labs
  // seed duplicate-address mistakes); duplicate interface names are not.
  parse_routes();
  check_ipv6_mtus();
  if (dropped_)
    issues_.push_back({source_, "", std::to_string(dropped_) +
                                        " more problems not shown (fix these first)"});
  if (!issues_.empty()) throw SpecError(std::move(issues_));
  return std::move(spec_);
}

void Validator::parse_name() {
  const json* n = member(raw_, "name");
  if (!n) return;
  std::string why;
  if (!n->is_string() || !valid_node_name(n->get<std::string>(), &why))
    bad("name", n->is_string() ? why : "must be a string");
  else
    spec_.name = n->get<std::string>();
}

void Validator::parse_nodes() {
  const json* nodes = member(raw_, "nodes");
  if (!nodes || !nodes->is_object() || nodes->empty()) {
    bad("nodes", "must be a non-empty object of node name: settings");
    return;
  }
  spec_.nodes.reserve(nodes->size());
  for (const auto& [name, nj] : nodes->items()) parse_node(name, nj);
}

void Validator::parse_node(const std::string& name, const json& nj) {
  std::string f = "nodes." + cut(name, 64);
  std::string why;
  if (!valid_node_name(name, &why)) return bad(f, why);
  if (!nj.is_object() && !nj.is_null()) return bad(f, "must be an object (or empty)");
  const json& n = nj.is_null() ? empty_object() : nj;
  check_keys(n, f, {"image", "provider", "binaries", "sysctls", "routes", "interfaces"});
  NodeSpec node;
  node.name = name;
  parse_node_images(node, n, f);
  if (const json* p = member(n, "provider")) {
    if (!p->is_boolean())
      bad(f + ".provider", "must be true or false");
    else
      node.provider = p->get<bool>();
  }
  if (const json* b = member(n, "binaries")) parse_node_binaries(node, *b, f);
  if (const json* s = member(n, "sysctls")) parse_node_sysctls(node, *s, f);
  std::size_t idx = spec_.nodes.size();
  node_index_[name] = idx;
  spec_.nodes.push_back(std::move(node));
  iface_index_.emplace_back();
  if (const json* i = member(n, "interfaces")) parse_node_ifaces(name, *i, f);
  if (const json* r = member(n, "routes")) routes_raw_.emplace_back(idx, r);
}

// image: one name, or a list applied in order (router + dhcp6-server): each
// image's sysctls overlay the previous ones, programs add up.
void Validator::parse_node_images(NodeSpec& node, const json& n, const std::string& f) {
  const json* im = member(n, "image");
  if (!im) {
    node.images = {"host"};
  } else if (im->is_string()) {
    node.images = {im->get<std::string>()};
  } else if (im->is_array() && !im->empty() && im->size() <= 8 &&
             std::all_of(im->begin(), im->end(), [](const json& x) { return x.is_string(); })) {
    for (const auto& x : *im) node.images.push_back(x.get<std::string>());
  } else {
    return bad(f + ".image", "must be the name of an image or a list of 1 to 8 image names");
  }
  // Each image's extends chain, root first, each ancestor applied once: in
  // [router, dhcp6-server] the host image both extend does not come back
  // after router to turn forwarding off again.
  std::unordered_map<std::string, std::size_t> pos;
  std::unordered_set<std::string> applied;
  for (std::size_t i = 0; i < node.images.size(); ++i) {
    const std::string& name = node.images[i];
    std::string fi = im && im->is_array() ? f + ".image[" + std::to_string(i) + "]" : f + ".image";
    node.image += (i ? "+" : "") + name;
    const Image* img = images_.find(name);
    if (!img) {
      bad(fi, "unknown image '" + cut(name) + "' (known: " + known_images() + ")");
      continue;
    }
    node.roles.push_back(img->role);
    for (const auto& step : img->chain) {
      const Image* part = images_.find(step);
      if (!part || !applied.insert(step).second) continue;
      for (const auto& kv : part->own_sysctls) {
        auto [it, fresh] = pos.emplace(kv.first, node.sysctls.size());
        if (fresh)
          node.sysctls.push_back(kv);
        else
          node.sysctls[it->second].second = kv.second;
      }
      for (const auto& b : part->own_binaries) {
        auto same = std::find_if(node.binaries.begin(), node.binaries.end(),
                                 [&](const BinaryReq& x) { return x.name == b.name; });
        if (same != node.binaries.end())
          same->package = b.package;
        else
          node.binaries.push_back(b);
      }
    }
  }
  if (std::count(node.roles.begin(), node.roles.end(), "provider")) node.provider = true;
}

// Extra programs a node needs beyond its images': [{name, package}].
void Validator::parse_node_binaries(NodeSpec& node, const json& bj, const std::string& f) {
  if (!bj.is_array()) return bad(f + ".binaries", "must be a list of {name, package}");
  std::size_t i = 0;
  for (const auto& b : bj) {
    std::string fb = f + ".binaries[" + std::to_string(i++) + "]";
    if (!b.is_object() || !b.contains("name") || !b["name"].is_string() || !b.contains("package") ||
        !b["package"].is_string() || b.size() != 2) {
      bad(fb, "must be an object with exactly the string fields name and package");
      continue;
    }
    std::string name = b["name"].get<std::string>(), pkg = b["package"].get<std::string>();
    if (name.empty() || pkg.empty() || name.size() > 255 || pkg.size() > 255 ||
        name.find('/') != std::string::npos) {
      bad(fb, "name must be a program name and package a Debian package name");
      continue;
    }
    if (std::none_of(node.binaries.begin(), node.binaries.end(),
                     [&](const BinaryReq& x) { return x.name == name; }))
      node.binaries.push_back({name, pkg});
  }
}

void Validator::parse_node_sysctls(NodeSpec& node, const json& sj, const std::string& f) {
  if (!sj.is_object()) return bad(f + ".sysctls", "must be an object of key: value");
  std::unordered_map<std::string, std::size_t> pos;
  for (std::size_t i = 0; i < node.sysctls.size(); ++i) pos[node.sysctls[i].first] = i;
  for (const auto& [k, v] : sj.items()) {
    std::string fk = f + ".sysctls." + cut(k, 64), why, val;
    if (!valid_node_sysctl(k, &why)) {
      bad(fk, why);
      continue;
    }
    if (!sysctl_value(v, &val, &why)) {
      bad(fk, why);
      continue;
    }
    auto [it, fresh] = pos.emplace(k, node.sysctls.size());
    if (fresh)
      node.sysctls.emplace_back(k, val);
    else
      node.sysctls[it->second].second = val;
  }
}

void Validator::parse_node_ifaces(const std::string& name, const json& ij,
                                  const std::string& f) {
  if (!ij.is_object())
    return bad(f + ".interfaces", "must be an object of interface name: settings");
  for (const auto& [ifn, cfg] : ij.items()) {
    std::string fi = f + ".interfaces." + cut(ifn, 64), why;
    if (!valid_ifname(ifn, &why)) {
      bad(fi, why);
      continue;
    }
    if (!cfg.is_object()) {
      bad(fi, "must be an object with addresses, mtu or mac");
      continue;
    }
    check_keys(cfg, fi, {"addresses", "mtu", "mac"});
    iface_config_.push_back({node_index_.at(name), ifn, &cfg, fi});
  }
}

void Validator::parse_lans() {
  const json* lans = member(raw_, "lans");
  if (!lans) return;
  if (!lans->is_object()) return bad("lans", "must be an object of LAN name: settings");
  for (const auto& [name, lj] : lans->items()) {
    std::string f = "lans." + cut(name, 64), why;
    if (!valid_node_name(name, &why)) {
      bad(f, why);
      continue;
    }
    if (is_node(name)) {
      bad(f, "'" + name + "' is already the name of a node");
      continue;
    }
    if (!lj.is_object() && !lj.is_null()) {
      bad(f, "must be an object (or empty)");
      continue;
    }
    const json& l = lj.is_null() ? empty_object() : lj;
    check_keys(l, f, {"mtu"});
    LanSpec lan;
    lan.name = name;
    lan.mtu = get_mtu(l, f);
    lan_index_[name] = spec_.lans.size();
    spec_.lans.push_back(std::move(lan));
  }
}

}  // namespace detail

Spec parse_spec(const nlohmann::ordered_json& raw, const std::string& source, const ImageRegistry& images) {
  return detail::Validator(raw, source, images).run();
}

}  // namespace v6lab
