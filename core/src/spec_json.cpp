// The resolved spec as JSON, both ways. Spec::to_json writes it (for
// `v6lab validate --resolved` and for a lab's record); spec_from_json reads
// it back, so that a process which finds a running lab through its record
// holds the same typed model as the process that built the lab. A record
// is a file and a file can be wrong, so reading checks every field as
// parse_spec would, and the references between nodes, LANs and links, and
// refuses what to_json could not have written. It does not prove who wrote
// the record: the records directory's permissions do (only root, or the
// rootless owner, writes there), and registry.verify ties its processes to
// the lab.
#include <sys/socket.h>

#include <algorithm>
#include <initializer_list>
#include <unordered_map>
#include <unordered_set>

#include "spec_validator.hpp"
#include "v6lab/error.hpp"
#include "v6lab/json_text.hpp"
#include "v6lab/spec.hpp"

namespace v6lab {

using json = nlohmann::ordered_json;
using detail::kMaxIssues;
using detail::member;

namespace {

// Appends a key the caller knows is new: ordered_json's operator[] searches
// the object linearly, which made to_json quadratic in the node count.
void append(json& obj, const std::string& key, json value) {
  obj.get_ptr<json::object_t*>()->emplace_back(key, std::move(value));
}

json node_json(const NodeSpec& n) {
  json nj = json::object();
  append(nj, "image", n.image);
  append(nj, "images", n.images);
  append(nj, "roles", n.roles);
  append(nj, "provider", n.provider);
  json sc = json::object();
  for (const auto& [k, v] : n.sysctls) append(sc, k, v);
  append(nj, "sysctls", std::move(sc));
  json bins = json::array();
  for (const auto& b : n.binaries)
    bins.push_back({{"name", b.name}, {"package", b.package}});
  append(nj, "binaries", std::move(bins));
  json ifs = json::object();
  for (const auto& i : n.ifaces) {
    json ij = json::object();
    append(ij, "kind", i.kind);
    if (i.kind == "lan")
      append(ij, "lan", i.lan);
    else
      append(ij, "peer", i.peer_node + ":" + i.peer_iface);
    if (i.mtu) append(ij, "mtu", *i.mtu);
    if (i.mac) append(ij, "mac", *i.mac);
    json addrs = json::array();
    for (const auto& a : i.addresses) addrs.push_back(a.cidr());
    append(ij, "addresses", std::move(addrs));
    append(ifs, i.name, std::move(ij));
  }
  append(nj, "interfaces", std::move(ifs));
  json routes = json::array();
  for (const auto& r : n.routes) {
    json rj = json::object();
    append(rj, "dst", r.dst.cidr());
    if (r.via) append(rj, "via", r.via->str());
    if (!r.dev.empty()) append(rj, "dev", r.dev);
    if (r.metric) append(rj, "metric", *r.metric);
    routes.push_back(std::move(rj));
  }
  append(nj, "routes", std::move(routes));
  return nj;
}

}  // namespace

json Spec::to_json() const {
  json j = json::object();
  append(j, "name", name);
  append(j, "source", source);
  json nj = json::object();
  for (const auto& n : nodes) append(nj, n.name, node_json(n));
  append(j, "nodes", std::move(nj));
  json lj = json::object();
  for (const auto& l : lans) {
    json one = json::object();
    if (l.mtu) append(one, "mtu", *l.mtu);
    json members = json::array();
    for (const auto& [n, i] : l.members) members.push_back(n + ":" + i);
    append(one, "members", std::move(members));
    append(lj, l.name, std::move(one));
  }
  append(j, "lans", std::move(lj));
  json links_j = json::array();
  for (const auto& l : links) {
    json one = json::object();
    append(one, "endpoints", json::array({l.node_a + ":" + l.iface_a, l.node_b + ":" + l.iface_b}));
    if (l.mtu) append(one, "mtu", *l.mtu);
    links_j.push_back(std::move(one));
  }
  append(j, "links", std::move(links_j));
  return j;
}

// ------------------------------------------------------------- reading back

namespace {

enum class Kind { String, Bool, Integer, List, Object };

bool is(const json& v, Kind k) {
  switch (k) {
    case Kind::String: return v.is_string();
    case Kind::Bool: return v.is_boolean();
    case Kind::Integer: return v.is_number_integer();
    case Kind::List: return v.is_array();
    case Kind::Object: return v.is_object();
  }
  return false;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::String: return "a string";
    case Kind::Bool: return "true or false";
    case Kind::Integer: return "an integer";
    case Kind::List: return "a list";
    case Kind::Object: return "an object";
  }
  return "";
}

std::string join_key(const std::string& field, const std::string& key) {
  return field.empty() ? cut(key, 64) : field + "." + cut(key, 64);
}

// Reads one resolved spec; collects every problem, then throws them all.
class ResolvedReader {
 public:
  ResolvedReader(const json& j, const std::string& origin) : j_(j), origin_(origin) {}

