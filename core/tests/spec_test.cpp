// Tests of the topology validator: how a valid spec is resolved, and that
// every problem parse_spec can find is reported with its source, the exact
// dotted field path and a message that says what is wrong.
#include "issue_matchers.hpp"
#include "v6lab/spec.hpp"

#include <sys/socket.h>

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "v6lab/error.hpp"
#include "v6lab/images.hpp"

namespace v6lab {
namespace {

using json = nlohmann::ordered_json;

constexpr char kSource[] = "unit-test.json";

// A small registry so that these tests do not depend on images/*.json.
const ImageRegistry& TestImages() {
  static const ImageRegistry registry = ImageRegistry::from_json({
      {"test/host.json", json::parse(R"({
         "name": "host",
         "sysctls": {"net.ipv6.conf.all.forwarding": "0",
                     "net.ipv6.conf.default.accept_ra": "1"},
         "binaries": [{"name": "ip", "package": "iproute2"}]})")},
      {"test/router.json", json::parse(R"({
         "name": "router", "extends": "host",
         "sysctls": {"net.ipv6.conf.all.forwarding": "1",
                     "net.ipv4.ip_forward": "1"}})")},
  });
  return registry;
}

Spec Parse(const json& raw) { return parse_spec(raw, kSource, TestImages()); }
Spec Parse(const char* text) { return Parse(json::parse(text)); }

using testing_util::Dump;

// The issues parse_spec reports for raw; empty if it parsed.
std::vector<SpecIssue> Issues(const json& raw) {
  return testing_util::IssuesOf([&] { Parse(raw); });
}

// Passes if an issue has exactly this field and a message containing
// message_part, and every issue names kSource.
::testing::AssertionResult HasIssue(const std::vector<SpecIssue>& issues,
                                    const std::string& field,
                                    const std::string& message_part) {
  for (const auto& i : issues)
    if (i.source != kSource)
      return ::testing::AssertionFailure() << "issue with wrong source: " << i.str();
  return testing_util::HasIssueFrom(issues, kSource, field, message_part);
}

// A valid lab: r1:eth0 on lan1, r1:eth1 <-> h1:eth0.
constexpr char kBase[] = R"({
  "name": "t",
  "nodes": {"r1": {"image": "router"}, "h1": {}},
  "lans": {"lan1": {}},
  "links": [{"endpoints": ["r1", "lan1"]}, {"endpoints": ["r1", "h1"]}]
})";

// kBase with a JSON merge patch applied, except that links in the patch are
// appended (so the first added link is links[2]).
json MakeSpec(const char* patch_text) {
  json spec = json::parse(kBase);
  json patch = json::parse(patch_text);
  if (patch.contains("links") && patch["links"].is_array()) {
    for (const auto& l : patch["links"]) spec["links"].push_back(l);
    patch.erase("links");
  }
  spec.merge_patch(patch);
  return spec;
}

std::vector<std::string> Members(const LanSpec& lan) {
  std::vector<std::string> out;
  for (const auto& [n, i] : lan.members) out.push_back(n + ":" + i);
  return out;
}

std::vector<std::string> IfaceNames(const NodeSpec& node) {
  std::vector<std::string> out;
  for (const auto& i : node.ifaces) out.push_back(i.name);
  return out;
}

std::vector<std::string> Cidrs(const IfaceSpec& iface) {
  std::vector<std::string> out;
  for (const auto& a : iface.addresses) out.push_back(a.cidr());
  return out;
}

using Strings = std::vector<std::string>;
using Sysctls = std::vector<std::pair<std::string, std::string>>;

// ------------------------------------------------------------ valid specs

TEST(SpecResolveTest, BaseSpecIsValid) {
  EXPECT_TRUE(Issues(MakeSpec("{}")).empty()) << Dump(Issues(MakeSpec("{}")));
}

// examples/small.yaml, as JSON.
constexpr char kSmall[] = R"({
  "name": "small",
  "nodes": {
    "r1": {"image": "router", "interfaces": {
      "eth0": {"addresses": ["2001:db8:1::1/64"]},
      "eth1": {"addresses": ["2001:db8:2::1/64"]}}},
    "h1": {"interfaces": {"eth0": {"addresses": ["2001:db8:1::10/64"]}},
           "routes": [{"dst": "default", "via": "2001:db8:1::1"}]},
    "h2": {"interfaces": {"eth0": {"addresses": ["2001:db8:1::20/64"]}},
           "routes": [{"dst": "default", "via": "2001:db8:1::1"}]},
    "h3": {"interfaces": {"eth0": {"addresses": ["2001:db8:2::30/64"]}},
           "routes": [{"dst": "default", "via": "2001:db8:2::1"}]}
  },
  "lans": {"lan1": {}},
  "links": [
    {"endpoints": ["r1", "lan1"]},
    {"endpoints": ["h1", "lan1"]},
    {"endpoints": ["h2", "lan1"]},
    {"endpoints": ["r1", "h3"]}
  ]
})";

TEST(SpecResolveTest, SmallExample) {
  Spec s = Parse(kSmall);
  EXPECT_EQ(s.name, "small");
  EXPECT_EQ(s.source, kSource);
  ASSERT_EQ(s.nodes.size(), 4u);

  const NodeSpec* r1 = s.node("r1");
  ASSERT_NE(r1, nullptr);
  EXPECT_EQ(r1->image, "router");
  EXPECT_EQ(IfaceNames(*r1), (Strings{"eth0", "eth1"}));
  const IfaceSpec* r1e0 = r1->iface("eth0");
  EXPECT_EQ(r1e0->kind, "lan");
  EXPECT_EQ(r1e0->lan, "lan1");
  EXPECT_EQ(Cidrs(*r1e0), (Strings{"2001:db8:1::1/64"}));
  const IfaceSpec* r1e1 = r1->iface("eth1");
  EXPECT_EQ(r1e1->kind, "link");
  EXPECT_EQ(r1e1->peer_node, "h3");
  EXPECT_EQ(r1e1->peer_iface, "eth0");
  EXPECT_EQ(Cidrs(*r1e1), (Strings{"2001:db8:2::1/64"}));

  const IfaceSpec* h3e0 = s.node("h3")->iface("eth0");
  ASSERT_NE(h3e0, nullptr);
  EXPECT_EQ(h3e0->peer_node, "r1");
  EXPECT_EQ(h3e0->peer_iface, "eth1");

  ASSERT_EQ(s.lans.size(), 1u);
  EXPECT_EQ(Members(s.lans[0]), (Strings{"r1:eth0", "h1:eth0", "h2:eth0"}));
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].node_a + ":" + s.links[0].iface_a, "r1:eth1");
  EXPECT_EQ(s.links[0].node_b + ":" + s.links[0].iface_b, "h3:eth0");

  const NodeSpec* h1 = s.node("h1");
  EXPECT_EQ(h1->image, "host");  // the default image
  ASSERT_EQ(h1->routes.size(), 1u);
  EXPECT_EQ(h1->routes[0].dst.cidr(), "::/0");
  ASSERT_TRUE(h1->routes[0].via.has_value());
  EXPECT_EQ(h1->routes[0].via->str(), "2001:db8:1::1");
  EXPECT_TRUE(h1->routes[0].dev.empty());
  EXPECT_FALSE(h1->routes[0].metric.has_value());
}

