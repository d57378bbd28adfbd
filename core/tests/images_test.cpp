// Tests of the image registry: extends chains, the problems from_json and
// load_dir report (with file and field), the repository's images, and
// find_program.
#include "issue_matchers.hpp"
#include "v6lab/images.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "v6lab/error.hpp"

namespace v6lab {
namespace {

using json = nlohmann::ordered_json;
using Files = std::vector<std::pair<std::string, json>>;
using Sysctls = std::vector<std::pair<std::string, std::string>>;

// One (source, json) pair from JSON text.
std::pair<std::string, json> File(const std::string& source,
                                  const char* text) {
  return {source, json::parse(text)};
}

using testing_util::Dump;

// The issues from_json reports for files; empty if it succeeded.
std::vector<SpecIssue> ImageIssues(const Files& files) {
  return testing_util::IssuesOf([&] { ImageRegistry::from_json(files); });
}

::testing::AssertionResult HasIssue(const std::vector<SpecIssue>& issues,
                                    const std::string& source, const std::string& field,
                                    const std::string& message_part) {
  return testing_util::HasIssueFrom(issues, source, field, message_part);
}

std::vector<std::string> BinaryNames(const Image& img) {
  std::vector<std::string> out;
  for (const auto& b : img.binaries) out.push_back(b.name + "/" + b.package);
  return out;
}

// ------------------------------------------------------------ from_json

// base <- mid <- leaf
Files ChainFiles() {
  return {
      File("leaf.json", R"({"name": "leaf", "extends": "mid",
        "sysctls": {"net.c": "3", "net.a": 4},
        "binaries": [{"name": "radvd", "package": "radvd"},
                     {"name": "dig", "package": "bind9-dnsutils"}]})"),
      File("base.json", R"({"name": "base", "description": "Base image.",
        "sysctls": {"net.a": "0", "net.b": "0"},
        "binaries": [{"name": "ip", "package": "iproute2"}]})"),
      File("mid.json", R"({"name": "mid", "extends": "base",
        "sysctls": {"net.b": 1},
        "binaries": [{"name": "ip", "package": "iproute2"},
                     {"name": "radvd", "package": "radvd"}]})"),
  };
}

TEST(ImageRegistryTest, ExtendsChainResolved) {
  ImageRegistry reg = ImageRegistry::from_json(ChainFiles());
  EXPECT_EQ(reg.names(), (std::vector<std::string>{"base", "leaf", "mid"}));

  const Image* leaf = reg.find("leaf");
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(leaf->name, "leaf");
  EXPECT_EQ(leaf->extends, "mid");
  EXPECT_EQ(leaf->source, "leaf.json");
  // Parent keys keep their place; children override values and append keys.
  EXPECT_EQ(leaf->sysctls,
            (Sysctls{{"net.a", "4"}, {"net.b", "1"}, {"net.c", "3"}}));
  // Inherited, in chain order, each program once.
  EXPECT_EQ(BinaryNames(*leaf),
            (std::vector<std::string>{"ip/iproute2", "radvd/radvd",
                                      "dig/bind9-dnsutils"}));

  const Image* mid = reg.find("mid");
  ASSERT_NE(mid, nullptr);
  EXPECT_EQ(mid->sysctls, (Sysctls{{"net.a", "0"}, {"net.b", "1"}}));
  EXPECT_EQ(BinaryNames(*mid),
            (std::vector<std::string>{"ip/iproute2", "radvd/radvd"}));
  EXPECT_EQ(mid->description, "Base image.");  // inherited when empty

  const Image* base = reg.find("base");
  ASSERT_NE(base, nullptr);
  EXPECT_EQ(base->extends, "");
  EXPECT_EQ(base->sysctls, (Sysctls{{"net.a", "0"}, {"net.b", "0"}}));
  EXPECT_EQ(reg.find("nope"), nullptr);
}

TEST(ImageRegistryTest, OwnDescriptionKept) {
  ImageRegistry reg = ImageRegistry::from_json(
      {File("a.json", R"({"name": "a", "description": "A."})"),
       File("b.json", R"({"name": "b", "extends": "a", "description": "B."})")});
  EXPECT_EQ(reg.find("b")->description, "B.");
}

TEST(ImageRegistryTest, EmptyInputGivesEmptyRegistry) {
  EXPECT_TRUE(ImageRegistry::from_json({}).names().empty());
}

TEST(ImageRegistryTest, UnknownParent) {
  auto issues = ImageIssues(
      {File("a.json", R"({"name": "a"})"),
       File("b.json", R"({"name": "b", "extends": "nope"})")});
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "b.json", "extends", "unknown image 'nope'"));
}

TEST(ImageRegistryTest, UnknownGrandparentReportedByItsChild) {
  auto issues = ImageIssues(
      {File("a.json", R"({"name": "a", "extends": "gone"})"),
       File("b.json", R"({"name": "b", "extends": "a"})")});
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "a.json", "extends", "unknown image 'gone'"));
}

