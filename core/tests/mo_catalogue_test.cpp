// The .mo reader of v6lab-check: it finds what msgfmt compiled, and a
// damaged or hostile file (a trainee cannot write the package's catalogues,
// but a checkout can be damaged) is an empty catalogue, never a read out of
// bounds (this test runs under ASan too: tests/sanitize/run).
#include "../tools/mo_catalogue.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string be32(uint32_t v) {
  std::string s = le32(v);
  return {s.rbegin(), s.rend()};
}

// A catalogue of one message, laid out as msgfmt does.
std::string one(const std::string& id, const std::string& str, bool big_endian = false) {
  auto w = big_endian ? be32 : le32;
  uint32_t strings = 28 + 16;
  return w(0x950412de) + w(0) + w(1) + w(28) + w(36) + w(0) + w(0) + w(id.size()) + w(strings) +
         w(str.size()) + w(strings + id.size() + 1) + id + '\0' + str + '\0';
}

TEST(MoCatalogue, FindsWhatMsgfmtCompiled) {
  v6lab::MoCatalogue c;
  ASSERT_TRUE(c.load(V6LAB_LOCALE_DIR "/vi/LC_MESSAGES/v6lab.mo"));
  auto t = c.find("interrupted");
  ASSERT_TRUE(t.has_value());
  EXPECT_FALSE(t->empty());
  EXPECT_NE(*t, "interrupted");
  EXPECT_FALSE(c.find("no such message, surely").has_value());
}

TEST(MoCatalogue, ReadsBothByteOrders) {
  for (bool big : {false, true}) {
    v6lab::MoCatalogue c;
    ASSERT_TRUE(c.parse(one("hello", "xin chào", big)));
    EXPECT_EQ(c.find("hello").value_or(""), "xin chào");
    EXPECT_FALSE(c.find("hell").has_value());
  }
}

TEST(MoCatalogue, AMissingFileOrAFolderIsNoCatalogue) {
  v6lab::MoCatalogue c;
  EXPECT_FALSE(c.load("/nonexistent/v6lab.mo"));
  EXPECT_FALSE(c.load("/"));
  EXPECT_FALSE(c.find("hello").has_value());
}

TEST(MoCatalogue, EveryTruncationIsRefusedOrReadInBounds) {
  std::ifstream in(V6LAB_LOCALE_DIR "/vi/LC_MESSAGES/v6lab.mo", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string whole = ss.str();
  ASSERT_GT(whole.size(), 1000u);
  for (size_t n = 0; n < whole.size(); n += (n < 200 ? 1 : 97)) {
    v6lab::MoCatalogue c;
    if (c.parse(whole.substr(0, n))) c.find("interrupted");  // whatever it says, in bounds
  }
}

TEST(MoCatalogue, TablesAndStringsOutsideTheFileAreNotRead) {
  std::string good = one("hello", "xin chào");
  v6lab::MoCatalogue c;
  std::string bad_table = good;
  bad_table.replace(12, 4, le32(0xfffffff0));  // the ids' table far outside
  EXPECT_FALSE(c.parse(bad_table));
  std::string bad_count = good;
  bad_count.replace(8, 4, le32(0x20000000));  // more entries than bytes
  EXPECT_FALSE(c.parse(bad_count));
  std::string bad_string = good;
  bad_string.replace(40, 4, le32(0xffffff00));  // a translation beyond the end
  ASSERT_TRUE(c.parse(bad_string));
  EXPECT_FALSE(c.find("hello").has_value());
  EXPECT_FALSE(c.parse("\xde\x12\x04\x95 too short"));
  EXPECT_FALSE(c.parse(std::string(64, 'x')));  // no magic
}

}  // namespace
