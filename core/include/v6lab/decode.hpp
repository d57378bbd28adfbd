// Pure decoders for the packets the grader's probes receive: Router
// Advertisements, DNS responses, and ICMP/ICMPv6 echo replies and errors
// (with the original packet they quote). Bytes in, a struct or an error
// out: no sockets, no globals, no exceptions for bad bytes. Every input may
// come from a hostile trainee (they are root in their nodes), so every read
// is bounds-checked; tests/fuzz/fuzz_{ra,dns,icmp6} run them under ASan and
// UBSan, core/tests/decode_test.cpp on byte fixtures.
//
// The result types are the probes' own (probe.hpp includes this header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace v6lab {

// An ICMP/ICMPv6 error received in answer to a probe.
struct IcmpError {
  std::string kind;   // "unreachable", "packet-too-big", "time-exceeded",
                      // "parameter-problem", or "local" (refused by the
                      // sender's own stack, e.g. no route)
  int type = -1;      // ICMP type (-1 for local errors)
  int code = -1;
  std::string from;   // who sent it (empty for local errors)
  std::uint32_t mtu = 0;  // packet too big / fragmentation needed
  std::string detail; // readable: "no route", "address unreachable", ...
  double rtt_ms = 0;  // time from the request it quotes (0 for local errors)
};

struct DnsRecord {
  std::string name;
  std::string type;   // "AAAA", "A", "PTR", "CNAME", or the number
  std::uint32_t ttl = 0;
  std::string data;   // address, or a domain name
};

struct RaPrefix {
  std::string prefix;     // "2001:db8:1::/64"
  bool on_link = false, autonomous = false;
  std::uint32_t valid_lifetime = 0, preferred_lifetime = 0;
};
struct RaRoute {
  std::string prefix;
  std::string preference;
  std::uint32_t lifetime = 0;
};
// RFC 8781 PREF64: the NAT64 prefix a host should synthesise with.
struct RaPref64 {
  std::string prefix;      // "64:ff9b::/96" (from the PLC: /96, /64, /56, /48, /40, /32)
  std::uint32_t lifetime = 0;  // seconds: the scaled lifetime times 8
};
struct RouterAdvert {
  std::string from;        // router's link-local address
  int hop_limit = 0;       // IP hop limit of the packet (must be 255)
  int cur_hop_limit = 0;
  bool managed = false, other = false, home_agent = false;
  std::string preference;  // "low", "medium", "high", "reserved"
  std::uint32_t router_lifetime = 0;  // seconds; 0 = not a default router
  std::uint32_t reachable_time = 0, retrans_timer = 0;
  std::vector<RaPrefix> prefixes;
  std::vector<std::string> rdnss;
  std::uint32_t rdnss_lifetime = 0;
  std::vector<std::string> dnssl;
  std::uint32_t mtu = 0;   // 0: no MTU option
  std::string source_lladdr;
  std::vector<RaRoute> routes;
  std::vector<RaPref64> pref64;
  double at = 0;           // seconds after the probe started
};

// A decoder's answer: a value, or the reason there is none. `notes` lists
// what was skipped inside a value that was decoded (an RA option of the
// wrong size, DNS answers after a malformed one), one sentence each.
template <class T>
struct Decoded {
  std::optional<T> value;
  std::string error;
  std::vector<std::string> notes;
  explicit operator bool() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

// ------------------------------------------------------------------ RA

// An ICMPv6 Router Advertisement, from its type byte on. Fills everything
// but from, hop_limit and at (the socket knows those). Options of length 0
// or running past the end stop the option walk; known options of a size
// their RFC does not allow are skipped.
Decoded<RouterAdvert> decode_ra(const std::uint8_t* b, std::size_t n);

// ----------------------------------------------------------------- DNS

// A (possibly compressed) domain name at `off` in msg[0, n). On success
// returns "" and advances `off` past the name as it is written there (a
// pointer counts two bytes); otherwise returns why, and `out` is empty.
// Labels of 63 bytes at most, names of 255, compression pointers only
// backwards: a message cannot expand beyond a few times its size.
std::string decode_dns_name(const std::uint8_t* msg, std::size_t n, std::size_t& off,
                            std::string& out);

struct DnsResponse {
  std::uint16_t id = 0;
  std::string rcode;  // "NOERROR", "NXDOMAIN", ..., or "RCODE9"
  bool authoritative = false, recursion_available = false, truncated = false;
  std::vector<DnsRecord> answers;  // those before the first malformed one
};
// A DNS message over UDP. Only a header shorter than 12 bytes is an error;
// a malformed question or answer ends the answers there (with a note).
Decoded<DnsResponse> decode_dns_response(const std::uint8_t* b, std::size_t n);

// The query dns_query sends: recursion desired, one question of class IN.
// qtype is a name of dns_type_code; an empty optional for an unknown type
// or a name that is not a valid domain name.
int dns_type_code(const std::string& qtype);  // -1: unknown
std::string dns_type_name(int code);          // "AAAA", or the number
std::optional<std::string> dns_query_bytes(std::uint16_t id, const std::string& name,
                                           int qtype);

// ---------------------------------------------------------------- ICMP

// An echo request (IPv6: ICMPv6 type 128, the kernel fills the checksum;
// IPv4: ICMP type 8 with its checksum) with `size` payload bytes.
std::vector<std::uint8_t> echo_request(bool v6, std::uint16_t id, std::uint16_t seq, int size);

struct IcmpMessage {
  bool reply = false;       // an echo reply; otherwise an error
  int type = -1, code = -1;
  std::uint16_t id = 0, seq = 0;  // the reply's, or the quoted request's
  std::string quoted_dst;   // error: destination of the quoted packet
  IcmpError error;          // error: kind, type, code, mtu, detail
};
// One datagram from a raw ICMPv6 socket (from the ICMPv6 header on) or a
// raw ICMP socket (from the IPv4 header on). An echo reply, or an
// unreachable / packet too big / time exceeded / parameter problem error
// quoting an ICMP(v6) packet; anything else is an error.
Decoded<IcmpMessage> decode_icmp(const std::uint8_t* b, std::size_t n, bool v6);

// Which of our echo requests (identifier `id`, sent to `dst`) a decoded
// message answers: its sequence number, or nothing. A reply must come from
// dst itself unless dst is multicast; an error may come from any router.
std::optional<std::uint16_t> echo_answered(const IcmpMessage& m, std::uint16_t id,
                                           const std::string& from, const std::string& dst,
                                           bool multicast);

}  // namespace v6lab
