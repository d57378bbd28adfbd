#include "v6lab/probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "v6lab/error.hpp"
#include "v6lab/fd.hpp"
#include "v6lab/nsutil.hpp"

namespace v6lab {

namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::uint16_t random16() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<std::uint16_t>(rng());
}

std::string ntop(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  else if (sa->sa_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  return buf;
}

// A destination inside a node: the address, its zone (for link-local) and
// the socket that will reach it, all resolved inside the node's namespace.
struct Target {
  sockaddr_storage sa{};
  socklen_t len = 0;
  int family = 0;
  int ifindex = 0;
};

Target resolve(const std::string& what, const std::string& text, int port,
               const std::string& iface_opt) {
  Target t;
  std::string addr = text, zone = iface_opt;
  auto pct = text.find('%');
  if (pct != std::string::npos) {
    addr = text.substr(0, pct);
    zone = text.substr(pct + 1);
  }
  if (!zone.empty()) {
    t.ifindex = static_cast<int>(::if_nametoindex(zone.c_str()));
    if (!t.ifindex) throw Error(what + ": no interface '" + zone + "' in the node");
  }
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&t.sa);
  auto* s4 = reinterpret_cast<sockaddr_in*>(&t.sa);
  if (::inet_pton(AF_INET6, addr.c_str(), &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) || IN6_IS_ADDR_MC_LINKLOCAL(&s6->sin6_addr)) {
      if (!t.ifindex)
        throw Error(what + ": link-local address " + addr +
                    " needs an interface (write it as " + addr + "%eth0)");
      s6->sin6_scope_id = static_cast<std::uint32_t>(t.ifindex);
    }
    t.family = AF_INET6;
    t.len = sizeof *s6;
  } else if (::inet_pton(AF_INET, addr.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(static_cast<std::uint16_t>(port));
    t.family = AF_INET;
    t.len = sizeof *s4;
  } else {
    throw Error(what + ": '" + text + "' is not an IPv6 or IPv4 address");
  }
  return t;
}

// Opens a socket inside the node and resolves the target there.
UniqueFd open_in(int nsfd, const std::string& what, const std::string& text,
                 int port, const std::string& iface, int type, int proto,
                 Target* t) {
  UniqueFd s;
  run_in_netns(nsfd, [&] {
    *t = resolve(what, text, port, iface);
    int fd = ::socket(t->family, type | SOCK_CLOEXEC, proto);
    if (fd < 0) throw_errno(what + ": open socket", errno);
    s.reset(fd);
    if (!iface.empty() &&
        ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface.c_str(),
                     static_cast<socklen_t>(iface.size())) != 0)
      throw_errno(what + ": bind to " + iface, errno);
  });
  return s;
}

// One datagram with its source and IP hop limit (IPv6 hop limit or IPv4
// TTL; -1 if the kernel did not say). Returns recvmsg's result.
ssize_t recv_with_hops(int fd, unsigned char* buf, std::size_t len, sockaddr_storage* from,
                       int* hops) {
  iovec iov{buf, len};
  char ctrl[256];
  msghdr mh{};
  mh.msg_name = from;
  mh.msg_namelen = sizeof *from;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctrl;
  mh.msg_controllen = sizeof ctrl;
  ssize_t n = ::recvmsg(fd, &mh, MSG_DONTWAIT);
  *hops = -1;
  if (n > 0)
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
      if ((c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) ||
          (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL))
        std::memcpy(hops, CMSG_DATA(c), sizeof *hops);
  return n;
}

std::uint16_t inet_checksum(const unsigned char* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<std::uint16_t>(~sum));
}

std::string unreach6(int code) {
  static const char* n[] = {"no route", "administratively prohibited",
                            "beyond scope of source address", "address unreachable",
                            "port unreachable", "source address failed policy",
                            "reject route"};
  return code >= 0 && code < 7 ? n[code] : "code " + std::to_string(code);
}

std::string unreach4(int code) {
  static const char* n[] = {"network unreachable", "host unreachable",
                            "protocol unreachable", "port unreachable",
                            "fragmentation needed", "source route failed"};
  if (code == 13) return "administratively prohibited";
  return code >= 0 && code < 6 ? n[code] : "code " + std::to_string(code);
}

