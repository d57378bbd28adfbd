// Evidence from the wire. A WireTap is an AF_PACKET socket that the core
// opens inside a network namespace: the hidden switch namespace (then every
// frame carries the LAN port it crossed, and a port is one node's cable, so
// "who sent this" is answered by the network, not by the packet), or a
// node's own namespace (for a point-to-point link, where either end could
// have sent it). The tap can also inject frames, which is how the grader
// speaks on a LAN as if from a given port without entering any node.
//
// Only IPv6 ICMPv6 frames whose ICMPv6 header follows the IPv6 header
// directly are kept (a classic BPF filter in the kernel), optionally only
// some ICMPv6 types (checked in code), and, if asked for, IPv6 UDP frames
// to or from some ports (DHCPv6's 546 and 547, DNS's 53), and IPv6 TCP
// segments to or from some ports (HTTP's 80: which cable a server's answer
// came in on). Frames the tap injected itself are flagged, so a grader
// never counts its own packets as evidence.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "v6lab/fd.hpp"

namespace v6lab {

struct WireFrame {
  double at = 0;           // seconds since the tap was opened
  std::string ifname;      // the interface it crossed (a port in the switch)
  int ifindex = 0;
  // true: the kernel was sending it out of ifname (on a switch port: the
  // bridge delivering it to the node); false: it came in on ifname (on a
  // switch port: the node sent it).
  bool outgoing = false;
  bool injected = false;   // byte for byte a frame this tap sent
  std::string data;        // from the Ethernet header on
};

class WireTap {
 public:
  // Opens the tap inside the namespace behind netns_fd (on a helper
  // thread). icmp6_types: keep only these ICMPv6 types (empty: all);
  // udp_ports: also keep UDP over IPv6 from or to these ports (empty: none);
  // tcp_ports: the same for TCP over IPv6.
  WireTap(int netns_fd, std::string where, std::vector<int> icmp6_types,
          std::vector<int> udp_ports = {}, std::vector<int> tcp_ports = {});
  WireTap(const WireTap&) = delete;
  WireTap& operator=(const WireTap&) = delete;

  // Frames that arrived since the last call, waiting up to timeout seconds
  // for the first one (0: only what is already there). Never raises for a
  // network outcome; an error of the socket itself raises.
  std::vector<WireFrame> read(double timeout);
  // Sends one Ethernet frame out of ifname in the tap's namespace.
  void inject(const std::string& ifname, const std::string& frame);
  // Interface index -> name in the tap's namespace, read when opened.
  const std::vector<std::pair<int, std::string>>& interfaces() const { return ifaces_; }
  void close();

 private:
  bool keep(const unsigned char* b, std::size_t n) const;
  int index_of(const std::string& ifname) const;
  std::string name_of(int ifindex) const;

  std::string where_;
  std::set<int> types_, ports_, tcp_ports_;
  UniqueFd fd_;
  double t0_ = 0;
  std::vector<std::pair<int, std::string>> ifaces_;
  std::mutex mu_;
  std::multiset<std::string> sent_;
};

}  // namespace v6lab