TEST(ImageRegistryTest, ExtendsCycle) {
  auto issues = ImageIssues(
      {File("a.json", R"({"name": "a", "extends": "b"})"),
       File("b.json", R"({"name": "b", "extends": "a"})")});
  ASSERT_EQ(issues.size(), 2u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "a.json", "extends", "extends cycle: a -> b -> a"));
  EXPECT_TRUE(HasIssue(issues, "b.json", "extends", "extends cycle: b -> a -> b"));
}

TEST(ImageRegistryTest, ExtendsSelf) {
  auto issues = ImageIssues({File("a.json", R"({"name": "a", "extends": "a"})")});
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "a.json", "extends", "extends cycle: a -> a"));
}

TEST(ImageRegistryTest, DuplicateNameInTwoFiles) {
  auto issues = ImageIssues({File("one.json", R"({"name": "host"})"),
                             File("two.json", R"({"name": "host"})")});
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "two.json", "name",
                       "image 'host' is also defined in one.json"));
}

// One bad image file: the field and a part of the message expected.
struct ImageErrorCase {
  const char* name;
  const char* text;
  const char* field;
  const char* message;
};

void PrintTo(const ImageErrorCase& c, std::ostream* os) { *os << c.name; }

class ImageErrorTest : public ::testing::TestWithParam<ImageErrorCase> {};

TEST_P(ImageErrorTest, IsReported) {
  const ImageErrorCase& c = GetParam();
  auto issues = ImageIssues({File("bad.json", c.text)});
  EXPECT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "bad.json", c.field, c.message));
}

const ImageErrorCase kImageErrorCases[] = {
    {"NotAnObject", R"(["host"])", "", "an image must be a JSON object"},
    {"UnknownKey", R"({"name": "x", "sysctl": {}})", "sysctl",
     "unknown key (expected one of: name, description, extends, role, sysctls, "
     "binaries)"},
    {"MissingName", R"({"description": "no name"})", "name",
     "missing or not a string"},
    {"NameNotString", R"({"name": 5})", "name", "missing or not a string"},
    {"InvalidName", R"({"name": "9lives"})", "name", "must start with a letter"},
    {"DescriptionNotString", R"({"name": "x", "description": ["a"]})",
     "description", "must be a string"},
    {"ExtendsNotString", R"({"name": "x", "extends": ["host"]})", "extends",
     "must be the name of another image"},
    {"SysctlsNotObject", R"({"name": "x", "sysctls": ["net.a"]})", "sysctls",
     "must be an object of key: value"},
    {"NonNetSysctl", R"({"name": "x", "sysctls": {"kernel.panic": "1"}})",
     "sysctls.kernel.panic", "is not a per-namespace 'net.' key"},
    {"SysctlValueNotScalar", R"({"name": "x", "sysctls": {"net.a": null}})",
     "sysctls.net.a", "value must be a string or an integer"},
    {"BinariesNotList", R"({"name": "x", "binaries": {"name": "ip"}})",
     "binaries", "must be a list of {name, package}"},
    {"BinaryNotObject", R"({"name": "x", "binaries": ["ip"]})", "binaries[0]",
     "must be an object with string fields name and package"},
    {"BinaryWithoutPackage",
     R"({"name": "x", "binaries": [{"name": "ip", "package": "iproute2"},
                                   {"name": "ping"}]})",
     "binaries[1]", "must be an object with string fields name and package"},
    {"BinaryNameNotString",
     R"({"name": "x", "binaries": [{"name": 1, "package": "p"}]})",
     "binaries[0]", "must be an object with string fields name and package"},
    {"BinaryUnknownKey",
     R"({"name": "x", "binaries": [{"name": "ip", "package": "iproute2",
                                    "version": "6"}]})",
     "binaries[0].version", "unknown key (expected name, package)"},
};

INSTANTIATE_TEST_SUITE_P(
    ImageChecks, ImageErrorTest, ::testing::ValuesIn(kImageErrorCases),
    [](const ::testing::TestParamInfo<ImageErrorCase>& info) {
      return std::string(info.param.name);
    });

TEST(ImageRegistryTest, EveryProblemReportedAtOnce) {
  auto issues = ImageIssues(
      {File("a.json", R"({"name": "a", "colour": 1, "extends": "zz"})"),
       File("b.json", R"({"name": "b", "sysctls": {"fs.x": "1"}})")});
  EXPECT_EQ(issues.size(), 3u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, "a.json", "colour", "unknown key"));
  EXPECT_TRUE(HasIssue(issues, "a.json", "extends", "unknown image 'zz'"));
  EXPECT_TRUE(HasIssue(issues, "b.json", "sysctls.fs.x", "'net.' key"));
}

// Regression: the nearest ancestor's description, not the root's.
TEST(ImageRegistryRegressionTest, DescriptionInheritedFromNearestAncestor) {
  Files files = ChainFiles();
  files[2].second["description"] = "Mid image.";  // mid.json
  ImageRegistry reg = ImageRegistry::from_json(files);
  const std::string got = reg.find("leaf")->description;
  EXPECT_EQ(got, "Mid image.");
}