IcmpError local_error(int err, std::uint32_t mtu) {
  IcmpError e;
  e.kind = "local";
  switch (err) {
    case ENETUNREACH: e.detail = "no route"; break;
    case EHOSTUNREACH: e.detail = "host unreachable"; break;
    case EMSGSIZE:
      e.detail = "message too long for the path";
      e.mtu = mtu;
      break;
    case EPERM:
    case EACCES: e.detail = "refused by the sender's firewall"; break;
    case EADDRNOTAVAIL: e.detail = "source address not available"; break;
    default: e.detail = std::strerror(err);
  }
  return e;
}

std::uint32_t path_mtu(int nsfd, const Target& t, const std::string& iface) {
  // A connected UDP socket reports the kernel's path MTU without sending.
  std::uint32_t mtu = 0;
  run_in_netns(nsfd, [&] {
    UniqueFd u(::socket(t.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!u) return;
    if (!iface.empty())
      ::setsockopt(u.get(), SOL_SOCKET, SO_BINDTODEVICE, iface.c_str(),
                   static_cast<socklen_t>(iface.size()));
    sockaddr_storage sa = t.sa;
    reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port = htons(9);
    if (::connect(u.get(), reinterpret_cast<sockaddr*>(&sa), t.len) != 0) return;
    int v = 0;
    socklen_t l = sizeof v;
    if (t.family == AF_INET6 && ::getsockopt(u.get(), IPPROTO_IPV6, IPV6_MTU, &v, &l) == 0)
      mtu = static_cast<std::uint32_t>(v);
    if (t.family == AF_INET && ::getsockopt(u.get(), IPPROTO_IP, IP_MTU, &v, &l) == 0)
      mtu = static_cast<std::uint32_t>(v);
  });
  return mtu;
}

}  // namespace

