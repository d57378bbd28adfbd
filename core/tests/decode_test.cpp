// The packet decoders on byte fixtures: good packets, and the hostile ones a
// trainee (root in their nodes) can send the grader's probes. No sockets.
#include "v6lab/decode.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace v6lab {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, unsigned v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(Bytes& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xffff);
}
void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

const Bytes kDb8_1 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
const Bytes kDns1 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};

// ------------------------------------------------------------------ RA

// RA header: hop limit 64, M and O set, preference high, lifetime 1800.
Bytes RaHeader() {
  Bytes b = {134, 0, 0, 0, 64, 0x80 | 0x40 | (1 << 3)};
  put16(b, 1800);
  put32(b, 30000);
  put32(b, 1000);
  return b;
}

Bytes PrefixOption(int plen, const Bytes& prefix) {
  Bytes o = {3, 4, static_cast<std::uint8_t>(plen), 0xc0};
  put32(o, 86400);
  put32(o, 14400);
  put32(o, 0);
  append(o, prefix);
  return o;
}

Bytes RouteOption(int len8, int plen, int pref_bits) {
  Bytes o = {24, static_cast<std::uint8_t>(len8), static_cast<std::uint8_t>(plen),
             static_cast<std::uint8_t>(pref_bits << 3)};
  put32(o, 600);
  for (int i = 8; i < len8 * 8; ++i) o.push_back(static_cast<std::uint8_t>(i - 8 < 16 ? kDb8_1[i - 8] : 0));
  return o;
}

Bytes FullRa() {
  Bytes b = RaHeader();
  append(b, {1, 1, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01});  // source link-layer address
  Bytes mtu = {5, 1, 0, 0};
  put32(mtu, 1400);
  append(b, mtu);
  append(b, PrefixOption(64, kDb8_1));
  append(b, RouteOption(3, 48, 3));
  Bytes rdnss = {25, 3, 0, 0};
  put32(rdnss, 600);
  append(rdnss, kDns1);
  append(b, rdnss);
  Bytes dnssl = {31, 3, 0, 0};
  put32(dnssl, 600);
  append(dnssl, {3, 'l', 'a', 'b', 3, 'c', 'o', 'm', 0, 0xc0, 12, 0, 0, 0, 0, 0});
  append(b, dnssl);
  return b;
}

TEST(DecodeRa, ReadsHeaderAndEveryOption) {
  Bytes b = FullRa();
  auto d = decode_ra(b.data(), b.size());
  ASSERT_TRUE(d) << d.error;
  EXPECT_TRUE(d.notes.empty()) << d.notes[0];
  EXPECT_EQ(d->cur_hop_limit, 64);
  EXPECT_TRUE(d->managed);
  EXPECT_TRUE(d->other);
  EXPECT_FALSE(d->home_agent);
  EXPECT_EQ(d->preference, "high");
  EXPECT_EQ(d->router_lifetime, 1800u);
  EXPECT_EQ(d->reachable_time, 30000u);
  EXPECT_EQ(d->retrans_timer, 1000u);
  EXPECT_EQ(d->source_lladdr, "02:00:00:00:00:01");
  EXPECT_EQ(d->mtu, 1400u);
  ASSERT_EQ(d->prefixes.size(), 1u);
  EXPECT_EQ(d->prefixes[0].prefix, "2001:db8:1::/64");
  EXPECT_TRUE(d->prefixes[0].on_link);
  EXPECT_TRUE(d->prefixes[0].autonomous);
  EXPECT_EQ(d->prefixes[0].valid_lifetime, 86400u);
  EXPECT_EQ(d->prefixes[0].preferred_lifetime, 14400u);
  ASSERT_EQ(d->routes.size(), 1u);
  EXPECT_EQ(d->routes[0].prefix, "2001:db8:1::/48");
  EXPECT_EQ(d->routes[0].preference, "low");
  EXPECT_EQ(d->routes[0].lifetime, 600u);
  EXPECT_EQ(d->rdnss, std::vector<std::string>{"2001:db8:1::53"});
  EXPECT_EQ(d->rdnss_lifetime, 600u);
  // "com" is written as a pointer back to the "com" label of the first name.
  EXPECT_EQ(d->dnssl, (std::vector<std::string>{"lab.com", "com"}));
}