TEST(SpecResolveTest, InterfacesNamedInLinkOrderExplicitNamesReservedFirst) {
  Spec s = Parse(R"({
    "nodes": {"h1": {}, "r1": {}},
    "lans": {"lan1": {}, "lan2": {}},
    "links": [
      {"endpoints": ["h1", "lan1"]},
      {"endpoints": ["h1:eth0", "r1"]},
      {"endpoints": ["lan2", "h1"]},
      {"endpoints": ["r1", "h1:eth2"]},
      {"endpoints": ["h1", "r1:uplink"]}
    ]})");
  // eth0 and eth2 are reserved; the others get the lowest free ethN.
  EXPECT_EQ(IfaceNames(*s.node("h1")),
            (Strings{"eth1", "eth0", "eth3", "eth2", "eth4"}));
  EXPECT_EQ(IfaceNames(*s.node("r1")), (Strings{"eth0", "eth1", "uplink"}));
  EXPECT_EQ(Members(s.lans[0]), (Strings{"h1:eth1"}));
  EXPECT_EQ(Members(s.lans[1]), (Strings{"h1:eth3"}));
  const IfaceSpec* h1e4 = s.node("h1")->iface("eth4");
  EXPECT_EQ(h1e4->peer_node + ":" + h1e4->peer_iface, "r1:uplink");
  EXPECT_EQ(s.name, "lab");  // the default name
}

TEST(SpecResolveTest, LanMembersInLinkOrder) {
  Spec s = Parse(R"({
    "nodes": {"a": null, "b": {}, "c": {}},
    "lans": {"lan1": null},
    "links": [{"endpoints": ["c", "lan1"]},
              {"endpoints": ["lan1", "a:wan0"]},
              {"endpoints": ["b", "lan1"]}]})");
  EXPECT_EQ(Members(s.lans[0]), (Strings{"c:eth0", "a:wan0", "b:eth0"}));
}

TEST(SpecResolveTest, EndpointAndNodeInterfaceSettingsMerged) {
  Spec s = Parse(R"({
    "nodes": {
      "a": {"interfaces": {"eth0": {"addresses": ["10.0.0.1/24"],
                                     "mtu": 9000}}},
      "b": {"interfaces": {"p0": {"mac": "02:00:00:00:00:0b"}}}},
    "links": [{"endpoints": [
        {"node": "a", "addresses": ["2001:db8::a/64"], "mtu": 1450,
         "mac": "02:00:00:00:00:0a"},
        {"node": "b", "interface": "p0", "addresses": ["2001:db8::b/64"]}],
      "mtu": 1400}]})");
  const IfaceSpec* a = s.node("a")->iface("eth0");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(Cidrs(*a), (Strings{"2001:db8::a/64", "10.0.0.1/24"}));
  EXPECT_EQ(a->mac, "02:00:00:00:00:0a");
  EXPECT_EQ(a->mtu, 9000);  // node setting over endpoint over link
  const IfaceSpec* b = s.node("b")->iface("p0");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(Cidrs(*b), (Strings{"2001:db8::b/64"}));
  EXPECT_EQ(b->mac, "02:00:00:00:00:0b");
  EXPECT_EQ(b->mtu, 1400);  // the link's MTU
  EXPECT_EQ(s.links[0].mtu, 1400);
}

TEST(SpecResolveTest, EndpointMtuOverridesLinkMtu) {
  Spec s = Parse(R"({
    "nodes": {"a": {}, "b": {}},
    "links": [{"endpoints": [{"node": "a", "mtu": 1450}, "b"],
               "mtu": 1400}]})");
  EXPECT_EQ(s.node("a")->iface("eth0")->mtu, 1450);
  EXPECT_EQ(s.node("b")->iface("eth0")->mtu, 1400);
}

TEST(SpecResolveTest, LanMtuAppliedUnlessLinkGivesOne) {
  Spec s = Parse(R"({
    "nodes": {"a": {}, "b": {}, "c": {}},
    "lans": {"lan1": {"mtu": 1280}},
    "links": [{"endpoints": ["a", "lan1"]},
              {"endpoints": ["b", "lan1"], "mtu": 1500},
              {"endpoints": ["lan1", {"node": "c", "mtu": 9000}]}]})");
  EXPECT_EQ(s.lans[0].mtu, 1280);
  EXPECT_EQ(s.node("a")->iface("eth0")->mtu, 1280);
  EXPECT_EQ(s.node("b")->iface("eth0")->mtu, 1500);
  EXPECT_EQ(s.node("c")->iface("eth0")->mtu, 9000);
}

TEST(SpecResolveTest, NodeSysctlsOverlayImageSysctls) {
  Spec s = Parse(R"({
    "nodes": {"r1": {"image": "router", "sysctls": {
      "net.ipv6.conf.all.forwarding": 0,
      "net.ipv6.conf.all.accept_redirects": "0"}}}})");
  const NodeSpec* r1 = s.node("r1");
  EXPECT_EQ(r1->sysctls, (Sysctls{{"net.ipv6.conf.all.forwarding", "0"},
                                  {"net.ipv6.conf.default.accept_ra", "1"},
                                  {"net.ipv4.ip_forward", "1"},
                                  {"net.ipv6.conf.all.accept_redirects", "0"}}));
  ASSERT_EQ(r1->binaries.size(), 1u);
  EXPECT_EQ(r1->binaries[0].name, "ip");
  EXPECT_EQ(r1->binaries[0].package, "iproute2");
  EXPECT_TRUE(r1->ifaces.empty());
}

