// Tests of what hostile input may not do to the core: nest deep enough to
// overflow the stack, repeat keys, make validation quadratic; and of the
// rules that refuse what the kernel would refuse later (with the field
// named). See docs/reliability.md.
#include <sys/socket.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "issue_matchers.hpp"
#include "v6lab/error.hpp"
#include "v6lab/images.hpp"
#include "v6lab/json_text.hpp"
#include "v6lab/preflight.hpp"
#include "v6lab/spec.hpp"

namespace v6lab {
namespace {

using json = nlohmann::ordered_json;
using testing_util::Dump;
using testing_util::HasIssueFrom;
using testing_util::IssuesOf;

constexpr char kSrc[] = "limits.json";

const ImageRegistry& Images() {
  static const ImageRegistry r = ImageRegistry::from_json(
      {{"t/host.json", json::parse(R"({"name": "host"})")}});
  return r;
}

std::vector<SpecIssue> TextIssues(const std::string& text) {
  return IssuesOf([&] { parse_spec(parse_json_text(text, kSrc), kSrc, Images()); });
}

std::vector<SpecIssue> Issues(const char* text) { return TextIssues(text); }

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string Nested(int depth) {
  return R"({"nodes": {"a": {"x": )" + std::string(depth, '[') + std::string(depth, ']') + "}}}";
}

TEST(DepthLimitTest, DeepTextIsRefusedWithoutRecursion) {
  // 1,000,000 levels: nlohmann's DOM copy would overflow the stack long
  // before; the SAX builder stops at level 65.
  auto issues = TextIssues(Nested(1000000));
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  // The path to the 65th level: nodes, a, x and 61 arrays lead there.
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, "nodes.a.x" + Repeat("[0]", 61), "nested more than 64"))
      << Dump(issues);
}

TEST(DepthLimitTest, SixtyFourLevelsAreReadSixtyFiveAreNot) {
  EXPECT_NO_THROW(parse_json_text(std::string(64, '[') + std::string(64, ']'), kSrc));
  auto issues = IssuesOf([] { parse_json_text(std::string(65, '[') + std::string(65, ']'), kSrc); });
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, Repeat("[0]", 64), "nested more than 64")) << Dump(issues);
}

TEST(DepthLimitTest, DeepDictGivenDirectlyIsRefused) {
  json deep = json::array();
  for (int i = 0; i < 100; ++i) deep = json::array({deep});
  json raw = {{"nodes", {{"a", {{"x", deep}}}}}};
  auto issues = IssuesOf([&] { parse_spec(raw, kSrc, Images()); });
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, "", "nested more than 64")) << Dump(issues);
}

TEST(JsonTextTest, DuplicateKeysAndSyntaxErrorsNameTheSource) {
  auto dup = IssuesOf([] { parse_json_text(R"({"nodes": {"a": {}, "a": {}}})", kSrc); });
  EXPECT_TRUE(HasIssueFrom(dup, kSrc, "nodes", "duplicate key 'a'")) << Dump(dup);
  auto bad = IssuesOf([] { parse_json_text(R"({"nodes": )", kSrc); });
  EXPECT_TRUE(HasIssueFrom(bad, kSrc, "", "is not valid JSON")) << Dump(bad);
}

TEST(JsonTextTest, CutShortensAndEscapes) {
  EXPECT_EQ(cut("short"), "short");
  EXPECT_EQ(cut(std::string(100, 'a'), 40), std::string(40, 'a') + "\u2026");
  EXPECT_EQ(cut("a\nb"), "a\\x0ab");
  EXPECT_EQ(cut(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(cut("ääää", 3), "ä\u2026");  // not cut inside a character
}

TEST(LinearTest, HundredThousandNodesValidateQuickly) {
  std::string text = R"({"nodes": {)";
  for (int i = 0; i < 100000; ++i) text += (i ? ",\"n" : "\"n") + std::to_string(i) + "\": {}";
  text += R"(}, "lans": {"l": {}}, "links": [)";
  for (int i = 0; i < 100000; ++i) text += std::string(i ? "," : "") + R"({"endpoints": ["n)" +
                                           std::to_string(i) + R"(", "l"]})";
  text += "]}";
  auto t0 = std::chrono::steady_clock::now();
  Spec s = parse_spec(parse_json_text(text, kSrc), kSrc, Images());
  json out = s.to_json();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(s.nodes.size(), 100000u);
  EXPECT_LT(secs, 20.0) << "validation is not linear any more";  // was > 40 s
}

TEST(KernelRulesTest, InterfaceNamesTheKernelRefuses) {
  for (const char* n : {"all", "default"}) {
    std::string t = R"({"nodes": {"a": {}, "b": {}}, "links": [{"endpoints": ["a:)" +
                    std::string(n) + R"(", "b"]}]})";
    EXPECT_TRUE(HasIssueFrom(TextIssues(t), kSrc, "links[0].endpoints[0]", "is reserved")) << n;
  }
  auto issues = Issues(R"({"nodes": {"a": {"interfaces": {"e%d": {}}}}})");
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, "nodes.a.interfaces.e%d", "'%'")) << Dump(issues);
}