PingResult ping(int nsfd, const PingOptions& o) {
  PingResult r;
  r.dst = o.dst;
  std::string what = "ping " + o.dst;
  Target t;
  bool v6 = o.dst.find(':') != std::string::npos;
  UniqueFd s = open_in(nsfd, what, o.dst, 0, o.iface, SOCK_RAW,
                       v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP}, &t);
  int fd = s.get();
  int on = 1;
  if (t.family == AF_INET6) {
    icmp6_filter f;
    ICMP6_FILTER_SETBLOCKALL(&f);
    for (int ty : {ICMP6_ECHO_REPLY, ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG,
                   ICMP6_TIME_EXCEEDED, ICMP6_PARAM_PROB})
      ICMP6_FILTER_SETPASS(ty, &f);
    ::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
    if (o.hop_limit >= 0) {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &o.hop_limit, sizeof o.hop_limit);
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &o.hop_limit, sizeof o.hop_limit);
    }
    if (o.dont_fragment) {
      int pmtu = IPV6_PMTUDISC_DO;
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on, sizeof on);
    }
  } else {
    ::setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
    if (o.hop_limit >= 0) ::setsockopt(fd, IPPROTO_IP, IP_TTL, &o.hop_limit, sizeof o.hop_limit);
    int pmtu = o.dont_fragment ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
    ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
  }
  if (!o.src.empty()) {
    Target src;
    run_in_netns(nsfd, [&] { src = resolve(what, o.src, 0, o.iface); });
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src.sa), src.len) != 0)
      throw_errno(what + ": use source address " + o.src, errno);
  }

  const std::uint16_t id = random16();
  const bool multicast =
      t.family == AF_INET6
          ? IN6_IS_ADDR_MULTICAST(&reinterpret_cast<sockaddr_in6*>(&t.sa)->sin6_addr)
          : IN_MULTICAST(ntohl(reinterpret_cast<sockaddr_in*>(&t.sa)->sin_addr.s_addr));
  const int size = std::max(o.size, 8);
  std::map<int, double> sent_at;
  std::set<int> answered;
  std::set<int> settled;  // requests answered by an ICMP error instead
  double next_send = now_s(), end = 0;
  unsigned char buf[65536];
  bool local_mtu_reported = false;
  while (true) {
    double now = now_s();
    if (r.sent < o.count && now >= next_send) {
      std::vector<unsigned char> pkt(8 + size, 0);
      pkt[0] = static_cast<unsigned char>(t.family == AF_INET6 ? int{ICMP6_ECHO_REQUEST} : int{ICMP_ECHO});
      pkt[4] = id >> 8;
      pkt[5] = id & 0xff;
      pkt[6] = static_cast<unsigned char>(r.sent >> 8);
      pkt[7] = static_cast<unsigned char>(r.sent & 0xff);
      for (int i = 8; i < 8 + size; ++i) pkt[i] = static_cast<unsigned char>(i);
      if (t.family == AF_INET) {
        std::uint16_t c = inet_checksum(pkt.data(), pkt.size());
        std::memcpy(&pkt[2], &c, 2);
      }
      int seq = r.sent++;
      if (::sendto(fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&t.sa), t.len) < 0) {
        int err = errno;
        settled.insert(seq);  // refused locally: nothing to wait for
        if (err != EMSGSIZE || !local_mtu_reported) {
          r.errors.push_back(local_error(err, err == EMSGSIZE ? path_mtu(nsfd, t, o.iface) : 0));
          local_mtu_reported |= err == EMSGSIZE;
        }
      } else {
        sent_at[seq] = now_s();
      }
      next_send = now + o.interval;
      end = now + o.timeout;
    }
    if (r.sent >= o.count && (now >= end || static_cast<int>(answered.size() + settled.size()) >= o.count))
      break;
    double until = r.sent < o.count ? std::min(next_send, end > 0 ? end : next_send) : end;
    int ms = static_cast<int>(std::max(0.0, until - now_s()) * 1000) + 1;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) continue;

    sockaddr_storage from{};
    int hops;
    ssize_t n = recv_with_hops(fd, buf, sizeof buf, &from, &hops);
    if (n <= 0) continue;
    const unsigned char* icmp = buf;
    std::size_t len = static_cast<std::size_t>(n);
    if (t.family == AF_INET) {  // raw IPv4 sockets deliver the IP header
      std::size_t ihl = (buf[0] & 0x0f) * 4u;
      if (len < ihl + 8) continue;
      icmp += ihl;
      len -= ihl;
    }
    if (len < 8) continue;
    int type = icmp[0], code = icmp[1];
    bool reply = t.family == AF_INET6 ? type == ICMP6_ECHO_REPLY : type == ICMP_ECHOREPLY;
    if (reply) {
      if (((icmp[4] << 8) | icmp[5]) != id) continue;
      if (!multicast && ntop(reinterpret_cast<sockaddr*>(&from)) != ntop(reinterpret_cast<sockaddr*>(&t.sa)))
        continue;  // an echo reply from someone else answers nothing of ours
      int seq = (icmp[6] << 8) | icmp[7];
      if (!sent_at.count(seq) || answered.count(seq)) continue;
      answered.insert(seq);
      r.replies.push_back({seq, (now_s() - sent_at[seq]) * 1000.0,
                           ntop(reinterpret_cast<sockaddr*>(&from)), hops});
      continue;
    }
    // An error quoting our request: check the quoted echo's identifier.
    const unsigned char* inner = icmp + 8;
    std::size_t inner_len = len - 8;
    const unsigned char* q = nullptr;
    if (t.family == AF_INET6) {
      if (inner_len >= 48 && inner[6] == IPPROTO_ICMPV6) q = inner + 40;
    } else if (inner_len >= 20) {
      std::size_t ihl = (inner[0] & 0x0f) * 4u;
      if (inner_len >= ihl + 8 && inner[9] == IPPROTO_ICMP) q = inner + ihl;
    }
    if (!q || ((q[4] << 8) | q[5]) != id) continue;
    IcmpError e;
    auto quoted = sent_at.find((q[6] << 8) | q[7]);
    if (quoted != sent_at.end()) {
      e.rtt_ms = (now_s() - quoted->second) * 1000.0;
      if (!answered.count(quoted->first)) settled.insert(quoted->first);
    }
    e.type = type;
    e.code = code;
    e.from = ntop(reinterpret_cast<sockaddr*>(&from));
    if (t.family == AF_INET6) {
      switch (type) {
        case ICMP6_DST_UNREACH: e.kind = "unreachable"; e.detail = unreach6(code); break;
        case ICMP6_PACKET_TOO_BIG:
          e.kind = "packet-too-big";
          e.mtu = (icmp[4] << 24) | (icmp[5] << 16) | (icmp[6] << 8) | icmp[7];
          e.detail = "packet too big (MTU " + std::to_string(e.mtu) + ")";
          break;
        case ICMP6_TIME_EXCEEDED:
          e.kind = "time-exceeded";
          e.detail = code == 0 ? "hop limit exceeded" : "reassembly time exceeded";
          break;
        default: e.kind = "parameter-problem"; e.detail = "parameter problem";
      }
    } else {
      switch (type) {
        case ICMP_DEST_UNREACH:
          e.kind = code == ICMP_FRAG_NEEDED ? "packet-too-big" : "unreachable";
          e.detail = unreach4(code);
          if (code == ICMP_FRAG_NEEDED) e.mtu = (icmp[6] << 8) | icmp[7];
          break;
        case ICMP_TIME_EXCEEDED: e.kind = "time-exceeded"; e.detail = "TTL exceeded"; break;
        case ICMP_PARAMETERPROB: e.kind = "parameter-problem"; e.detail = "parameter problem"; break;
        default: continue;
      }
    }
    r.errors.push_back(e);
  }
  if (o.dont_fragment) r.path_mtu = path_mtu(nsfd, t, o.iface);
  return r;
}

