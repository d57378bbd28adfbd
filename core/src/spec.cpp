#include "v6lab/spec.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "v6lab/error.hpp"

namespace v6lab {

using json = nlohmann::ordered_json;

// ---------------------------------------------------------------- addresses

bool IpAddr::is_link_local() const {
  return family == AF_INET6 && bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
}

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

std::string IpAddr::cidr() const {
  return prefix_len < 0 ? str() : str() + "/" + std::to_string(prefix_len);
}

std::optional<IpAddr> parse_ip(const std::string& text, bool want_prefix,
                               std::string* why) {
  IpAddr a;
  std::string addr = text;
  auto slash = text.find('/');
  if (slash != std::string::npos) {
    addr = text.substr(0, slash);
    std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3 ||
        !std::all_of(len.begin(), len.end(), ::isdigit)) {
      if (why) *why = "invalid prefix length '" + len + "' in '" + text + "'";
      return std::nullopt;
    }
    a.prefix_len = std::stoi(len);
  } else if (want_prefix) {
    if (why) *why = "'" + text + "' has no prefix length (write it as address/length, e.g. 2001:db8:1::1/64)";
    return std::nullopt;
  }
  if (::inet_pton(AF_INET6, addr.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
  } else if (::inet_pton(AF_INET, addr.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
  } else {
    if (why) *why = "'" + addr + "' is not an IPv6 or IPv4 address";
    return std::nullopt;
  }
  if (a.prefix_len > a.max_len()) {
    if (why)
      *why = "prefix length " + std::to_string(a.prefix_len) + " in '" + text +
             "' is out of range (0.." + std::to_string(a.max_len()) + ")";
    return std::nullopt;
  }
  return a;
}

bool valid_ifname(const std::string& n, std::string* why) {
  if (n.empty() || n.size() >= 16 /* IFNAMSIZ */) {
    if (why) *why = "interface name '" + n + "' must be 1 to 15 bytes long";
    return false;
  }
  if (n == "." || n == ".." || n == "lo") {
    if (why) *why = "interface name '" + n + "' is reserved";
    return false;
  }
  for (unsigned char c : n) {
    if (c == '/' || c == ':' || std::isspace(c) || c < 0x21 || c > 0x7e) {
      if (why)
        *why = "interface name '" + n +
               "' may not contain '/', ':', spaces or non-ASCII characters";
      return false;
    }
  }
  return true;
}

bool valid_node_name(const std::string& n, std::string* why) {
  bool ok = !n.empty() && n.size() <= 32 && std::isalpha((unsigned char)n[0]) &&
            std::all_of(n.begin(), n.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '-' || c == '_';
            });
  if (!ok && why)
    *why = "name '" + n +
           "' must start with a letter and hold only letters, digits, '-' "
           "and '_' (at most 32)";
  return ok;
}

bool valid_node_sysctl(const std::string& key, std::string* why) {
  bool ok = key.rfind("net.", 0) == 0 && key.size() > 4 &&
            key.find("..") == std::string::npos &&
            key.find('/') == std::string::npos && key.back() != '.';
  if (!ok && why)
    *why = "sysctl '" + key +
           "' is not a per-namespace 'net.' key (others would change the "
           "host)";
  return ok;
}

std::string sysctl_interface(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= key.size(); ++i)
    if (i == key.size() || key[i] == '.') {
      parts.push_back(key.substr(start, i - start));
      start = i + 1;
    }
  bool per_iface = parts.size() > 4 && parts[0] == "net" &&
                   (parts[1] == "ipv4" || parts[1] == "ipv6") &&
                   (parts[2] == "conf" || parts[2] == "neigh") &&
                   parts[3] != "all" && parts[3] != "default";
  return per_iface ? parts[3] : "";
}

const IfaceSpec* NodeSpec::iface(const std::string& n) const {
  for (const auto& i : ifaces)
    if (i.name == n) return &i;
  return nullptr;
}

const NodeSpec* Spec::node(const std::string& n) const {
  for (const auto& x : nodes)
    if (x.name == n) return &x;
  return nullptr;
}

// ---------------------------------------------------------------- parsing

namespace {

// The kernel keeps one IPv6 address per interface whatever its prefix
// length (adding it again fails with EEXIST); IPv4 allows one per mask.
std::optional<IpAddr> find_same_address(const std::vector<IpAddr>& list,
                                        const IpAddr& a) {
  for (const auto& x : list)
    if (x.family == a.family && x.bytes == a.bytes &&
        (a.family == AF_INET6 || x.prefix_len == a.prefix_len))
      return x;
  return std::nullopt;
}

struct Parser {
  std::string source;
  const ImageRegistry& images;
  std::vector<SpecIssue> issues;