constexpr char kLink[] = R"(, "b": {}}, "links": [{"endpoints": ["a", "b"]}]})";

std::vector<SpecIssue> Iface(const std::string& settings) {
  return TextIssues(R"({"nodes": {"a": {"interfaces": {"eth0": )" + settings + "}}" + kLink);
}

TEST(KernelRulesTest, MacsAndAddressesTheKernelRefuses) {
  const std::string f = "nodes.a.interfaces.eth0";
  EXPECT_TRUE(HasIssueFrom(Iface(R"({"mac": "00:00:00:00:00:00"})"), kSrc, f + ".mac", "all-zero"));
  for (auto [a, words] : std::vector<std::pair<std::string, std::string>>{
           {"::/0", "unspecified"}, {"::1/128", "loopback"}, {"ff02::1/64", "multicast"},
           {"224.0.0.1/24", "multicast"}, {"0.0.0.0/8", "unspecified"}}) {
    auto issues = Iface(R"({"addresses": [")" + a + R"("]})");
    EXPECT_TRUE(HasIssueFrom(issues, kSrc, f + ".addresses[0]", words)) << a << Dump(issues);
  }
}

TEST(KernelRulesTest, MtuBelow1280NeedsIpv6Off) {
  EXPECT_TRUE(HasIssueFrom(Iface(R"({"mtu": 1279})"), kSrc, "nodes.a.interfaces.eth0.mtu",
                           "below 1280"));
  auto off = TextIssues(R"({"nodes": {"a": {"sysctls": {"net.ipv6.conf.eth0.disable_ipv6": 1},
      "interfaces": {"eth0": {"mtu": 576}}})" + std::string(kLink));
  EXPECT_TRUE(off.empty()) << Dump(off);
  EXPECT_TRUE(HasIssueFrom(Iface(R"({"mtu": 65536})"), kSrc, "nodes.a.interfaces.eth0.mtu",
                           "68 to 65535"));
}

TEST(KernelRulesTest, RoutesTheKernelRefuses) {
  auto issues = TextIssues(R"({"nodes": {"a": {"routes": [
      {"dst": "default", "via": "2001:db8::1"}, {"dst": "::/0", "dev": "eth0"},
      {"dst": "2001:db8:5::/64", "via": "::"}, {"dst": "2001:db8:6::/64", "via": "ff02::2"},
      {"dst": "2001:db8:7::/64", "via": "::1"},
      {"dst": "2001:db8:8::/64", "dev": "eth0", "metric": 5},
      {"dst": "2001:db8:8::/64", "dev": "eth0", "metric": 6}]})" + std::string(kLink));
  const std::string f = "nodes.a.routes";
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, f + "[1].dst", "already given by nodes.a.routes[0]"));
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, f + "[2].via", "unspecified"));
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, f + "[3].via", "multicast"));
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, f + "[4].via", "loopback"));
  EXPECT_EQ(issues.size(), 4u) << Dump(issues);  // different metrics are fine
}

TEST(KernelRulesTest, SysctlValuesMustFitAnInt) {
  auto issues = Issues(R"({"nodes": {"a": {"sysctls": {
      "net.ipv6.conf.all.forwarding": 18446744073709551615,
      "net.ipv6.conf.all.accept_ra": -2147483649,
      "net.ipv6.conf.all.hop_limit": "6\n4",
      "net.ipv6.conf.default.mtu": 2147483647}}}})");
  const std::string f = "nodes.a.sysctls.net.ipv6.conf.";
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, f + "all.forwarding", "does not fit the kernel's int"));
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, f + "all.accept_ra", "does not fit"));
  EXPECT_TRUE(HasIssueFrom(issues, kSrc, f + "all.hop_limit", "control character"));
  EXPECT_EQ(issues.size(), 3u) << Dump(issues);
}

TEST(KernelRulesTest, ImagesNeedProgramNames) {
  auto issues = IssuesOf([] {
    ImageRegistry::from_json({{"t/x.json", json::parse(
        R"({"name": "x", "binaries": [{"name": "", "package": "p"}]})")}});
  });
  EXPECT_TRUE(HasIssueFrom(issues, "t/x.json", "binaries[0].name", "must be a program name"))
      << Dump(issues);
}

TEST(PreflightTest, FdBudgetNamesTheUlimit) {
  std::string text = R"({"nodes": {)";
  for (int i = 0; i < 400; ++i) text += (i ? ",\"n" : "\"n") + std::to_string(i) + "\": {}";
  text += "}}";
  Spec s = parse_spec(parse_json_text(text, kSrc), kSrc, Images());
  EXPECT_EQ(fds_needed(s), 64u + 3u * 400u);
  EXPECT_EQ(fd_limit_problem(s, 1u << 20), "");
  std::string why = fd_limit_problem(s, 1024);
  EXPECT_NE(why.find("ulimit -n"), std::string::npos) << why;
  EXPECT_NE(why.find("1264"), std::string::npos) << why;
}

}  // namespace
}  // namespace v6lab
