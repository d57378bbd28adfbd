// Parser and encoder of v6lab-ra's configuration: see ra_config.hpp.
#include "ra_config.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>

namespace v6lab_ra {

namespace {

constexpr std::uint32_t kInfinity = 0xffffffffu;
constexpr int kPref64Lengths[] = {96, 64, 56, 48, 40, 32};  // index: the PLC

struct Token {
  std::string text;  // a word, or one of "{", "}", ";"
  int line = 0;
};

struct Failure {
  std::string message;
};

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  int line = 1;
  for (std::size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '{' || c == '}' || c == ';') {
      out.push_back({std::string(1, c), line});
      ++i;
    } else {
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '{' &&
             s[j] != '}' && s[j] != ';' && s[j] != '#')
        ++j;
      out.push_back({s.substr(i, j - i), line});
      i = j;
    }
  }
  return out;
}

// A cursor over the tokens that fails with "FILE:LINE: ..." messages.
class Parser {
 public:
  Parser(std::vector<Token> t, std::string file) : toks_(std::move(t)), file_(std::move(file)) {}

  bool done() const { return pos_ >= toks_.size(); }
  int line() const { return done() ? (toks_.empty() ? 1 : toks_.back().line) : toks_[pos_].line; }
  const std::string& peek() const {
    static const std::string end;
    return done() ? end : toks_[pos_].text;
  }
  [[noreturn]] void fail(int line, const std::string& what) const {
    throw Failure{file_ + ":" + std::to_string(line) + ": " + what};
  }
  std::string word(const char* what) {
    if (done()) fail(line(), std::string("the file ends where ") + what + " should be");
    const Token& t = toks_[pos_];
    if (t.text == "{" || t.text == "}" || t.text == ";")
      fail(t.line, std::string("'") + t.text + "' where " + what + " should be");
    ++pos_;
    return t.text;
  }
  void expect(const char* sym, const char* after) {
    if (done()) fail(line(), std::string("the file ends: '") + sym + "' missing after " + after);
    if (toks_[pos_].text != sym)
      fail(toks_[pos_].line, std::string("'") + sym + "' expected after " + after + ", found '" +
                                 toks_[pos_].text + "'");
    ++pos_;
  }
  // "};" closes a block; radvd requires the ';', so do we.
  void close_block(const std::string& what) {
    expect("}", (what + "'s options").c_str());
    expect(";", ("the '}' of " + what).c_str());
  }

 private:
  std::vector<Token> toks_;
  std::string file_;
  std::size_t pos_ = 0;
};

bool flag(Parser& p, const std::string& name) {
  int ln = p.line();
  std::string v = p.word("on or off");
  if (v == "on") return true;
  if (v == "off") return false;
  p.fail(ln, name + " takes on or off, not '" + v + "'");
}

double number(Parser& p, const std::string& name, double lo, double hi) {
  int ln = p.line();
  std::string v = p.word("a number");
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != 0 || errno != 0 || !std::isfinite(d))
    p.fail(ln, name + " takes a number, not '" + v + "'");
  if (d < lo || d > hi)
    p.fail(ln, name + " " + v + " is out of range (" + std::to_string(static_cast<long>(lo)) +
                   " to " + std::to_string(static_cast<long long>(hi)) + ")");
  return d;
}

std::uint32_t lifetime(Parser& p, const std::string& name) {
  if (p.peek() == "infinity") {
    p.word("a lifetime");
    return kInfinity;
  }
  return static_cast<std::uint32_t>(number(p, name, 0, 4294967294.0));
}

void address(Parser& p, const std::string& text, int ln, std::uint8_t* out) {
  if (::inet_pton(AF_INET6, text.c_str(), out) != 1)
    p.fail(ln, "'" + text + "' is not an IPv6 address");
}

int prefix(Parser& p, const std::string& what, std::uint8_t* out) {
  int ln = p.line();
  std::string v = p.word("a prefix (address/length)");
  auto slash = v.find('/');
  if (slash == std::string::npos) p.fail(ln, what + " '" + v + "' has no /length");
  address(p, v.substr(0, slash), ln, out);
  std::string len = v.substr(slash + 1);
  char* end = nullptr;
  long n = std::strtol(len.c_str(), &end, 10);
  if (len.empty() || *end != 0 || n < 0 || n > 128)
    p.fail(ln, what + " '" + v + "': the length must be 0 to 128");
  for (int b = static_cast<int>(n); b < 128; ++b)
    if (out[b / 8] & (0x80 >> (b % 8)))
      p.fail(ln, what + " '" + v + "' has bits set beyond its length");
  return static_cast<int>(n);
}

// Options of a block: "name value;" pairs, each handled by its setter.
using Setters = std::map<std::string, std::function<void(Parser&, const std::string&)>>;