TEST(DecodeRa, RefusesShortHeadersAndOtherTypes) {
  Bytes b = RaHeader();
  for (std::size_t n = 0; n < 16; ++n) {
    auto d = decode_ra(b.data(), n);
    EXPECT_FALSE(d);
    EXPECT_NE(d.error.find("decode router advertisement: " + std::to_string(n) + " bytes"),
              std::string::npos);
  }
  b[0] = 133;
  auto d = decode_ra(b.data(), b.size());
  EXPECT_FALSE(d);
  EXPECT_NE(d.error.find("type 133"), std::string::npos) << d.error;
}

TEST(DecodeRa, OptionOfLengthZeroStopsTheWalk) {
  Bytes b = RaHeader();
  append(b, {5, 0, 0, 0, 0, 0, 5, 0x78});  // MTU option with length 0
  append(b, PrefixOption(64, kDb8_1));
  auto d = decode_ra(b.data(), b.size());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->mtu, 0u);
  EXPECT_TRUE(d->prefixes.empty());
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].find("has length 0"), std::string::npos) << d.notes[0];
}

TEST(DecodeRa, TruncatedOptionsAreIgnored) {
  Bytes full = FullRa();
  for (std::size_t n = 16; n < full.size(); ++n) {
    auto d = decode_ra(full.data(), n);
    ASSERT_TRUE(d) << n;
    EXPECT_LE(d->prefixes.size(), 1u);
  }
  Bytes b = RaHeader();
  append(b, PrefixOption(64, kDb8_1));
  b.resize(b.size() - 1);  // the prefix option runs past the end
  auto d = decode_ra(b.data(), b.size());
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->prefixes.empty());
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].find("runs past the end"), std::string::npos);
}

TEST(DecodeRa, OptionsOfTheWrongSizeAreSkipped) {
  Bytes b = RaHeader();
  Bytes prefix = PrefixOption(64, kDb8_1);
  prefix[1] = 5;
  prefix.resize(40, 0);  // a prefix option of 40 bytes, not 32
  append(b, prefix);
  append(b, {5, 2, 0, 0, 0, 0, 5, 0x78, 0, 0, 0, 0, 0, 0, 0, 0});  // MTU of 16 bytes
  append(b, {25, 1, 0, 0, 0, 0, 0, 1});  // RDNSS without an address
  append(b, PrefixOption(64, kDb8_1));   // a good one after them is still read
  auto d = decode_ra(b.data(), b.size());
  ASSERT_TRUE(d);
  ASSERT_EQ(d->prefixes.size(), 1u);
  EXPECT_EQ(d->mtu, 0u);
  EXPECT_TRUE(d->rdnss.empty());
  ASSERT_EQ(d.notes.size(), 3u);
  EXPECT_EQ(d.notes[0], "prefix information option of 40 bytes skipped");
  EXPECT_EQ(d.notes[1], "MTU option of 16 bytes skipped");
  EXPECT_EQ(d.notes[2], "RDNSS option of 8 bytes skipped");
}

TEST(DecodeRa, RouteOptionLengthsFollowRfc4191) {
  struct Case {
    int len8, plen;
    bool kept;
    const char* prefix;
  };
  for (Case c : {Case{1, 0, true, "::/0"}, Case{1, 1, false, ""}, Case{2, 64, true, "2001:db8:1::/64"},
                 Case{2, 65, false, ""}, Case{3, 128, true, "2001:db8:1::/128"},
                 Case{3, 200, true, "2001:db8:1::/128"}, Case{2, 32, true, "2001:db8::/32"}}) {
    Bytes b = RaHeader();
    append(b, RouteOption(c.len8, c.plen, 1));
    auto d = decode_ra(b.data(), b.size());
    ASSERT_TRUE(d);
    ASSERT_EQ(d->routes.size(), c.kept ? 1u : 0u) << c.len8 << " " << c.plen;
    if (c.kept) {
      EXPECT_EQ(d->routes[0].prefix, c.prefix);
      EXPECT_EQ(d->routes[0].preference, "high");
    }
  }
}

TEST(DecodeRa, PrefixBitsBeyondTheLengthAreZeroed) {
  Bytes b = RaHeader();
  Bytes p(16, 0xff);
  append(b, PrefixOption(60, p));
  auto d = decode_ra(b.data(), b.size());
  ASSERT_TRUE(d);
  ASSERT_EQ(d->prefixes.size(), 1u);
  EXPECT_EQ(d->prefixes[0].prefix, "ffff:ffff:ffff:fff0::/60");
}

