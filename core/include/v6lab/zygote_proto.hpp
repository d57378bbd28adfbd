// The protocol between a lab's owner and its zygote, defined once: the
// owner's side is core/src/zygote_client.cpp, the other side the zygote and
// the node inits of core/tools/v6lab-init.cpp. Both use the types, the
// formatters and the parsers below, and the tests prove that whatever one
// side formats the other parses back unchanged.
//
// Command line (owner -> zygote, once):
//
//   v6lab-init zygote --idmap BASE:COUNT [--nproc N] [--lab NAME]
//                     [--pids N] [--memory BYTES]
//
// Pipes, as numbered in the zygote (the owner places them; see
// start_zygote):
//
//   fd 3  lifeline, read end. Nothing is ever written; EOF means the owner
//         is gone and every init exits.
//   fd 4  commands, owner -> zygote, one per line; EOF ends them:
//           node NAME        create a node's init (new user, network, UTS,
//                            mount, PID and IPC namespaces; root filesystem)
//           switch NAME      create the switch namespace's init (no user
//                            namespace, no root filesystem of its own)
//   fd 5  reports, zygote and inits -> owner, one per line:
//           limits TEXT      which resource limits are in force (the first line)
//           pid NAME PID     the zygote created NAME's init (PID as the owner
//                            sees it); for a node, after writing its id maps
//           ok NAME          NAME's init is set up and running (the last line
//                            it writes)
//           error NAME TEXT  creating or setting up NAME failed; that init
//                            never runs (or has exited)
//           fatal TEXT       the zygote cannot go on (the nodes' root
//                            filesystem, a bad command): it creates no more
//                            inits. TEXT is the whole sentence for the user.
//
// A line is at most kMaxLine bytes with its '\n', fields are separated by
// exactly one space, and TEXT (the rest of the line) holds no control byte.
// Each report is written with one write(): below PIPE_BUF that is atomic,
// so the lines of inits reporting at the same moment never interleave.
//
// Everything here except describe() and format_zygote_args() is
// allocation-free, never throws and never touches errno: the node inits
// share the zygote's memory and thread-local storage (CLONE_VM) and run the
// formatter after the clone, and the zygote is a static program that must
// not throw across its clone.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace v6lab::zygote {

// With its '\n'; far below PIPE_BUF (4096), so one write() is one line.
inline constexpr std::size_t kMaxLine = 512;
// A node init keeps its name in a char[64] (and sets it as its hostname,
// HOST_NAME_MAX 64). Node names of a spec are at most 32 bytes.
inline constexpr std::size_t kMaxName = 63;
// The switch namespace's init: it cannot collide with a node, whose names
// start with a letter.
inline constexpr std::string_view kSwitchName = ".switch";

enum class CommandKind : unsigned char { node, switch_ns };

struct Command {
  CommandKind kind = CommandKind::node;
  std::string_view name;
};

enum class ReportKind : unsigned char { limits, pid, ok, error, fatal };

struct Report {
  ReportKind kind = ReportKind::ok;
  std::string_view name;  // pid, ok, error
  pid_t pid = 0;          // pid
  std::string_view text;  // limits, error, fatal
};

// Why input was refused: a fixed phrase ("unknown verb") and the bytes it
// is about (pointing into the input; may be empty).
struct ParseError {
  const char* what = nullptr;
  std::string_view field;
};

// A name as the protocol carries it: 1 to kMaxName bytes of letters,
// digits, '.', '_' and '-', not starting with '-' and not only dots. It is
// a hostname and a cgroup directory name in the zygote: no '/', no space.
bool valid_name(std::string_view name) noexcept;

// One line, without its '\n' (as LineReader yields it). False with *err
// set if the line is malformed: empty, too long, an embedded NUL, an
// unknown verb, a missing or extra field, a bad name or number, a control
// byte in TEXT.
bool parse_command(std::string_view line, Command* out, ParseError* err) noexcept;
bool parse_report(std::string_view line, Report* out, ParseError* err) noexcept;

// Writes the line, '\n' included, into buf and returns its length; 0 if
// the message cannot be sent (an invalid name, or cap too small for it).
// TEXT is made sendable rather than refused: control bytes become '?',
// what does not fit in kMaxLine is cut, and an empty TEXT becomes
// "(no detail)", so a failure is always reported.
std::size_t format_command(const Command& c, char* buf, std::size_t cap) noexcept;
std::size_t format_report(const Report& r, char* buf, std::size_t cap) noexcept;

// The error as a phrase for a message: what, then the field quoted and
// cut to 40 bytes, control bytes shown as '?'. Returns the length written
// (always NUL-terminated if cap > 0).
std::size_t describe(const ParseError& e, char* buf, std::size_t cap) noexcept;
// Owner side: the same, and the line it was found in.
std::string describe(const ParseError& e, std::string_view line);

// Splits a byte stream (a pipe) into lines. Allocation-free: the buffer is
// part of the object. Use: read() into space(), filled(n), then next()
// until it says more; at EOF, pending() != 0 means the stream ended in the
// middle of a line.
class LineReader {
 public:
  enum class Status { line, more, overlong };
  struct Space {
    char* data;
    std::size_t size;  // never 0 while next() says more
  };

  // Where to read into next. Moves what is unread to the front first, so a
  // line returned by next() is only valid until then.
  Space space() noexcept;
  void filled(std::size_t n) noexcept;
  // The next complete line without its '\n' (line); none complete yet
  // (more); or a line of more than kMaxLine bytes (overlong: the stream
  // cannot be trusted any more, stop reading it).
  Status next(std::string_view* line) noexcept;
  // Bytes of a line not finished yet.
  std::size_t pending() const noexcept { return end_ - start_; }

 private:
  char buf_[8 * kMaxLine];
  std::size_t start_ = 0, end_ = 0;
};

// The zygote's command line (after "v6lab-init zygote").
struct Options {
  unsigned long id_base = 0;   // host id of node root
  unsigned long id_count = 0;  // ids mapped from there; required, > 0
  unsigned long nproc = 0;     // RLIMIT_NPROC of node root per node; 0: none
  std::string_view lab = "lab";  // names the lab's cgroups (a valid_name)
  unsigned long pids = 0;      // cgroup pids.max per node; 0: none
  unsigned long long memory = 0;  // cgroup memory.max per node; 0: none
};

// Owner side: the full argv, argv[0] "v6lab-init" included.
std::vector<std::string> format_zygote_args(const Options& o);
// Zygote side: argv as main() gets it. lab points into argv (a whole
// element, so lab.data() is NUL-terminated). False with *err on an unknown
// or repeated option, a missing value or a malformed number.
bool parse_zygote_args(int argc, const char* const* argv, Options* out, ParseError* err) noexcept;

}  // namespace v6lab::zygote
