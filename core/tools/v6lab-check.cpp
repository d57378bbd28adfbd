// v6lab-check: a trainee's `v6lab check` in a class, as a program that
// starts in a millisecond.
//
// Why: in a class, `check` is the command thirty trainees type at the same
// moment, and the server pays for each one. The service grades and draws
// the report (bindings/v6lab/classroom/worker.py, op_check); the command
// only sends a request and prints the answer. Even Python's quick path for
// it (bindings/v6lab/classroom/quick.py) pays for an interpreter: about
// 30 ms of CPU a check on a loaded 2-core server, a sixth of what a check
// costs there (docs/performance.md). The ./v6lab launcher runs this program
// for command lines that start with `check` or `--lang`.
//
// It is quick.py's twin, and takes only what quick.py takes: `[--lang CODE]
// check [--lab NAME] [--format FORMAT] [--verbose|-v]`, a class in force,
// plain ASCII in every variable it reads, a UTF-8 (or C) locale. For
// anything else it execs the full command line before sending anything
// (`python3 -P -c 'import v6lab.__main__' ARGS`, as the launcher would), so
// the service never sees a request from here that Python would not have
// sent. tests/unit/test_check_client.py runs both on the same inputs and
// compares the request bytes, the output, the messages and the exit code.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <optional>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <tuple>
#include <unistd.h>
#include <utility>
#include <vector>

#include "mo_catalogue.hpp"

namespace {

using Strings = std::vector<std::string>;

constexpr int kVersion = 2;                    // protocol.VERSION
constexpr size_t kMaxAnswer = 64u << 20;       // protocol.MAX_ANSWER
constexpr int kExitFailed = 1, kExitInternal = 70;
constexpr const char* kDefaultSocket = "/run/v6lab-class/class.sock";
constexpr const char* kPython = "/usr/bin/python3";

volatile sig_atomic_t g_interrupted = 0;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Not sure: the full command line decides (and explains). Never returns.
[[noreturn]] void full_command(char** argv) {
  std::vector<char*> args{const_cast<char*>("python3"), const_cast<char*>("-P"),
                          const_cast<char*>("-c"), const_cast<char*>("import v6lab.__main__")};
  for (char** a = argv + 1; *a != nullptr; ++a) args.push_back(*a);
  args.push_back(nullptr);
  execv(kPython, args.data());
  std::fprintf(stderr, "v6lab: cannot run %s: %s\n", kPython, std::strerror(errno));
  std::exit(127);
}

// Where Python's str and this program could read a value differently (a
// byte above 127 is decoded by Python, compared as bytes here), this
// program does not read it: such a variable sends the command to Python.
struct NotSure {};

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  for (const char* p = v; *p; ++p)
    if (static_cast<unsigned char>(*p) > 127) throw NotSure{};
  return std::string(v);
}

std::string env_or_empty(const char* name) { return env(name).value_or(""); }