TEST(DecodeRa, DnsslWithAForwardPointerKeepsTheNamesBefore) {
  Bytes b = RaHeader();
  Bytes o = {31, 3, 0, 0};
  put32(o, 60);
  append(o, {3, 'l', 'a', 'b', 0, 0xc0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  append(b, o);
  auto d = decode_ra(b.data(), b.size());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->dnssl, std::vector<std::string>{"lab"});
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].find("does not point backwards"), std::string::npos) << d.notes[0];
}


// RFC 8781 PREF64: lifetime in units of 8 s (13 bits), PLC (3 bits), 96 bits.
Bytes Pref64Option(unsigned scaled, unsigned plc, const Bytes& prefix, int len8 = 2) {
  Bytes o = {38, static_cast<std::uint8_t>(len8)};
  put16(o, scaled << 3 | plc);
  for (int i = 4; i < len8 * 8; ++i) o.push_back(i - 4 < 16 ? prefix[i - 4] : 0);
  return o;
}

TEST(DecodeRa, Pref64ReadsEveryPrefixLengthCode) {
  const Bytes wkp = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  const char* want[] = {"64:ff9b::/96", "64:ff9b::/64", "64:ff9b::/56",
                        "64:ff9b::/48", "64:ff9b::/40", "64:ff9b::/32"};
  for (unsigned plc = 0; plc < 6; ++plc) {
    Bytes b = RaHeader();
    append(b, Pref64Option(225, plc, wkp));
    auto d = decode_ra(b.data(), b.size());
    ASSERT_TRUE(d);
    EXPECT_TRUE(d.notes.empty());
    ASSERT_EQ(d->pref64.size(), 1u);
    // Bytes 12-15 of the prefix are never on the wire: the /96 ends there.
    EXPECT_EQ(d->pref64[0].prefix, want[plc]);
    EXPECT_EQ(d->pref64[0].lifetime, 1800u);
  }
}

TEST(DecodeRa, Pref64OfAnUndefinedCodeOrSizeIsSkipped) {
  Bytes b = RaHeader();
  append(b, Pref64Option(1, 6, kDb8_1));
  append(b, Pref64Option(1, 0, kDb8_1, 3));
  append(b, Pref64Option(0x1fff, 0, kDb8_1));
  auto d = decode_ra(b.data(), b.size());
  ASSERT_TRUE(d);
  ASSERT_EQ(d.notes.size(), 2u);
  EXPECT_EQ(d.notes[0], "PREF64 option with prefix length code 6 skipped");
  EXPECT_EQ(d.notes[1], "PREF64 option of 24 bytes skipped");
  ASSERT_EQ(d->pref64.size(), 1u);
  EXPECT_EQ(d->pref64[0].prefix, "2001:db8:1::/96");
  EXPECT_EQ(d->pref64[0].lifetime, 65528u);
}

// ----------------------------------------------------------------- DNS