TEST(SpecResolveTest, DefaultRouteTakesTheGatewayFamily) {
  Spec s = Parse(MakeSpec(R"({"nodes": {"h1": {"routes": [
    {"dst": "default", "via": "2001:db8::1", "metric": 100},
    {"dst": "default", "via": "192.0.2.1"},
    {"dst": "default", "dev": "eth0"},
    {"dst": "default", "via": "fe80::1", "dev": "eth0", "metric": 200},
    {"dst": "2001:db8:2::/64", "dev": "eth0"},
    {"dst": "198.51.100.0/24", "via": "192.0.2.1", "dev": "eth0"}]}}})"));
  const auto& r = s.node("h1")->routes;
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].dst.cidr(), "::/0");
  EXPECT_EQ(r[0].metric, 100u);
  EXPECT_EQ(r[1].dst.cidr(), "0.0.0.0/0");
  EXPECT_EQ(r[1].dst.family, AF_INET);
  EXPECT_EQ(r[2].dst.cidr(), "::/0");
  EXPECT_EQ(r[2].dev, "eth0");
  EXPECT_FALSE(r[2].via.has_value());
  EXPECT_TRUE(r[3].via->is_link_local());
  EXPECT_EQ(r[4].dst.cidr(), "2001:db8:2::/64");
  EXPECT_EQ(r[5].via->str(), "192.0.2.1");
}

TEST(SpecResolveTest, ToJsonHasResolvedFields) {
  json j = Parse(MakeSpec(R"({
    "nodes": {"h1": {"interfaces": {"eth0": {
                       "addresses": ["2001:db8:0::10/64"],
                       "mac": "02:00:00:00:00:10"}},
                     "routes": [{"dst": "default", "via": "2001:db8::1",
                                 "dev": "eth0", "metric": 5}]}},
    "lans": {"lan1": {"mtu": 1400}},
    "links": [{"endpoints": ["h1:wan", "r1"], "mtu": 1300}]})"))
               .to_json();
  EXPECT_EQ(j["name"], "t");
  EXPECT_EQ(j["source"], kSource);
  EXPECT_EQ(j["nodes"]["r1"]["image"], "router");
  EXPECT_EQ(j["nodes"]["r1"]["sysctls"]["net.ipv6.conf.all.forwarding"], "1");
  EXPECT_EQ(j["nodes"]["h1"]["image"], "host");
  EXPECT_EQ(j["nodes"]["h1"]["sysctls"]["net.ipv6.conf.all.forwarding"], "0");
  EXPECT_EQ(j["nodes"]["h1"]["binaries"],
            json::parse(R"([{"name": "ip", "package": "iproute2"}])"));
  EXPECT_EQ(j["nodes"]["h1"]["interfaces"]["eth0"],
            json::parse(R"({"kind": "link", "peer": "r1:eth1",
                            "mac": "02:00:00:00:00:10",
                            "addresses": ["2001:db8::10/64"]})"));
  EXPECT_EQ(j["nodes"]["h1"]["interfaces"]["wan"],
            json::parse(R"({"kind": "link", "peer": "r1:eth2", "mtu": 1300,
                            "addresses": []})"));
  EXPECT_EQ(j["nodes"]["r1"]["interfaces"]["eth0"],
            json::parse(R"({"kind": "lan", "lan": "lan1", "mtu": 1400,
                            "addresses": []})"));
  EXPECT_EQ(j["nodes"]["h1"]["routes"],
            json::parse(R"([{"dst": "::/0", "via": "2001:db8::1",
                             "dev": "eth0", "metric": 5}])"));
  EXPECT_EQ(j["lans"]["lan1"],
            json::parse(R"({"mtu": 1400, "members": ["r1:eth0"]})"));
  EXPECT_EQ(j["links"], json::parse(R"([
    {"endpoints": ["r1:eth1", "h1:eth0"]},
    {"endpoints": ["h1:wan", "r1:eth2"], "mtu": 1300}])"));
}

// ------------------------------------------------------------ errors

