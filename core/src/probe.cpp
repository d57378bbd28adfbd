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
  const std::string dst = ntop(reinterpret_cast<sockaddr*>(&t.sa));
  std::map<int, double> sent_at;
  std::set<int> answered;
  std::set<int> settled;  // requests answered by an ICMP error instead
  double next_send = now_s(), end = 0;
  unsigned char buf[65536];
  bool local_mtu_reported = false;
  while (true) {
    double now = now_s();
    if (r.sent < o.count && now >= next_send) {
      std::vector<std::uint8_t> pkt =
          echo_request(t.family == AF_INET6, id, static_cast<std::uint16_t>(r.sent), size);
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
    Decoded<IcmpMessage> d = decode_icmp(buf, static_cast<std::size_t>(n), t.family == AF_INET6);
    if (!d) continue;
    const std::string src = ntop(reinterpret_cast<sockaddr*>(&from));
    std::optional<std::uint16_t> seq = echo_answered(*d, id, src, dst, multicast);
    if (!seq) continue;
    if (d->reply) {
      if (!sent_at.count(*seq) || answered.count(*seq)) continue;
      answered.insert(*seq);
      r.replies.push_back({*seq, (now_s() - sent_at[*seq]) * 1000.0, src, hops});
      continue;
    }
    IcmpError e = d->error;  // an error quoting one of our requests
    auto quoted = sent_at.find(*seq);
    if (quoted != sent_at.end()) {
      e.rtt_ms = (now_s() - quoted->second) * 1000.0;
      if (!answered.count(quoted->first)) settled.insert(quoted->first);
    }
    e.from = src;
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

DnsResult dns_query(int nsfd, const std::string& server, const std::string& name,
                    const std::string& qtype, double timeout, int port) {
  int type = dns_type_code(qtype);
  if (type < 0) throw Error("DNS query for " + name + ": unknown type '" + qtype + "'");
  std::uint16_t id = random16();
  std::optional<std::string> q = dns_query_bytes(id, name, type);
  if (!q) throw Error("DNS query: '" + name + "' is not a valid name");

  DnsResult r;
  ConnectResult c = udp_exchange(nsfd, server, port, *q, timeout);
  r.ms = c.ms;
  if (!c.ok) {
    r.error = c.error;
    return r;
  }
  Decoded<DnsResponse> d = decode_dns_response(
      reinterpret_cast<const std::uint8_t*>(c.received.data()), c.received.size());
  if (!d || d->id != id) {
    r.error = "malformed or unrelated response";
    return r;
  }
  r.answered = true;
  r.rcode = d->rcode;
  r.authoritative = d->authoritative;
  r.truncated = d->truncated;
  r.recursion_available = d->recursion_available;
  r.answers = d->answers;
  return r;
}

// -------------------------------------------------------------------- RA

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
    int hops;
    ssize_t n = recv_with_hops(fd, buf, sizeof buf, &from, &hops);
    if (n <= 0) continue;
    Decoded<RouterAdvert> d = decode_ra(buf, static_cast<std::size_t>(n));
    if (!d) continue;
    RouterAdvert ra = *d;
    ra.hop_limit = hops;
    ra.from = ntop(reinterpret_cast<sockaddr*>(&from));
    ra.at = now_s() - t0;
    out.push_back(ra);
    if (o.stop_at_first) break;
  }
  return out;
}

}  // namespace v6lab
