// The owner <-> zygote protocol (v6lab/zygote_proto.hpp): every message
// survives a round trip through its formatter and parser byte for byte,
// and every kind of malformed line is refused with a reason.
#include <algorithm>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "v6lab/zygote_proto.hpp"

using namespace v6lab::zygote;
using namespace std::literals;

namespace {

std::string format(const Command& c) {
  char buf[kMaxLine];
  std::size_t n = format_command(c, buf, sizeof buf);
  return std::string(buf, n);
}

std::string format(const Report& r, std::size_t cap = kMaxLine) {
  std::vector<char> buf(cap ? cap : 1);
  std::size_t n = format_report(r, buf.data(), cap);
  return std::string(buf.data(), n);
}

std::string without_newline(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  return line.substr(0, line.size() - 1);
}

Report report(ReportKind k, std::string_view name, pid_t pid, std::string_view text) {
  Report r;
  r.kind = k;
  r.name = name;
  r.pid = pid;
  r.text = text;
  return r;
}

// What parse_report makes of a line, as one comparable string.
std::string parsed(const Report& r) {
  return std::to_string(static_cast<int>(r.kind)) + "|" + std::string(r.name) + "|" +
         std::to_string(r.pid) + "|" + std::string(r.text);
}

}  // namespace

// ---------------------------------------------------------------- round trip

TEST(ZygoteProto, EveryCommandRoundTrips) {
  for (Command c : {Command{CommandKind::node, "h1"}, Command{CommandKind::switch_ns, kSwitchName},
                    Command{CommandKind::node, std::string_view("a_b-c.9")}}) {
    std::string line = format(c);
    EXPECT_EQ(line, (c.kind == CommandKind::node ? "node "s : "switch "s) + std::string(c.name) + "\n");
    std::string body = without_newline(line);  // back points into it
    Command back;
    ParseError e;
    ASSERT_TRUE(parse_command(body, &back, &e)) << e.what;
    EXPECT_EQ(back.kind, c.kind);
    EXPECT_EQ(back.name, c.name);
    EXPECT_EQ(format(back), line);
  }
}

TEST(ZygoteProto, EveryReportRoundTrips) {
  const std::string longest_name(kMaxName, 'n');
  const std::vector<std::pair<Report, std::string>> cases = {
      {report(ReportKind::limits, {}, 0, "cgroup v1 (pids, memory)"), "limits cgroup v1 (pids, memory)\n"},
      {report(ReportKind::pid, "h1", 4242, {}), "pid h1 4242\n"},
      {report(ReportKind::pid, longest_name, 2147483647, {}), "pid " + longest_name + " 2147483647\n"},
      {report(ReportKind::ok, kSwitchName, 0, {}), "ok .switch\n"},
      {report(ReportKind::error, "r1", 0, "create namespaces: No space left on device"),
       "error r1 create namespaces: No space left on device\n"},
      {report(ReportKind::fatal, {}, 0, "prepare the nodes' root filesystem: mount /tmp: EPERM"),
       "fatal prepare the nodes' root filesystem: mount /tmp: EPERM\n"},
      // TEXT is the rest of the line: spaces (even doubled) and UTF-8 are kept.
      {report(ReportKind::error, "h2", 0, "  two  spaces \xc3\xa9 "), "error h2   two  spaces \xc3\xa9 \n"},
  };
  for (const auto& [r, expected] : cases) {
    std::string line = format(r);
    EXPECT_EQ(line, expected);
    std::string body = without_newline(line);  // back points into it
    Report back;
    ParseError e;
    ASSERT_TRUE(parse_report(body, &back, &e)) << line << ": " << e.what;
    EXPECT_EQ(parsed(back), parsed(r)) << line;
    EXPECT_EQ(format(back), line);
  }
}

// ------------------------------------------------ what the formatter makes sendable

