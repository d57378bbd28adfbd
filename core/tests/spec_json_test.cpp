// Tests of spec_from_json: a resolved spec read back from its JSON (a lab's
// record) is the model its owner built, and a record that was damaged is
// refused with the field named, never half-read.
#include "issue_matchers.hpp"
#include "v6lab/spec.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "v6lab/error.hpp"
#include "v6lab/images.hpp"

namespace v6lab {
namespace {

using json = nlohmann::ordered_json;

constexpr char kOrigin[] = "record t-000001";

const ImageRegistry& TestImages() {
  static const ImageRegistry registry = ImageRegistry::from_json({
      {"test/host.json", json::parse(R"({
         "name": "host", "role": "host",
         "sysctls": {"net.ipv6.conf.default.accept_ra": "1"},
         "binaries": [{"name": "ip", "package": "iproute2"}]})")},
      {"test/router.json", json::parse(R"({
         "name": "router", "extends": "host", "role": "router",
         "sysctls": {"net.ipv6.conf.all.forwarding": "1"}})")},
      {"test/isp.json", json::parse(R"({"name": "isp", "extends": "router", "role": "provider"})")},
  });
  return registry;
}

// A LAN, a point-to-point link, a provider node of two images, MTUs, a MAC,
// static routes with a metric and a dev, and sysctls of images and node.
constexpr char kRaw[] = R"({
  "name": "t",
  "nodes": {
    "isp": {"image": ["isp", "host"], "interfaces": {"eth0": {"addresses": ["2001:db8:f::1/64"]}}},
    "r1": {"image": "router", "sysctls": {"net.ipv6.conf.all.accept_ra": 2},
           "interfaces": {"eth0": {"addresses": ["2001:db8:1::1/64", "10.0.0.1/24"],
                                   "mac": "02:00:00:00:00:01"}},
           "routes": [{"dst": "default", "via": "2001:db8:f::1", "dev": "wan", "metric": 7}]},
    "h1": {"routes": [{"dst": "10.1.0.0/16", "via": "10.0.0.1"}]}
  },
  "lans": {"lan1": {"mtu": 1400}},
  "links": [{"endpoints": ["r1", "lan1"]}, {"endpoints": ["h1", "lan1"]},
            {"endpoints": ["r1:wan", "isp"], "mtu": 1300}]
})";

json Resolved() { return parse_spec(json::parse(kRaw), "t.json", TestImages()).to_json(); }

std::vector<SpecIssue> IssuesOf(const json& j) {
  return testing_util::IssuesOf([&] { spec_from_json(j, kOrigin); });
}

::testing::AssertionResult HasIssue(const json& j, const std::string& field,
                                    const std::string& message_part) {
  return testing_util::HasIssueFrom(IssuesOf(j), kOrigin, field, message_part);
}

TEST(SpecFromJsonTest, RoundTripsExactly) {
  json j = Resolved();
  EXPECT_EQ(spec_from_json(j, kOrigin).to_json(), j);
}