// ------------------------------------------------------------ load_dir

TEST(ImageLoadDirTest, RepositoryImages) {
  ImageRegistry reg = ImageRegistry::load_dir(V6LAB_IMAGES_DIR);
  for (const char* name : {"host", "router", "cpe", "ra-router",
                           "dhcp6-server", "dns-server"})
    EXPECT_NE(reg.find(name), nullptr) << name;

  auto sysctl = [&](const char* image, const std::string& key) {
    for (const auto& [k, v] : reg.find(image)->sysctls)
      if (k == key) return v;
    return std::string("<unset>");
  };
  EXPECT_EQ(sysctl("host", "net.ipv6.conf.all.forwarding"), "0");
  EXPECT_EQ(sysctl("router", "net.ipv6.conf.all.forwarding"), "1");
  EXPECT_EQ(sysctl("router", "net.ipv6.conf.all.disable_ipv6"), "0");
  EXPECT_EQ(sysctl("cpe", "net.ipv6.conf.all.forwarding"), "1");
  EXPECT_EQ(sysctl("cpe", "net.ipv6.conf.default.accept_ra"), "2");

  const Image* ra = reg.find("ra-router");
  ASSERT_NE(ra, nullptr);
  EXPECT_EQ(ra->extends, "router");
  EXPECT_NE(ra->source.find("ra-router.json"), std::string::npos);
  auto names = BinaryNames(*ra);
  EXPECT_NE(std::find(names.begin(), names.end(), "radvd/radvd"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "ip/iproute2"), names.end());
  EXPECT_FALSE(reg.find("host")->description.empty());
}

// A fresh directory for image files, removed afterwards.
class ImageLoadDirTempTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "v6lab-images-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::vector<SpecIssue> LoadIssues() {
    try {
      ImageRegistry::load_dir(dir_);
    } catch (const SpecError& e) {
      return e.issues();
    }
    return {};
  }

  std::string dir_;
};

TEST_F(ImageLoadDirTempTest, InvalidJsonFileReported) {
  Write("good.json", R"({"name": "good"})");
  Write("broken.json", R"({"name": "broken",)");
  auto issues = LoadIssues();
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, dir_ + "/broken.json", "", "is not valid JSON"));
}

TEST_F(ImageLoadDirTempTest, UnreadableFileReported) {
  Write("good.json", R"({"name": "good"})");
  std::filesystem::create_symlink(dir_ + "/missing", dir_ + "/dangling.json");
  auto issues = LoadIssues();
  ASSERT_EQ(issues.size(), 1u) << Dump(issues);
  EXPECT_TRUE(HasIssue(issues, dir_ + "/dangling.json", "", "cannot be read"));
}

TEST_F(ImageLoadDirTempTest, BadImageNamesItsFile) {
  Write("a.json", R"({"name": "a", "extends": "b"})");
  Write("b.json", R"({"name": "b", "extends": "a"})");
  auto issues = LoadIssues();
  EXPECT_TRUE(HasIssue(issues, dir_ + "/a.json", "extends", "extends cycle"));
  EXPECT_TRUE(HasIssue(issues, dir_ + "/b.json", "extends", "extends cycle"));
}

TEST_F(ImageLoadDirTempTest, OnlyJsonFilesLoaded) {
  Write("a.json", R"({"name": "a"})");
  Write("README.md", "not json");
  Write("b.json.bak", "{");
  Write(".json", "{");  // no name before the suffix
  ImageRegistry reg = ImageRegistry::load_dir(dir_);
  EXPECT_EQ(reg.names(), std::vector<std::string>{"a"});
  EXPECT_EQ(reg.find("a")->source, dir_ + "/a.json");
}

TEST_F(ImageLoadDirTempTest, EmptyDirectory) {
  EXPECT_TRUE(ImageRegistry::load_dir(dir_).names().empty());
}

TEST(ImageLoadDirTest, MissingDirectoryThrows) {
  try {
    ImageRegistry::load_dir("/nonexistent/v6lab-images");
    FAIL() << "load_dir of a missing directory succeeded";
  } catch (const SpecError&) {
    FAIL() << "expected a plain Error, not a SpecError";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/v6lab-images"),
              std::string::npos)
        << e.what();
  }
}

// ------------------------------------------------------------ find_program

TEST(ImageFindProgramTest, FindsShell) {
  std::string sh = find_program("sh");
  ASSERT_FALSE(sh.empty());
  EXPECT_EQ(sh.front(), '/');
  EXPECT_EQ(sh.substr(sh.size() - 3), "/sh");
}

TEST(ImageFindProgramTest, MissingProgramIsEmpty) {
  EXPECT_EQ(find_program("no-such-program-v6lab"), "");
}

TEST(ImageFindProgramTest, PathWithSlashCheckedDirectly) {
  std::string sh = find_program("sh");
  ASSERT_FALSE(sh.empty());
  EXPECT_EQ(find_program(sh), sh);
  EXPECT_EQ(find_program("/nonexistent/sh"), "");
}

}  // namespace
}  // namespace v6lab