TEST(ZygoteProto, FormatterMakesTextSendable) {
  // Control bytes (a newline would split the report in two) become '?'.
  EXPECT_EQ(format(report(ReportKind::error, "h1", 0, "bad\npath\x7f\t\0x"s)), "error h1 bad?path???x\n");
  // An empty TEXT still says something.
  EXPECT_EQ(format(report(ReportKind::fatal, {}, 0, {})), "fatal (no detail)\n");
  // Long TEXT is cut so the line, '\n' included, is kMaxLine bytes: it
  // stays one atomic write and the parser takes it.
  std::string line = format(report(ReportKind::limits, {}, 0, std::string(2000, 'x')));
  ASSERT_EQ(line.size(), kMaxLine);
  std::string body = without_newline(line);
  Report back;
  ParseError e;
  EXPECT_TRUE(parse_report(body, &back, &e)) << e.what;
  EXPECT_EQ(back.text, std::string(kMaxLine - 1 - 7, 'x'));
  // A small buffer cuts the TEXT, never the newline.
  EXPECT_EQ(format(report(ReportKind::error, "h1", 0, "abcdef"), 13), "error h1 abc\n");
}

TEST(ZygoteProto, FormatterRefusesWhatCannotBeSent) {
  char buf[kMaxLine];
  for (std::string_view bad : {""sv, "a b"sv, "a/b"sv, ".."sv, "-x"sv, "new\nline"sv,
                               std::string_view("h\0x", 3)}) {
    EXPECT_EQ(format_command({CommandKind::node, bad}, buf, sizeof buf), 0u) << bad;
    EXPECT_EQ(format(report(ReportKind::ok, bad, 0, {})), "") << bad;
  }
  std::string too_long(kMaxName + 1, 'n');
  EXPECT_EQ(format_command({CommandKind::node, too_long}, buf, sizeof buf), 0u);
  EXPECT_EQ(format(report(ReportKind::pid, "h1", 0, {})), "");   // no such pid
  EXPECT_EQ(format(report(ReportKind::pid, "h1", -5, {})), "");
  EXPECT_EQ(format_command({CommandKind::node, "h1"}, buf, 7), 0u);  // "node h1\n" is 8
  EXPECT_EQ(format_command({CommandKind::node, "h1"}, buf, 8), 8u);
  EXPECT_EQ(format(report(ReportKind::pid, "h1", 4242, {}), 11), "");  // 12 needed
  EXPECT_EQ(format(report(static_cast<ReportKind>(9), "h1", 1, "x")), "");
}

// ------------------------------------------------------------- malformed lines

struct Malformed {
  const char* label;
  std::string line;
  const char* reason;  // the start of ParseError::what
  std::string field;   // ParseError::field
};

// Test names show the label, not the bytes.
void PrintTo(const Malformed& m, std::ostream* os) { *os << m.label; }

class ZygoteCommandMalformed : public testing::TestWithParam<Malformed> {};
class ZygoteReportMalformed : public testing::TestWithParam<Malformed> {};

TEST_P(ZygoteCommandMalformed, IsRefusedWithItsReason) {
  const Malformed& m = GetParam();
  Command c;
  ParseError e;
  ASSERT_FALSE(parse_command(m.line, &c, &e));
  ASSERT_NE(e.what, nullptr);
  EXPECT_EQ(std::string(e.what).rfind(m.reason, 0), 0u) << e.what;
  EXPECT_EQ(std::string(e.field), m.field);
}

TEST_P(ZygoteReportMalformed, IsRefusedWithItsReason) {
  const Malformed& m = GetParam();
  Report r;
  ParseError e;
  ASSERT_FALSE(parse_report(m.line, &r, &e));
  ASSERT_NE(e.what, nullptr);
  EXPECT_EQ(std::string(e.what).rfind(m.reason, 0), 0u) << e.what;
  EXPECT_EQ(std::string(e.field), m.field);
}

const std::string kLong(kMaxLine, 'x');  // one byte over: 511 is the most