bool py_space(char c) {  // str.isspace on ASCII
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && py_space(s[b])) ++b;
  while (e > b && py_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool all_of(const std::string& s, int (*pred)(int)) {
  for (unsigned char c : s)
    if (c > 127 || !pred(c)) return false;
  return true;
}

// -- the command line (quick._parse) ----------------------------------------

struct Options {
  std::optional<std::string> lang, lab;
  std::string format = "text";
  bool verbose = false;
};

bool bad_value(const std::string& v) { return v.empty() || v[0] == '-'; }

std::optional<Options> parse(int argc, char** argv) {
  Strings args(argv + 1, argv + argc);
  Options o;
  size_t i = 0;
  if (i < args.size() && args[i].rfind("--lang", 0) == 0) {
    if (args[i] == "--lang" && i + 1 < args.size()) {
      o.lang = args[i + 1];
      i += 2;
    } else if (args[i].rfind("--lang=", 0) == 0) {
      o.lang = args[i].substr(7);
      i += 1;
    } else {
      return std::nullopt;
    }
    if (bad_value(*o.lang)) return std::nullopt;
  }
  if (i >= args.size() || args[i] != "check") return std::nullopt;
  bool seen_lab = false, seen_format = false;
  for (++i; i < args.size(); ++i) {
    std::string tok = args[i], key, value;
    if (tok == "--verbose" || tok == "-v") {
      if (o.verbose) return std::nullopt;
      o.verbose = true;
      continue;
    }
    if ((tok == "--lab" || tok == "--format") && i + 1 < args.size()) {
      key = tok.substr(2);
      value = args[++i];
    } else if (tok.rfind("--lab=", 0) == 0 || tok.rfind("--format=", 0) == 0) {
      size_t eq = tok.find('=');
      key = tok.substr(2, eq - 2);
      value = tok.substr(eq + 1);
    } else {
      return std::nullopt;
    }
    bool& seen = key == "lab" ? seen_lab : seen_format;
    if (seen || bad_value(value)) return std::nullopt;
    seen = true;
    if (key == "lab")
      o.lab = value;
    else
      o.format = value;
  }
  if (o.format != "text" && o.format != "json" && o.format != "junit" && o.format != "tap")
    return std::nullopt;
  return o;
}

// protocol._is_name: [A-Za-z0-9][A-Za-z0-9._-]{0,99}
bool is_name(const std::string& s) {
  if (s.empty() || s.size() > 100 || !std::isalnum(static_cast<unsigned char>(s[0])))
    return false;
  for (unsigned char c : s)
    if (c > 127 || !(std::isalnum(c) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

// -- the class's socket (quick._class_socket) -------------------------------

std::optional<std::string> class_socket() {
  std::string off = lower(env_or_empty("V6LAB_CLASS"));
  if (off == "off" || off == "0" || off == "no") return std::nullopt;
  std::string path = env_or_empty("V6LAB_CLASS_SOCKET");
  if (!path.empty()) return path;
  if (getuid() == 0 || !env_or_empty("V6LAB_OUTER_UID").empty()) return std::nullopt;
  struct stat st {};
  if (stat(kDefaultSocket, &st) == 0 && S_ISSOCK(st.st_mode)) return std::string(kDefaultSocket);
  return std::nullopt;
}

// -- the language (v6lab.i18n: normalize, _expand, preferences) -------------

// A language of min..max letters, then optionally one of seps and a region
// of 2..8 letters or digits: the shape of i18n._is_code and protocol._is_lang.
bool is_language_code(const std::string& s, const char* seps, size_t max_lang) {
  size_t sep = s.find_first_of(seps);
  std::string lang = s.substr(0, sep);
  if (lang.size() < 2 || lang.size() > max_lang || !all_of(lang, std::isalpha)) return false;
  if (sep == std::string::npos) return true;
  std::string region = s.substr(sep + 1);
  return region.size() >= 2 && region.size() <= 8 && all_of(region, std::isalnum);
}

bool is_code(const std::string& code) { return is_language_code(code, "_", 8); }  // i18n._is_code

Strings normalize(const std::string& raw) {
  std::string code = strip(raw);
  code = code.substr(0, code.find('.'));
  code = code.substr(0, code.find('@'));
  for (char& c : code)
    if (c == '-') c = '_';
  if (code == "C" || code == "POSIX") return {"en"};
  if (!is_code(code)) return {};
  size_t sep = code.find('_');
  std::string lang = lower(code.substr(0, sep));
  if (sep == std::string::npos) return {lang};
  std::string region = code.substr(sep + 1);
  for (char& c : region)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return {lang + "_" + region, lang};
}

Strings expand(const std::string& value) {
  Strings out;
  size_t start = 0;
  while (true) {
    size_t colon = value.find(':', start);
    for (const std::string& name : normalize(value.substr(start, colon - start))) {
      if (name == "en") return out;
      bool known = false;
      for (const std::string& o : out) known = known || o == name;
      if (!known) out.push_back(name);
    }
    if (colon == std::string::npos) return out;
    start = colon + 1;
  }
}

Strings preferences(const std::optional<std::string>& explicit_lang) {
  for (const std::optional<std::string>& v : {explicit_lang, env("V6LAB_LANG")})
    if (v && !strip(*v).empty()) return expand(*v);
  for (const char* var : {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"}) {
    std::string v = env_or_empty(var);
    if (!v.empty()) return expand(v);
  }
  return {};
}

// The package's locale/ folder: this program is in its libexec/.
std::string locale_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw NotSure{};
  std::string exe(buf, static_cast<size_t>(n));
  std::string libexec = exe.substr(0, exe.rfind('/'));
  return libexec.substr(0, libexec.rfind('/')) + "/locale";
}

std::string mo_path(const std::string& dir, const std::string& lang) {
  return dir + "/" + lang + "/LC_MESSAGES/v6lab.mo";
}

bool is_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// i18n.language(): the first preferred language shipped, else English.
std::string language(const Strings& prefs, const std::string& dir) {
  for (const std::string& p : prefs)
    if (is_file(mo_path(dir, p))) return p;
  return "en";
}

// protocol._is_lang: [A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?
bool is_lang(const std::string& s) { return is_language_code(s, "_-", 3); }

// Messages of this program, translated as i18n._ would: the catalogues of
// the preferred languages in order, then English.
class Messages {
 public:
  Messages(const Strings& prefs, const std::string& dir) {
    for (const std::string& p : prefs) {
      v6lab::MoCatalogue c;
      if (c.load(mo_path(dir, p))) chain_.push_back(std::move(c));
    }
  }
  std::string operator()(const std::string& msgid) const {
    for (const v6lab::MoCatalogue& c : chain_)
      if (std::optional<std::string> t = c.find(msgid); t && !t->empty()) return *t;
    return msgid;
  }

 private:
  std::vector<v6lab::MoCatalogue> chain_;
};

// -- the terminal (quick.terminal) ------------------------------------------

std::pair<int, std::optional<std::string>> terminal() {
  long width = 80;
  bool tty = isatty(STDOUT_FILENO) == 1;
  std::string columns = env_or_empty("COLUMNS");
  if (!columns.empty() && all_of(columns, std::isdigit)) {
    width = 0;
    for (char c : columns) width = std::min(width * 10 + (c - '0'), 100000L);
  } else if (tty) {
    struct winsize ws {};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) width = ws.ws_col;
  }
  width = std::min(std::max(width, 20L), 1000L);
  std::string term = lower(env_or_empty("TERM"));
  if (!env_or_empty("NO_COLOR").empty() || !(tty || !env_or_empty("FORCE_COLOR").empty()) ||
      term == "dumb" || term == "unknown")
    return {static_cast<int>(width), std::nullopt};
  std::string colorterm = lower(env_or_empty("COLORTERM"));
  if (colorterm == "truecolor" || colorterm == "24bit") return {static_cast<int>(width), "truecolor"};
  bool is256 = term.size() >= 8 && term.compare(term.size() - 8, 8, "256color") == 0;
  return {static_cast<int>(width), is256 ? "256" : "standard"};
}

// protocol.request("check", lang=..., **check_args(...)): the same bytes,
// key order and spacing as Python's json.dumps. Every value was checked to
// be plain ASCII without quotes or backslashes, so none needs escaping.
std::string request_line(const Options& o, const std::string& lang) {
  auto [width, color] = terminal();
  std::string args;
  auto add = [&args](const std::string& key, const std::string& json_value) {
    args += (args.empty() ? "" : ", ") + ("\"" + key + "\": ") + json_value;
  };
  if (lang != "en") add("lang", "\"" + lang + "\"");
  if (o.lab) add("lab", "\"" + *o.lab + "\"");
  add("format", "\"" + o.format + "\"");
  if (o.verbose) add("verbose", "true");
  add("width", std::to_string(width));
  if (color) add("color", "\"" + *color + "\"");
  return "{\"v\": " + std::to_string(kVersion) + ", \"op\": \"check\", \"args\": {" + args +
         "}}\n";
}

// -- the exchange (quick._exchange) -----------------------------------------

struct Failure {
  std::string message;
  int code;
};

void on_sigint(int) { g_interrupted = 1; }

void send_line(int fd, const std::string& line, const Messages& tr) {
  // A service that refuses a caller before reading (a uid of no user, too
  // many connections) has written its refusal and closed: EPIPE or
  // ECONNRESET here is no error, the refusal still waits to be read.
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = send(fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR && !g_interrupted) continue;
    if (g_interrupted) throw Failure{tr("interrupted"), 130};
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return;
    if (n < 0) throw Failure{std::strerror(errno), kExitFailed};
    off += static_cast<size_t>(n);
  }
}

std::string read_line(int fd, const Messages& tr) {
  std::string buf;
  char chunk[65536];
  while (buf.find('\n') == std::string::npos) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (g_interrupted) throw Failure{tr("interrupted"), 130};
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Failure{std::strerror(errno), kExitFailed};
    if (n == 0)
      throw Failure{tr("the classroom service closed the connection without an answer"),
                    kExitInternal};
    buf.append(chunk, static_cast<size_t>(n));
    if (buf.size() > kMaxAnswer)
      throw Failure{tr("the classroom service sent an answer too large to read"),
                    kExitInternal};
  }
  return buf.substr(0, buf.find('\n'));
}

int as_exit(const nlohmann::json& v, int otherwise) {  // Python's int(v), for what it can be
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_number_integer()) return static_cast<int>(v.get<long long>() & 0xff);
  if (v.is_number_float()) return static_cast<int>(static_cast<long long>(v.get<double>()) & 0xff);
  return otherwise;
}

