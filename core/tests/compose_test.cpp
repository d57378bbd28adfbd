// Images that compose: roles, a search path of image directories, nodes of
// several images, extra programs and provider nodes.
#include "issue_matchers.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "v6lab/error.hpp"
#include "v6lab/images.hpp"
#include "v6lab/spec.hpp"

namespace v6lab {
namespace {

using json = nlohmann::ordered_json;

const ImageRegistry& Images() {
  static const ImageRegistry reg = ImageRegistry::from_json({
      {"t/host.json", json::parse(R"({"name": "host",
         "sysctls": {"net.ipv6.conf.all.forwarding": "0"},
         "binaries": [{"name": "ip", "package": "iproute2"}]})")},
      {"t/router.json", json::parse(R"({"name": "router", "extends": "host", "role": "router",
         "sysctls": {"net.ipv6.conf.all.forwarding": "1"}})")},
      {"t/dhcp.json", json::parse(R"({"name": "dhcp", "extends": "host", "role": "server",
         "binaries": [{"name": "dnsmasq", "package": "dnsmasq"}]})")},
      {"t/isp.json", json::parse(R"({"name": "isp", "extends": "router", "role": "provider"})")},
  });
  return reg;
}

std::string Sysctl(const NodeSpec& n, const std::string& key) {
  for (const auto& [k, v] : n.sysctls)
    if (k == key) return v;
  return "";
}

TEST(ComposeTest, RolesAreInheritedAndDefaultToHost) {
  EXPECT_EQ(Images().find("host")->role, "host");
  EXPECT_EQ(Images().find("router")->role, "router");
  EXPECT_EQ(Images().find("isp")->role, "provider");  // its own, over router's
  EXPECT_EQ(Images().find("isp")->chain, (std::vector<std::string>{"host", "router", "isp"}));
}

TEST(ComposeTest, UnknownRoleIsNamed) {
  auto issues = testing_util::IssuesOf([] {
    ImageRegistry::from_json({{"x.json", json::parse(R"({"name": "x", "role": "wizard"})")}});
  });
  EXPECT_TRUE(testing_util::HasIssueFrom(issues, "x.json", "role", "unknown role 'wizard'"));
}

TEST(ComposeTest, NodeOfSeveralImagesKeepsEachRolesSettings) {
  Spec s = parse_spec(json::parse(R"({"nodes": {"r1": {"image": ["router", "dhcp"]}}})"), "c.json",
                      Images());
  const NodeSpec& r1 = s.nodes[0];
  EXPECT_EQ(r1.image, "router+dhcp");
  EXPECT_EQ(r1.roles, (std::vector<std::string>{"router", "server"}));
  // host, which dhcp extends too, is not applied again after router.
  EXPECT_EQ(Sysctl(r1, "net.ipv6.conf.all.forwarding"), "1");
  ASSERT_EQ(r1.binaries.size(), 2u);
  EXPECT_EQ(r1.binaries[1].name, "dnsmasq");
  EXPECT_FALSE(r1.provider);
}

TEST(ComposeTest, ProviderFromImageOrFlagAndExtraPrograms) {
  Spec s = parse_spec(json::parse(R"({"nodes": {
      "isp": {"image": "isp"},
      "inet": {"provider": true, "binaries": [{"name": "unbound", "package": "unbound"}]}}})"),
                      "c.json", Images());
  EXPECT_TRUE(s.node("isp")->provider);
  EXPECT_TRUE(s.node("inet")->provider);
  EXPECT_EQ(s.node("inet")->binaries.back().package, "unbound");
  EXPECT_EQ(s.to_json()["nodes"]["inet"]["provider"], true);
}

TEST(ComposeTest, BadImageListsAndFlagsAreNamed) {
  auto issues = testing_util::IssuesOf([] {
    parse_spec(json::parse(R"({"nodes": {
        "a": {"image": ["router", "nope"]}, "b": {"image": []}, "c": {"provider": "yes"},
        "d": {"binaries": [{"name": "x"}]}}})"), "c.json", Images());
  });
  EXPECT_TRUE(testing_util::HasIssueFrom(issues, "c.json", "nodes.a.image[1]", "unknown image 'nope'"));
  EXPECT_TRUE(testing_util::HasIssueFrom(issues, "c.json", "nodes.b.image", "list of 1 to 8"));
  EXPECT_TRUE(testing_util::HasIssueFrom(issues, "c.json", "nodes.c.provider", "true or false"));
  EXPECT_TRUE(testing_util::HasIssueFrom(issues, "c.json", "nodes.d.binaries[0]", "name and package"));
}

// A search path: a later directory's image replaces an earlier one's.
TEST(ComposeTest, SearchPathLaterDirectoryReplacesByName) {
  char tmpl[] = "/tmp/v6lab-compose-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::filesystem::path root = tmpl, a = root / "project", b = root / "lab";
  std::filesystem::create_directories(a);
  std::filesystem::create_directories(b);
  std::ofstream(a / "host.json") << R"({"name": "host", "description": "project's"})";
  std::ofstream(a / "router.json") << R"({"name": "router", "extends": "host"})";
  std::ofstream(b / "host.json") << R"({"name": "host", "description": "the lab's"})";
  ImageRegistry reg = ImageRegistry::load_path({a.string(), b.string()});
  EXPECT_EQ(reg.find("host")->description, "the lab's");
  EXPECT_EQ(reg.find("router")->description, "the lab's");  // inherited from the replacement
  // Within one directory a name twice is still an error.
  std::ofstream(b / "host2.json") << R"({"name": "host"})";
  auto issues = testing_util::IssuesOf([&] { ImageRegistry::load_path({a.string(), b.string()}); });
  EXPECT_FALSE(issues.empty());
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace v6lab