  Spec run() {
    if (!j_.is_object()) {
      bad("", "a resolved spec must be an object with name, source, nodes, lans and links");
      throw SpecError(issues_);
    }
    if (json_depth(j_) > kMaxJsonDepth) {
      bad("", "nested more than " + std::to_string(kMaxJsonDepth) + " levels deep");
      throw SpecError(issues_);
    }
    keys(j_, "", {"name", "source", "nodes", "lans", "links"});
    if (auto n = valid_name(j_, "name", "")) spec_.name = *n;
    if (const json* s = need(j_, "source", "", Kind::String)) spec_.source = s->get<std::string>();
    read_nodes();
    read_lans();
    read_links();
    if (issues_.empty()) check_references();
    if (dropped_)
      issues_.push_back({origin_, "", std::to_string(dropped_) +
                                          " more problems not shown (fix these first)"});
    if (!issues_.empty()) throw SpecError(std::move(issues_));
    return std::move(spec_);
  }

 private:
  void bad(const std::string& field, const std::string& msg) {
    if (issues_.size() >= kMaxIssues) {
      ++dropped_;
      return;
    }
    issues_.push_back({origin_, field, msg});
  }

  void keys(const json& obj, const std::string& f, std::initializer_list<const char*> allowed) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      const std::string& k = it.key();  // not a structured binding: clang cannot capture one
      if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; }))
        bad(join_key(f, k), "unknown key in a resolved spec");
    }
  }

  // obj[key] if present and of kind k; otherwise a problem and nullptr.
  // Field names are built only for problems: a record is read on every
  // command, and most fields are fine.
  const json* need(const json& obj, const char* key, const std::string& f, Kind k) {
    const json* v = member(obj, key);
    if (v && is(*v, k)) return v;
    bad(join_key(f, key), v ? std::string("must be ") + kind_name(k) : "missing");
    return nullptr;
  }

  const json* typed(const json& v, const std::string& f, Kind k) {
    if (is(v, k)) return &v;
    bad(f, std::string("must be ") + kind_name(k));
    return nullptr;
  }

  std::optional<std::string> valid_name(const json& obj, const char* key, const std::string& f) {
    const json* v = need(obj, key, f, Kind::String);
    std::string why;
    if (!v) return std::nullopt;
    if (!valid_node_name(v->get<std::string>(), &why)) {
      bad(join_key(f, key), why);
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::vector<std::string> strings(const json& obj, const char* key, const std::string& f) {
    std::vector<std::string> out;
    const json* l = need(obj, key, f, Kind::List);
    if (!l) return out;
    for (std::size_t i = 0; i < l->size(); ++i) {
      if ((*l)[i].is_string())
        out.push_back((*l)[i].get<std::string>());
      else
        bad(join_key(f, key) + "[" + std::to_string(i) + "]", "must be a string");
    }
    return out;
  }

  std::optional<int> mtu(const json& obj, const std::string& f) {
    const json* v = member(obj, "mtu");
    if (!v) return std::nullopt;
    bool in_range = v->is_number_integer() &&
                    (v->is_number_unsigned() ? v->get<std::uint64_t>() <= 65535
                                             : v->get<std::int64_t>() >= 68 &&
                                                   v->get<std::int64_t>() <= 65535);
    if (!in_range || v->get<std::int64_t>() < 68) {
      bad(f + ".mtu", "must be an integer from 68 to 65535");
      return std::nullopt;
    }
    return v->get<int>();
  }

  std::optional<IpAddr> ip(const json& v, bool want_prefix, const std::string& f) {
    if (!typed(v, f, Kind::String)) return std::nullopt;
    std::string why;
    auto a = parse_ip(v.get<std::string>(), want_prefix, &why);
    if (!a) bad(f, why);
    return a;
  }

  // "node:iface", as to_json writes a LAN member, a link end or a peer.
  std::optional<std::pair<std::string, std::string>> endpoint(const json& v, const std::string& f) {
    if (!typed(v, f, Kind::String)) return std::nullopt;
    const std::string& s = v.get_ref<const std::string&>();
    auto colon = s.find(':');
    std::string why;
    if (colon == std::string::npos || !valid_node_name(s.substr(0, colon), &why) ||
        !valid_ifname(s.substr(colon + 1), &why)) {
      bad(f, "must be node:interface, not '" + cut(s) + "'" + (why.empty() ? "" : " (" + why + ")"));
      return std::nullopt;
    }
    return std::make_pair(s.substr(0, colon), s.substr(colon + 1));
  }

  void read_nodes();
  void read_node(const std::string& name, const json& n, const std::string& f);
  void read_node_config(NodeSpec& node, const json& n, const std::string& f);
  void read_iface(NodeSpec& node, const std::string& name, const json& i, const std::string& f);
  void read_route(NodeSpec& node, const json& r, const std::string& f);
  void read_lans();
  void read_links();
  void check_references();
  void check_lan_members(std::unordered_map<std::string, const IfaceSpec*>& ifaces);
  void check_links(std::unordered_map<std::string, const IfaceSpec*>& ifaces);

  const json& j_;
  std::string origin_;
  Spec spec_;
  std::vector<SpecIssue> issues_;
  std::size_t dropped_ = 0;
  std::unordered_set<std::string> names_;  // nodes and LANs share one namespace
};

void ResolvedReader::read_nodes() {
  const json* nodes = need(j_, "nodes", "", Kind::Object);
  if (!nodes) return;
  if (nodes->empty()) bad("nodes", "must be a non-empty object");
  for (const auto& [name, n] : nodes->items()) {
    std::string f = join_key("nodes", name), why;
    if (!valid_node_name(name, &why)) {
      bad(f, why);
      continue;
    }
    if (typed(n, f, Kind::Object)) read_node(name, n, f);
  }
}

void ResolvedReader::read_node(const std::string& name, const json& n, const std::string& f) {
  keys(n, f, {"image", "images", "roles", "provider", "sysctls", "binaries", "interfaces", "routes"});
  NodeSpec node;
  node.name = name;
  names_.insert(name);
  if (const json* v = need(n, "image", f, Kind::String)) node.image = v->get<std::string>();
  node.images = strings(n, "images", f);
  node.roles = strings(n, "roles", f);
  if (const json* v = need(n, "provider", f, Kind::Bool)) node.provider = v->get<bool>();
  std::string joined;
  for (const auto& i : node.images) joined += (joined.empty() ? "" : "+") + i;
  if (joined != node.image)
    bad(f + ".image", "'" + cut(node.image) + "' is not its images joined by '+' ('" + cut(joined) + "')");
  if (node.roles.size() != node.images.size())
    bad(f + ".roles", "must hold one role per image");
  if (!node.provider && std::count(node.roles.begin(), node.roles.end(), "provider"))
    bad(f + ".provider", "must be true for a node of the provider role");
  read_node_config(node, n, f);
  spec_.nodes.push_back(std::move(node));
}

void ResolvedReader::read_node_config(NodeSpec& node, const json& n, const std::string& f) {
  if (const json* sc = need(n, "sysctls", f, Kind::Object)) {
    for (const auto& [k, v] : sc->items()) {
      std::string why, value;
      if (!valid_node_sysctl(k, &why) || !sysctl_value(v, &value, &why))
        bad(join_key(f + ".sysctls", k), why);
      else
        node.sysctls.emplace_back(k, value);
    }
  }
  if (const json* bl = need(n, "binaries", f, Kind::List)) {
    for (std::size_t i = 0; i < bl->size(); ++i) {
      std::string fb = f + ".binaries[" + std::to_string(i) + "]";
      if (!typed((*bl)[i], fb, Kind::Object)) continue;
      keys((*bl)[i], fb, {"name", "package"});
      const json* name = need((*bl)[i], "name", fb, Kind::String);
      const json* package = need((*bl)[i], "package", fb, Kind::String);
      if (name && package) node.binaries.push_back({name->get<std::string>(), package->get<std::string>()});
    }
  }
  if (const json* ifs = need(n, "interfaces", f, Kind::Object)) {
    for (const auto& [name, i] : ifs->items()) {
      std::string fi = join_key(f + ".interfaces", name), why;
      if (!valid_ifname(name, &why))
        bad(fi, why);
      else if (typed(i, fi, Kind::Object))
        read_iface(node, name, i, fi);
    }
  }
  if (const json* rl = need(n, "routes", f, Kind::List)) {
    for (std::size_t i = 0; i < rl->size(); ++i) {
      std::string fr = f + ".routes[" + std::to_string(i) + "]";
      if (typed((*rl)[i], fr, Kind::Object)) read_route(node, (*rl)[i], fr);
    }
  }
}

void ResolvedReader::read_iface(NodeSpec& node, const std::string& name, const json& i,
                                const std::string& f) {
  keys(i, f, {"kind", "lan", "peer", "mtu", "mac", "addresses"});
  IfaceSpec ifc;
  ifc.name = name;
  ifc.mtu = mtu(i, f);
  if (const json* m = member(i, "mac")) {
    std::string why;
    if (!typed(*m, f + ".mac", Kind::String)) {
    } else if (!valid_mac(m->get<std::string>(), &why)) {
      bad(f + ".mac", why);
    } else {
      ifc.mac = m->get<std::string>();
    }
  }
  if (const json* k = need(i, "kind", f, Kind::String)) ifc.kind = k->get<std::string>();
  if (ifc.kind == "lan") {
    if (auto lan = valid_name(i, "lan", f)) ifc.lan = *lan;
  } else if (ifc.kind == "link") {
    if (const json* p = need(i, "peer", f, Kind::String))
      if (auto ep = endpoint(*p, f + ".peer")) std::tie(ifc.peer_node, ifc.peer_iface) = *ep;
  } else if (!ifc.kind.empty()) {
    bad(f + ".kind", "must be 'link' or 'lan', not '" + cut(ifc.kind) + "'");
  }
  if (const json* al = need(i, "addresses", f, Kind::List)) {
    for (std::size_t k = 0; k < al->size(); ++k) {
      std::string fa = f + ".addresses[" + std::to_string(k) + "]", why;
      auto a = ip((*al)[k], true, fa);
      if (a && !(why = address_problem(*a)).empty())
        bad(fa, why);
      else if (a)
        ifc.addresses.push_back(*a);
    }
  }
  node.ifaces.push_back(std::move(ifc));
}

void ResolvedReader::read_route(NodeSpec& node, const json& r, const std::string& f) {
  keys(r, f, {"dst", "via", "dev", "metric"});
  RouteSpec rs;
  const json* dst = need(r, "dst", f, Kind::String);
  auto d = dst ? ip(*dst, true, f + ".dst") : std::nullopt;
  if (const json* v = member(r, "via")) {
    std::string why;
    rs.via = ip(*v, false, f + ".via");
    if (rs.via && !(why = gateway_problem(*rs.via)).empty()) bad(f + ".via", why);
  }
  if (const json* dev = member(r, "dev")) {
    if (typed(*dev, f + ".dev", Kind::String)) rs.dev = dev->get<std::string>();
    if (!rs.dev.empty() && !node.iface(rs.dev))
      bad(f + ".dev", "node " + node.name + " has no interface '" + cut(rs.dev) + "'");
  }
  if (const json* m = member(r, "metric")) {
    bool in_range = m->is_number_integer() &&
                    (m->is_number_unsigned() ? m->get<std::uint64_t>() <= 0xFFFFFFFFull
                                             : m->get<std::int64_t>() >= 0);
    if (!in_range)
      bad(f + ".metric", "must be an integer from 0 to 4294967295");
    else
      rs.metric = static_cast<std::uint32_t>(m->get<std::uint64_t>());
  }
  if (!member(r, "via") && rs.dev.empty()) bad(f, "a route needs via or dev");
  if (!d) return;
  rs.dst = *d;
  node.routes.push_back(std::move(rs));
}

void ResolvedReader::read_lans() {
  const json* lans = need(j_, "lans", "", Kind::Object);
  if (!lans) return;
  for (const auto& [name, l] : lans->items()) {
    std::string f = join_key("lans", name), why;
    if (!valid_node_name(name, &why)) {
      bad(f, why);
      continue;
    }
    if (!names_.insert(name).second) bad(f, "'" + name + "' is already the name of a node");
    if (!typed(l, f, Kind::Object)) continue;
    keys(l, f, {"mtu", "members"});
    LanSpec lan;
    lan.name = name;
    lan.mtu = mtu(l, f);
    if (const json* ml = need(l, "members", f, Kind::List))
      for (std::size_t i = 0; i < ml->size(); ++i)
        if (auto ep = endpoint((*ml)[i], f + ".members[" + std::to_string(i) + "]"))
          lan.members.push_back(*ep);
    spec_.lans.push_back(std::move(lan));
  }
}

void ResolvedReader::read_links() {
  const json* links = need(j_, "links", "", Kind::List);
  if (!links) return;
  for (std::size_t i = 0; i < links->size(); ++i) {
    std::string f = "links[" + std::to_string(i) + "]";
    const json& l = (*links)[i];
    if (!typed(l, f, Kind::Object)) continue;
    keys(l, f, {"endpoints", "mtu"});
    LinkSpec link;
    link.mtu = mtu(l, f);
    const json* eps = need(l, "endpoints", f, Kind::List);
    if (!eps) continue;
    if (eps->size() != 2) {
      bad(f + ".endpoints", "must hold two node:interface ends");
      continue;
    }
    auto a = endpoint((*eps)[0], f + ".endpoints[0]");
    auto b = endpoint((*eps)[1], f + ".endpoints[1]");
    if (!a || !b) continue;
    std::tie(link.node_a, link.iface_a) = *a;
    std::tie(link.node_b, link.iface_b) = *b;
    spec_.links.push_back(std::move(link));
  }
}

// Every interface is on exactly one LAN or link, and says so itself: the
// graders (switch port k is LAN member k) and the CLI rely on it, so a
// record that contradicts itself is refused, not half-used.
void ResolvedReader::check_references() {
  std::unordered_map<std::string, const IfaceSpec*> ifaces;
  for (const auto& n : spec_.nodes)
    for (const auto& i : n.ifaces) ifaces.emplace(n.name + ":" + i.name, &i);
  check_lan_members(ifaces);
  check_links(ifaces);
  // Whatever is left was claimed by no LAN or link.
  for (const auto& n : spec_.nodes)
    for (const auto& i : n.ifaces)
      if (ifaces.count(n.name + ":" + i.name))
        bad("nodes." + n.name + ".interfaces." + i.name,
            i.kind == "lan" ? "is not a member of LAN '" + i.lan + "'"
                            : "is on no link of the links list");
}

void ResolvedReader::check_lan_members(std::unordered_map<std::string, const IfaceSpec*>& ifaces) {
  for (const auto& lan : spec_.lans) {
    for (std::size_t k = 0; k < lan.members.size(); ++k) {
      const auto& [node, iface] = lan.members[k];
      std::string f = "lans." + lan.name + ".members[" + std::to_string(k) + "]";
      auto it = ifaces.find(node + ":" + iface);
      if (it == ifaces.end())
        bad(f, "no interface " + node + ":" + iface + " (or it is listed twice)");
      else if (it->second->kind != "lan" || it->second->lan != lan.name)
        bad(f, node + ":" + iface + " does not say it is on LAN '" + lan.name + "'");
      else
        ifaces.erase(it);
    }
  }
}

void ResolvedReader::check_links(std::unordered_map<std::string, const IfaceSpec*>& ifaces) {
  for (std::size_t k = 0; k < spec_.links.size(); ++k) {
    const auto& l = spec_.links[k];
    std::string f = "links[" + std::to_string(k) + "].endpoints";
    auto a = ifaces.find(l.node_a + ":" + l.iface_a);
    auto b = ifaces.find(l.node_b + ":" + l.iface_b);
    if (a == ifaces.end() || b == ifaces.end() || a == b) {
      bad(f, "names an interface that does not exist or is already used");
      continue;
    }
    const IfaceSpec& ia = *a->second;
    const IfaceSpec& ib = *b->second;
    if (ia.kind != "link" || ib.kind != "link" || ia.peer_node != l.node_b ||
        ia.peer_iface != l.iface_b || ib.peer_node != l.node_a || ib.peer_iface != l.iface_a) {
      bad(f, "its ends do not name each other as peers");
      continue;
    }
    ifaces.erase(a);
    ifaces.erase(b);
  }
}

}  // namespace

Spec spec_from_json(const nlohmann::ordered_json& resolved, const std::string& origin) {
  return ResolvedReader(resolved, origin).run();
}

}  // namespace v6lab