  void bad(const std::string& field, const std::string& msg) {
    issues.push_back({source, field, msg});
  }

  void check_keys(const json& j, const std::string& field,
                  const std::set<std::string>& allowed) {
    for (const auto& [k, v] : j.items()) {
      if (allowed.count(k)) continue;
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      bad(field.empty() ? k : field + "." + k,
          "unknown key (expected one of: " + list + ")");
    }
  }

  std::optional<int> get_mtu(const json& j, const std::string& field) {
    if (!j.contains("mtu")) return std::nullopt;
    const auto& v = j["mtu"];
    if (!v.is_number_integer() || v.get<long long>() < 68 ||
        v.get<long long>() > 65535) {
      bad(field + ".mtu", "must be an integer from 68 to 65535 (IPv6 turns itself off below 1280)");
      return std::nullopt;
    }
    return v.get<int>();
  }

  std::optional<std::string> get_mac(const json& j, const std::string& field) {
    if (!j.contains("mac")) return std::nullopt;
    const auto& v = j["mac"];
    std::string m = v.is_string() ? v.get<std::string>() : "";
    bool ok = m.size() == 17;
    for (std::size_t i = 0; ok && i < m.size(); ++i)
      ok = (i % 3 == 2) ? m[i] == ':' : std::isxdigit(static_cast<unsigned char>(m[i]));
    if (!ok) {
      bad(field + ".mac", "must be a MAC address like 02:00:00:00:00:01");
      return std::nullopt;
    }
    if (std::stoi(m.substr(0, 2), nullptr, 16) & 1) {
      bad(field + ".mac", "'" + m + "' is a multicast address; use a unicast one (first byte even)");
      return std::nullopt;
    }
    return m;
  }

  std::vector<IpAddr> get_addresses(const json& j, const std::string& field) {
    std::vector<IpAddr> out;
    if (!j.contains("addresses")) return out;
    const auto& v = j["addresses"];
    if (!v.is_array()) {
      bad(field + ".addresses", "must be a list of address/length strings");
      return out;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string f = field + ".addresses[" + std::to_string(i) + "]";
      if (!v[i].is_string()) {
        bad(f, "must be a string like 2001:db8:1::1/64");
        continue;
      }
      std::string why;
      auto a = parse_ip(v[i].get<std::string>(), true, &why);
      if (!a) {
        bad(f, why);
        continue;
      }
      if (auto dup = find_same_address(out, *a)) {
        bad(f, "address " + a->cidr() + " is listed twice" +
                   (dup->prefix_len != a->prefix_len ? " (as " + dup->cidr() + ")" : std::string()));
        continue;
      }
      out.push_back(*a);
    }
    return out;
  }
};

struct EndpointRef {
  std::string node;   // or LAN name
  std::string iface;  // empty: assign
  json config;        // mac, mtu, addresses given on the endpoint
  std::string field;
};

}  // namespace