INSTANTIATE_TEST_SUITE_P(
    Lines, ZygoteCommandMalformed,
    testing::Values(Malformed{"Empty", "", "empty line", ""},
                    Malformed{"TooLong", "node " + kLong.substr(5), "line longer than 511", "node " + kLong.substr(5)},
                    Malformed{"EmbeddedNul", "node h\0" "1"s, "embedded NUL", "node h\0" "1"s},
                    Malformed{"UnknownVerb", "launch h1", "unknown verb", "launch"},
                    Malformed{"VerbIsCaseSensitive", "Node h1", "unknown verb", "Node"},
                    Malformed{"VerbOnly", "node", "missing name", ""},
                    Malformed{"EmptyName", "node ", "missing name", ""},
                    Malformed{"DoubleSpace", "switch  h1", "missing name", ""},
                    Malformed{"ExtraField", "node h1 h2", "extra field after the name", "h2"},
                    Malformed{"TrailingSpace", "node h1 ", "extra field after the name", ""},
                    Malformed{"NameTooLong", "node " + std::string(64, 'n'), "name longer than 63",
                              std::string(64, 'n')},
                    Malformed{"NameWithSlash", "node ../etc", "bad name", "../etc"},
                    Malformed{"NameOnlyDots", "node ..", "bad name", ".."},
                    Malformed{"NameLikeAnOption", "node -h", "bad name", "-h"},
                    Malformed{"NameWithTab", "node h\t1", "bad name", "h\t1"},
                    Malformed{"NameWithCarriageReturn", "node h1\r", "bad name", "h1\r"}),
    [](const auto& info) { return info.param.label; });

INSTANTIATE_TEST_SUITE_P(
    Lines, ZygoteReportMalformed,
    testing::Values(Malformed{"Empty", "", "empty line", ""},
                    Malformed{"TooLong", "limits " + kLong.substr(7), "line longer than 511",
                              "limits " + kLong.substr(7)},
                    Malformed{"EmbeddedNul", "ok h\0" "1"s, "embedded NUL", "ok h\0" "1"s},
                    Malformed{"UnknownVerb", "ready h1", "unknown verb", "ready"},
                    Malformed{"VerbWithoutSpace", "okh1", "unknown verb", "okh1"},
                    Malformed{"OkWithoutName", "ok", "missing name", ""},
                    Malformed{"OkExtraField", "ok h1 yes", "extra field after the name", "yes"},
                    Malformed{"PidWithoutName", "pid", "missing name", ""},
                    Malformed{"PidMissing", "pid h1", "missing pid", ""},
                    Malformed{"PidEmpty", "pid h1 ", "missing pid", ""},
                    Malformed{"PidNotANumber", "pid h1 12x", "pid is not a positive decimal", "12x"},
                    Malformed{"PidNegative", "pid h1 -5", "pid is not a positive decimal", "-5"},
                    Malformed{"PidPlus", "pid h1 +5", "pid is not a positive decimal", "+5"},
                    Malformed{"PidZero", "pid h1 0", "pid is not a positive decimal", "0"},
                    Malformed{"PidLeadingZero", "pid h1 042", "pid is not a positive decimal", "042"},
                    Malformed{"PidHex", "pid h1 0x10", "pid is not a positive decimal", "0x10"},
                    Malformed{"PidOverflowsPidT", "pid h1 2147483648", "pid out of range", "2147483648"},
                    Malformed{"PidOverflows64Bits", "pid h1 99999999999999999999999", "pid out of range",
                              "99999999999999999999999"},
                    Malformed{"PidExtraField", "pid h1 5 6", "extra field after the pid", "6"},
                    Malformed{"PidBadName", "pid h/1 5", "bad name", "h/1"},
                    Malformed{"ErrorWithoutText", "error h1", "missing text", ""},
                    Malformed{"ErrorEmptyText", "error h1 ", "missing text", ""},
                    Malformed{"ErrorTextWithTab", "error h1 a\tb", "control byte in text", "a\tb"},
                    Malformed{"ErrorTextWithEscape", "error h1 \x1b[2J", "control byte in text", "\x1b[2J"},
                    Malformed{"ErrorNameTooLong", "error " + std::string(70, 'n') + " x", "name longer than 63",
                              std::string(70, 'n')},
                    Malformed{"LimitsWithoutText", "limits", "missing text", ""},
                    Malformed{"FatalEmptyText", "fatal ", "missing text", ""},
                    Malformed{"FatalTextWithDel", "fatal x\x7f", "control byte in text", "x\x7f"}),
    [](const auto& info) { return info.param.label; });