// protocol.read_answer, then the report's text and exit code.
std::pair<std::string, int> answer(const std::string& line, const Messages& tr) {
  nlohmann::json d = nlohmann::json::parse(line, nullptr, false);
  if (d.is_discarded())
    throw Failure{"the classroom service sent something that is not JSON", kExitInternal};
  if (!d.is_object() || !d.contains("v") || !d["v"].is_number() || d["v"] != kVersion ||
      !d.contains("ok") || !d["ok"].is_boolean())
    throw Failure{"the classroom service speaks another protocol version (update v6lab on one "
                  "side)", kExitInternal};
  if (!d["ok"].get<bool>()) {
    const nlohmann::json& e = d.contains("error") ? d["error"] : nlohmann::json();
    // The service's own sentence; "refused" where Python's `or` would say it.
    bool empty = e.is_null() || (e.is_boolean() && !e.get<bool>()) ||
                 (e.is_number() && e == 0) || (e.is_string() && e.get_ref<const std::string&>().empty()) ||
                 (e.is_structured() && e.empty());
    std::string message = empty ? "refused" : e.is_string() ? e.get<std::string>() : e.dump();
    int code = kExitFailed;
    if (d.contains("code") && (d["code"].is_number_integer() || d["code"].is_boolean()))
      code = as_exit(d["code"], kExitFailed);
    throw Failure{message, code};
  }
  const nlohmann::json* r = d.contains("result") ? &d["result"] : nullptr;
  if (r == nullptr || !r->is_object() || !r->contains("output") || !(*r)["output"].is_string())
    throw Failure{tr("the classroom service sent no report: ask your instructor to restart it "
                     "(it may be older than this v6lab)"), kExitInternal};
  int code = r->contains("exit") ? as_exit((*r)["exit"], kExitInternal) : kExitInternal;
  return {(*r)["output"].get<std::string>(), code};
}

