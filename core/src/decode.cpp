#include "v6lab/decode.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <map>

namespace v6lab {

namespace {

constexpr int kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129;
constexpr int kIcmp6Unreach = 1, kIcmp6TooBig = 2, kIcmp6TimeExceeded = 3, kIcmp6ParamProb = 4;
constexpr int kIcmpEchoReply = 0, kIcmpUnreach = 3, kIcmpEcho = 8, kIcmpTimeExceeded = 11,
              kIcmpParamProb = 12, kIcmpFragNeeded = 4;
constexpr int kRouterAdvert = 134;
constexpr int kProtoIcmp = 1, kProtoIcmp6 = 58;

std::uint16_t rd16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t rd32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | p[3];
}

std::string ntop6(const std::uint8_t* p) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, p, buf, sizeof buf);
  return buf;
}

std::string ntop4(const std::uint8_t* p) {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, p, buf, sizeof buf);
  return buf;
}

template <class T>
Decoded<T> fail(std::string why) {
  Decoded<T> d;
  d.error = std::move(why);
  return d;
}

// ------------------------------------------------------------------ RA

std::string pref_name(int bits) {
  switch (bits & 3) {
    case 0: return "medium";
    case 1: return "high";
    case 3: return "low";
  }
  return "reserved";
}

// "p/len" with the bits beyond len zeroed. The caller checked that the
// option holds (len + 7) / 8 bytes at p; len is at most 128.
std::string prefix_str(const std::uint8_t* p, int len) {
  std::uint8_t a[16] = {};
  std::memcpy(a, p, static_cast<std::size_t>((len + 7) / 8));
  for (int b = len; b < 128; ++b) a[b / 8] &= static_cast<std::uint8_t>(~(0x80 >> (b % 8)));
  return ntop6(a) + "/" + std::to_string(len);
}

void dnssl_option(const std::uint8_t* o, std::size_t len, RouterAdvert& ra,
                  std::vector<std::string>& notes) {
  std::size_t p = 8;
  while (p < len && o[p] != 0) {
    std::string d;
    std::string why = decode_dns_name(o, len, p, d);
    if (!why.empty()) {
      notes.push_back("DNSSL option: domain " + std::to_string(ra.dnssl.size() + 1) + ": " + why);
      break;
    }
    ra.dnssl.push_back(d);
  }
}

// RFC 8781 4: 16 bytes; a 13-bit lifetime in units of 8 s, a 3-bit Prefix
// Length Code, the prefix's first 96 bits. PLC 6 and 7 are not defined: a
// host ignores the option (section 5), so do we (with a note).
void pref64_option(const std::uint8_t* o, std::size_t len, RouterAdvert& ra,
                   std::vector<std::string>& notes) {
  static constexpr int kLengths[] = {96, 64, 56, 48, 40, 32};
  if (len != 16) {
    notes.push_back("PREF64 option of " + std::to_string(len) + " bytes skipped");
    return;
  }
  std::uint16_t word = rd16(o + 2);
  int plc = word & 7;
  if (plc > 5) {
    notes.push_back("PREF64 option with prefix length code " + std::to_string(plc) + " skipped");
    return;
  }
  RaPref64 p;
  p.prefix = prefix_str(o + 4, kLengths[plc]);  // at most 96 bits: 12 bytes, all inside
  p.lifetime = static_cast<std::uint32_t>(word >> 3) * 8u;
  ra.pref64.push_back(p);
}

// One option of `len` bytes (a multiple of 8, at least 8, inside the RA).
void ra_option(const std::uint8_t* o, std::size_t len, RouterAdvert& ra,
               std::vector<std::string>& notes) {
  int type = o[0];
  auto skip = [&](const char* what) {
    notes.push_back(std::string(what) + " option of " + std::to_string(len) + " bytes skipped");
  };
  int plen = o[2] > 128 ? 128 : o[2];
  if (type == 1) {
    char mac[18];
    std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", o[2], o[3], o[4], o[5],
                  o[6], o[7]);
    ra.source_lladdr = mac;
  } else if (type == 3) {
    if (len != 32) return skip("prefix information");
    RaPrefix p;
    p.prefix = prefix_str(o + 16, plen);
    p.on_link = o[3] & 0x80;
    p.autonomous = o[3] & 0x40;
    p.valid_lifetime = rd32(o + 4);
    p.preferred_lifetime = rd32(o + 8);
    ra.prefixes.push_back(p);
  } else if (type == 5) {
    if (len != 8) return skip("MTU");
    ra.mtu = rd32(o + 4);
  } else if (type == 24) {
    // RFC 4191: 8 bytes for a /0, 16 up to a /64, 24 beyond.
    if (len < 8u + (o[2] > 64 ? 16u : o[2] > 0 ? 8u : 0u)) return skip("route information");
    RaRoute rt;
    rt.prefix = prefix_str(o + 8, plen);
    rt.preference = pref_name((o[3] >> 3) & 3);
    rt.lifetime = rd32(o + 4);
    ra.routes.push_back(rt);
  } else if (type == 25) {
    if (len < 24) return skip("RDNSS");
    ra.rdnss_lifetime = rd32(o + 4);
    for (std::size_t a = 8; a + 16 <= len; a += 16) ra.rdnss.push_back(ntop6(o + a));
  } else if (type == 31) {
    dnssl_option(o, len, ra, notes);
  } else if (type == 38) {
    pref64_option(o, len, ra, notes);
  }
}

}  // namespace