TracerouteResult traceroute(int nsfd, const std::string& dst, int max_hops,
                            double timeout, const std::string& iface) {
  TracerouteResult tr;
  tr.dst = dst;
  for (int hop = 1; hop <= max_hops; ++hop) {
    PingOptions o;
    o.dst = dst;
    o.hop_limit = hop;
    o.timeout = timeout;
    o.iface = iface;
    PingResult p = ping(nsfd, o);
    TracerouteHop h;
    h.hop = hop;
    if (!p.replies.empty()) {
      h.from = p.replies[0].from;
      h.rtt_ms = p.replies[0].rtt_ms;
      h.kind = "reply";
      tr.hops.push_back(h);
      tr.reached = true;
      break;
    }
    bool stop = false;
    for (const auto& e : p.errors) {
      h.from = e.from;
      h.rtt_ms = e.rtt_ms;
      h.kind = (e.kind == "time-exceeded" || e.kind == "local") ? e.kind : "unreachable";
      stop = h.kind != "time-exceeded";
      break;
    }
    tr.hops.push_back(h);
    if (stop) break;
  }
  return tr;
}

namespace {

std::string sock_error(int err) {
  switch (err) {
    case ECONNREFUSED: return "connection refused";
    case ETIMEDOUT: return "timed out";
    case EHOSTUNREACH: return "host unreachable";
    case ENETUNREACH: return "no route";
    case EPERM:
    case EACCES: return "refused by the sender's firewall";
  }
  return std::strerror(err);
}

bool wait_fd(int fd, short events, double deadline) {
  while (true) {
    int ms = static_cast<int>(std::max(0.0, deadline - now_s()) * 1000);
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, ms);
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

ConnectResult tcp_connect(int nsfd, const std::string& addr, int port,
                          double timeout, const std::string& send) {
  ConnectResult r;
  Target t;
  UniqueFd s = open_in(nsfd, "connect to [" + addr + "]:" + std::to_string(port), addr,
                       port, "", SOCK_STREAM | SOCK_NONBLOCK, 0, &t);
  double t0 = now_s(), deadline = t0 + timeout;
  int rc = ::connect(s.get(), reinterpret_cast<sockaddr*>(&t.sa), t.len);
  int err = rc == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    if (!wait_fd(s.get(), POLLOUT, deadline)) {
      r.error = "timed out";
      r.ms = (now_s() - t0) * 1000;
      return r;
    }
    socklen_t l = sizeof err;
    ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &l);
  }
  r.ms = (now_s() - t0) * 1000;
  if (err) {
    r.error = sock_error(err);
    return r;
  }
  r.ok = true;
  if (send.empty()) return r;  // connecting was the question
  if (::send(s.get(), send.data(), send.size(), MSG_NOSIGNAL) < 0) return r;
  ::shutdown(s.get(), SHUT_WR);
  // Read the answer to `send` until the peer closes or the time is up.
  char buf[4096];
  while (r.received.size() < 65536 && wait_fd(s.get(), POLLIN, deadline)) {
    ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    r.received.append(buf, static_cast<std::size_t>(n));
  }
  return r;
}