struct ErrorCase {
  const char* name;
  const char* patch;    // merge patch on kBase; links are appended
  const char* field;    // exact dotted path of the issue
  const char* message;  // part of its message
  bool only = true;     // false: the mistake also causes follow-on issues
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class SpecErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(SpecErrorTest, IsReported) {
  const ErrorCase& c = GetParam();
  auto issues = Issues(MakeSpec(c.patch));
  EXPECT_TRUE(HasIssue(issues, c.field, c.message));
  if (c.only) {
    EXPECT_EQ(issues.size(), 1u) << Dump(issues);
  }
}

const ErrorCase kErrorCases[] = {
    // Top level.
    {"UnknownTopKey", R"({"node": {}})", "node",
     "unknown key (expected one of: lans, links, name, nodes)"},
    {"BadLabName", R"({"name": "1lab"})", "name", "must start with a letter"},
    {"LabNameNotString", R"({"name": 7})", "name", "must be a string"},
    {"NodesNotObject", R"({"nodes": ["r1", "h1"]})", "nodes",
     "must be a non-empty object", false},

    // Nodes.
    {"BadNodeName", R"({"nodes": {"2fast": {}}})", "nodes.2fast",
     "must start with a letter"},
    {"NodeNameTooLong",
     R"({"nodes": {"abcdefghijklmnopqrstuvwxyz0123456": {}}})",
     "nodes.abcdefghijklmnopqrstuvwxyz0123456", "(at most 32)"},
    {"NodeNameWithDot", R"({"nodes": {"h.2": {}}})", "nodes.h.2",
     "must start with a letter"},
    {"NodeNotObject", R"({"nodes": {"h2": "host"}})", "nodes.h2",
     "must be an object (or empty)"},
    {"UnknownNodeKey", R"({"nodes": {"h1": {"route": []}}})", "nodes.h1.route",
     "unknown key (expected one of: binaries, image, interfaces, provider, routes, sysctls)"},
    {"ImageNotString", R"({"nodes": {"h1": {"image": 3}}})", "nodes.h1.image",
     "must be the name of an image"},
    {"UnknownImage", R"({"nodes": {"h1": {"image": "switch"}}})",
     "nodes.h1.image", "unknown image 'switch' (known: host, router)"},
    {"SysctlsNotObject",
     R"({"nodes": {"h1": {"sysctls": ["net.ipv4.ip_forward"]}}})",
     "nodes.h1.sysctls", "must be an object of key: value"},
    {"NonNetSysctl",
     R"({"nodes": {"h1": {"sysctls": {"kernel.hostname": "x"}}}})",
     "nodes.h1.sysctls.kernel.hostname",
     "sysctl 'kernel.hostname' is not a per-namespace 'net.' key"},
    {"SysctlPathTraversal",
     R"({"nodes": {"h1": {"sysctls": {"net/../kernel/x": "1"}}}})",
     "nodes.h1.sysctls.net/../kernel/x", "is not a per-namespace 'net.' key"},
    {"SysctlValueNotScalar",
     R"({"nodes": {"h1": {"sysctls": {"net.ipv4.ip_forward": true}}}})",
     "nodes.h1.sysctls.net.ipv4.ip_forward",
     "value must be a string or an integer"},
    {"InterfacesNotObject", R"({"nodes": {"h1": {"interfaces": ["eth0"]}}})",
     "nodes.h1.interfaces", "must be an object of interface name: settings"},
    {"InterfaceNameTooLong",
     R"({"nodes": {"h1": {"interfaces": {"abcdefghijklmnop": {}}}}})",
     "nodes.h1.interfaces.abcdefghijklmnop", "must be 1 to 15 bytes long"},
    {"InterfaceNameLo", R"({"nodes": {"h1": {"interfaces": {"lo": {}}}}})",
     "nodes.h1.interfaces.lo", "interface name 'lo' is reserved"},
    {"InterfaceNameWithSpace",
     R"({"nodes": {"h1": {"interfaces": {"eth 0": {}}}}})",
     "nodes.h1.interfaces.eth 0", "may not contain '/', ':', spaces"},
    {"InterfaceNameWithColon",
     R"({"nodes": {"h1": {"interfaces": {"eth0:1": {}}}}})",
     "nodes.h1.interfaces.eth0:1", "may not contain '/', ':', spaces"},
    {"InterfaceNotObject",
     R"({"nodes": {"h1": {"interfaces": {"eth0": ["2001:db8::1/64"]}}}})",
     "nodes.h1.interfaces.eth0", "must be an object with addresses, mtu or mac"},
    {"UnknownInterfaceKey",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {"address": "x"}}}}})",
     "nodes.h1.interfaces.eth0.address",
     "unknown key (expected one of: addresses, mac, mtu)"},
    {"InterfaceNoLinkCreates",
     R"({"nodes": {"h1": {"interfaces": {"eth1": {}}}}})",
     "nodes.h1.interfaces.eth1",
     "node h1 has no interface eth1 (no link creates it; it has: eth0)"},
    {"InterfaceOnUnlinkedNode",
     R"({"nodes": {"h2": {"interfaces": {"eth0": {}}}}})",
     "nodes.h2.interfaces.eth0", "no link creates it; it has: none"},

    // LANs.
    {"LansNotObject", R"({"lans": ["lan1"]})", "lans",
     "must be an object of LAN name: settings", false},
    {"BadLanName", R"({"lans": {"lan 2": {}}})", "lans.lan 2",
     "must start with a letter"},
    {"LanNamedLikeNode", R"({"lans": {"h1": {}}})", "lans.h1",
     "'h1' is already the name of a node"},
    {"LanNotObject", R"({"lans": {"lan2": 1500}})", "lans.lan2",
     "must be an object (or empty)"},
    {"UnknownLanKey", R"({"lans": {"lan1": {"prefix": "2001:db8::/64"}}})",
     "lans.lan1.prefix", "unknown key (expected one of: mtu)"},
    {"LanMtuTooSmall", R"({"lans": {"lan1": {"mtu": 67}}})", "lans.lan1.mtu",
     "must be an integer from 68 to 65535"},
    {"LanMtuTooLarge", R"({"lans": {"lan1": {"mtu": 65536}}})",
     "lans.lan1.mtu", "must be an integer from 68 to 65535"},
    {"LanMtuNotInteger", R"({"lans": {"lan1": {"mtu": "1500"}}})",
     "lans.lan1.mtu", "must be an integer from 68 to 65535"},
    {"LanMtuFractional", R"({"lans": {"lan1": {"mtu": 1500.5}}})",
     "lans.lan1.mtu", "must be an integer from 68 to 65535"},

    // Links.
    {"LinksNotList", R"({"links": {"a": ["h1", "r1"]}})", "links",
     "must be a list of {endpoints: [a, b]}"},
    {"LinkWithOneEndpoint", R"({"links": [{"endpoints": ["h1"]}]})",
     "links[2].endpoints", "a link needs exactly two endpoints"},
    {"LinkWithThreeEndpoints",
     R"({"links": [{"endpoints": ["h1", "r1", "lan1"]}]})",
     "links[2].endpoints", "a link needs exactly two endpoints"},
    {"LinkNotObject", R"({"links": [["h1", "lan1"]]})", "links[2].endpoints",
     "a link needs exactly two endpoints"},
    {"UnknownLinkKey",
     R"({"links": [{"endpoints": ["h1", "lan1"], "delay": "10ms"}]})",
     "links[2].delay", "unknown key (expected one of: endpoints, mtu)"},
    {"LinkMtuOutOfRange",
     R"({"links": [{"endpoints": ["h1", "lan1"], "mtu": 70000}]})",
     "links[2].mtu", "must be an integer from 68 to 65535"},

    // Endpoints.
    {"EndpointNotStringOrObject", R"({"links": [{"endpoints": [7, "lan1"]}]})",
     "links[2].endpoints[0]",
     R"(must be "node", "node:interface", a LAN name, or an object with node)"},
    {"EndpointObjectWithoutNode",
     R"({"links": [{"endpoints": [{"interface": "eth5"}, "lan1"]}]})",
     "links[2].endpoints[0]", "an object with node"},
    {"UnknownEndpointKey",
     R"({"links": [{"endpoints": [{"node": "h1", "ip": "x"}, "lan1"]}]})",
     "links[2].endpoints[0].ip",
     "unknown key (expected one of: addresses, interface, mac, mtu, node)"},
    {"EndpointInterfaceNotString",
     R"({"links": [{"endpoints": [{"node": "h1", "interface": 0}, "lan1"]}]})",
     "links[2].endpoints[0].interface", "must be a string"},
    {"EndpointInterfaceTooLong",
     R"({"links": [{"endpoints": ["h1:abcdefghijklmnop", "lan1"]}]})",
     "links[2].endpoints[0]",
     "interface name 'abcdefghijklmnop' must be 1 to 15 bytes long"},
    {"EndpointInterfaceEmpty", R"({"links": [{"endpoints": ["h1:", "lan1"]}]})",
     "links[2].endpoints[0]", "interface name '' must be 1 to 15 bytes long"},
    {"EndpointInterfaceWithSlash",
     R"({"links": [{"endpoints": ["h1:eth/0", "lan1"]}]})",
     "links[2].endpoints[0]", "'eth/0' may not contain '/', ':', spaces"},
    {"EndpointInterfaceWithColon",
     R"({"links": [{"endpoints": [{"node": "h1", "interface": "e:0"}, "r1"]}]})",
     "links[2].endpoints[0]", "'e:0' may not contain '/', ':', spaces"},
    {"EndpointInterfaceWithSpace",
     R"({"links": [{"endpoints": ["lan1", "h1:eth 1"]}]})",
     "links[2].endpoints[1]", "'eth 1' may not contain '/', ':', spaces"},
    {"EndpointInterfaceLo", R"({"links": [{"endpoints": ["h1:lo", "lan1"]}]})",
     "links[2].endpoints[0]", "interface name 'lo' is reserved"},
    {"DanglingEndpoint", R"({"links": [{"endpoints": ["h1", "lan9"]}]})",
     "links[2].endpoints[1]", "'lan9' is neither a node nor a LAN"},
    {"DanglingObjectEndpoint",
     R"({"links": [{"endpoints": [{"node": "h9"}, "lan1"]}]})",
     "links[2].endpoints[0]", "'h9' is neither a node nor a LAN"},
    {"LanEndpointWithInterface",
     R"({"links": [{"endpoints": ["h1", "lan1:eth0"]}]})",
     "links[2].endpoints[1]", "a LAN endpoint takes no interface or settings"},
    {"LanEndpointWithSettings",
     R"({"links": [{"endpoints": ["h1", {"node": "lan1", "mtu": 1500}]}]})",
     "links[2].endpoints[1]", "a LAN endpoint takes no interface or settings"},
    {"LinkJoinsTwoLans",
     R"({"lans": {"lan2": {}}, "links": [{"endpoints": ["lan1", "lan2"]}]})",
     "links[2].endpoints", "a link cannot join two LANs"},
    {"DuplicateInterface",
     R"({"links": [{"endpoints": ["h1:eth5", "lan1"]},
                   {"endpoints": ["r1", "h1:eth5"]}]})",
     "links[3].endpoints[1]",
     "interface h1:eth5 is already used by links[2].endpoints[0]"},
    {"EndpointMtuOutOfRange",
     R"({"links": [{"endpoints": [{"node": "h1", "mtu": 67}, "lan1"]}]})",
     "links[2].endpoints[0].mtu", "must be an integer from 68 to 65535"},
    {"EndpointAddressInvalid",
     R"({"links": [{"endpoints": [
         {"node": "h1", "addresses": ["2001:db8::1/200"]}, "lan1"]}]})",
     "links[2].endpoints[0].addresses[0]",
     "prefix length 200 in '2001:db8::1/200' is out of range (0..128)"},
    {"EndpointMacMulticast",
     R"({"links": [{"endpoints": [
         {"node": "h1", "mac": "ff:ff:ff:ff:ff:ff"}, "lan1"]}]})",
     "links[2].endpoints[0].mac", "is a multicast address"},

    // Addresses.
    {"AddressesNotList",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "addresses": "2001:db8::1/64"}}}}})",
     "nodes.h1.interfaces.eth0.addresses",
     "must be a list of address/length strings"},
    {"AddressNotString",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {"addresses": [64]}}}}})",
     "nodes.h1.interfaces.eth0.addresses[0]", "must be a string like"},
    {"AddressInvalid",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "addresses": ["2001:db8::1/64", "2001:db8::g/64"]}}}}})",
     "nodes.h1.interfaces.eth0.addresses[1]",
     "'2001:db8::g' is not an IPv6 or IPv4 address"},
    {"AddressWithoutPrefix",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "addresses": ["2001:db8::1"]}}}}})",
     "nodes.h1.interfaces.eth0.addresses[0]",
     "'2001:db8::1' has no prefix length"},
    {"AddressEmptyPrefix",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "addresses": ["2001:db8::1/"]}}}}})",
     "nodes.h1.interfaces.eth0.addresses[0]",
     "invalid prefix length '' in '2001:db8::1/'"},
    {"AddressPrefixNotNumber",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "addresses": ["2001:db8::1/6x"]}}}}})",
     "nodes.h1.interfaces.eth0.addresses[0]", "invalid prefix length '6x'"},
    {"AddressPrefix129",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "addresses": ["2001:db8::1/129"]}}}}})",
     "nodes.h1.interfaces.eth0.addresses[0]",
     "prefix length 129 in '2001:db8::1/129' is out of range (0..128)"},
    {"Ipv4AddressPrefix33",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "addresses": ["192.0.2.1/33"]}}}}})",
     "nodes.h1.interfaces.eth0.addresses[0]",
     "prefix length 33 in '192.0.2.1/33' is out of range (0..32)"},
    {"AddressListedTwice",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "addresses": ["2001:db8::1/64", "2001:DB8:0:0::1/64"]}}}}})",
     "nodes.h1.interfaces.eth0.addresses[1]",
     "address 2001:db8::1/64 is listed twice"},
    {"AddressOnLinkAndNode",
     R"({"nodes": {"h1": {"interfaces": {"eth5": {
         "addresses": ["2001:db8::5/64"]}}}},
        "links": [{"endpoints": [{"node": "h1", "interface": "eth5",
                                  "addresses": ["2001:db8::5/64"]},
                                 "lan1"]}]})",
     "nodes.h1.interfaces.eth5.addresses",
     "address 2001:db8::5/64 is also given on the link that creates h1:eth5"},
    {"SysctlForMissingInterface",
     R"({"nodes": {"h1": {"sysctls": {"net.ipv6.conf.eth7.accept_ra": 0}}}})",
     "nodes.h1.sysctls.net.ipv6.conf.eth7.accept_ra",
     "node h1 has no interface eth7"},

    // MACs and MTUs on interfaces.
    {"MacTooShort",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "mac": "02:00:00:00:01"}}}}})",
     "nodes.h1.interfaces.eth0.mac",
     "must be a MAC address like 02:00:00:00:00:01"},
    {"MacWithDashes",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "mac": "02-00-00-00-00-01"}}}}})",
     "nodes.h1.interfaces.eth0.mac", "must be a MAC address"},
    {"MacTooLong",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "mac": "02:00:00:00:00:01:02"}}}}})",
     "nodes.h1.interfaces.eth0.mac", "must be a MAC address"},
    {"MacNotString",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {"mac": 2}}}}})",
     "nodes.h1.interfaces.eth0.mac", "must be a MAC address"},
    {"MacNotHex",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "mac": "02:00:00:00:00:0g"}}}}})",
     "nodes.h1.interfaces.eth0.mac", "must be a MAC address"},
    {"MacMulticast",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {
         "mac": "01:00:5e:00:00:01"}}}}})",
     "nodes.h1.interfaces.eth0.mac",
     "'01:00:5e:00:00:01' is a multicast address"},
    {"MacOnLinkAndNode",
     R"({"nodes": {"h1": {"interfaces": {"eth5": {
         "mac": "02:00:00:00:00:06"}}}},
        "links": [{"endpoints": [{"node": "h1", "interface": "eth5",
                                  "mac": "02:00:00:00:00:05"},
                                 "lan1"]}]})",
     "nodes.h1.interfaces.eth5.mac",
     "the MAC of h1:eth5 is also set on its link"},
    {"InterfaceMtuTooSmall",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {"mtu": 0}}}}})",
     "nodes.h1.interfaces.eth0.mtu", "must be an integer from 68 to 65535"},
    {"InterfaceMtuTooLarge",
     R"({"nodes": {"h1": {"interfaces": {"eth0": {"mtu": 100000}}}}})",
     "nodes.h1.interfaces.eth0.mtu", "must be an integer from 68 to 65535"},

    // Routes (h1 has eth0, towards r1).
    {"RoutesNotList",
     R"({"nodes": {"h1": {"routes": {"dst": "default", "dev": "eth0"}}}})",
     "nodes.h1.routes", "must be a list of {dst, via, dev, metric}"},
    {"RouteNotObject", R"({"nodes": {"h1": {"routes": ["default"]}}})",
     "nodes.h1.routes[0]", "must be an object with dst and via or dev"},
    {"UnknownRouteKey",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "default", "via": "2001:db8::1", "gateway": "x"}]}}})",
     "nodes.h1.routes[0].gateway",
     "unknown key (expected one of: dev, dst, metric, via)"},
    {"RouteMissingDst",
     R"({"nodes": {"h1": {"routes": [{"via": "2001:db8::1"}]}}})",
     "nodes.h1.routes[0].dst", "missing: a prefix such as"},
    {"RouteDstNotString",
     R"({"nodes": {"h1": {"routes": [{"dst": 0, "dev": "eth0"}]}}})",
     "nodes.h1.routes[0].dst", "missing: a prefix such as"},
    {"RouteDstPrefixOutOfRange",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "2001:db8::/129", "dev": "eth0"}]}}})",
     "nodes.h1.routes[0].dst", "is out of range (0..128)"},
    {"RouteDstWithoutPrefix",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "2001:db8:2::", "dev": "eth0"}]}}})",
     "nodes.h1.routes[0].dst", "'2001:db8:2::' has no prefix length"},
    {"RouteDstInvalid",
     R"({"nodes": {"h1": {"routes": [{"dst": "anywhere/64", "dev": "eth0"}]}}})",
     "nodes.h1.routes[0].dst", "'anywhere' is not an IPv6 or IPv4 address"},
    {"RouteDstHostBits",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "2001:db8:2::1/64", "dev": "eth0"}]}}})",
     "nodes.h1.routes[0].dst", "'2001:db8:2::1/64' has host bits set after /64"},
    {"RouteIpv4DstHostBits",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "198.51.100.1/24", "via": "192.0.2.1"}]}}})",
     "nodes.h1.routes[0].dst", "'198.51.100.1/24' has host bits set after /24"},
    {"RouteViaNotString",
     R"({"nodes": {"h1": {"routes": [{"dst": "default", "via": 1}]}}})",
     "nodes.h1.routes[0].via", "must be an address", false},
    {"RouteViaInvalid",
     R"({"nodes": {"h1": {"routes": [{"dst": "default", "via": "gw"}]}}})",
     "nodes.h1.routes[0].via", "'gw' is not an IPv6 or IPv4 address", false},
    {"RouteViaWithPrefix",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "default", "via": "2001:db8::1/64"}]}}})",
     "nodes.h1.routes[0].via",
     "a gateway is an address, without a prefix length"},
    {"RouteFamilyMismatch",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "198.51.100.0/24", "via": "2001:db8::1"}]}}})",
     "nodes.h1.routes[0].via",
     "gateway 2001:db8::1 is not of the destination's address family"},
    {"RouteFamilyMismatchIpv4Via",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "2001:db8:2::/64", "via": "192.0.2.1"}]}}})",
     "nodes.h1.routes[0].via",
     "gateway 192.0.2.1 is not of the destination's address family"},
    {"RouteLinkLocalViaWithoutDev",
     R"({"nodes": {"h1": {"routes": [{"dst": "default", "via": "fe80::1"}]}}})",
     "nodes.h1.routes[0].dev",
     "a link-local gateway (fe80::1) needs dev: the interface"},
    {"RouteWithoutViaOrDev",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "default", "dev": "eth0"}, {"dst": "2001:db8:2::/64"}]}}})",
     "nodes.h1.routes[1]",
     "a route needs via (a gateway) or dev (an interface)"},
    {"RouteUnknownDev",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "2001:db8:2::/64", "dev": "eth9"}]}}})",
     "nodes.h1.routes[0].dev", "node h1 has no interface eth9", false},
    {"RouteDevNotString",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "2001:db8:2::/64", "via": "2001:db8::1", "dev": 0}]}}})",
     "nodes.h1.routes[0].dev", "node h1 has no interface 0"},
    {"RouteNegativeMetric",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "default", "dev": "eth0", "metric": -1}]}}})",
     "nodes.h1.routes[0].metric", "must be an integer from 0 to 4294967295"},
    {"RouteMetricString",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "default", "dev": "eth0", "metric": "100"}]}}})",
     "nodes.h1.routes[0].metric", "must be an integer from 0 to 4294967295"},
    {"RouteMetricFractional",
     R"({"nodes": {"h1": {"routes": [
         {"dst": "default", "dev": "eth0", "metric": 1.5}]}}})",
     "nodes.h1.routes[0].metric", "must be an integer from 0 to 4294967295"},
};

