// Typed kernel state read over netlink: what a grader and a test look at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace v6lab {

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;         // "veth", "bridge", "loopback", ...
  bool up = false;          // IFF_UP (administratively up)
  bool running = false;     // IFF_RUNNING / carrier
  std::string operstate;    // "up", "down", "lowerlayerdown", "unknown"
  int mtu = 0;
  std::string mac;
  int master = 0;           // ifindex of the bridge, 0 if none
};

struct AddressInfo {
  std::string ifname;
  int ifindex = 0;
  int family = 0;           // 10 (AF_INET6) or 2 (AF_INET)
  std::string address;
  int prefix_len = 0;
  std::string scope;        // "global", "link", "host", "site"
  std::uint32_t flags = 0;  // IFA_F_* bits
  // Seconds; nullopt means forever.
  std::optional<std::uint32_t> valid_lft, preferred_lft;

  bool tentative() const { return flags & 0x40; }
  bool dadfailed() const { return flags & 0x08; }
  bool deprecated() const { return flags & 0x20; }
  bool temporary() const { return flags & 0x01; }
  bool mngtmpaddr() const { return flags & 0x100; }
  bool permanent() const { return flags & 0x80; }
  bool optimistic() const { return flags & 0x04; }
  bool nodad() const { return flags & 0x02; }
  std::vector<std::string> flag_names() const;
};

struct NextHop {
  std::string gateway;      // empty if directly connected
  std::string ifname;
  int ifindex = 0;
};

struct RouteInfo {
  int family = 0;
  std::string dst;          // "2001:db8:1::/64", "::/0"
  int table = 0;
  std::string protocol;     // "kernel", "boot", "static", "ra", or a number
  std::string type;         // "unicast", "local", "multicast", ...
  std::uint32_t metric = 0;
  std::string pref;         // "low", "medium", "high" (RFC 4191), or ""
  std::optional<double> expires;  // seconds left, for routes learned from RA
  std::vector<NextHop> nexthops;
  // The route's MTU metric (RTAX_MTU), 0 when unset; `mtu_locked` if RTAX_LOCK
  // covers it ("mtu lock 1400", set by hand: PMTUD no longer changes it).
  std::uint32_t mtu = 0;
  bool mtu_locked = false;
  // RTM_F_CLONED: an entry of the route cache (an IPv6 route exception, such
  // as the MTU learned from a Packet Too Big), which only the kernel creates.
  bool cached = false;
};

struct NeighbourInfo {
  std::string ifname;
  int ifindex = 0;
  int family = 0;
  std::string address;
  std::string lladdr;       // empty if unresolved
  std::string state;        // "REACHABLE", "STALE", "INCOMPLETE", ...
  bool router = false;      // NTF_ROUTER
};

}  // namespace v6lab
