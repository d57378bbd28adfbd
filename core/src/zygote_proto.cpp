// The owner <-> zygote protocol: see zygote_proto.hpp for the messages.
// Linked into the core and into the static v6lab-init, whose node inits
// run the formatter after clone(CLONE_VM): no allocation, no exception, no
// errno in anything but describe(std::string) and format_zygote_args().
#include "v6lab/zygote_proto.hpp"

#include <cstring>
#include <iterator>

namespace v6lab::zygote {

namespace {

constexpr std::string_view kCommandVerbs[] = {"node", "switch"};
constexpr std::string_view kReportVerbs[] = {"limits", "pid", "ok", "error", "fatal"};

bool fail(ParseError* err, const char* what, std::string_view field = {}) noexcept {
  if (err) *err = ParseError{what, field};
  return false;
}

bool is_control(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Cuts s at its first space: *head before it, *tail after it. False if
// there is no space (then *tail is empty).
bool split(std::string_view s, std::string_view* head, std::string_view* tail) noexcept {
  std::size_t sp = s.find(' ');
  *head = s.substr(0, sp);
  *tail = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
  return sp != std::string_view::npos;
}

// The checks every line gets before its fields are looked at.
bool check_line(std::string_view line, ParseError* err) noexcept {
  if (line.empty()) return fail(err, "empty line");
  if (line.size() >= kMaxLine) return fail(err, "line longer than 511 bytes", line);
  if (line.find('\0') != std::string_view::npos) return fail(err, "embedded NUL byte", line);
  return true;
}

bool check_name(std::string_view name, bool present, ParseError* err) noexcept {
  if (!present || name.empty()) return fail(err, "missing name");
  if (name.size() > kMaxName) return fail(err, "name longer than 63 bytes", name);
  if (!valid_name(name))
    return fail(err, "bad name (letters, digits, '.', '_' and '-' only, not starting with '-')", name);
  return true;
}

bool check_text(std::string_view text, bool present, ParseError* err) noexcept {
  if (!present || text.empty()) return fail(err, "missing text");
  for (char c : text)
    if (is_control(c)) return fail(err, "control byte in text", text);
  return true;
}

// Decimal digits only, no sign, no leading zero (one spelling per value),
// at most max.
bool parse_number(std::string_view s, unsigned long long max, unsigned long long* out) noexcept {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  unsigned long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    unsigned d = static_cast<unsigned>(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

// Bounded appends into a caller's buffer; ok() is false once something
// did not fit.
struct Writer {
  char* buf;
  std::size_t cap;  // bytes usable, '\n' included
  std::size_t len = 0;
  bool fits = true;

  Writer& add(std::string_view s) noexcept {
    if (!fits || len + s.size() > cap) fits = false;
    else {
      std::memcpy(buf + len, s.data(), s.size());
      len += s.size();
    }
    return *this;
  }
  Writer& num(unsigned long long v) noexcept {
    char t[20];
    std::size_t i = sizeof t;
    do t[--i] = static_cast<char>('0' + v % 10); while ((v /= 10) && i);
    return add(std::string_view(t + i, sizeof t - i));
  }
  // TEXT: cut to leave room for the '\n', control bytes made '?'.
  Writer& text(std::string_view s) noexcept {
    if (!fits) return *this;
    if (s.empty()) s = "(no detail)";
    for (char c : s) {
      if (len + 1 >= cap) break;
      buf[len++] = is_control(c) ? '?' : c;
    }
    return *this;
  }
  std::size_t end() noexcept {
    add("\n");
    return fits ? len : 0;
  }
};

}  // namespace

bool valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxName || name[0] == '-') return false;
  bool only_dots = true;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
    if (c != '.') only_dots = false;
  }
  return !only_dots;
}

bool parse_command(std::string_view line, Command* out, ParseError* err) noexcept {
  if (!check_line(line, err)) return false;
  std::string_view verb, name, extra;
  bool has_name = split(line, &verb, &name);
  Command c;
  if (verb == kCommandVerbs[0])
    c.kind = CommandKind::node;
  else if (verb == kCommandVerbs[1])
    c.kind = CommandKind::switch_ns;
  else
    return fail(err, "unknown verb", verb);
  bool has_extra = split(name, &name, &extra);
  if (!check_name(name, has_name, err)) return false;
  if (has_extra) return fail(err, "extra field after the name", extra);
  c.name = name;
  *out = c;
  return true;
}

bool parse_report(std::string_view line, Report* out, ParseError* err) noexcept {
  if (!check_line(line, err)) return false;
  std::string_view verb, rest, extra;
  bool has_rest = split(line, &verb, &rest);
  Report r;
  std::size_t k = 0;
  while (k < std::size(kReportVerbs) && verb != kReportVerbs[k]) ++k;
  if (k == std::size(kReportVerbs)) return fail(err, "unknown verb", verb);
  r.kind = static_cast<ReportKind>(k);
  if (r.kind == ReportKind::limits || r.kind == ReportKind::fatal) {
    if (!check_text(rest, has_rest, err)) return false;
    r.text = rest;
    *out = r;
    return true;
  }
  bool has_more = split(rest, &r.name, &extra);
  if (!check_name(r.name, has_rest, err)) return false;
  if (r.kind == ReportKind::ok) {
    if (has_more) return fail(err, "extra field after the name", extra);
  } else if (r.kind == ReportKind::error) {
    if (!check_text(extra, has_more, err)) return false;
    r.text = extra;
  } else {  // pid
    std::string_view pid, after;
    bool has_after = split(extra, &pid, &after);
    if (!has_more || pid.empty()) return fail(err, "missing pid");
    unsigned long long v = 0;
    if (pid.find_first_not_of("0123456789") != std::string_view::npos || pid[0] == '0')
      return fail(err, "pid is not a positive decimal number", pid);
    if (!parse_number(pid, 2147483647ULL, &v)) return fail(err, "pid out of range", pid);
    if (has_after) return fail(err, "extra field after the pid", after);
    r.pid = static_cast<pid_t>(v);
  }
  *out = r;
  return true;
}

std::size_t format_command(const Command& c, char* buf, std::size_t cap) noexcept {
  if (!valid_name(c.name)) return 0;
  Writer w{buf, cap < kMaxLine ? cap : kMaxLine};
  w.add(kCommandVerbs[c.kind == CommandKind::node ? 0 : 1]).add(" ").add(c.name);
  return w.end();
}

std::size_t format_report(const Report& r, char* buf, std::size_t cap) noexcept {
  auto k = static_cast<std::size_t>(r.kind);
  if (k >= std::size(kReportVerbs)) return 0;
  Writer w{buf, cap < kMaxLine ? cap : kMaxLine};
  w.add(kReportVerbs[k]).add(" ");
  switch (r.kind) {
    case ReportKind::limits:
    case ReportKind::fatal:
      w.text(r.text);
      break;
    case ReportKind::pid:
      if (!valid_name(r.name) || r.pid <= 0) return 0;
      w.add(r.name).add(" ").num(static_cast<unsigned long long>(r.pid));
      break;
    case ReportKind::ok:
      if (!valid_name(r.name)) return 0;
      w.add(r.name);
      break;
    case ReportKind::error:
      if (!valid_name(r.name)) return 0;
      w.add(r.name).add(" ").text(r.text);
      break;
  }
  return w.end();
}

std::size_t describe(const ParseError& e, char* buf, std::size_t cap) noexcept {
  if (!cap) return 0;
  std::size_t len = 0;
  auto put = [&](std::string_view s) {  // cut to fit, room kept for the NUL
    for (char c : s) {
      if (len + 1 >= cap) return;
      buf[len++] = is_control(c) ? '?' : c;
    }
  };
  put(e.what ? e.what : "no error");
  if (!e.field.empty()) {
    constexpr std::size_t kShown = 40;
    put(" '");
    put(e.field.substr(0, kShown));
    put(e.field.size() > kShown ? "...'" : "'");
  }
  buf[len] = 0;
  return len;
}

std::string describe(const ParseError& e, std::string_view line) {
  char what[160];
  describe(e, what, sizeof what);
  std::string out = what;
  if (line.empty()) return out;
  out += " in \"";
  constexpr std::size_t kShown = 80;
  for (std::size_t i = 0; i < line.size() && i < kShown; ++i)
    out += is_control(line[i]) ? '?' : line[i];
  out += line.size() > kShown ? "...\"" : "\"";
  return out;
}

// ------------------------------------------------------------- LineReader

LineReader::Space LineReader::space() noexcept {
  if (start_) {
    std::memmove(buf_, buf_ + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  return {buf_ + end_, sizeof buf_ - end_};
}

void LineReader::filled(std::size_t n) noexcept {
  end_ += n < sizeof buf_ - end_ ? n : sizeof buf_ - end_;
}

LineReader::Status LineReader::next(std::string_view* line) noexcept {
  const void* nl = std::memchr(buf_ + start_, '\n', end_ - start_);
  if (!nl) return pending() >= kMaxLine ? Status::overlong : Status::more;
  std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nl) - (buf_ + start_));
  if (len + 1 > kMaxLine) return Status::overlong;
  *line = std::string_view(buf_ + start_, len);
  start_ += len + 1;
  return Status::line;
}

// ---------------------------------------------------------- command line

std::vector<std::string> format_zygote_args(const Options& o) {
  return {"v6lab-init", "zygote",
          "--idmap", std::to_string(o.id_base) + ":" + std::to_string(o.id_count),
          "--nproc", std::to_string(o.nproc),
          "--lab", std::string(o.lab),
          "--pids", std::to_string(o.pids),
          "--memory", std::to_string(o.memory)};
}

bool parse_zygote_args(int argc, const char* const* argv, Options* out, ParseError* err) noexcept {
  if (argc < 2 || std::strcmp(argv[1], "zygote") != 0)
    return fail(err, "the first argument must be 'zygote'", argc < 2 ? "" : argv[1]);
  Options o;
  bool seen[5] = {};
  constexpr std::string_view kNames[] = {"--idmap", "--nproc", "--lab", "--pids", "--memory"};
  constexpr unsigned long kUlongMax = static_cast<unsigned long>(-1);
  for (int i = 2; i < argc; i += 2) {
    std::string_view opt = argv[i];
    std::size_t k = 0;
    while (k < std::size(kNames) && opt != kNames[k]) ++k;
    if (k == std::size(kNames)) return fail(err, "unknown option", opt);
    if (seen[k]) return fail(err, "option given twice", opt);
    seen[k] = true;
    if (i + 1 >= argc) return fail(err, "missing value of option", opt);
    std::string_view v = argv[i + 1];
    unsigned long long n = 0, count = 0;
    switch (k) {
      case 0: {  // --idmap BASE:COUNT, all within 32-bit ids
        std::size_t colon = v.find(':');
        if (colon == std::string_view::npos || !parse_number(v.substr(0, colon), 4294967295ULL, &n) ||
            !parse_number(v.substr(colon + 1), 4294967295ULL, &count) || count == 0 ||
            n + count > 4294967296ULL)
          return fail(err, "--idmap must be BASE:COUNT, COUNT > 0, within 32-bit ids", v);
        o.id_base = static_cast<unsigned long>(n);
        o.id_count = static_cast<unsigned long>(count);
        break;
      }
      case 2:
        if (!valid_name(v)) return fail(err, "--lab must be a name (letters, digits, '.', '_', '-')", v);
        o.lab = v;
        break;
      default:
        if (!parse_number(v, k == 4 ? ~0ULL : kUlongMax, &n))
          return fail(err, "the value must be a decimal number", v);
        if (k == 1) o.nproc = static_cast<unsigned long>(n);
        if (k == 3) o.pids = static_cast<unsigned long>(n);
        if (k == 4) o.memory = n;
    }
  }
  if (!seen[0]) return fail(err, "missing option", kNames[0]);
  *out = o;
  return true;
}

}  // namespace v6lab::zygote