void options(Parser& p, const std::string& block, const Setters& set) {
  p.expect("{", block.c_str());
  while (!p.done() && p.peek() != "}") {
    int ln = p.line();
    std::string name = p.word("an option");
    auto it = set.find(name);
    if (it == set.end()) {
      std::string known;
      for (const auto& [k, _] : set) known += (known.empty() ? "" : ", ") + k;
      p.fail(ln, "unknown option '" + name + "' in " + block + " (v6lab-ra knows: " + known + ")");
    }
    it->second(p, name);
    p.expect(";", name.c_str());
  }
  p.close_block(block);
}

Prefix prefix_block(Parser& p) {
  Prefix x;
  x.line = p.line();
  x.length = prefix(p, "prefix", x.addr);
  using N = const std::string&;
  options(p, "prefix block", {
      {"AdvOnLink", [&](Parser& q, N n) { x.on_link = flag(q, n); }},
      {"AdvAutonomous", [&](Parser& q, N n) { x.autonomous = flag(q, n); }},
      {"AdvValidLifetime", [&](Parser& q, N n) { x.valid = lifetime(q, n); }},
      {"AdvPreferredLifetime", [&](Parser& q, N n) { x.preferred = lifetime(q, n); }},
  });
  if (x.preferred > x.valid)
    p.fail(x.line, "AdvPreferredLifetime is longer than AdvValidLifetime");
  return x;
}

Rdnss rdnss_block(Parser& p) {
  Rdnss r;
  r.line = p.line();
  while (!p.done() && p.peek() != "{") {
    int ln = p.line();
    std::array<std::uint8_t, 16> a{};
    address(p, p.word("a DNS server's address"), ln, a.data());
    r.servers.push_back(a);
  }
  if (r.servers.empty()) p.fail(r.line, "RDNSS names no server");
  if (r.servers.size() > 3) p.fail(r.line, "RDNSS names more than 3 servers (radvd's limit)");
  options(p, "RDNSS block", {
      {"AdvRDNSSLifetime", [&](Parser& q, const std::string& n) { r.lifetime = lifetime(q, n); }},
  });
  return r;
}

Nat64Prefix nat64_block(Parser& p) {
  Nat64Prefix x;
  x.line = p.line();
  x.length = prefix(p, "nat64prefix", x.addr);
  bool ok = false;
  for (int l : kPref64Lengths) ok = ok || l == x.length;
  if (!ok)
    p.fail(x.line, "nat64prefix /" + std::to_string(x.length) +
                       ": the length must be 32, 40, 48, 56, 64 or 96 (RFC 8781)");
  options(p, "nat64prefix block", {
      {"AdvValidLifetime", [&](Parser& q, const std::string& n) {
         x.lifetime = static_cast<std::uint32_t>(number(q, n, 0, 65528));
       }},
  });
  return x;
}

Interface interface_block(Parser& p) {
  Interface i;
  i.line = p.line();
  i.name = p.word("an interface name");
  if (i.name.size() >= IFNAMSIZ) p.fail(i.line, "interface name '" + i.name + "' is too long");
  using N = const std::string&;
  auto u32 = [](Parser& q, N n, double hi) { return static_cast<std::uint32_t>(number(q, n, 0, hi)); };
  Setters set = {
      {"AdvSendAdvert", [&](Parser& q, N n) { i.send_advert = flag(q, n); }},
      {"MinRtrAdvInterval", [&](Parser& q, N n) { i.min_interval = number(q, n, 3, 1350); }},
      {"MaxRtrAdvInterval", [&](Parser& q, N n) { i.max_interval = number(q, n, 4, 1800); }},
      {"AdvManagedFlag", [&](Parser& q, N n) { i.managed = flag(q, n); }},
      {"AdvOtherConfigFlag", [&](Parser& q, N n) { i.other = flag(q, n); }},
      {"AdvDefaultLifetime", [&](Parser& q, N n) { i.default_lifetime = u32(q, n, 9000); }},
      {"AdvCurHopLimit", [&](Parser& q, N n) { i.cur_hop_limit = static_cast<int>(u32(q, n, 255)); }},
      {"AdvLinkMTU", [&](Parser& q, N n) { i.link_mtu = u32(q, n, 65535); }},
      {"AdvReachableTime", [&](Parser& q, N n) { i.reachable_time = u32(q, n, 3600000); }},
      {"AdvRetransTimer", [&](Parser& q, N n) { i.retrans_timer = u32(q, n, 4294967295.0); }},
      {"AdvSourceLLAddress", [&](Parser& q, N n) { i.source_lladdr = flag(q, n); }},
  };

  p.expect("{", ("interface " + i.name).c_str());
  while (!p.done() && p.peek() != "}") {
    int ln = p.line();
    std::string name = p.peek();
    if (name == "prefix" || name == "RDNSS" || name == "nat64prefix") {
      p.word("a block");
      if (name == "prefix") i.prefixes.push_back(prefix_block(p));
      else if (name == "RDNSS") i.rdnss.push_back(rdnss_block(p));
      else i.nat64.push_back(nat64_block(p));
      continue;
    }
    p.word("an option");
    auto it = set.find(name);
    if (it == set.end()) {
      std::string known;
      for (const auto& [k, _] : set) known += k + ", ";
      p.fail(ln, "unknown option '" + name + "' in interface " + i.name + " (v6lab-ra knows: " +
                     known + "prefix, RDNSS, nat64prefix)");
    }
    it->second(p, name);
    p.expect(";", name.c_str());
  }
  p.close_block("interface " + i.name);
  if (i.min_interval > 0.75 * i.max_interval)
    p.fail(i.line, "MinRtrAdvInterval must be at most 0.75 * MaxRtrAdvInterval (" +
                       std::to_string(0.75 * i.max_interval) + ")");
  if (i.default_lifetime && *i.default_lifetime != 0 && *i.default_lifetime < i.max_interval)
    p.fail(i.line, "AdvDefaultLifetime must be 0 or at least MaxRtrAdvInterval");
  return i;
}