ConnectResult udp_exchange(int nsfd, const std::string& addr, int port,
                           const std::string& payload, double timeout) {
  ConnectResult r;
  Target t;
  UniqueFd s = open_in(nsfd, "send UDP to [" + addr + "]:" + std::to_string(port),
                       addr, port, "", SOCK_DGRAM, 0, &t);
  double t0 = now_s();
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&t.sa), t.len) != 0 ||
      ::send(s.get(), payload.data(), payload.size(), 0) < 0) {
    r.error = sock_error(errno);
    return r;
  }
  if (!wait_fd(s.get(), POLLIN, t0 + timeout)) {
    r.error = "timed out";
    r.ms = (now_s() - t0) * 1000;
    return r;
  }
  char buf[65536];
  ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
  r.ms = (now_s() - t0) * 1000;
  if (n < 0) {
    r.error = sock_error(errno);  // ECONNREFUSED: ICMP port unreachable
    return r;
  }
  r.ok = true;
  r.received.assign(buf, static_cast<std::size_t>(n));
  return r;
}

// ------------------------------------------------------------------- DNS

namespace {

const std::map<std::string, int> kTypes = {
    {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12},
    {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"ANY", 255}};

std::string type_name(int t) {
  for (const auto& [n, v] : kTypes)
    if (v == t) return n;
  return std::to_string(t);
}

// Reads a (possibly compressed) name at off; returns false if malformed.
// Hardened against hostile servers (the trainee may run one): labels of 63
// bytes at most, names of 255, and compression pointers that only point
// backwards, so a message cannot expand beyond a few times its size.
bool read_name(const std::string& m, std::size_t& off, std::string& out) {
  std::size_t pos = off;
  bool jumped = false;
  int guard = 0;
  out.clear();
  while (pos < m.size() && guard++ < 128) {
    auto len = static_cast<unsigned char>(m[pos]);
    if (len == 0) {
      if (!jumped) off = pos + 1;
      if (out.empty()) out = ".";
      return true;
    }
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= m.size()) return false;
      std::size_t ptr = ((len & 0x3f) << 8) | static_cast<unsigned char>(m[pos + 1]);
      if (ptr >= pos) return false;
      if (!jumped) off = pos + 2;
      jumped = true;
      pos = ptr;
      continue;
    }
    if (len > 63 || out.size() + len + 1 > 255) return false;
    if (pos + 1 + len > m.size()) return false;
    if (!out.empty()) out += '.';
    out += m.substr(pos + 1, len);
    pos += 1 + len;
  }
  return false;
}

std::uint16_t rd16(const std::string& m, std::size_t o) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(m[o]) << 8) |
                                    static_cast<unsigned char>(m[o + 1]));
}

}  // namespace