Bytes Name(const std::string& dotted) {
  Bytes b;
  std::size_t start = 0;
  while (start < dotted.size()) {
    std::size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    b.push_back(static_cast<std::uint8_t>(dot - start));
    b.insert(b.end(), dotted.begin() + static_cast<long>(start), dotted.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  b.push_back(0);
  return b;
}

Bytes DnsHeader(unsigned id, unsigned flags, unsigned qd, unsigned an) {
  Bytes b;
  put16(b, id);
  put16(b, flags);
  put16(b, qd);
  put16(b, an);
  put16(b, 0);
  put16(b, 0);
  return b;
}

// A response to "www.lab. AAAA": a CNAME to srv.lab (compressed), then the
// AAAA of srv.lab, then a PTR pointing into the question.
Bytes GoodResponse() {
  Bytes b = DnsHeader(0x1234, 0x8580, 1, 3);  // QR AA RD RA, NOERROR
  append(b, Name("www.lab"));                 // at 12; "lab" at 16
  put16(b, 28);
  put16(b, 1);
  append(b, {0xc0, 12});  // answer 1: www.lab CNAME srv.lab
  put16(b, 5);
  put16(b, 1);
  put32(b, 300);
  put16(b, 6);
  std::size_t srv = b.size();
  append(b, {3, 's', 'r', 'v', 0xc0, 16});
  append(b, {0xc0, static_cast<std::uint8_t>(srv)});  // answer 2: srv.lab AAAA
  put16(b, 28);
  put16(b, 1);
  put32(b, 60);
  put16(b, 16);
  append(b, kDns1);
  append(b, {0xc0, 12});  // answer 3: www.lab PTR lab
  put16(b, 12);
  put16(b, 1);
  put32(b, 0xfffffff0u);
  put16(b, 2);
  append(b, {0xc0, 16});
  return b;
}

TEST(DecodeDns, ReadsCompressedAnswers) {
  Bytes b = GoodResponse();
  auto d = decode_dns_response(b.data(), b.size());
  ASSERT_TRUE(d) << d.error;
  EXPECT_TRUE(d.notes.empty()) << d.notes[0];
  EXPECT_EQ(d->id, 0x1234);
  EXPECT_EQ(d->rcode, "NOERROR");
  EXPECT_TRUE(d->authoritative);
  EXPECT_TRUE(d->recursion_available);
  EXPECT_FALSE(d->truncated);
  ASSERT_EQ(d->answers.size(), 3u);
  EXPECT_EQ(d->answers[0].name, "www.lab");
  EXPECT_EQ(d->answers[0].type, "CNAME");
  EXPECT_EQ(d->answers[0].data, "srv.lab");
  EXPECT_EQ(d->answers[0].ttl, 300u);
  EXPECT_EQ(d->answers[1].name, "srv.lab");
  EXPECT_EQ(d->answers[1].type, "AAAA");
  EXPECT_EQ(d->answers[1].data, "2001:db8:1::53");
  EXPECT_EQ(d->answers[2].type, "PTR");
  EXPECT_EQ(d->answers[2].data, "lab");
  EXPECT_EQ(d->answers[2].ttl, 0xfffffff0u);
}

TEST(DecodeDns, HeadersAndRcodes) {
  Bytes b = GoodResponse();
  for (std::size_t n = 0; n < 12; ++n) EXPECT_FALSE(decode_dns_response(b.data(), n)) << n;
  Bytes h = DnsHeader(7, 0x8203, 0, 0);  // TC, NXDOMAIN
  auto d = decode_dns_response(h.data(), h.size());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rcode, "NXDOMAIN");
  EXPECT_TRUE(d->truncated);
  h = DnsHeader(7, 0x800b, 0, 0);
  EXPECT_EQ(decode_dns_response(h.data(), h.size())->rcode, "RCODE11");
}

TEST(DecodeDns, EveryTruncationKeepsOnlyWholeAnswers) {
  Bytes b = GoodResponse();
  for (std::size_t n = 12; n < b.size(); ++n) {
    auto d = decode_dns_response(b.data(), n);
    ASSERT_TRUE(d) << n;
    EXPECT_LT(d->answers.size(), 3u) << n;
    ASSERT_EQ(d.notes.size(), 1u) << n;
    for (const auto& a : d->answers) EXPECT_FALSE(a.data.empty()) << n;
  }
}

std::string NameError(const Bytes& m, std::size_t off) {
  std::string out = "unchanged";
  std::size_t o = off;
  std::string why = decode_dns_name(m.data(), m.size(), o, out);
  EXPECT_EQ(o, off) << "a failed read must not move the offset";
  EXPECT_EQ(out, "") << "a failed read must not leave part of a name";
  return why;
}

TEST(DecodeDns, NamesRefuseLoopsForwardPointersAndOversizes) {
  EXPECT_NE(NameError({0xc0, 0}, 0).find("does not point backwards"), std::string::npos);
  EXPECT_NE(NameError({1, 'a', 0xc0, 0}, 0).find("more than 128"), std::string::npos);
  EXPECT_NE(NameError({1, 'a', 0xc0, 5, 0, 0}, 0).find("does not point backwards"),
            std::string::npos);
  EXPECT_NE(NameError({1, 'a', 0xc0}, 0).find("cut off"), std::string::npos);
  Bytes label(1, 64);
  label.resize(66, 'x');
  EXPECT_NE(NameError(label, 0).find("at most 63"), std::string::npos);
  EXPECT_NE(NameError({0x40, 0}, 0).find("at most 63"), std::string::npos);  // extended label
  EXPECT_NE(NameError({3, 'a', 'b'}, 0).find("past the end"), std::string::npos);
  EXPECT_NE(NameError({1, 'a'}, 0).find("past the end"), std::string::npos);
  Bytes big;  // 5 labels of 63: 319 bytes of text
  for (int i = 0; i < 5; ++i) {
    big.push_back(63);
    big.resize(big.size() + 63, 'y');
  }
  big.push_back(0);
  EXPECT_NE(NameError(big, 0).find("longer than 255"), std::string::npos);
}

TEST(DecodeDns, NamesThatFitAreRead) {
  Bytes m;  // 3 labels of 63 and one of 61: 253 characters with the dots
  for (int len : {63, 63, 63, 61}) {
    m.push_back(static_cast<std::uint8_t>(len));
    m.resize(m.size() + static_cast<std::size_t>(len), 'z');
  }
  m.push_back(0);
  std::size_t off = 0;
  std::string out;
  EXPECT_EQ(decode_dns_name(m.data(), m.size(), off, out), "");
  EXPECT_EQ(out.size(), 253u);
  EXPECT_EQ(off, m.size());
  Bytes root = {0};
  off = 0;
  EXPECT_EQ(decode_dns_name(root.data(), root.size(), off, out), "");
  EXPECT_EQ(out, ".");
  EXPECT_EQ(off, 1u);
}

TEST(DecodeDns, MalformedNameInDataLeavesItEmpty) {
  Bytes b = DnsHeader(1, 0x8180, 0, 1);
  append(b, Name("a.lab"));
  put16(b, 12);
  put16(b, 1);
  put32(b, 5);
  put16(b, 6);
  append(b, {3, 'e', 'v', 'l', 0xc0, 40});  // "evl" then a forward pointer
  auto d = decode_dns_response(b.data(), b.size());
  ASSERT_TRUE(d);
  ASSERT_EQ(d->answers.size(), 1u);
  EXPECT_EQ(d->answers[0].data, "");  // not "evl", half a name
}

TEST(DecodeDns, QueryBytesRoundTrip) {
  auto q = dns_query_bytes(0xbeef, "www.lab.", dns_type_code("AAAA"));
  ASSERT_TRUE(q);
  auto d = decode_dns_response(reinterpret_cast<const std::uint8_t*>(q->data()), q->size());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->id, 0xbeef);
  EXPECT_TRUE(d.notes.empty());
  EXPECT_FALSE(dns_query_bytes(1, "a..b", 28));
  EXPECT_FALSE(dns_query_bytes(1, std::string(64, 'x') + ".lab", 28));
  EXPECT_EQ(dns_type_code("BOGUS"), -1);
  EXPECT_EQ(dns_type_name(99), "99");
}