void put16(std::vector<std::uint8_t>& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xffff);
}

}  // namespace

double Interface::min_s() const {
  if (min_interval >= 0) return min_interval;
  return max_interval >= 9 ? max_interval / 3 : max_interval * 0.75;  // radvd's defaults
}

std::uint32_t Interface::router_lifetime() const {
  if (default_lifetime) return *default_lifetime;
  double d = 3 * max_interval;
  return static_cast<std::uint32_t>(d > 9000 ? 9000 : d);
}

std::optional<Config> parse_config(const std::string& text, const std::string& file,
                                   std::string* error) {
  Parser p(tokenize(text), file);
  Config c;
  try {
    while (!p.done()) {
      int ln = p.line();
      std::string w = p.word("'interface'");
      if (w != "interface") p.fail(ln, "'" + w + "' where 'interface NAME { ... };' should be");
      Interface i = interface_block(p);
      for (const auto& other : c.interfaces)
        if (other.name == i.name)
          p.fail(i.line, "interface " + i.name + " is already defined at line " +
                             std::to_string(other.line));
      c.interfaces.push_back(std::move(i));
    }
    if (c.interfaces.empty()) p.fail(1, "no interface block");
  } catch (const Failure& f) {
    *error = f.message;
    return std::nullopt;
  }
  return c;
}

std::vector<std::uint8_t> pref64_option(const Nat64Prefix& p, std::uint32_t lifetime) {
  std::uint32_t scaled = (static_cast<std::uint64_t>(lifetime) + 7) / 8;
  if (scaled > 0x1fff) scaled = 0x1fff;
  int plc = 0;
  for (int k = 0; k < 6; ++k)
    if (kPref64Lengths[k] == p.length) plc = k;
  std::vector<std::uint8_t> o = {38, 2};
  put16(o, (scaled << 3) | static_cast<std::uint32_t>(plc));
  o.insert(o.end(), p.addr, p.addr + 12);
  return o;
}

std::vector<std::uint8_t> encode_ra(const Interface& i, const std::uint8_t* mac, bool ceasing) {
  std::uint32_t three_max = static_cast<std::uint32_t>(3 * i.max_interval);
  std::vector<std::uint8_t> b = {134, 0, 0, 0, static_cast<std::uint8_t>(i.cur_hop_limit),
                                 static_cast<std::uint8_t>((i.managed ? 0x80 : 0) |
                                                           (i.other ? 0x40 : 0))};
  put16(b, ceasing ? 0 : i.router_lifetime());
  put32(b, i.reachable_time);
  put32(b, i.retrans_timer);
  for (const auto& p : i.prefixes) {
    b.insert(b.end(), {3, 4, static_cast<std::uint8_t>(p.length),
                       static_cast<std::uint8_t>((p.on_link ? 0x80 : 0) | (p.autonomous ? 0x40 : 0))});
    put32(b, p.valid);
    put32(b, p.preferred);
    put32(b, 0);
    b.insert(b.end(), p.addr, p.addr + 16);
  }
  if (i.link_mtu) {
    b.insert(b.end(), {5, 1, 0, 0});
    put32(b, i.link_mtu);
  }
  for (const auto& r : i.rdnss) {
    b.insert(b.end(), {25, static_cast<std::uint8_t>(1 + 2 * r.servers.size()), 0, 0});
    put32(b, r.lifetime.value_or(three_max));
    for (const auto& a : r.servers) b.insert(b.end(), a.begin(), a.end());
  }
  for (const auto& n : i.nat64) {
    auto o = pref64_option(n, n.lifetime.value_or(three_max));
    b.insert(b.end(), o.begin(), o.end());
  }
  if (mac && i.source_lladdr) {
    b.insert(b.end(), {1, 1});
    b.insert(b.end(), mac, mac + 6);
  }
  return b;
}

}  // namespace v6lab_ra