INSTANTIATE_TEST_SUITE_P(
    SpecChecks, SpecErrorTest, ::testing::ValuesIn(kErrorCases),
    [](const ::testing::TestParamInfo<ErrorCase>& info) {
      return std::string(info.param.name);
    });

TEST(SpecErrorTopLevelTest, NonObjectTopology) {
  for (const char* text : {"[]", "\"lab\"", "null", "42"}) {
    auto issues = Issues(json::parse(text));
    EXPECT_TRUE(HasIssue(issues, "", "a topology must be an object"))
        << "input: " << text;
    EXPECT_EQ(issues.size(), 1u) << Dump(issues);
  }
}

TEST(SpecErrorTopLevelTest, EmptyOrMissingNodes) {
  for (const char* text : {R"({"nodes": {}})", "{}", R"({"nodes": null})"}) {
    auto issues = Issues(json::parse(text));
    EXPECT_TRUE(HasIssue(issues, "nodes", "must be a non-empty object"))
        << "input: " << text;
    EXPECT_EQ(issues.size(), 1u) << Dump(issues);
  }
}

TEST(SpecErrorTopLevelTest, ReportsEveryProblemAtOnce) {
  auto issues = Issues(MakeSpec(R"({
    "colour": "blue",
    "nodes": {"h1": {"image": "switch", "interfaces": {"eth0": {
                       "addresses": ["2001:db8::1/129"]}}}},
    "lans": {"lan1": {"mtu": 10}},
    "links": [{"endpoints": ["h1", "nowhere"]}]})"));
  EXPECT_GT(issues.size(), 1u);
  EXPECT_EQ(issues.size(), 5u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "colour", "unknown key"));
  EXPECT_TRUE(HasIssue(issues, "nodes.h1.image", "unknown image 'switch'"));
  EXPECT_TRUE(HasIssue(issues, "nodes.h1.interfaces.eth0.addresses[0]",
                       "out of range"));
  EXPECT_TRUE(HasIssue(issues, "lans.lan1.mtu", "68 to 65535"));
  EXPECT_TRUE(HasIssue(issues, "links[2].endpoints[1]",
                       "'nowhere' is neither a node nor a LAN"));
}

