// The validator behind parse_spec, shared by spec_validate.cpp (names,
// nodes, LANs) and spec_links.cpp (links, interfaces, routes). Private to
// the core.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "v6lab/error.hpp"
#include "v6lab/spec.hpp"

namespace v6lab::detail {

using json = nlohmann::ordered_json;

// More problems than this are summarised in one last line: nobody reads
// the 100,001st, and each costs memory.
constexpr std::size_t kMaxIssues = 1000;

inline const json& empty_object() {
  static const json e = json::object();
  return e;
}

// obj[key] if obj is an object holding key, else nullptr (one lookup).
inline const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// The kernel keeps one IPv6 address per interface whatever its prefix
// length (adding it again fails with EEXIST); IPv4 allows one per mask.
inline std::string address_key(const IpAddr& a) {
  std::string k(1, static_cast<char>(a.family));
  k.append(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
  if (a.family != AF_INET6) k += std::to_string(a.prefix_len);
  return k;
}

struct EndpointRef {
  std::string node;   // or LAN name
  std::string iface;  // empty: assign
  const json* config = nullptr;  // the endpoint object (mac, mtu, addresses)
  std::string field;
};

struct RawLink {
  EndpointRef ends[2];
  std::optional<int> mtu;
  std::string field;
};

class Validator {
 public:
  Validator(const json& raw, const std::string& source, const ImageRegistry& images)
      : raw_(raw), source_(source), images_(images) {
    spec_.source = source;
    spec_.name = "lab";
  }

  Spec run();

 private:
  void bad(const std::string& field, const std::string& msg);
  void check_keys(const json& j, const std::string& field,
                  const std::set<std::string>& allowed);
  std::optional<int> get_mtu(const json& j, const std::string& field);
  std::optional<std::string> get_mac(const json& j, const std::string& field);
  std::vector<IpAddr> get_addresses(const json& j, const std::string& field,
                                    std::unordered_map<std::string, std::string>& seen);

  void parse_name();
  void parse_nodes();
  void parse_node(const std::string& name, const json& n);
  void parse_node_sysctls(NodeSpec& node, const json& sj, const std::string& f);
  void parse_node_images(NodeSpec& node, const json& n, const std::string& f);
  void parse_node_binaries(NodeSpec& node, const json& bj, const std::string& f);
  void parse_node_ifaces(const std::string& name, const json& ij, const std::string& f);
  void parse_lans();
  void parse_links();
  bool parse_endpoint(const json& e, const std::string& fe, EndpointRef& ep);
  void assign_names();
  void build_ifaces();
  void add_iface(const EndpointRef& e, IfaceSpec ifc, std::optional<int> mtu,
                 const std::string& mtu_field);
  void apply_iface_config();
  void check_sysctl_ifaces();
  void parse_routes();
  void parse_route(NodeSpec& node, const json& r, const std::string& fr,
                   std::map<std::string, std::string>& seen);
  std::optional<IpAddr> parse_gateway(const json& r, const std::string& fr);
  bool parse_dst(const json& r, const std::string& fr, RouteSpec& rs,
                 const std::optional<IpAddr>& via);
  void check_ipv6_mtus();

  IfaceSpec* find_iface(std::size_t node, const std::string& name);
  bool is_node(const std::string& n) const { return node_index_.count(n) != 0; }
  bool is_lan(const std::string& n) const { return lan_index_.count(n) != 0; }
  const std::string& known_images();

  const json& raw_;
  std::string source_;
  const ImageRegistry& images_;
  Spec spec_;
  std::vector<SpecIssue> issues_;
  std::size_t dropped_ = 0;
  std::string known_images_;

  std::unordered_map<std::string, std::size_t> node_index_, lan_index_;
  // Per node: interface name -> index in ifaces.
  std::vector<std::unordered_map<std::string, std::size_t>> iface_index_;
  // Per "node:iface": addresses seen (key -> cidr), where its MTU came from.
  std::unordered_map<std::string, std::unordered_map<std::string, std::string>> addrs_seen_;
  std::unordered_map<std::string, std::string> mtu_field_;
  struct IfaceConfig {
    std::size_t node;
    std::string iface;
    const json* cfg;
    std::string field;
  };
  std::vector<IfaceConfig> iface_config_;
  std::unordered_set<std::string> iface_config_seen_;
  std::vector<std::pair<std::size_t, const json*>> routes_raw_;
  std::vector<RawLink> links_;
};

}  // namespace v6lab::detail
