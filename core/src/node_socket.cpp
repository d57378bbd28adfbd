#include "v6lab/node_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "v6lab/lab.hpp"
#include "v6lab/nsutil.hpp"

namespace v6lab {

namespace {

// Everything one open needs to say what it was doing to what.
struct Ctx {
  int fd;
  int family;
  std::string node;

  [[noreturn]] void fail(const std::string& what, int err) const {
    throw SocketError(what + " on " + node + ": " + std::strerror(err), err);
  }
  void opt(int level, int name, int value, const char* what) const {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) fail(std::string("set ") + what, errno);
  }
  // what names ifname already ("bind to device eth9"): the message reads
  // "bind to device eth9 on h1: No such device".
  unsigned index(const std::string& ifname, const std::string& what) const {
    unsigned i = ::if_nametoindex(ifname.c_str());
    if (!i) fail(what, ENODEV);
    return i;
  }
};

void set_flags(const Ctx& c, const SocketOptions& o) {
  bool v6 = c.family == AF_INET6;
  if (o.reuse_addr) c.opt(SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (o.reuse_port) c.opt(SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
  if (o.broadcast) c.opt(SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST");
  if (v6 && o.v6only) c.opt(IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
  if (o.recv_pktinfo)
    v6 ? c.opt(IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO")
       : c.opt(IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
  if (o.recv_hoplimit)
    v6 ? c.opt(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT")
       : c.opt(IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL");
  if (o.unicast_hops >= 0)
    v6 ? c.opt(IPPROTO_IPV6, IPV6_UNICAST_HOPS, o.unicast_hops, "IPV6_UNICAST_HOPS")
       : c.opt(IPPROTO_IP, IP_TTL, o.unicast_hops, "IP_TTL");
  if (o.multicast_hops >= 0)
    v6 ? c.opt(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, o.multicast_hops, "IPV6_MULTICAST_HOPS")
       : c.opt(IPPROTO_IP, IP_MULTICAST_TTL, o.multicast_hops, "IP_MULTICAST_TTL");
  if (o.multicast_loop >= 0)
    v6 ? c.opt(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, o.multicast_loop, "IPV6_MULTICAST_LOOP")
       : c.opt(IPPROTO_IP, IP_MULTICAST_LOOP, o.multicast_loop, "IP_MULTICAST_LOOP");
  if (o.icmp6_filter_type >= 0) {
    icmp6_filter f;
    ICMP6_FILTER_SETBLOCKALL(&f);
    ICMP6_FILTER_SETPASS(o.icmp6_filter_type, &f);
    if (::setsockopt(c.fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f) != 0)
      c.fail("set ICMP6_FILTER", errno);
  }
}

void set_interfaces(const Ctx& c, const SocketOptions& o) {
  if (!o.bind_iface.empty()) {
    c.index(o.bind_iface, "bind to device " + o.bind_iface);
    if (::setsockopt(c.fd, SOL_SOCKET, SO_BINDTODEVICE, o.bind_iface.c_str(),
                     static_cast<socklen_t>(o.bind_iface.size())) != 0)
      c.fail("bind to device " + o.bind_iface, errno);
  }
  std::string mif = o.multicast_if.empty() ? o.bind_iface : o.multicast_if;
  if (mif.empty()) return;
  if (c.family == AF_INET6) {
    int i = static_cast<int>(c.index(mif, "set IPV6_MULTICAST_IF " + mif));
    c.opt(IPPROTO_IPV6, IPV6_MULTICAST_IF, i, ("IPV6_MULTICAST_IF " + mif).c_str());
  } else {
    ip_mreqn m{};
    m.imr_ifindex = static_cast<int>(c.index(mif, "set IP_MULTICAST_IF " + mif));
    if (::setsockopt(c.fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) != 0)
      c.fail("set IP_MULTICAST_IF " + mif, errno);
  }
}

// "[fe80::1%eth0]:546" or "192.0.2.1:67", as the address was given.
std::string shown(const Ctx& c, const std::string& addr, int port) {
  std::string a = addr.empty() ? (c.family == AF_INET6 ? "::" : "0.0.0.0") : addr;
  return (c.family == AF_INET6 ? "[" + a + "]" : a) + ":" + std::to_string(port);
}

void bind_to(const Ctx& c, const SocketOptions& o) {
  if (o.bind_addr.empty() && o.port == 0) return;
  std::string what = "bind " + shown(c, o.bind_addr, o.port);
  if (o.port < 0 || o.port > 65535) c.fail(what, EINVAL);
  std::string host = o.bind_addr, scope;
  if (auto pct = host.find('%'); pct != std::string::npos) {
    scope = host.substr(pct + 1);
    host.resize(pct);
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (c.family == AF_INET6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<uint16_t>(o.port));
    if (!host.empty() && ::inet_pton(AF_INET6, host.c_str(), &s6->sin6_addr) != 1)
      c.fail(what + ": not an IPv6 address", EINVAL);
    if (scope.empty() && IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr)) scope = o.bind_iface;
    if (!scope.empty()) s6->sin6_scope_id = c.index(scope, what);
    len = sizeof *s6;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(static_cast<uint16_t>(o.port));
    if (!host.empty() && ::inet_pton(AF_INET, host.c_str(), &s4->sin_addr) != 1)
      c.fail(what + ": not an IPv4 address", EINVAL);
    len = sizeof *s4;
  }
  if (::bind(c.fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) c.fail(what, errno);
}

void join_groups(const Ctx& c, const SocketOptions& o) {
  std::string ifname = o.multicast_if.empty() ? o.bind_iface : o.multicast_if;
  for (const auto& g : o.join_groups) {
    std::string what = "join group " + g + (ifname.empty() ? "" : " on " + ifname);
    int r;
    if (c.family == AF_INET6) {
      ipv6_mreq m{};
      if (::inet_pton(AF_INET6, g.c_str(), &m.ipv6mr_multiaddr) != 1) c.fail(what, EINVAL);
      m.ipv6mr_interface = ifname.empty() ? 0 : c.index(ifname, what);
      r = ::setsockopt(c.fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m);
    } else {
      ip_mreqn m{};
      if (::inet_pton(AF_INET, g.c_str(), &m.imr_multiaddr) != 1) c.fail(what, EINVAL);
      m.imr_ifindex = ifname.empty() ? 0 : static_cast<int>(c.index(ifname, what));
      r = ::setsockopt(c.fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
    }
    if (r != 0) c.fail(what, errno);
  }
}

}  // namespace

UniqueFd open_node_socket(NodeHandle& h, int family, int type, int proto,
                          const SocketOptions& o) {
  std::string desc = std::string(family == AF_INET6 ? "IPv6" : "IPv4") +
                     (type == SOCK_RAW ? " raw" : type == SOCK_DGRAM ? " datagram"
                                                 : type == SOCK_STREAM ? " stream" : "") +
                     " socket";
  if (family != AF_INET6 && family != AF_INET)
    throw SocketError("open a socket on " + h.name() + ": family must be AF_INET6 or AF_INET",
                      EAFNOSUPPORT);
  UniqueFd ns = h.netns_dup();
  UniqueFd out;
  // Only the creation and the name lookups need the namespace; doing all of
  // it on the helper thread keeps one error path. run_in_netns rethrows.
  run_in_netns(ns.get(), [&] {
    int flags = SOCK_CLOEXEC | (o.nonblocking ? SOCK_NONBLOCK : 0);
    int fd = ::socket(family, type | flags, proto);
    Ctx c{fd, family, h.name()};
    if (fd < 0) c.fail("open " + desc, errno);
    out.reset(fd);
    set_flags(c, o);
    set_interfaces(c, o);
    bind_to(c, o);
    join_groups(c, o);
  });
  return out;
}

}  // namespace v6lab