TEST(SpecErrorTopLevelTest, WhatListsEveryIssueWithSourceAndField) {
  try {
    Parse(MakeSpec(R"({"name": 1, "nodes": {"h1": {"image": "x"}}})"));
    FAIL() << "parse_spec accepted a bad spec";
  } catch (const SpecError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("unit-test.json: name: must be a string"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("unit-test.json: nodes.h1.image: unknown image 'x'"),
              std::string::npos)
        << what;
  }
}

// ------------------------------------------------------------ regressions
//
// Bugs found while writing these tests, fixed since.

TEST(SpecRegressionTest, MacWithSignOrSpaceRejected) {
  for (const char* mac :
       {"02:00:00:00:00:+1", "02: 0:00:00:00:01", "0x:00:00:00:00:01",
        "02:00:00:00:00:-1"}) {
    json spec = MakeSpec("{}");
    spec["nodes"]["h1"]["interfaces"]["eth0"]["mac"] = mac;
    auto issues = Issues(spec);
    EXPECT_TRUE(
        HasIssue(issues, "nodes.h1.interfaces.eth0.mac", "must be a MAC"));
  }
}

TEST(SpecRegressionTest, MetricAboveUint32Rejected) {
  json spec = MakeSpec(R"({"nodes": {"h1": {"routes": [
    {"dst": "default", "dev": "eth0", "metric": 4294967296}]}}})");
  auto issues = Issues(spec);
  EXPECT_TRUE(HasIssue(issues, "nodes.h1.routes[0].metric", "from 0 to 4294967295"));
}