// ---------------------------------------------------------------- ICMP

Bytes Ip6Header(int next, const Bytes& src, const Bytes& dst, std::size_t payload) {
  Bytes b = {0x60, 0, 0, 0};
  put16(b, static_cast<unsigned>(payload));
  b.push_back(static_cast<std::uint8_t>(next));
  b.push_back(64);
  append(b, src);
  append(b, dst);
  return b;
}

// An ICMPv6 error of `type`/`code` quoting our echo request (id, seq).
Bytes Icmp6Error(int type, int code, std::uint32_t param, std::uint16_t id, std::uint16_t seq) {
  Bytes b = {static_cast<std::uint8_t>(type), static_cast<std::uint8_t>(code), 0, 0};
  put32(b, param);
  Bytes echo = echo_request(true, id, seq, 56);
  append(b, Ip6Header(58, kDb8_1, kDns1, echo.size()));
  append(b, echo);
  return b;
}

TEST(DecodeIcmp, EchoRequestsAndReplies) {
  Bytes req = echo_request(false, 0x4242, 7, 56);
  ASSERT_EQ(req.size(), 64u);
  std::uint32_t sum = 0;  // a correct checksum sums to 0xffff
  for (std::size_t i = 0; i < req.size(); i += 2) sum += (req[i] << 8) | req[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffu);
  Bytes reply = echo_request(true, 0x4242, 7, 56);
  reply[0] = 129;
  auto d = decode_icmp(reply.data(), reply.size(), true);
  ASSERT_TRUE(d) << d.error;
  EXPECT_TRUE(d->reply);
  EXPECT_EQ(d->id, 0x4242);
  EXPECT_EQ(d->seq, 7);
  EXPECT_EQ(echo_answered(*d, 0x4242, "2001:db8:1::53", "2001:db8:1::53", false), 7);
  EXPECT_FALSE(echo_answered(*d, 0x4243, "2001:db8:1::53", "2001:db8:1::53", false));
  EXPECT_FALSE(echo_answered(*d, 0x4242, "2001:db8:1::66", "2001:db8:1::53", false));
  EXPECT_EQ(echo_answered(*d, 0x4242, "fe80::1", "ff02::1", true), 7);
  EXPECT_FALSE(decode_icmp(reply.data(), 7, true));
  Bytes ours = echo_request(true, 1, 1, 8);  // our own request, looped back
  EXPECT_FALSE(decode_icmp(ours.data(), ours.size(), true));
}