DnsResult dns_query(int nsfd, const std::string& server, const std::string& name,
                    const std::string& qtype, double timeout, int port) {
  auto it = kTypes.find(qtype);
  if (it == kTypes.end()) throw Error("DNS query for " + name + ": unknown type '" + qtype + "'");
  std::string q;
  std::uint16_t id = random16();
  q += static_cast<char>(id >> 8);
  q += static_cast<char>(id & 0xff);
  q += std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);  // RD, 1 question
  std::size_t start = 0;
  std::string n = name;
  if (!n.empty() && n.back() == '.') n.pop_back();
  while (start <= n.size() && !n.empty()) {
    auto dot = n.find('.', start);
    if (dot == std::string::npos) dot = n.size();
    std::size_t len = dot - start;
    if (len == 0 || len > 63) throw Error("DNS query: '" + name + "' is not a valid name");
    q += static_cast<char>(len);
    q += n.substr(start, len);
    start = dot + 1;
  }
  q += '\0';
  q += static_cast<char>(it->second >> 8);
  q += static_cast<char>(it->second & 0xff);
  q += std::string("\x00\x01", 2);

  DnsResult r;
  ConnectResult c = udp_exchange(nsfd, server, port, q, timeout);
  r.ms = c.ms;
  if (!c.ok) {
    r.error = c.error;
    return r;
  }
  const std::string& m = c.received;
  if (m.size() < 12 || rd16(m, 0) != id) {
    r.error = "malformed or unrelated response";
    return r;
  }
  r.answered = true;
  std::uint16_t flags = rd16(m, 2);
  static const char* rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  int rc = flags & 0xf;
  r.rcode = rc < 6 ? rcodes[rc] : "RCODE" + std::to_string(rc);
  r.authoritative = flags & 0x0400;
  r.truncated = flags & 0x0200;
  r.recursion_available = flags & 0x0080;
  std::size_t qd = rd16(m, 4), an = rd16(m, 6), off = 12;
  std::string tmp;
  for (std::size_t i = 0; i < qd; ++i) {
    if (!read_name(m, off, tmp) || off + 4 > m.size()) return r;
    off += 4;
  }
  for (std::size_t i = 0; i < an; ++i) {
    DnsRecord rec;
    if (!read_name(m, off, rec.name) || off + 10 > m.size()) break;
    int type = rd16(m, off);
    rec.type = type_name(type);
    rec.ttl = (static_cast<std::uint32_t>(rd16(m, off + 4)) << 16) | rd16(m, off + 6);
    std::size_t rdlen = rd16(m, off + 8);
    off += 10;
    if (off + rdlen > m.size()) break;
    char buf[INET6_ADDRSTRLEN] = {};
    if (type == 28 && rdlen == 16) {
      ::inet_ntop(AF_INET6, m.data() + off, buf, sizeof buf);
      rec.data = buf;
    } else if (type == 1 && rdlen == 4) {
      ::inet_ntop(AF_INET, m.data() + off, buf, sizeof buf);
      rec.data = buf;
    } else if (type == 12 || type == 5 || type == 2) {
      std::size_t o2 = off;
      read_name(m, o2, rec.data);
    } else {
      rec.data = std::to_string(rdlen) + " bytes";
    }
    off += rdlen;
    r.answers.push_back(rec);
  }
  return r;
}

// -------------------------------------------------------------------- RA

