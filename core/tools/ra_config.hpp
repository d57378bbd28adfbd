// v6lab-ra's configuration: the part of radvd.conf(5) that v6lab's labs
// need, in radvd's own syntax, plus radvd 2.20's `nat64prefix` (PREF64,
// RFC 8781), which Debian 12's radvd 2.19 rejects. Parsing and encoding are
// pure functions (bytes and text in, values out), tested in
// core/tests/ra_config_test.cpp; the sockets are v6lab-ra.cpp's.
//
//   interface eth0 {
//       AdvSendAdvert on;
//       MinRtrAdvInterval 3; MaxRtrAdvInterval 10;
//       AdvManagedFlag off; AdvOtherConfigFlag off;
//       AdvDefaultLifetime 1800;
//       prefix 2001:db8:1::/64 { AdvOnLink on; AdvAutonomous on; };
//       RDNSS 2001:db8:1::53 { AdvRDNSSLifetime 600; };
//       nat64prefix 64:ff9b::/96 { AdvValidLifetime 1800; };
//   };
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace v6lab_ra {

struct Prefix {
  std::uint8_t addr[16] = {};
  int length = 64;
  bool on_link = true, autonomous = true;
  std::uint32_t valid = 86400, preferred = 14400;  // 0xffffffff: infinity
  int line = 0;
};

struct Rdnss {
  std::vector<std::array<std::uint8_t, 16>> servers;
  std::optional<std::uint32_t> lifetime;  // default: 3 * MaxRtrAdvInterval
  int line = 0;
};

struct Nat64Prefix {
  std::uint8_t addr[16] = {};
  int length = 96;                         // 32, 40, 48, 56, 64 or 96
  std::optional<std::uint32_t> lifetime;   // default: 3 * MaxRtrAdvInterval
  int line = 0;
};

struct Interface {
  std::string name;
  int line = 0;
  bool send_advert = false;
  double min_interval = -1, max_interval = 600;  // min -1: radvd's default
  bool managed = false, other = false;
  std::optional<std::uint32_t> default_lifetime;  // default: 3 * MaxRtrAdvInterval
  int cur_hop_limit = 64;
  std::uint32_t link_mtu = 0, reachable_time = 0, retrans_timer = 0;
  bool source_lladdr = true;
  std::vector<Prefix> prefixes;
  std::vector<Rdnss> rdnss;
  std::vector<Nat64Prefix> nat64;

  double min_s() const;                 // MinRtrAdvInterval, defaulted
  std::uint32_t router_lifetime() const;  // AdvDefaultLifetime, defaulted
};

struct Config {
  std::vector<Interface> interfaces;
};

// Parses `text` (read from `file`, named in errors). On failure returns
// nothing and sets *error to "FILE:LINE: what is wrong", as radvd -c does.
std::optional<Config> parse_config(const std::string& text, const std::string& file,
                                   std::string* error);

// The ICMPv6 Router Advertisement for iface, from its type byte on (the
// checksum left 0: the kernel fills it for a raw ICMPv6 socket). mac, when
// given (6 bytes), becomes the source link-layer address option.
// ceasing: router lifetime 0, as sent when the daemon stops (RFC 4861 6.2.5).
std::vector<std::uint8_t> encode_ra(const Interface& iface, const std::uint8_t* mac,
                                    bool ceasing = false);

// The PREF64 option's 16 bytes (RFC 8781 4): the lifetime rounded up to a
// multiple of 8 s and capped at 65528 s.
std::vector<std::uint8_t> pref64_option(const Nat64Prefix& p, std::uint32_t lifetime);

}  // namespace v6lab_ra
