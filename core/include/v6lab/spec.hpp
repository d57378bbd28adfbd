// The topology model: a raw spec (JSON, from a file or from Python's Topo)
// is validated and resolved into a Spec in which every interface has a name,
// every node has its image's sysctls and binaries, and every address has been
// parsed. Nothing is built from a spec that failed validation.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "v6lab/images.hpp"

namespace v6lab {

// An IPv6 or IPv4 address, optionally with a prefix length.
struct IpAddr {
  int family = 0;                      // AF_INET6 or AF_INET
  std::array<std::uint8_t, 16> bytes{};  // first 4 used for AF_INET
  int prefix_len = -1;                 // -1: no prefix length given

  int max_len() const { return family == 10 /*AF_INET6*/ ? 128 : 32; }
  bool is_link_local() const;
  std::string str() const;            // address only
  std::string cidr() const;           // address/len (or address if no len)
  bool operator==(const IpAddr& o) const {
    return family == o.family && bytes == o.bytes && prefix_len == o.prefix_len;
  }
};

// Parses "2001:db8::1", "10.0.0.1/24", "2001:db8::/64". Returns nullopt and
// sets why on error.
std::optional<IpAddr> parse_ip(const std::string& text, bool want_prefix,
                               std::string* why);

// Interface names the kernel accepts: 1..15 bytes, no '/', ':', whitespace,
// not "." or "..".
bool valid_ifname(const std::string& name, std::string* why);
// A MAC the kernel takes for an interface: xx:xx:xx:xx:xx:xx, unicast, not
// all zero.
bool valid_mac(const std::string& mac, std::string* why);
// Why an address cannot be an interface's (unspecified, loopback, multicast,
// broadcast), or "" if it can.
std::string address_problem(const IpAddr& a);
// Why an address cannot be a route's gateway, or "" if it can.
std::string gateway_problem(const IpAddr& a);
// Node and LAN names: a letter, then letters, digits, '-' or '_'; at most 32.
bool valid_node_name(const std::string& name, std::string* why);

struct RouteSpec {
  IpAddr dst;                   // prefix; "default" becomes ::/0 or 0.0.0.0/0
  std::optional<IpAddr> via;    // gateway
  std::string dev;              // output interface, may be empty if via given
  std::optional<std::uint32_t> metric;
};

struct IfaceSpec {
  std::string name;
  std::optional<int> mtu;
  std::optional<std::string> mac;   // "02:00:00:00:00:01"
  std::vector<IpAddr> addresses;
  // What the interface connects to: "link" (peer_node:peer_iface) or "lan".
  std::string kind;
  std::string peer_node;
  std::string peer_iface;
  std::string lan;
};

struct NodeSpec {
  std::string name;
  std::string image;                 // the images joined by "+", for messages
  std::vector<std::string> images;   // applied in order (a node may take several roles)
  std::vector<std::string> roles;    // each image's role: host, router, server, provider
  // Provided by the lab (the ISP, "the Internet", an attacker): trainees do
  // not log into it, the lab's setup configures it, checks may trust it.
  bool provider = false;
  // Image sysctls overlaid with the node's own, in application order.
  std::vector<std::pair<std::string, std::string>> sysctls;
  std::vector<BinaryReq> binaries;
  std::vector<IfaceSpec> ifaces;
  std::vector<RouteSpec> routes;

  const IfaceSpec* iface(const std::string& n) const;
};

struct LanSpec {
  std::string name;
  std::optional<int> mtu;
  // Members as node:iface, in the order links were declared.
  std::vector<std::pair<std::string, std::string>> members;
};

struct LinkSpec {
  std::string node_a, iface_a, node_b, iface_b;
  std::optional<int> mtu;
};

struct Spec {
  std::string name;
  std::string source;  // where the raw spec came from, for messages
  std::vector<NodeSpec> nodes;
  std::vector<LanSpec> lans;
  std::vector<LinkSpec> links;

  const NodeSpec* node(const std::string& n) const;
  const LanSpec* lan(const std::string& n) const;
  // The resolved spec as JSON (every interface named, images applied);
  // spec_from_json reads it back.
  nlohmann::ordered_json to_json() const;
};

// Validates and resolves a raw spec. Throws SpecError listing every problem,
// each naming `source` and the field.
Spec parse_spec(const nlohmann::ordered_json& raw, const std::string& source,
                const ImageRegistry& images);

// Reads back what Spec::to_json wrote (a lab's record keeps it), so that a
// process that finds a running lab holds the model its owner built from.
// Checks every field and the references between nodes, LANs and links, as
// a record is a file and files can be wrong. Throws SpecError listing the
// problems, each naming `origin` (the record) and the field.
Spec spec_from_json(const nlohmann::ordered_json& resolved, const std::string& origin);

// Sysctls a node may set: only the per-network-namespace "net." tree; any
// other key would change the host.
bool valid_node_sysctl(const std::string& key, std::string* why);
// A sysctl value as the string written to /proc/sys: a string without
// control characters (at most 4095 bytes), or an integer that fits the
// kernel's int. Sets why and returns false otherwise.
bool sysctl_value(const nlohmann::ordered_json& v, std::string* out, std::string* why);

// The interface a sysctl belongs to ("eth0" for net.ipv6.conf.eth0.mtu), or
// "" for namespace-wide keys (conf.all, conf.default, ip_forward, ...). Such
// a key can only be written once the interface exists.
std::string sysctl_interface(const std::string& key);

}  // namespace v6lab