Spec parse_spec(const json& raw, const std::string& source,
                const ImageRegistry& images) {
  Parser p{source, images, {}};
  Spec spec;
  spec.source = source;
  if (!raw.is_object()) {
    p.bad("", "a topology must be an object with nodes, lans and links");
    throw SpecError(p.issues);
  }
  p.check_keys(raw, "", {"name", "nodes", "lans", "links"});
  spec.name = "lab";
  if (raw.contains("name")) {
    std::string why;
    if (!raw["name"].is_string() ||
        !valid_node_name(raw["name"].get<std::string>(), &why))
      p.bad("name", raw["name"].is_string() ? why : "must be a string");
    else
      spec.name = raw["name"].get<std::string>();
  }

  // Nodes.
  std::map<std::string, std::size_t> node_index;
  std::map<std::string, json> iface_config;  // "node:iface" -> config
  std::map<std::string, std::string> iface_config_field;
  if (!raw.contains("nodes") || !raw["nodes"].is_object() ||
      raw["nodes"].empty()) {
    p.bad("nodes", "must be a non-empty object of node name: settings");
  } else {
    for (const auto& [name, nj] : raw["nodes"].items()) {
      std::string f = "nodes." + name;
      std::string why;
      if (!valid_node_name(name, &why)) {
        p.bad(f, why);
        continue;
      }
      if (!nj.is_object() && !nj.is_null()) {
        p.bad(f, "must be an object (or empty)");
        continue;
      }
      json n = nj.is_null() ? json::object() : nj;
      p.check_keys(n, f, {"image", "sysctls", "routes", "interfaces"});
      NodeSpec node;
      node.name = name;
      node.image = "host";
      if (n.contains("image")) {
        if (!n["image"].is_string())
          p.bad(f + ".image", "must be the name of an image");
        else
          node.image = n["image"].get<std::string>();
      }
      const Image* img = images.find(node.image);
      if (!img) {
        std::string known;
        for (const auto& k : images.names())
          known += (known.empty() ? "" : ", ") + k;
        p.bad(f + ".image", "unknown image '" + node.image +
                                "' (known: " + known + ")");
      } else {
        node.sysctls = img->sysctls;
        node.binaries = img->binaries;
      }
      if (n.contains("sysctls")) {
        if (!n["sysctls"].is_object()) {
          p.bad(f + ".sysctls", "must be an object of key: value");
        } else {
          for (const auto& [k, v] : n["sysctls"].items()) {
            std::string w;
            if (!valid_node_sysctl(k, &w)) {
              p.bad(f + ".sysctls." + k, w);
              continue;
            }
            std::string val;
            if (v.is_string())
              val = v.get<std::string>();
            else if (v.is_number_integer())
              val = std::to_string(v.get<long long>());
            else {
              p.bad(f + ".sysctls." + k, "value must be a string or an integer");
              continue;
            }
            auto it = std::find_if(node.sysctls.begin(), node.sysctls.end(),
                                   [&](const auto& e) { return e.first == k; });
            if (it != node.sysctls.end())
              it->second = val;
            else
              node.sysctls.emplace_back(k, val);
          }
        }
      }
      if (n.contains("interfaces")) {
        if (!n["interfaces"].is_object()) {
          p.bad(f + ".interfaces", "must be an object of interface name: settings");
        } else {
          for (const auto& [ifn, ij] : n["interfaces"].items()) {
            std::string fi = f + ".interfaces." + ifn;
            std::string w;
            if (!valid_ifname(ifn, &w)) {
              p.bad(fi, w);
              continue;
            }
            if (!ij.is_object()) {
              p.bad(fi, "must be an object with addresses, mtu or mac");
              continue;
            }
            p.check_keys(ij, fi, {"addresses", "mtu", "mac"});
            iface_config[name + ":" + ifn] = ij;
            iface_config_field[name + ":" + ifn] = fi;
          }
        }
      }
      node_index[name] = spec.nodes.size();
      spec.nodes.push_back(std::move(node));
    }
  }

  // LANs.
  std::map<std::string, std::size_t> lan_index;
  if (raw.contains("lans")) {
    if (!raw["lans"].is_object()) {
      p.bad("lans", "must be an object of LAN name: settings");
    } else {
      for (const auto& [name, lj] : raw["lans"].items()) {
        std::string f = "lans." + name;
        std::string why;
        if (!valid_node_name(name, &why)) {
          p.bad(f, why);
          continue;
        }
        if (node_index.count(name)) {
          p.bad(f, "'" + name + "' is already the name of a node");
          continue;
        }
        json l = lj.is_null() ? json::object() : lj;
        if (!l.is_object()) {
          p.bad(f, "must be an object (or empty)");
          continue;
        }
        p.check_keys(l, f, {"mtu"});
        LanSpec lan;
        lan.name = name;
        lan.mtu = p.get_mtu(l, f);
        lan_index[name] = spec.lans.size();
        spec.lans.push_back(std::move(lan));
      }
    }
  }

  // Links: parse endpoints first.
  std::vector<std::pair<EndpointRef, EndpointRef>> raw_links;
  std::vector<std::optional<int>> link_mtu;
  if (raw.contains("links")) {
    if (!raw["links"].is_array()) {
      p.bad("links", "must be a list of {endpoints: [a, b]}");
    } else {
      for (std::size_t i = 0; i < raw["links"].size(); ++i) {
        const auto& lj = raw["links"][i];
        std::string f = "links[" + std::to_string(i) + "]";
        if (!lj.is_object() || !lj.contains("endpoints") ||
            !lj["endpoints"].is_array() || lj["endpoints"].size() != 2) {
          p.bad(f + ".endpoints", "a link needs exactly two endpoints");
          continue;
        }
        p.check_keys(lj, f, {"endpoints", "mtu"});
        EndpointRef ep[2];
        bool ok = true;
        for (int k = 0; k < 2; ++k) {
          const auto& e = lj["endpoints"][k];
          std::string fe = f + ".endpoints[" + std::to_string(k) + "]";
          ep[k].field = fe;
          std::string ref;
          if (e.is_string()) {
            ref = e.get<std::string>();
          } else if (e.is_object() && e.contains("node") &&
                     e["node"].is_string()) {
            p.check_keys(e, fe, {"node", "interface", "addresses", "mtu", "mac"});
            ref = e["node"].get<std::string>();
            if (e.contains("interface")) {
              if (!e["interface"].is_string()) {
                p.bad(fe + ".interface", "must be a string");
                ok = false;
              } else {
                ref += ":" + e["interface"].get<std::string>();
              }
            }
            ep[k].config = e;
            ep[k].config.erase("node");
            ep[k].config.erase("interface");
          } else {
            p.bad(fe, "must be \"node\", \"node:interface\", a LAN name, or "
                      "an object with node");
            ok = false;
            continue;
          }
          auto colon = ref.find(':');
          ep[k].node = ref.substr(0, colon);
          if (colon != std::string::npos) {
            ep[k].iface = ref.substr(colon + 1);
            std::string w;
            if (!valid_ifname(ep[k].iface, &w)) {
              p.bad(fe, w);
              ok = false;
            }
          }
          bool is_node = node_index.count(ep[k].node);
          bool is_lan = lan_index.count(ep[k].node);
          if (!is_node && !is_lan) {
            p.bad(fe, "'" + ep[k].node + "' is neither a node nor a LAN");
            ok = false;
          } else if (is_lan && (!ep[k].iface.empty() || !ep[k].config.empty())) {
            p.bad(fe, "a LAN endpoint takes no interface or settings");
            ok = false;
          }
        }
        if (!ok) continue;
        bool lan0 = lan_index.count(ep[0].node), lan1 = lan_index.count(ep[1].node);
        if (lan0 && lan1) {
          p.bad(f + ".endpoints", "a link cannot join two LANs");
          continue;
        }
        raw_links.push_back({ep[0], ep[1]});
        link_mtu.push_back(p.get_mtu(lj, f));
      }
    }
  }

  // Reserve explicit interface names, then assign ethN in link order.
  std::map<std::string, std::set<std::string>> used;  // node -> names
  std::map<std::string, std::string> used_by;         // node:iface -> field
  for (auto& [a, b] : raw_links)
    for (auto* e : {&a, &b}) {
      if (lan_index.count(e->node) || e->iface.empty()) continue;
      std::string key = e->node + ":" + e->iface;
      if (used_by.count(key)) {
        p.bad(e->field, "interface " + key + " is already used by " +
                            used_by[key]);
        continue;
      }
      used_by[key] = e->field;
      used[e->node].insert(e->iface);
    }
  std::map<std::string, int> next;
  for (auto& [a, b] : raw_links)
    for (auto* e : {&a, &b}) {
      if (lan_index.count(e->node) || !e->iface.empty()) continue;
      std::string n;
      do n = "eth" + std::to_string(next[e->node]++);
      while (used[e->node].count(n));
      used[e->node].insert(n);
      e->iface = n;
    }

  // Build interfaces, links and LAN memberships.
  auto add_iface = [&](const EndpointRef& e, IfaceSpec ifc,
                       std::optional<int> mtu) {
    auto it = node_index.find(e.node);
    if (it == node_index.end()) return;
    NodeSpec& node = spec.nodes[it->second];
    if (node.iface(e.iface)) return;  // duplicate already reported
    ifc.name = e.iface;
    ifc.mtu = mtu;
    if (!e.config.empty()) {
      if (auto m = p.get_mtu(e.config, e.field)) ifc.mtu = m;
      ifc.mac = p.get_mac(e.config, e.field);
      ifc.addresses = p.get_addresses(e.config, e.field);
    }
    node.ifaces.push_back(std::move(ifc));
  };
  for (std::size_t i = 0; i < raw_links.size(); ++i) {
    auto& [a, b] = raw_links[i];
    bool lan_a = lan_index.count(a.node), lan_b = lan_index.count(b.node);
    if (lan_a || lan_b) {
      const EndpointRef& n = lan_a ? b : a;
      LanSpec& lan = spec.lans[lan_index[lan_a ? a.node : b.node]];
      IfaceSpec ifc;
      ifc.kind = "lan";
      ifc.lan = lan.name;
      lan.members.emplace_back(n.node, n.iface);
      add_iface(n, ifc, link_mtu[i] ? link_mtu[i] : lan.mtu);
    } else {
      IfaceSpec ia, ib;
      ia.kind = ib.kind = "link";
      ia.peer_node = b.node;
      ia.peer_iface = b.iface;
      ib.peer_node = a.node;
      ib.peer_iface = a.iface;
      add_iface(a, ia, link_mtu[i]);
      add_iface(b, ib, link_mtu[i]);
      spec.links.push_back({a.node, a.iface, b.node, b.iface, link_mtu[i]});
    }
  }

  // Interface settings given under nodes.X.interfaces.
  for (const auto& [key, cfg] : iface_config) {
    auto colon = key.find(':');
    std::string nn = key.substr(0, colon), ifn = key.substr(colon + 1);
    const std::string& f = iface_config_field[key];
    auto it = node_index.find(nn);
    if (it == node_index.end()) continue;
    NodeSpec& node = spec.nodes[it->second];
    IfaceSpec* ifc = nullptr;
    for (auto& x : node.ifaces)
      if (x.name == ifn) ifc = &x;
    if (!ifc) {
      std::string have;
      for (auto& x : node.ifaces) have += (have.empty() ? "" : ", ") + x.name;
      p.bad(f, "node " + nn + " has no interface " + ifn +
                   " (no link creates it; it has: " +
                   (have.empty() ? "none" : have) + ")");
      continue;
    }
    if (auto m = p.get_mtu(cfg, f)) ifc->mtu = m;
    if (auto m = p.get_mac(cfg, f)) {
      if (ifc->mac) p.bad(f + ".mac", "the MAC of " + key + " is also set on its link");
      ifc->mac = m;
    }
    for (auto& a : p.get_addresses(cfg, f)) {
      if (find_same_address(ifc->addresses, a))
        p.bad(f + ".addresses", "address " + a.cidr() +
                                    " is also given on the link that creates " + key);
      else
        ifc->addresses.push_back(a);
    }
  }

  // Per-interface sysctls must name an interface the node has.
  for (auto& node : spec.nodes)
    for (const auto& [k, v] : node.sysctls) {
      std::string ifn = sysctl_interface(k);
      if (!ifn.empty() && !node.iface(ifn) && ifn != "lo")
        p.bad("nodes." + node.name + ".sysctls." + k,
              "node " + node.name + " has no interface " + ifn);
    }

  // Duplicate MACs and duplicate addresses are allowed on purpose (labs seed
  // duplicate-address mistakes); duplicate interface names were caught above.

  // Routes, now that interfaces are known.
  if (raw.contains("nodes") && raw["nodes"].is_object()) {
    for (const auto& [name, nj] : raw["nodes"].items()) {
      if (!nj.is_object() || !nj.contains("routes")) continue;
      auto it = node_index.find(name);
      if (it == node_index.end()) continue;
      NodeSpec& node = spec.nodes[it->second];
      std::string f = "nodes." + name + ".routes";
      if (!nj["routes"].is_array()) {
        p.bad(f, "must be a list of {dst, via, dev, metric}");
        continue;
      }
      for (std::size_t i = 0; i < nj["routes"].size(); ++i) {
        const auto& r = nj["routes"][i];
        std::string fr = f + "[" + std::to_string(i) + "]";
        if (!r.is_object()) {
          p.bad(fr, "must be an object with dst and via or dev");
          continue;
        }
        p.check_keys(r, fr, {"dst", "via", "dev", "metric"});
        RouteSpec rs;
        bool ok = true;
        std::string why;
        std::optional<IpAddr> via;
        if (r.contains("via")) {
          if (!r["via"].is_string() ||
              !(via = parse_ip(r["via"].get<std::string>(), false, &why))) {
            p.bad(fr + ".via", r["via"].is_string() ? why : "must be an address");
            ok = false;
          } else if (via->prefix_len >= 0) {
            p.bad(fr + ".via", "a gateway is an address, without a prefix length");
            ok = false;
          }
        }
        if (!r.contains("dst") || !r["dst"].is_string()) {
          p.bad(fr + ".dst", "missing: a prefix such as 2001:db8:2::/64, or \"default\"");
          ok = false;
        } else if (r["dst"] == "default") {
          rs.dst.family = via ? via->family : AF_INET6;
          rs.dst.prefix_len = 0;
        } else if (auto d = parse_ip(r["dst"].get<std::string>(), true, &why)) {
          rs.dst = *d;
          // Host bits set would be silently masked by the kernel: say so.
          int bits = d->prefix_len;
          for (int b = bits; b < d->max_len(); ++b)
            if (d->bytes[b / 8] & (0x80 >> (b % 8))) {
              p.bad(fr + ".dst", "'" + d->cidr() + "' has host bits set after /" +
                                     std::to_string(bits));
              ok = false;
              break;
            }
        } else {
          p.bad(fr + ".dst", why);
          ok = false;
        }
        if (via) {
          if (ok && via->family != rs.dst.family) {
            p.bad(fr + ".via", "gateway " + via->str() +
                                   " is not of the destination's address family");
            ok = false;
          }
          rs.via = via;
        }
        if (r.contains("dev")) {
          if (!r["dev"].is_string() || !node.iface(r["dev"].get<std::string>())) {
            p.bad(fr + ".dev", "node " + name + " has no interface " +
                                   (r["dev"].is_string() ? r["dev"].get<std::string>() : r["dev"].dump()));
            ok = false;
          } else {
            rs.dev = r["dev"].get<std::string>();
          }
        }
        if (!r.contains("via") && !r.contains("dev")) {
          p.bad(fr, "a route needs via (a gateway) or dev (an interface)");
          ok = false;
        }
        if (rs.via && rs.via->is_link_local() && !r.contains("dev")) {
          p.bad(fr + ".dev", "a link-local gateway (" + rs.via->str() +
                                 ") needs dev: the interface it is reached on");
          ok = false;
        }
        if (r.contains("metric")) {
          const auto& m = r["metric"];
          bool in_range = m.is_number_integer() &&
                          (m.is_number_unsigned() ? m.get<std::uint64_t>() <= 0xFFFFFFFFull
                                                  : m.get<std::int64_t>() >= 0);
          if (!in_range)
            p.bad(fr + ".metric", "must be an integer from 0 to 4294967295"), ok = false;
          else
            rs.metric = static_cast<std::uint32_t>(m.get<std::uint64_t>());
        }
        if (ok) node.routes.push_back(rs);
      }
    }
  }

  if (!p.issues.empty()) throw SpecError(std::move(p.issues));
  return spec;
}