TEST(ZygoteProto, NamesAreHostnamesAndDirectoryNames) {
  EXPECT_TRUE(valid_name("h1"));
  EXPECT_TRUE(valid_name(kSwitchName));
  EXPECT_TRUE(valid_name("a-b_c.d"));
  EXPECT_TRUE(valid_name(std::string(kMaxName, 'a')));
  for (std::string_view bad : {""sv, "."sv, "..."sv, "-a"sv, "a/b"sv, "a b"sv, "\xc3\xa9"sv})
    EXPECT_FALSE(valid_name(bad)) << bad;
  EXPECT_FALSE(valid_name(std::string(kMaxName + 1, 'a')));
}

TEST(ZygoteProto, DescribeQuotesAndCutsTheField) {
  ParseError e{"unknown verb", "bad\x1b" "verb"};
  EXPECT_EQ(describe(e, "bad\x1bverb h1"), "unknown verb 'bad?verb' in \"bad?verb h1\"");
  std::string field(100, 'f');
  std::string d = describe(ParseError{"bad name", field}, "");
  EXPECT_EQ(d, "bad name '" + std::string(40, 'f') + "...'");
  char small[8];
  EXPECT_EQ(describe(ParseError{"unknown verb", {}}, small, sizeof small), 7u);
  EXPECT_STREQ(small, "unknown");
  EXPECT_EQ(describe(ParseError{}, small, 0), 0u);
}

// ------------------------------------------------------------------ LineReader

namespace {

// Feeds `stream` through a LineReader in chunks of `chunk` bytes (at most
// what space() offers) and collects the lines; *tail gets pending() at the
// end, *overlong whether the reader gave up.
std::vector<std::string> read_lines(const std::string& stream, std::size_t chunk, std::size_t* tail,
                                    bool* overlong) {
  LineReader r;
  std::vector<std::string> out;
  *overlong = false;
  for (std::size_t at = 0; at < stream.size();) {
    LineReader::Space sp = r.space();
    EXPECT_GT(sp.size, 0u);
    std::size_t n = std::min({chunk, sp.size, stream.size() - at});
    std::copy_n(stream.data() + at, n, sp.data);
    r.filled(n);
    at += n;
    std::string_view line;
    LineReader::Status st;
    while ((st = r.next(&line)) == LineReader::Status::line) out.emplace_back(line);
    if (st == LineReader::Status::overlong) {
      *overlong = true;
      break;
    }
  }
  *tail = r.pending();
  return out;
}

}  // namespace

TEST(ZygoteProto, LineReaderSplitsAStreamWhateverTheReadSizes) {
  // More than the reader's buffer in all, so it must move unread bytes to
  // the front many times (a lab of 1000 nodes sends about 10 KiB).
  std::string stream;
  std::vector<std::string> lines;
  for (int i = 0; i < 2000; ++i) {
    lines.push_back("node n" + std::to_string(i));
    stream += lines.back() + "\n";
  }
  lines.push_back(std::string(kMaxLine - 1, 'x'));  // the longest line there is
  stream += lines.back() + "\n";
  for (std::size_t chunk : {1, 7, 512, 4096, 100000}) {
    std::size_t tail = 0;
    bool overlong = false;
    EXPECT_EQ(read_lines(stream, chunk, &tail, &overlong), lines) << chunk;
    EXPECT_EQ(tail, 0u);
    EXPECT_FALSE(overlong);
  }
}

TEST(ZygoteProto, LineReaderKeepsATruncatedLinePending) {
  std::size_t tail = 0;
  bool overlong = false;
  auto got = read_lines("ok h1\npid h1 42", 3, &tail, &overlong);
  EXPECT_EQ(got, std::vector<std::string>{"ok h1"});
  EXPECT_EQ(tail, 9u);  // "pid h1 42" without its newline: truncated at EOF
  EXPECT_FALSE(overlong);
}

TEST(ZygoteProto, LineReaderRefusesOverlongLines) {
  for (const std::string& stream : {std::string(kMaxLine, 'x') + "\n",      // newline one byte too late
                                    std::string(5000, 'x'),                  // none at all
                                    "ok h1\n" + std::string(kMaxLine, 'y')}) {
    std::size_t tail = 0;
    bool overlong = false;
    auto got = read_lines(stream, 1000, &tail, &overlong);
    EXPECT_TRUE(overlong);
    EXPECT_EQ(got.size(), stream[0] == 'o' ? 1u : 0u);
  }
}

