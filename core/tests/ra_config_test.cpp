// v6lab-ra's configuration parser and RA encoder (core/tools/ra_config.cpp),
// checked against the core's own RA decoder: what v6lab-ra sends is what
// the grader reads back.
#include "../tools/ra_config.hpp"

#include <gtest/gtest.h>

#include "v6lab/decode.hpp"

namespace {

using v6lab_ra::parse_config;

const char* kLab = R"(# the ipv6-mostly lab's router
interface eth0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 10;
    AdvManagedFlag off;
    AdvOtherConfigFlag on;
    AdvDefaultLifetime 1800;
    AdvLinkMTU 1500;
    prefix 2001:db8:1::/64 {
        AdvOnLink on;
        AdvAutonomous on;
        AdvValidLifetime 86400;
        AdvPreferredLifetime 14400;
    };
    RDNSS 2001:db8:1::1 2001:db8:1::2 {
        AdvRDNSSLifetime 600;
    };
    nat64prefix 64:ff9b::/96 {
        AdvValidLifetime 1800;
    };
};
)";

std::string error_of(const std::string& text) {
  std::string err;
  EXPECT_FALSE(parse_config(text, "/etc/v6lab-ra.conf", &err)) << text;
  return err;
}

TEST(RaConfig, ParsesTheRadvdSubset) {
  std::string err;
  auto c = parse_config(kLab, "x.conf", &err);
  ASSERT_TRUE(c) << err;
  ASSERT_EQ(c->interfaces.size(), 1u);
  const auto& i = c->interfaces[0];
  EXPECT_EQ(i.name, "eth0");
  EXPECT_TRUE(i.send_advert);
  EXPECT_DOUBLE_EQ(i.min_s(), 3);
  EXPECT_DOUBLE_EQ(i.max_interval, 10);
  EXPECT_FALSE(i.managed);
  EXPECT_TRUE(i.other);
  EXPECT_EQ(i.router_lifetime(), 1800u);
  ASSERT_EQ(i.prefixes.size(), 1u);
  EXPECT_EQ(i.prefixes[0].length, 64);
  ASSERT_EQ(i.rdnss.size(), 1u);
  EXPECT_EQ(i.rdnss[0].servers.size(), 2u);
  ASSERT_EQ(i.nat64.size(), 1u);
  EXPECT_EQ(i.nat64[0].length, 96);
  EXPECT_EQ(i.nat64[0].line, 19);
}

TEST(RaConfig, DefaultsAreRadvds) {
  std::string err;
  auto c = parse_config("interface eth1 { AdvSendAdvert on; prefix 2001:db8::/64 { }; };", "f", &err);
  ASSERT_TRUE(c) << err;
  const auto& i = c->interfaces[0];
  EXPECT_DOUBLE_EQ(i.min_s(), 200);         // MaxRtrAdvInterval 600 / 3
  EXPECT_EQ(i.router_lifetime(), 1800u);    // 3 * 600
  EXPECT_TRUE(i.prefixes[0].on_link);
  EXPECT_TRUE(i.prefixes[0].autonomous);
  EXPECT_EQ(i.prefixes[0].valid, 86400u);
  EXPECT_EQ(i.prefixes[0].preferred, 14400u);
}