json Spec::to_json() const {
  json j;
  j["name"] = name;
  j["source"] = source;
  j["nodes"] = json::object();
  for (const auto& n : nodes) {
    json nj;
    nj["image"] = n.image;
    nj["sysctls"] = json::object();
    for (const auto& [k, v] : n.sysctls) nj["sysctls"][k] = v;
    nj["binaries"] = json::array();
    for (const auto& b : n.binaries)
      nj["binaries"].push_back({{"name", b.name}, {"package", b.package}});
    nj["interfaces"] = json::object();
    for (const auto& i : n.ifaces) {
      json ij;
      ij["kind"] = i.kind;
      if (i.kind == "lan")
        ij["lan"] = i.lan;
      else
        ij["peer"] = i.peer_node + ":" + i.peer_iface;
      if (i.mtu) ij["mtu"] = *i.mtu;
      if (i.mac) ij["mac"] = *i.mac;
      ij["addresses"] = json::array();
      for (const auto& a : i.addresses) ij["addresses"].push_back(a.cidr());
      nj["interfaces"][i.name] = ij;
    }
    nj["routes"] = json::array();
    for (const auto& r : n.routes) {
      json rj;
      rj["dst"] = r.dst.cidr();
      if (r.via) rj["via"] = r.via->str();
      if (!r.dev.empty()) rj["dev"] = r.dev;
      if (r.metric) rj["metric"] = *r.metric;
      nj["routes"].push_back(rj);
    }
    j["nodes"][n.name] = nj;
  }
  j["lans"] = json::object();
  for (const auto& l : lans) {
    json lj;
    if (l.mtu) lj["mtu"] = *l.mtu;
    lj["members"] = json::array();
    for (const auto& [n, i] : l.members) lj["members"].push_back(n + ":" + i);
    j["lans"][l.name] = lj;
  }
  j["links"] = json::array();
  for (const auto& l : links) {
    json lj;
    lj["endpoints"] = {l.node_a + ":" + l.iface_a, l.node_b + ":" + l.iface_b};
    if (l.mtu) lj["mtu"] = *l.mtu;
    j["links"].push_back(lj);
  }
  return j;
}

}  // namespace v6lab