Decoded<RouterAdvert> decode_ra(const std::uint8_t* b, std::size_t n) {
  if (n < 16)
    return fail<RouterAdvert>("decode router advertisement: " + std::to_string(n) +
                              " bytes, the header alone is 16");
  if (b[0] != kRouterAdvert)
    return fail<RouterAdvert>("decode router advertisement: ICMPv6 type " +
                              std::to_string(b[0]) + ", not 134");
  Decoded<RouterAdvert> d;
  RouterAdvert& ra = d.value.emplace();
  ra.cur_hop_limit = b[4];
  ra.managed = b[5] & 0x80;
  ra.other = b[5] & 0x40;
  ra.home_agent = b[5] & 0x20;
  ra.preference = pref_name((b[5] >> 3) & 3);
  ra.router_lifetime = rd16(b + 6);
  ra.reachable_time = rd32(b + 8);
  ra.retrans_timer = rd32(b + 12);
  std::size_t off = 16;
  while (off + 2 <= n) {
    std::size_t len = b[off + 1] * 8u;
    if (len == 0 || off + len > n) {
      d.notes.push_back("option of type " + std::to_string(b[off]) + " at byte " +
                        std::to_string(off) + (len == 0 ? " has length 0" : " runs past the end") +
                        ": the options from there on are ignored");
      break;
    }
    ra_option(b + off, len, ra, d.notes);
    off += len;
  }
  return d;
}

// ----------------------------------------------------------------- DNS

std::string decode_dns_name(const std::uint8_t* m, std::size_t n, std::size_t& off,
                            std::string& out) {
  std::size_t pos = off, next = off;
  bool jumped = false;
  out.clear();
  auto bad = [&](std::string why) {
    out.clear();
    return "name at byte " + std::to_string(off) + ": " + why;
  };
  for (int guard = 0; guard < 128; ++guard) {
    if (pos >= n) return bad("runs past the end of the message");
    std::size_t len = m[pos];
    if (len == 0) {
      off = jumped ? next : pos + 1;
      if (out.empty()) out = ".";
      return "";
    }
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= n) return bad("compression pointer cut off");
      std::size_t ptr = ((len & 0x3f) << 8) | m[pos + 1];
      if (ptr >= pos) return bad("compression pointer to byte " + std::to_string(ptr) +
                                 " does not point backwards");
      if (!jumped) next = pos + 2;
      jumped = true;
      pos = ptr;
      continue;
    }
    if (len > 63) return bad("label of type or length " + std::to_string(len) + " (at most 63)");
    if (out.size() + len + 1 > 255) return bad("longer than 255 bytes");
    if (pos + 1 + len > n) return bad("label runs past the end of the message");
    if (!out.empty()) out += '.';
    out.append(reinterpret_cast<const char*>(m + pos + 1), len);
    pos += 1 + len;
  }
  return bad("more than 128 labels and pointers");
}

namespace {

const std::map<std::string, int> kTypes = {
    {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12},
    {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"ANY", 255}};

// One resource record at off; "" or why it could not be read.
std::string dns_record(const std::uint8_t* m, std::size_t n, std::size_t& off, DnsRecord& rec) {
  std::string why = decode_dns_name(m, n, off, rec.name);
  if (!why.empty()) return why;
  if (off + 10 > n) return "record at byte " + std::to_string(off) + " cut off";
  int type = rd16(m + off);
  rec.type = dns_type_name(type);
  rec.ttl = rd32(m + off + 4);
  std::size_t rdlen = rd16(m + off + 8);
  off += 10;
  if (off + rdlen > n)
    return "data of " + std::to_string(rdlen) + " bytes at byte " + std::to_string(off) +
           " runs past the end";
  if (type == 28 && rdlen == 16) {
    rec.data = ntop6(m + off);
  } else if (type == 1 && rdlen == 4) {
    rec.data = ntop4(m + off);
  } else if (type == 12 || type == 5 || type == 2) {
    // The name is read in the whole message (it may point before the
    // record); a malformed one leaves the data empty.
    std::size_t o2 = off;
    decode_dns_name(m, n, o2, rec.data);
  } else {
    rec.data = std::to_string(rdlen) + " bytes";
  }
  off += rdlen;
  return "";
}

}  // namespace

