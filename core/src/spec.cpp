#include "v6lab/spec.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "v6lab/error.hpp"
#include "v6lab/json_text.hpp"

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
      if (why) *why = "invalid prefix length '" + cut(len) + "' in '" + cut(text) + "'";
      return std::nullopt;
    }
    a.prefix_len = std::stoi(len);
  } else if (want_prefix) {
    if (why) *why = "'" + cut(text) + "' has no prefix length (write it as address/length, e.g. 2001:db8:1::1/64)";
    return std::nullopt;
  }
  if (::inet_pton(AF_INET6, addr.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
  } else if (::inet_pton(AF_INET, addr.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
  } else {
    if (why) *why = "'" + cut(addr) + "' is not an IPv6 or IPv4 address";
    return std::nullopt;
  }
  if (a.prefix_len > a.max_len()) {
    if (why)
      *why = "prefix length " + std::to_string(a.prefix_len) + " in '" + cut(text) +
             "' is out of range (0.." + std::to_string(a.max_len()) + ")";
    return std::nullopt;
  }
  return a;
}

bool valid_ifname(const std::string& n, std::string* why) {
  if (n.empty() || n.size() >= 16 /* IFNAMSIZ */) {
    if (why) *why = "interface name '" + cut(n) + "' must be 1 to 15 bytes long";
    return false;
  }
  // "all" and "default" are the kernel's own conf directories (creating
  // such an interface fails), "lo" is every node's loopback.
  if (n == "." || n == ".." || n == "lo" || n == "all" || n == "default") {
    if (why) *why = "interface name '" + n + "' is reserved";
    return false;
  }
  for (unsigned char c : n) {
    // '%' makes the kernel treat the name as a pattern (eth%d -> eth0).
    if (c == '/' || c == ':' || c == '%' || std::isspace(c) || c < 0x21 || c > 0x7e) {
      if (why)
        *why = "interface name '" + cut(n) +
               "' may not contain '/', ':', spaces, '%' or non-ASCII characters";
      return false;
    }
  }
  return true;
}

bool valid_mac(const std::string& m, std::string* why) {
  bool ok = m.size() == 17;
  for (std::size_t i = 0; ok && i < m.size(); ++i)
    ok = (i % 3 == 2) ? m[i] == ':' : std::isxdigit(static_cast<unsigned char>(m[i]));
  if (!ok) {
    if (why) *why = "must be a MAC address like 02:00:00:00:00:01, not '" + cut(m) + "'";
    return false;
  }
  if (std::stoi(m.substr(0, 2), nullptr, 16) & 1) {
    if (why) *why = "'" + m + "' is a multicast address; use a unicast one (first byte even)";
    return false;
  }
  if (m == "00:00:00:00:00:00") {
    if (why) *why = "'" + m + "' is the all-zero MAC, which the kernel refuses; use e.g. 02:00:00:00:00:01";
    return false;
  }
  return true;
}

namespace {

// The problem shared by interface addresses and gateways, or "".
std::string special_address(const IpAddr& a) {
  const auto& b = a.bytes;
  bool zero = std::all_of(b.begin(), b.begin() + (a.family == AF_INET6 ? 16 : 4),
                          [](std::uint8_t x) { return x == 0; });
  std::string s = a.str();
  if (zero) return "'" + s + "' is the unspecified address";
  if (a.family == AF_INET6) {
    if (b[0] == 0xff) return "'" + s + "' is a multicast address (ff00::/8)";
    bool loop = b[15] == 1 && std::all_of(b.begin(), b.begin() + 15,
                                          [](std::uint8_t x) { return x == 0; });
    if (loop) return "'" + s + "' is the loopback address, which only lo may have";
    return "";
  }
  if ((b[0] & 0xf0) == 0xe0) return "'" + s + "' is a multicast address (224.0.0.0/4)";
  if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
    return "'" + s + "' is the broadcast address";
  return "";
}

}  // namespace

std::string address_problem(const IpAddr& a) {
  std::string why = special_address(a);
  return why.empty() ? why : why + "; an interface needs a unicast address";
}

std::string gateway_problem(const IpAddr& a) {
  std::string why = special_address(a);
  if (why.empty() && a.family == AF_INET && a.bytes[0] == 127)
    why = "'" + a.str() + "' is a loopback address";
  return why.empty() ? why : why + "; a gateway must be a unicast neighbour";
}

bool valid_node_name(const std::string& n, std::string* why) {
  bool ok = !n.empty() && n.size() <= 32 && std::isalpha((unsigned char)n[0]) &&
            std::all_of(n.begin(), n.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '-' || c == '_';
            });
  if (!ok && why)
    *why = "name '" + cut(n) +
           "' must start with a letter and hold only letters, digits, '-' "
           "and '_' (at most 32)";
  return ok;
}

bool valid_node_sysctl(const std::string& key, std::string* why) {
  bool printable = key.size() <= 255 &&
                   std::all_of(key.begin(), key.end(), [](unsigned char c) {
                     return c > 0x20 && c < 0x7f;
                   });
  if (!printable) {
    if (why)
      *why = "sysctl key '" + cut(key) +
             "' must be at most 255 printable ASCII characters, without spaces";
    return false;
  }
  bool ok = key.rfind("net.", 0) == 0 && key.size() > 4 &&
            key.find("..") == std::string::npos &&
            key.find('/') == std::string::npos && key.back() != '.';
  if (!ok && why)
    *why = "sysctl '" + cut(key) +
           "' is not a per-namespace 'net.' key (others would change the "
           "host)";
  return ok;
}

bool sysctl_value(const nlohmann::ordered_json& v, std::string* out, std::string* why) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() > 4095) {
      *why = "value is " + std::to_string(s.size()) + " bytes long; the kernel takes at most 4095";
      return false;
    }
    for (unsigned char c : s)
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        *why = "value '" + cut(s) + "' contains a control character (NUL, newline, ...)";
        return false;
      }
    *out = s;
    return true;
  }
  if (v.is_number_integer()) {
    // The kernel's integer sysctls are C ints: a wider number would be
    // cut or refused when written, so refuse it here.
    bool fits = v.is_number_unsigned() ? v.get<std::uint64_t>() <= 2147483647ull
                                       : v.get<std::int64_t>() >= -2147483648ll &&
                                             v.get<std::int64_t>() <= 2147483647ll;
    if (!fits) {
      *why = "integer " + cut(v.dump()) +
             " does not fit the kernel's int (-2147483648 to 2147483647)";
      return false;
    }
    *out = std::to_string(v.get<std::int64_t>());
    return true;
  }
  *why = v.is_boolean() ? "value must be a string or an integer (write 0 or 1, not true or false)"
                        : "value must be a string or an integer";
  return false;
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

const LanSpec* Spec::lan(const std::string& n) const {
  for (const auto& x : lans)
    if (x.name == n) return &x;
  return nullptr;
}

}  // namespace v6lab