TEST(SpecFromJsonTest, ReadsTheTypedModel) {
  Spec s = spec_from_json(Resolved(), kOrigin);
  EXPECT_EQ(s.name, "t");
  EXPECT_EQ(s.source, "t.json");  // the owner's source, not the record's
  const NodeSpec* isp = s.node("isp");
  ASSERT_NE(isp, nullptr);
  EXPECT_TRUE(isp->provider);
  EXPECT_EQ(isp->image, "isp+host");
  EXPECT_EQ(isp->roles, (std::vector<std::string>{"provider", "host"}));
  const NodeSpec* r1 = s.node("r1");
  ASSERT_NE(r1, nullptr);
  EXPECT_FALSE(r1->provider);
  const IfaceSpec* lan = r1->iface("eth0");
  ASSERT_NE(lan, nullptr);
  EXPECT_EQ(lan->kind, "lan");
  EXPECT_EQ(lan->lan, "lan1");
  EXPECT_EQ(lan->mtu, 1400);
  EXPECT_EQ(lan->mac, "02:00:00:00:00:01");
  ASSERT_EQ(lan->addresses.size(), 2u);
  EXPECT_EQ(lan->addresses[1].cidr(), "10.0.0.1/24");
  const IfaceSpec* wan = r1->iface("wan");
  ASSERT_NE(wan, nullptr);
  EXPECT_EQ(wan->peer_node + ":" + wan->peer_iface, "isp:eth0");
  EXPECT_EQ(wan->mtu, 1300);
  ASSERT_EQ(r1->routes.size(), 1u);
  EXPECT_EQ(r1->routes[0].dst.cidr(), "::/0");
  EXPECT_EQ(r1->routes[0].via->str(), "2001:db8:f::1");
  EXPECT_EQ(r1->routes[0].dev, "wan");
  EXPECT_EQ(r1->routes[0].metric, 7u);
  bool own_sysctl = false;
  for (const auto& [k, v] : r1->sysctls) own_sysctl |= k == "net.ipv6.conf.all.accept_ra" && v == "2";
  EXPECT_TRUE(own_sysctl);
  ASSERT_EQ(s.lans.size(), 1u);
  EXPECT_EQ(s.lan("lan1")->members.size(), 2u);
  EXPECT_EQ(s.lan("lan1")->members[1], (std::pair<std::string, std::string>{"h1", "eth0"}));
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].node_b, "isp");
  EXPECT_EQ(s.links[0].mtu, 1300);
}

TEST(SpecFromJsonTest, NotAnObject) {
  EXPECT_TRUE(testing_util::HasIssueFrom(IssuesOf(json::array()), kOrigin, "", "must be an object"));
}

TEST(SpecFromJsonTest, MissingAndMistypedFieldsAreNamed) {
  json j = Resolved();
  j["nodes"]["r1"].erase("roles");
  j["nodes"]["h1"]["provider"] = "no";
  j["nodes"]["r1"]["interfaces"]["eth0"]["addresses"] = "2001:db8:1::1/64";
  j["lans"]["lan1"]["members"][0] = 5;
  j.erase("links");
  EXPECT_TRUE(HasIssue(j, "nodes.r1.roles", "missing"));
  EXPECT_TRUE(HasIssue(j, "nodes.h1.provider", "must be true or false"));
  EXPECT_TRUE(HasIssue(j, "nodes.r1.interfaces.eth0.addresses", "must be a list"));
  EXPECT_TRUE(HasIssue(j, "lans.lan1.members[0]", "must be a string"));
  EXPECT_TRUE(HasIssue(j, "links", "missing"));
}

TEST(SpecFromJsonTest, UnknownKeysAreRefused) {
  json j = Resolved();
  j["switch"] = json::object();
  j["nodes"]["h1"]["interfaces"]["eth0"]["extra"] = 1;
  EXPECT_TRUE(HasIssue(j, "switch", "unknown key"));
  EXPECT_TRUE(HasIssue(j, "nodes.h1.interfaces.eth0.extra", "unknown key"));
}

// What parse_spec refuses because it would reach the host, or the kernel
// refuses, a record cannot bring in either.
TEST(SpecFromJsonTest, FieldsAreCheckedAsParseSpecChecksThem) {
  json j = Resolved();
  j["nodes"]["h1"]["sysctls"]["kernel.core_pattern"] = "|/tmp/x";
  j["nodes"]["h1"]["interfaces"]["eth0"]["mac"] = "01:00:00:00:00:01";
  j["nodes"]["r1"]["interfaces"]["eth0"]["addresses"][0] = "::1/128";
  j["nodes"]["r1"]["routes"][0]["via"] = "ff02::1";
  j["nodes"]["r1"]["routes"][0]["metric"] = -1;
  j["lans"]["lan1"]["mtu"] = 10;
  EXPECT_TRUE(HasIssue(j, "nodes.h1.sysctls.kernel.core_pattern", "not a per-namespace"));
  EXPECT_TRUE(HasIssue(j, "nodes.h1.interfaces.eth0.mac", "multicast"));
  EXPECT_TRUE(HasIssue(j, "nodes.r1.interfaces.eth0.addresses[0]", "loopback"));
  EXPECT_TRUE(HasIssue(j, "nodes.r1.routes[0].via", "multicast"));
  EXPECT_TRUE(HasIssue(j, "nodes.r1.routes[0].metric", "0 to 4294967295"));
  EXPECT_TRUE(HasIssue(j, "lans.lan1.mtu", "68 to 65535"));
}