TEST(SpecRegressionTest, MetricFromSignedJsonIntegerAccepted) {
  // JSON built in C++ (not parsed from text) stores 100 as a signed integer.
  json spec = MakeSpec("{}");
  spec["nodes"]["h1"]["routes"] =
      json::array({{{"dst", "default"}, {"dev", "eth0"}, {"metric", 100}}});
  auto issues = Issues(spec);
  EXPECT_TRUE(issues.empty()) << Dump(issues);
  EXPECT_EQ(Parse(spec).node("h1")->routes[0].metric, 100u);
}

TEST(SpecRegressionTest, SameIpv6AddressWithTwoPrefixLengthsRejected) {
  // The kernel keys IPv6 addresses by address alone: adding the second one
  // fails with EEXIST at build time.
  auto issues = Issues(MakeSpec(R"({"nodes": {"h1": {"interfaces": {"eth0": {
    "addresses": ["2001:db8::1/64", "2001:db8::1/128"]}}}}})"));
  EXPECT_TRUE(HasIssue(issues, "nodes.h1.interfaces.eth0.addresses[1]",
                       "2001:db8::1"));
}

// ------------------------------------------------------------ helpers

TEST(ParseIpTest, Ipv6WithAndWithoutPrefix) {
  auto a = parse_ip("2001:0DB8:0::1/64", true, nullptr);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->family, AF_INET6);
  EXPECT_EQ(a->prefix_len, 64);
  EXPECT_EQ(a->max_len(), 128);
  EXPECT_EQ(a->str(), "2001:db8::1");
  EXPECT_EQ(a->cidr(), "2001:db8::1/64");
  EXPECT_FALSE(a->is_link_local());

  auto b = parse_ip("2001:db8::1", false, nullptr);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->prefix_len, -1);
  EXPECT_EQ(b->cidr(), "2001:db8::1");
  EXPECT_FALSE(*a == *b);  // the prefix length is part of equality
}

TEST(ParseIpTest, Ipv4) {
  auto a = parse_ip("192.0.2.1/24", true, nullptr);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->family, AF_INET);
  EXPECT_EQ(a->max_len(), 32);
  EXPECT_EQ(a->cidr(), "192.0.2.1/24");
  EXPECT_FALSE(a->is_link_local());
}