Decoded<DnsResponse> decode_dns_response(const std::uint8_t* m, std::size_t n) {
  if (n < 12)
    return fail<DnsResponse>("decode DNS response: " + std::to_string(n) +
                             " bytes, the header alone is 12");
  Decoded<DnsResponse> d;
  DnsResponse& r = d.value.emplace();
  r.id = rd16(m);
  std::uint16_t flags = rd16(m + 2);
  static const char* rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  int rc = flags & 0xf;
  r.rcode = rc < 6 ? rcodes[rc] : "RCODE" + std::to_string(rc);
  r.authoritative = flags & 0x0400;
  r.truncated = flags & 0x0200;
  r.recursion_available = flags & 0x0080;
  std::size_t qd = rd16(m + 4), an = rd16(m + 6), off = 12;
  std::string tmp;
  for (std::size_t i = 0; i < qd; ++i) {
    std::string why = decode_dns_name(m, n, off, tmp);
    if (why.empty() && off + 4 > n) why = "question cut off";
    if (!why.empty()) {
      d.notes.push_back("question " + std::to_string(i + 1) + ": " + why + "; no answers read");
      return d;
    }
    off += 4;
  }
  for (std::size_t i = 0; i < an; ++i) {
    DnsRecord rec;
    std::string why = dns_record(m, n, off, rec);
    if (!why.empty()) {
      d.notes.push_back("answer " + std::to_string(i + 1) + " of " + std::to_string(an) + ": " +
                        why + "; the rest are ignored");
      break;
    }
    r.answers.push_back(rec);
  }
  return d;
}

int dns_type_code(const std::string& qtype) {
  auto it = kTypes.find(qtype);
  return it == kTypes.end() ? -1 : it->second;
}

std::string dns_type_name(int t) {
  for (const auto& [name, v] : kTypes)
    if (v == t) return name;
  return std::to_string(t);
}

std::optional<std::string> dns_query_bytes(std::uint16_t id, const std::string& name, int qtype) {
  std::string q;
  q += static_cast<char>(id >> 8);
  q += static_cast<char>(id & 0xff);
  q += std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);  // RD, 1 question
  std::string n = name;
  if (!n.empty() && n.back() == '.') n.pop_back();
  std::size_t start = 0;
  while (start <= n.size() && !n.empty()) {
    auto dot = n.find('.', start);
    if (dot == std::string::npos) dot = n.size();
    std::size_t len = dot - start;
    if (len == 0 || len > 63) return std::nullopt;
    q += static_cast<char>(len);
    q += n.substr(start, len);
    start = dot + 1;
  }
  q += '\0';
  q += static_cast<char>(qtype >> 8);
  q += static_cast<char>(qtype & 0xff);
  q += std::string("\x00\x01", 2);
  return q;
}

// ---------------------------------------------------------------- ICMP