int write_all(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    off += static_cast<size_t>(n);
  }
  return 0;
}

int fail(const std::string& message, int code) {
  write_all(STDERR_FILENO, "v6lab: " + message + "\n");
  return code;
}

int exchange(int fd, const std::string& line, const Messages& tr) {
  std::string output;
  int code;
  try {
    send_line(fd, line, tr);
    std::tie(output, code) = answer(read_line(fd, tr), tr);
  } catch (const Failure& f) {
    return fail(f.message, f.code);
  }
  int err = write_all(STDOUT_FILENO, output);
  if (err == EPIPE) return 141;  // `v6lab check | head`, as the full command does
  return code;
}

// Python writes text to stdout in the locale's encoding, UTF-8 in a UTF-8
// locale and in the C locale (PEP 538, 540): this program only in those.
bool utf8_output() {
  for (const char* var : {"PYTHONIOENCODING", "PYTHONUTF8", "PYTHONCOERCECLOCALE"})
    if (std::getenv(var) != nullptr) return false;
  const char* name = setlocale(LC_CTYPE, "");
  if (name == nullptr || std::strcmp(name, "C") == 0 || std::strcmp(name, "POSIX") == 0)
    return true;
  return std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

struct Plan {
  std::string socket, line;
  Messages tr;
};

std::optional<Plan> plan(int argc, char** argv) {
  std::optional<Options> o = parse(argc, argv);
  if (!o || (o->lab && !is_name(*o->lab))) return std::nullopt;
  if (o->lang && !all_of(*o->lang, [](int c) { return c > 32 && c < 127 ? 1 : 0; }))
    return std::nullopt;
  std::optional<std::string> sock = class_socket();
  if (!sock || sock->size() >= sizeof(sockaddr_un{}.sun_path) || !utf8_output())
    return std::nullopt;
  std::string dir = locale_dir();
  Strings prefs = preferences(o->lang);
  std::string lang = language(prefs, dir);
  if (lang != "en" && !is_lang(lang)) return std::nullopt;
  return Plan{*sock, request_line(*o, lang), Messages(prefs, dir)};
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Plan> p;
  try {
    p = plan(argc, argv);
  } catch (const NotSure&) {
  }
  if (!p) full_command(argv);
  Fd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, p->socket.data(), p->socket.size());
  if (s.get() < 0 || connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    full_command(argv);  // nothing sent yet: the full command explains
  struct sigaction sa {};
  sa.sa_handler = on_sigint;  // no SA_RESTART: a blocked recv returns
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // as Python: a closed stdout is EPIPE, exit 141
  return exchange(s.get(), p->line, p->tr);
}