TEST(SpecFromJsonTest, BadNamesAreRefused) {
  json j = Resolved();
  json node = j["nodes"]["h1"];
  j["nodes"]["../x"] = node;
  j["nodes"]["r1"]["interfaces"]["eth0"]["lan"] = "a b";
  j["lans"]["r1"] = json::parse(R"({"members": []})");
  EXPECT_TRUE(HasIssue(j, "nodes.../x", "must start with a letter"));
  EXPECT_TRUE(HasIssue(j, "nodes.r1.interfaces.eth0.lan", "must start with a letter"));
  EXPECT_TRUE(HasIssue(j, "lans.r1", "already the name of a node"));
}

TEST(SpecFromJsonTest, NodeFieldsMustAgree) {
  json j = Resolved();
  j["nodes"]["isp"]["provider"] = false;
  j["nodes"]["r1"]["image"] = "host";
  j["nodes"]["h1"]["roles"] = json::array();
  EXPECT_TRUE(HasIssue(j, "nodes.isp.provider", "provider role"));
  EXPECT_TRUE(HasIssue(j, "nodes.r1.image", "joined"));
  EXPECT_TRUE(HasIssue(j, "nodes.h1.roles", "one role per image"));
}

TEST(SpecFromJsonTest, ARouteNamesAnInterfaceOfItsNode) {
  json j = Resolved();
  j["nodes"]["r1"]["routes"][0]["dev"] = "eth9";
  EXPECT_TRUE(HasIssue(j, "nodes.r1.routes[0].dev", "no interface 'eth9'"));
}

// Graders map switch ports to nodes by LAN member position: a record whose
// LANs and interfaces disagree is refused, not read with a port moved.
TEST(SpecFromJsonTest, LanMembersAndInterfacesMustAgree) {
  json moved = Resolved();
  moved["lans"]["lan1"]["members"][1] = "isp:eth0";
  EXPECT_TRUE(HasIssue(moved, "lans.lan1.members[1]", "does not say it is on LAN 'lan1'"));
  EXPECT_TRUE(HasIssue(moved, "nodes.h1.interfaces.eth0", "is not a member of LAN 'lan1'"));

  json twice = Resolved();
  twice["lans"]["lan1"]["members"][1] = "r1:eth0";
  EXPECT_TRUE(HasIssue(twice, "lans.lan1.members[1]", "listed twice"));

  json ghost = Resolved();
  ghost["lans"]["lan1"]["members"].push_back("h1:eth7");
  EXPECT_TRUE(HasIssue(ghost, "lans.lan1.members[2]", "no interface h1:eth7"));
}

TEST(SpecFromJsonTest, LinkEndsMustNameEachOther) {
  json j = Resolved();
  j["nodes"]["isp"]["interfaces"]["eth0"]["peer"] = "h1:eth0";
  EXPECT_TRUE(HasIssue(j, "links[0].endpoints", "do not name each other"));

  json unlinked = Resolved();
  unlinked["links"] = json::array();
  EXPECT_TRUE(HasIssue(unlinked, "nodes.r1.interfaces.wan", "on no link"));
}

TEST(SpecFromJsonTest, AllProblemsAreReportedAtOnce) {
  json j = Resolved();
  j["name"] = 3;
  j["nodes"]["h1"]["image"] = json::array();
  j["lans"]["lan1"]["mtu"] = "big";
  EXPECT_GE(IssuesOf(j).size(), 3u);
}

}  // namespace
}  // namespace v6lab