namespace {

std::uint16_t inet_checksum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

std::string unreach6(int code) {
  static const char* n[] = {"no route", "administratively prohibited",
                            "beyond scope of source address", "address unreachable",
                            "port unreachable", "source address failed policy",
                            "reject route"};
  return code >= 0 && code < 7 ? n[code] : "code " + std::to_string(code);
}

std::string unreach4(int code) {
  static const char* n[] = {"network unreachable", "host unreachable",
                            "protocol unreachable", "port unreachable",
                            "fragmentation needed", "source route failed"};
  if (code == 13) return "administratively prohibited";
  return code >= 0 && code < 6 ? n[code] : "code " + std::to_string(code);
}

// Kind, detail and MTU of an ICMPv6 error; false for another type.
bool classify6(const std::uint8_t* icmp, IcmpError& e) {
  switch (e.type) {
    case kIcmp6Unreach: e.kind = "unreachable"; e.detail = unreach6(e.code); return true;
    case kIcmp6TooBig:
      e.kind = "packet-too-big";
      e.mtu = rd32(icmp + 4);
      e.detail = "packet too big (MTU " + std::to_string(e.mtu) + ")";
      return true;
    case kIcmp6TimeExceeded:
      e.kind = "time-exceeded";
      e.detail = e.code == 0 ? "hop limit exceeded" : "reassembly time exceeded";
      return true;
    case kIcmp6ParamProb: e.kind = "parameter-problem"; e.detail = "parameter problem"; return true;
  }
  return false;
}

bool classify4(const std::uint8_t* icmp, IcmpError& e) {
  switch (e.type) {
    case kIcmpUnreach:
      e.kind = e.code == kIcmpFragNeeded ? "packet-too-big" : "unreachable";
      e.detail = unreach4(e.code);
      if (e.code == kIcmpFragNeeded) e.mtu = rd16(icmp + 6);
      return true;
    case kIcmpTimeExceeded: e.kind = "time-exceeded"; e.detail = "TTL exceeded"; return true;
    case kIcmpParamProb: e.kind = "parameter-problem"; e.detail = "parameter problem"; return true;
  }
  return false;
}

// The ICMP(v6) header of the packet an error quotes (after its 8 bytes),
// or null when the quote is too short or is not ICMP directly after IP.
const std::uint8_t* quoted_icmp(const std::uint8_t* inner, std::size_t n, bool v6,
                                std::string& dst) {
  if (v6) {
    if (n < 48 || inner[6] != kProtoIcmp6) return nullptr;
    dst = ntop6(inner + 24);
    return inner + 40;
  }
  if (n < 20) return nullptr;
  std::size_t ihl = (inner[0] & 0x0f) * 4u;
  if (n < ihl + 8 || inner[9] != kProtoIcmp) return nullptr;
  dst = ntop4(inner + 16);
  return inner + ihl;
}

}  // namespace

std::vector<std::uint8_t> echo_request(bool v6, std::uint16_t id, std::uint16_t seq, int size) {
  std::size_t n = 8 + static_cast<std::size_t>(size < 0 ? 0 : size);
  std::vector<std::uint8_t> pkt(n, 0);
  pkt[0] = static_cast<std::uint8_t>(v6 ? kIcmp6EchoRequest : kIcmpEcho);
  pkt[4] = static_cast<std::uint8_t>(id >> 8);
  pkt[5] = static_cast<std::uint8_t>(id & 0xff);
  pkt[6] = static_cast<std::uint8_t>(seq >> 8);
  pkt[7] = static_cast<std::uint8_t>(seq & 0xff);
  for (std::size_t i = 8; i < n; ++i) pkt[i] = static_cast<std::uint8_t>(i);
  if (!v6) {
    std::uint16_t c = inet_checksum(pkt.data(), pkt.size());
    pkt[2] = static_cast<std::uint8_t>(c >> 8);
    pkt[3] = static_cast<std::uint8_t>(c & 0xff);
  }
  return pkt;
}

Decoded<IcmpMessage> decode_icmp(const std::uint8_t* b, std::size_t n, bool v6) {
  const std::string what = v6 ? "decode ICMPv6 message: " : "decode ICMP message: ";
  if (!v6) {  // raw IPv4 sockets deliver the IP header
    std::size_t ihl = n ? (b[0] & 0x0f) * 4u : 0;
    if (n < ihl + 8)
      return fail<IcmpMessage>(what + std::to_string(n) + " bytes with an IP header of " +
                               std::to_string(ihl) + ", less than 8 left");
    b += ihl;
    n -= ihl;
  }
  if (n < 8) return fail<IcmpMessage>(what + std::to_string(n) + " bytes, the header is 8");
  Decoded<IcmpMessage> d;
  IcmpMessage& m = d.value.emplace();
  m.type = b[0];
  m.code = b[1];
  if (m.type == (v6 ? kIcmp6EchoReply : kIcmpEchoReply)) {
    m.reply = true;
    m.id = rd16(b + 4);
    m.seq = rd16(b + 6);
    return d;
  }
  m.error.type = m.type;
  m.error.code = m.code;
  if (!(v6 ? classify6(b, m.error) : classify4(b, m.error)))
    return fail<IcmpMessage>(what + "type " + std::to_string(m.type) +
                             " is neither an echo reply nor an error");
  const std::uint8_t* q = quoted_icmp(b + 8, n - 8, v6, m.quoted_dst);
  if (!q)
    return fail<IcmpMessage>(what + m.error.kind + " error quoting " + std::to_string(n - 8) +
                             " bytes, not an ICMP packet directly after its IP header");
  m.id = rd16(q + 4);
  m.seq = rd16(q + 6);
  return d;
}

std::optional<std::uint16_t> echo_answered(const IcmpMessage& m, std::uint16_t id,
                                           const std::string& from, const std::string& dst,
                                           bool multicast) {
  if (m.id != id) return std::nullopt;
  if (m.reply && !multicast && from != dst) return std::nullopt;  // someone else's reply
  return m.seq;
}

}  // namespace v6lab