TEST(DecodeIcmp, Icmp6ErrorsQuoteTheRequest) {
  struct Case {
    int type, code;
    std::uint32_t param;
    const char* kind;
    const char* detail;
    std::uint32_t mtu;
  };
  for (Case c : {Case{1, 0, 0, "unreachable", "no route", 0},
                 Case{1, 3, 0, "unreachable", "address unreachable", 0},
                 Case{1, 9, 0, "unreachable", "code 9", 0},
                 Case{2, 0, 1280, "packet-too-big", "packet too big (MTU 1280)", 1280},
                 Case{3, 0, 0, "time-exceeded", "hop limit exceeded", 0},
                 Case{3, 1, 0, "time-exceeded", "reassembly time exceeded", 0},
                 Case{4, 0, 6, "parameter-problem", "parameter problem", 0}}) {
    Bytes b = Icmp6Error(c.type, c.code, c.param, 0x4242, 3);
    auto d = decode_icmp(b.data(), b.size(), true);
    ASSERT_TRUE(d) << d.error;
    EXPECT_FALSE(d->reply);
    EXPECT_EQ(d->error.kind, c.kind);
    EXPECT_EQ(d->error.detail, c.detail);
    EXPECT_EQ(d->error.mtu, c.mtu);
    EXPECT_EQ(d->error.type, c.type);
    EXPECT_EQ(d->quoted_dst, "2001:db8:1::53");
    EXPECT_EQ(echo_answered(*d, 0x4242, "2001:db8::1", "2001:db8:1::53", false), 3);
  }
}

TEST(DecodeIcmp, Icmp6ErrorsWithoutAUsableQuote) {
  Bytes b = Icmp6Error(3, 0, 0, 1, 1);
  for (std::size_t n = 0; n < 8 + 48; ++n) EXPECT_FALSE(decode_icmp(b.data(), n, true)) << n;
  EXPECT_TRUE(decode_icmp(b.data(), 8 + 48, true));
  b[8 + 6] = 17;  // the quoted packet is UDP
  auto d = decode_icmp(b.data(), b.size(), true);
  EXPECT_FALSE(d);
  EXPECT_NE(d.error.find("not an ICMP packet"), std::string::npos) << d.error;
  b = Icmp6Error(135, 0, 0, 1, 1);  // a neighbour solicitation is no error
  EXPECT_FALSE(decode_icmp(b.data(), b.size(), true));
}

Bytes Ip4Header(int proto, std::size_t ihl_words) {
  Bytes b = {static_cast<std::uint8_t>(0x40 | ihl_words), 0, 0, 0, 0, 0, 0, 0, 64,
             static_cast<std::uint8_t>(proto), 0, 0, 192, 0, 2, 1, 192, 0, 2, 9};
  b.resize(ihl_words * 4, 1);  // IP options
  return b;
}

TEST(DecodeIcmp, Icmp4WithIpHeadersAndOptions) {
  Bytes reply = Ip4Header(1, 5);
  Bytes echo = echo_request(false, 9, 2, 16);
  echo[0] = 0;
  append(reply, echo);
  auto d = decode_icmp(reply.data(), reply.size(), false);
  ASSERT_TRUE(d) << d.error;
  EXPECT_TRUE(d->reply);
  EXPECT_EQ(d->seq, 2);

  Bytes err = Ip4Header(1, 6);  // with 4 bytes of options
  append(err, {3, 4, 0, 0, 0, 0, 0x05, 0xdc});  // fragmentation needed, MTU 1500
  append(err, Ip4Header(1, 5));
  append(err, echo_request(false, 9, 5, 0));
  d = decode_icmp(err.data(), err.size(), false);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d->error.kind, "packet-too-big");
  EXPECT_EQ(d->error.mtu, 1500u);
  EXPECT_EQ(d->quoted_dst, "192.0.2.9");
  EXPECT_EQ(d->seq, 5);
  for (std::size_t n = 0; n < err.size(); ++n) EXPECT_FALSE(decode_icmp(err.data(), n, false)) << n;

  Bytes redirect = Ip4Header(1, 5);
  append(redirect, {5, 1, 0, 0, 192, 0, 2, 2});
  append(redirect, Ip4Header(1, 5));
  append(redirect, echo_request(false, 9, 5, 0));
  EXPECT_FALSE(decode_icmp(redirect.data(), redirect.size(), false));
  Bytes zero_ihl = {0x40, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(decode_icmp(zero_ihl.data(), zero_ihl.size(), false));  // "type 64"
}

}  // namespace
}  // namespace v6lab