TEST(ParseIpTest, PrefixLengthBounds) {
  EXPECT_TRUE(parse_ip("::/0", true, nullptr));
  EXPECT_TRUE(parse_ip("2001:db8::1/128", true, nullptr));
  EXPECT_TRUE(parse_ip("0.0.0.0/0", true, nullptr));
  EXPECT_TRUE(parse_ip("192.0.2.1/32", true, nullptr));
  std::string why;
  EXPECT_FALSE(parse_ip("2001:db8::1/129", true, &why));
  EXPECT_EQ(why, "prefix length 129 in '2001:db8::1/129' is out of range (0..128)");
  EXPECT_FALSE(parse_ip("192.0.2.1/33", true, &why));
  EXPECT_EQ(why, "prefix length 33 in '192.0.2.1/33' is out of range (0..32)");
  EXPECT_FALSE(parse_ip("2001:db8::1/1000", true, &why));
  EXPECT_EQ(why, "invalid prefix length '1000' in '2001:db8::1/1000'");
  EXPECT_FALSE(parse_ip("2001:db8::1/-1", true, &why));
  EXPECT_NE(why.find("invalid prefix length '-1'"), std::string::npos);
  EXPECT_FALSE(parse_ip("2001:db8::1/+64", true, &why));
  EXPECT_FALSE(parse_ip("2001:db8::1/ 64", true, &why));
}

TEST(ParseIpTest, MissingPrefixOnlyAnErrorWhenWanted) {
  std::string why;
  EXPECT_FALSE(parse_ip("2001:db8::1", true, &why));
  EXPECT_NE(why.find("'2001:db8::1' has no prefix length"), std::string::npos);
  EXPECT_TRUE(parse_ip("2001:db8::1", false, &why));
  EXPECT_TRUE(parse_ip("2001:db8::/48", false, &why));  // allowed either way
}

TEST(ParseIpTest, RejectsNonAddresses) {
  for (const char* text : {"", "/64", "2001:db8::g", "2001:db8:::1",
                           "fe80::1%eth0", "192.0.2", "192.0.2.256",
                           "2001:db8::1 ", "host.example"}) {
    std::string why;
    EXPECT_FALSE(parse_ip(text, false, &why)) << text;
    EXPECT_NE(why.find("is not an IPv6 or IPv4 address"), std::string::npos)
        << text << ": " << why;
  }
}

TEST(ParseIpTest, NullWhyIsAllowed) {
  EXPECT_FALSE(parse_ip("nope", false, nullptr));
  EXPECT_FALSE(parse_ip("::1", true, nullptr));
  EXPECT_FALSE(parse_ip("::1/x", true, nullptr));
  EXPECT_FALSE(parse_ip("::1/200", true, nullptr));
}

TEST(ParseIpTest, LinkLocal) {
  EXPECT_TRUE(parse_ip("fe80::1", false, nullptr)->is_link_local());
  EXPECT_TRUE(parse_ip("febf::1", false, nullptr)->is_link_local());
  EXPECT_FALSE(parse_ip("fec0::1", false, nullptr)->is_link_local());
  EXPECT_FALSE(parse_ip("ff02::1", false, nullptr)->is_link_local());
  EXPECT_FALSE(parse_ip("169.254.0.1", false, nullptr)->is_link_local());
}

TEST(ValidIfnameTest, Accepts) {
  for (const char* n : {"eth0", "e", "lo0", "loopback", "veth-a.100",
                        "abcdefghijklmno" /* 15 */}) {
    std::string why;
    EXPECT_TRUE(valid_ifname(n, &why)) << n << ": " << why;
  }
}

TEST(ValidIfnameTest, Rejects) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "must be 1 to 15 bytes long"},
      {"abcdefghijklmnop", "must be 1 to 15 bytes long"},
      {".", "is reserved"},
      {"..", "is reserved"},
      {"lo", "is reserved"},
      {"eth/0", "may not contain"},
      {"eth:0", "may not contain"},
      {"eth 0", "may not contain"},
      {"eth\t0", "may not contain"},
      {"eth\n", "may not contain"},
      {"eth\x7f", "may not contain"},
      {"eth\xc3\xa9", "may not contain"},
  };
  for (const auto& [name, message] : cases) {
    std::string why;
    EXPECT_FALSE(valid_ifname(name, &why)) << name;
    EXPECT_NE(why.find(message), std::string::npos) << name << ": " << why;
  }
  EXPECT_FALSE(valid_ifname("lo", nullptr));
}

TEST(ValidNodeNameTest, Accepts) {
  for (const char* n : {"h", "h1", "R1", "core-router_2",
                        "abcdefghijklmnopqrstuvwxyz012345" /* 32 */}) {
    EXPECT_TRUE(valid_node_name(n, nullptr)) << n;
  }
}

TEST(ValidNodeNameTest, Rejects) {
  for (const char* n : {"", "1h", "-h", "_h", "h.1", "h 1", "h:1", "h/1",
                        "h\xc3\xa9", "abcdefghijklmnopqrstuvwxyz0123456"}) {
    std::string why;
    EXPECT_FALSE(valid_node_name(n, &why)) << n;
    EXPECT_NE(why.find("must start with a letter"), std::string::npos) << n;
  }
}

TEST(ValidNodeSysctlTest, AcceptsNetKeys) {
  for (const char* k : {"net.ipv6.conf.all.forwarding", "net.ipv4.ip_forward",
                        "net.ipv6.conf.eth0.accept_ra", "net.core.somaxconn"}) {
    EXPECT_TRUE(valid_node_sysctl(k, nullptr)) << k;
  }
}

TEST(ValidNodeSysctlTest, RejectsOthers) {
  for (const char* k : {"", "net", "net.", "kernel.hostname", "vm.swappiness",
                        "netx.ipv4.ip_forward", "Net.ipv4.ip_forward",
                        ".net.ipv4", "net..ipv4", "net.ipv4.ip_forward.",
                        "net/ipv4/ip_forward", "net.ipv4/../../kernel/x"}) {
    std::string why;
    EXPECT_FALSE(valid_node_sysctl(k, &why)) << k;
    EXPECT_NE(why.find("is not a per-namespace 'net.' key"), std::string::npos)
        << k;
  }
}

}  // namespace
}  // namespace v6lab