// -------------------------------------------------------------- command line

namespace {

bool parse_args(const std::vector<std::string>& args, Options* o, ParseError* e) {
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  return parse_zygote_args(static_cast<int>(args.size()), argv.data(), o, e);
}

}  // namespace

TEST(ZygoteProto, ZygoteArgsRoundTrip) {
  Options o;
  o.id_base = 4294901760UL;  // the highest 65536 ids there are
  o.id_count = 65536;
  o.nproc = 1024;
  o.lab = "rt-lab_1";
  o.pids = 0;
  o.memory = 18446744073709551615ULL;
  std::vector<std::string> args = format_zygote_args(o);
  EXPECT_EQ(args[0], "v6lab-init");
  EXPECT_EQ(args[1], "zygote");
  Options back;
  ParseError e;
  ASSERT_TRUE(parse_args(args, &back, &e)) << e.what;
  EXPECT_EQ(back.id_base, o.id_base);
  EXPECT_EQ(back.id_count, o.id_count);
  EXPECT_EQ(back.nproc, o.nproc);
  EXPECT_EQ(back.lab, o.lab);
  EXPECT_EQ(back.pids, o.pids);
  EXPECT_EQ(back.memory, o.memory);
  EXPECT_EQ(format_zygote_args(back), args);
}

TEST(ZygoteProto, ZygoteArgsDefaults) {
  Options o;
  ParseError e;
  ASSERT_TRUE(parse_args({"v6lab-init", "zygote", "--idmap", "0:65536"}, &o, &e)) << e.what;
  EXPECT_EQ(o.id_base, 0u);
  EXPECT_EQ(o.nproc, 0u);
  EXPECT_EQ(o.lab, "lab");
  EXPECT_EQ(o.lab.data()[o.lab.size()], '\0');  // usable as a C string
  EXPECT_EQ(o.pids, 0u);
  EXPECT_EQ(o.memory, 0u);
}

TEST(ZygoteProto, ZygoteArgsMalformed) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"v6lab-init"}, "the first argument must be 'zygote'"},
      {{"v6lab-init", "node"}, "the first argument must be 'zygote' 'node'"},
      {{"v6lab-init", "zygote"}, "missing option '--idmap'"},
      {{"v6lab-init", "zygote", "--idmap"}, "missing value of option '--idmap'"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--idmap", "1:1"}, "option given twice '--idmap'"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--verbose", "1"}, "unknown option '--verbose'"},
      {{"v6lab-init", "zygote", "--idmap", "100000"}, "--idmap must be BASE:COUNT"},
      {{"v6lab-init", "zygote", "--idmap", "100000:"}, "--idmap must be BASE:COUNT"},
      {{"v6lab-init", "zygote", "--idmap", ":65536"}, "--idmap must be BASE:COUNT"},
      {{"v6lab-init", "zygote", "--idmap", "100000:0"}, "--idmap must be BASE:COUNT"},
      {{"v6lab-init", "zygote", "--idmap", "-1:65536"}, "--idmap must be BASE:COUNT"},
      {{"v6lab-init", "zygote", "--idmap", "4294967295:2"}, "--idmap must be BASE:COUNT"},
      {{"v6lab-init", "zygote", "--idmap", "1:2:3"}, "--idmap must be BASE:COUNT"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--nproc", "-1"}, "the value must be a decimal number '-1'"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--pids", ""}, "the value must be a decimal number"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--pids", "12k"}, "the value must be a decimal number '12k'"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--memory", "18446744073709551616"},
       "the value must be a decimal number"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--lab", "../x"}, "--lab must be a name"},
      {{"v6lab-init", "zygote", "--idmap", "1:1", "--lab", ""}, "--lab must be a name"},
  };
  for (const auto& [args, reason] : cases) {
    Options o;
    ParseError e;
    ASSERT_FALSE(parse_args(args, &o, &e)) << args.back();
    char what[200];
    describe(e, what, sizeof what);
    EXPECT_EQ(std::string(what).rfind(reason, 0), 0u) << what;
  }
}
