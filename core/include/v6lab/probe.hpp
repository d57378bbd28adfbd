// Active probes a grader sends from inside a node's network namespace,
// using sockets the core opens there itself: no program installed in the
// node and no file the trainee can edit is involved. Every probe returns a
// typed result; none raises for a network outcome (unreachable, timeout),
// only for a misuse (bad address) or a system failure. What they receive
// is read by the pure decoders of decode.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "v6lab/decode.hpp"

namespace v6lab {

struct PingOptions {
  std::string dst;
  int count = 1;
  double timeout = 1.0;    // seconds to wait after the last request
  double interval = 0.05;  // seconds between requests
  int hop_limit = -1;      // -1: the node's default
  int size = 56;           // ICMP payload bytes
  bool dont_fragment = false;
  std::string iface;       // send through (and scope link-local dst on)
  std::string src;         // source address ("" lets the kernel choose)
};

struct PingReply {
  int seq = 0;
  double rtt_ms = 0;
  std::string from;
  int hop_limit = -1;
};

struct PingResult {
  std::string dst;
  int sent = 0;
  std::vector<PingReply> replies;  // one per distinct answered request
  std::vector<IcmpError> errors;
  std::uint32_t path_mtu = 0;      // when the kernel knows one (IPv6)
  int received() const { return static_cast<int>(replies.size()); }
};

PingResult ping(int netns_fd, const PingOptions& o);

struct TracerouteHop {
  int hop = 0;
  std::string from;     // empty: no answer within the timeout
  double rtt_ms = 0;
  std::string kind;     // "time-exceeded", "reply", "unreachable", ""
};
struct TracerouteResult {
  std::string dst;
  bool reached = false;
  std::vector<TracerouteHop> hops;
};
TracerouteResult traceroute(int netns_fd, const std::string& dst, int max_hops,
                            double timeout, const std::string& iface);

struct ConnectResult {
  bool ok = false;           // connected (TCP) / got a reply (UDP)
  std::string error;         // "connection refused", "timed out", ...
  double ms = 0;
  std::string received;      // bytes read after connecting / the UDP reply
};
ConnectResult tcp_connect(int netns_fd, const std::string& addr, int port,
                          double timeout, const std::string& send = "");
ConnectResult udp_exchange(int netns_fd, const std::string& addr, int port,
                           const std::string& payload, double timeout);

struct DnsResult {
  bool answered = false;   // a response came back
  std::string error;       // "timed out", "connection refused", ...
  std::string rcode;       // "NOERROR", "NXDOMAIN", "SERVFAIL", ...
  bool authoritative = false, recursion_available = false, truncated = false;
  std::vector<DnsRecord> answers;
  double ms = 0;
};
DnsResult dns_query(int netns_fd, const std::string& server,
                    const std::string& name, const std::string& qtype,
                    double timeout, int port = 53);

struct RaOptions {
  std::string iface;
  bool solicit = true;     // send a Router Solicitation first
  double duration = 2.0;   // listen this long
  bool stop_at_first = true;
};
std::vector<RouterAdvert> router_adverts(int netns_fd, const RaOptions& o);

}  // namespace v6lab