TEST(RaConfig, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of("interface eth0 {\n  AdvSendAdvert yes;\n};"),
            "/etc/v6lab-ra.conf:2: AdvSendAdvert takes on or off, not 'yes'");
  EXPECT_EQ(error_of("interface eth0 {\n AdvSendAdvert on;\n nat64prefix 64:ff9b::/95 { };\n};"),
            "/etc/v6lab-ra.conf:3: nat64prefix /95: the length must be 32, 40, 48, 56, 64 or 96 "
            "(RFC 8781)");
  EXPECT_EQ(error_of("interface eth0 {\n\n  prefix 2001:db8::1/64 { };\n};"),
            "/etc/v6lab-ra.conf:3: prefix '2001:db8::1/64' has bits set beyond its length");
  EXPECT_EQ(error_of("interface eth0 { AdvSendAdvert on; }"),
            "/etc/v6lab-ra.conf:1: the file ends: ';' missing after the '}' of interface eth0");
  EXPECT_NE(error_of("interface eth0 {\n UnicastOnly on;\n};").find(
                ":2: unknown option 'UnicastOnly' in interface eth0 (v6lab-ra knows: "),
            std::string::npos);
  EXPECT_EQ(error_of("interface eth0 { MinRtrAdvInterval 9; MaxRtrAdvInterval 10; };"),
            "/etc/v6lab-ra.conf:1: MinRtrAdvInterval must be at most 0.75 * MaxRtrAdvInterval "
            "(7.500000)");
  EXPECT_EQ(error_of("interface eth0 { RDNSS 2001:db8::zz { }; };"),
            "/etc/v6lab-ra.conf:1: '2001:db8::zz' is not an IPv6 address");
  EXPECT_EQ(error_of("# nothing\n"), "/etc/v6lab-ra.conf:1: no interface block");
  EXPECT_EQ(error_of("interface a { };\ninterface a { };"),
            "/etc/v6lab-ra.conf:2: interface a is already defined at line 1");
  EXPECT_EQ(error_of("interface a { nat64prefix 64:ff9b::/96 { AdvValidLifetime 70000; }; };"),
            "/etc/v6lab-ra.conf:1: AdvValidLifetime 70000 is out of range (0 to 65528)");
}

TEST(RaConfig, EncodedRaDecodesToTheConfig) {
  std::string err;
  auto c = parse_config(kLab, "x.conf", &err);
  ASSERT_TRUE(c) << err;
  const std::uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
  auto b = v6lab_ra::encode_ra(c->interfaces[0], mac);
  auto d = v6lab::decode_ra(b.data(), b.size());
  ASSERT_TRUE(d) << d.error;
  EXPECT_TRUE(d.notes.empty());
  EXPECT_EQ(d->cur_hop_limit, 64);
  EXPECT_FALSE(d->managed);
  EXPECT_TRUE(d->other);
  EXPECT_EQ(d->router_lifetime, 1800u);
  EXPECT_EQ(d->mtu, 1500u);
  ASSERT_EQ(d->prefixes.size(), 1u);
  EXPECT_EQ(d->prefixes[0].prefix, "2001:db8:1::/64");
  EXPECT_TRUE(d->prefixes[0].autonomous);
  EXPECT_EQ(d->rdnss, (std::vector<std::string>{"2001:db8:1::1", "2001:db8:1::2"}));
  EXPECT_EQ(d->rdnss_lifetime, 600u);
  ASSERT_EQ(d->pref64.size(), 1u);
  EXPECT_EQ(d->pref64[0].prefix, "64:ff9b::/96");
  EXPECT_EQ(d->pref64[0].lifetime, 1800u);
  EXPECT_EQ(d->source_lladdr, "02:00:00:00:00:01");
  auto gone = v6lab_ra::encode_ra(c->interfaces[0], nullptr, true);
  auto g = v6lab::decode_ra(gone.data(), gone.size());
  ASSERT_TRUE(g);
  EXPECT_EQ(g->router_lifetime, 0u);
  EXPECT_EQ(g->source_lladdr, "");
}

TEST(RaConfig, Pref64LifetimeIsScaledAndCapped) {
  v6lab_ra::Nat64Prefix p;
  p.length = 64;
  p.addr[0] = 0x20, p.addr[1] = 0x01, p.addr[2] = 0x0d, p.addr[3] = 0xb8, p.addr[4] = 0x64;
  auto o = v6lab_ra::pref64_option(p, 1801);  // rounds up to 1808 = 226 * 8
  ASSERT_EQ(o.size(), 16u);
  EXPECT_EQ(o[0], 38);
  EXPECT_EQ(o[1], 2);
  EXPECT_EQ((o[2] << 8 | o[3]) >> 3, 226);
  EXPECT_EQ(o[3] & 7, 1);  // PLC 1: /64
  auto cap = v6lab_ra::pref64_option(p, 100000);
  EXPECT_EQ((cap[2] << 8 | cap[3]) >> 3, 0x1fff);  // 65528 s
}

}  // namespace