namespace {

std::string pref_name(int bits) {
  switch (bits & 3) {
    case 0: return "medium";
    case 1: return "high";
    case 3: return "low";
  }
  return "reserved";
}

std::uint32_t rd32(const unsigned char* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

std::string prefix_str(const unsigned char* p, int len) {
  unsigned char a[16] = {};
  std::memcpy(a, p, static_cast<std::size_t>((len + 7) / 8 > 16 ? 16 : (len + 7) / 8));
  // Bits beyond the length are zeroed (the caller checked the option holds
  // that many bytes).
  for (int b = len; b < 128; ++b) a[b / 8] &= static_cast<unsigned char>(~(0x80 >> (b % 8)));
  char buf[INET6_ADDRSTRLEN];
  ::inet_ntop(AF_INET6, a, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(len);
}

bool parse_ra(const unsigned char* b, std::size_t n, RouterAdvert& ra) {
  if (n < 16 || b[0] != ND_ROUTER_ADVERT) return false;
  ra.cur_hop_limit = b[4];
  ra.managed = b[5] & 0x80;
  ra.other = b[5] & 0x40;
  ra.home_agent = b[5] & 0x20;
  ra.preference = pref_name((b[5] >> 3) & 3);
  ra.router_lifetime = (b[6] << 8) | b[7];
  ra.reachable_time = rd32(b + 8);
  ra.retrans_timer = rd32(b + 12);
  std::size_t off = 16;
  while (off + 2 <= n) {
    int type = b[off];
    std::size_t len = b[off + 1] * 8u;
    if (len == 0 || off + len > n) break;
    const unsigned char* o = b + off;
    if (type == 1 && len >= 8) {
      char mac[18];
      std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", o[2], o[3], o[4], o[5], o[6], o[7]);
      ra.source_lladdr = mac;
    } else if (type == 3 && len == 32) {
      RaPrefix p;
      p.prefix = prefix_str(o + 16, o[2] > 128 ? 128 : o[2]);
      p.on_link = o[3] & 0x80;
      p.autonomous = o[3] & 0x40;
      p.valid_lifetime = rd32(o + 4);
      p.preferred_lifetime = rd32(o + 8);
      ra.prefixes.push_back(p);
    } else if (type == 5 && len == 8) {
      ra.mtu = rd32(o + 4);
    } else if (type == 24 && len >= 8 &&
               len >= 8u + (o[2] > 64 ? 16u : o[2] > 0 ? 8u : 0u)) {  // RFC 4191 sizes
      RaRoute rt;
      rt.prefix = prefix_str(o + 8, o[2] > 128 ? 128 : o[2]);
      rt.preference = pref_name((o[3] >> 3) & 3);
      rt.lifetime = rd32(o + 4);
      ra.routes.push_back(rt);
    } else if (type == 25 && len >= 24) {
      ra.rdnss_lifetime = rd32(o + 4);
      for (std::size_t a = 8; a + 16 <= len; a += 16) {
        char buf[INET6_ADDRSTRLEN];
        ::inet_ntop(AF_INET6, o + a, buf, sizeof buf);
        ra.rdnss.emplace_back(buf);
      }
    } else if (type == 31 && len >= 8) {
      std::string m(reinterpret_cast<const char*>(o), len);
      std::size_t p = 8;
      while (p < len && m[p] != 0) {
        std::string d;
        if (!read_name(m, p, d)) break;
        ra.dnssl.push_back(d);
      }
    }
    off += len;
  }
  return true;
}

}  // namespace

std::vector<RouterAdvert> router_adverts(int nsfd, const RaOptions& o) {
  if (o.iface.empty()) throw Error("listen for router advertisements: no interface given");
  std::string what = "listen for router advertisements on " + o.iface;
  Target t;
  UniqueFd s = open_in(nsfd, what, "ff02::2%" + o.iface, 0, o.iface, SOCK_RAW,
                       IPPROTO_ICMPV6, &t);
  int fd = s.get();
  icmp6_filter f;
  ICMP6_FILTER_SETBLOCKALL(&f);
  ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &f);
  ::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
  int on = 1, hops = 255;
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &t.ifindex, sizeof t.ifindex);
  double t0 = now_s();
  // While the interface's link-local address is still tentative the kernel
  // has no source for the solicitation (EADDRNOTAVAIL): listen, and retry.
  bool solicit = o.solicit;
  double next_rs = t0;
  std::vector<RouterAdvert> out;
  unsigned char buf[65536];
  while (true) {
    double now = now_s();
    double left = t0 + o.duration - now;
    if (left <= 0) break;
    if (solicit && now >= next_rs) {
      unsigned char rs[8] = {ND_ROUTER_SOLICIT, 0, 0, 0, 0, 0, 0, 0};
      if (::sendto(fd, rs, sizeof rs, 0, reinterpret_cast<sockaddr*>(&t.sa), t.len) >= 0)
        solicit = false;
      else if (errno == EADDRNOTAVAIL)
        next_rs = now + 0.2;
      else
        throw_errno(what + ": send a router solicitation", errno);
    }
    double wait = solicit ? std::min(left, next_rs - now_s()) : left;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max(0.0, wait) * 1000) + 1) <= 0) continue;
    sockaddr_storage from{};
    RouterAdvert ra;
    ssize_t n = recv_with_hops(fd, buf, sizeof buf, &from, &ra.hop_limit);
    if (n <= 0) continue;
    if (!parse_ra(buf, static_cast<std::size_t>(n), ra)) continue;
    ra.from = ntop(reinterpret_cast<sockaddr*>(&from));
    ra.at = now_s() - t0;
    out.push_back(ra);
    if (o.stop_at_first) break;
  }
  return out;
}

}  // namespace v6lab
