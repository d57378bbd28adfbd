// libFuzzer harness: bytes as the zygote's pipes carry them, through the
// LineReader and both parsers (v6lab/zygote_proto.hpp), and the same bytes
// as the zygote's argv. Any crash, sanitizer report or broken invariant
// (abort) is a bug. Invariants: a refused line always says why; a line
// that parses formats back to exactly itself; whatever the formatter
// writes, from any TEXT, is one line the parser accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "v6lab/zygote_proto.hpp"

namespace z = v6lab::zygote;

namespace {

void check_line(std::string_view line) {
  char out[z::kMaxLine];
  z::ParseError e;
  z::Command c;
  if (z::parse_command(line, &c, &e)) {
    std::size_t n = z::format_command(c, out, sizeof out);
    if (n != line.size() + 1 || std::string_view(out, n - 1) != line || out[n - 1] != '\n') std::abort();
  } else if (!e.what) {
    std::abort();
  }
  char what[64];
  if (z::describe(e, what, sizeof what) >= sizeof what) std::abort();
  z::Report r;
  if (z::parse_report(line, &r, &e)) {
    std::size_t n = z::format_report(r, out, sizeof out);
    if (n != line.size() + 1 || std::string_view(out, n - 1) != line) std::abort();
  } else if (!e.what || z::describe(e, line).empty()) {
    std::abort();
  }
  // Any bytes as TEXT (and as a name): what is sent must parse, whole.
  z::Report any;
  any.kind = static_cast<z::ReportKind>(line.size() % 5);
  any.name = line.substr(0, line.size() % 70);
  any.pid = static_cast<pid_t>(line.size() + 1);
  any.text = line;
  std::size_t n = z::format_report(any, out, sizeof out);
  if (n) {
    if (n > z::kMaxLine || out[n - 1] != '\n') std::abort();
    if (!z::parse_report(std::string_view(out, n - 1), &r, &e)) std::abort();
  }
}

// The input split at NUL bytes as an argv.
void check_args(const std::uint8_t* data, std::size_t size) {
  std::string buf(reinterpret_cast<const char*>(data), size);
  std::vector<const char*> argv = {"v6lab-init"};
  for (std::size_t at = 0; at <= buf.size();) {
    std::size_t end = buf.find('\0', at);
    if (end == std::string::npos) end = buf.size();
    argv.push_back(buf.c_str() + at);
    if (end == buf.size()) break;
    at = end + 1;
  }
  z::Options o, back;
  z::ParseError e;
  if (!z::parse_zygote_args(static_cast<int>(argv.size()), argv.data(), &o, &e)) {
    if (!e.what) std::abort();
    return;
  }
  std::vector<std::string> again = z::format_zygote_args(o);
  std::vector<const char*> av;
  for (const auto& s : again) av.push_back(s.c_str());
  if (!z::parse_zygote_args(static_cast<int>(av.size()), av.data(), &back, &e)) std::abort();
  if (back.id_base != o.id_base || back.id_count != o.id_count || back.nproc != o.nproc ||
      back.lab != o.lab || back.pids != o.pids || back.memory != o.memory)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte sets the read size, as a pipe delivers what it has.
  std::size_t chunk = 1 + data[0] % 97;
  z::LineReader reader;
  std::size_t at = 1;
  bool stop = false;
  while (at < size && !stop) {
    z::LineReader::Space sp = reader.space();
    if (sp.size == 0) std::abort();  // next() said more: there must be room
    std::size_t n = chunk < sp.size ? chunk : sp.size;
    if (n > size - at) n = size - at;
    std::memcpy(sp.data, data + at, n);
    reader.filled(n);
    at += n;
    std::string_view line;
    z::LineReader::Status st;
    while ((st = reader.next(&line)) == z::LineReader::Status::line) {
      if (line.size() >= z::kMaxLine || line.find('\n') != std::string_view::npos) std::abort();
      check_line(line);
    }
    if (st == z::LineReader::Status::overlong) stop = true;
    else if (reader.pending() >= z::kMaxLine) std::abort();
  }
  check_args(data + 1, size - 1);
  return 0;
}
