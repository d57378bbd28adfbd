#include "v6lab/wire.hpp"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "v6lab/error.hpp"
#include "v6lab/nsutil.hpp"

namespace v6lab {

namespace {

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

constexpr std::size_t kEth = 14, kIp6 = 40;

// ldh [12]; jeq #0x86dd; ldb [20]; jeq #58; ret #65535 / ret #0.
// Runs in the kernel, so a LAN busy with other traffic costs no copies.
// With ports, next headers 17 (UDP) and 6 (TCP) pass too (the ports are
// checked in keep()).
void attach_filter(int fd, const std::string& what, bool ports) {
  static sock_filter icmp6[] = {
      {0x28, 0, 0, 12},          {0x15, 0, 3, ETH_P_IPV6},
      {0x30, 0, 0, 20},          {0x15, 0, 1, 58},
      {0x06, 0, 0, 0x0000ffff},  {0x06, 0, 0, 0},
  };
  static sock_filter with_ports[] = {
      {0x28, 0, 0, 12}, {0x15, 0, 5, ETH_P_IPV6}, {0x30, 0, 0, 20}, {0x15, 2, 0, 58},
      {0x15, 1, 0, 17}, {0x15, 0, 1, 6},          {0x06, 0, 0, 0x0000ffff}, {0x06, 0, 0, 0},
  };
  sock_fprog prog{ports ? static_cast<unsigned short>(sizeof with_ports / sizeof with_ports[0])
                        : static_cast<unsigned short>(sizeof icmp6 / sizeof icmp6[0]),
                  ports ? with_ports : icmp6};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
    throw_errno(what + ": attach the ICMPv6 filter", errno);
}

}  // namespace

WireTap::WireTap(int netns_fd, std::string where, std::vector<int> icmp6_types,
                 std::vector<int> udp_ports, std::vector<int> tcp_ports)
    : where_(std::move(where)),
      types_(icmp6_types.begin(), icmp6_types.end()),
      ports_(udp_ports.begin(), udp_ports.end()),
      tcp_ports_(tcp_ports.begin(), tcp_ports.end()) {
  std::string what = "open a packet tap in " + where_;
  run_in_netns(netns_fd, [&] {
    int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) throw_errno(what, errno);
    fd_.reset(fd);
    attach_filter(fd, what, !ports_.empty() || !tcp_ports_.empty());
    int buf = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    struct if_nameindex* ni = ::if_nameindex();
    if (!ni) throw_errno(what + ": list interfaces", errno);
    for (struct if_nameindex* p = ni; p->if_index; ++p)
      ifaces_.emplace_back(static_cast<int>(p->if_index), p->if_name);
    ::if_freenameindex(ni);
  });
  // Frames queued before the filter was attached are not filtered: drop them.
  unsigned char junk[1];
  while (::recv(fd_.get(), junk, sizeof junk, MSG_DONTWAIT | MSG_TRUNC) >= 0) {
  }
  t0_ = now_s();
}

int WireTap::index_of(const std::string& ifname) const {
  for (const auto& [i, n] : ifaces_)
    if (n == ifname) return i;
  return 0;
}

std::string WireTap::name_of(int ifindex) const {
  for (const auto& [i, n] : ifaces_)
    if (i == ifindex) return n;
  return "if" + std::to_string(ifindex);
}

bool WireTap::keep(const unsigned char* b, std::size_t n) const {
  if (n < kEth + kIp6 + 4) return false;
  if (b[kEth + 6] == 17 || b[kEth + 6] == 6) {  // UDP, TCP: only to or from a port asked for
    const std::set<int>& ports = b[kEth + 6] == 17 ? ports_ : tcp_ports_;
    int sport = (b[kEth + kIp6] << 8) | b[kEth + kIp6 + 1];
    int dport = (b[kEth + kIp6 + 2] << 8) | b[kEth + kIp6 + 3];
    return ports.count(sport) || ports.count(dport);
  }
  if (b[kEth + 6] != 58) return false;
  return types_.empty() || types_.count(b[kEth + kIp6]);
}

std::vector<WireFrame> WireTap::read(double timeout) {
  std::lock_guard<std::mutex> g(mu_);
  if (!fd_) throw Error("read from the packet tap in " + where_ + ": it is closed");
  std::vector<WireFrame> out;
  double deadline = now_s() + std::max(0.0, timeout);
  static thread_local unsigned char buf[65536];
  while (true) {
    int wait_ms = out.empty() ? static_cast<int>(std::max(0.0, deadline - now_s()) * 1000) : 0;
    pollfd p{fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("read from the packet tap in " + where_, errno);
    if (r == 0) break;
    sockaddr_ll sll{};
    socklen_t sl = sizeof sll;
    ssize_t n = ::recvfrom(fd_.get(), buf, sizeof buf, MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&sll), &sl);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) throw_errno("read from the packet tap in " + where_, errno);
    if (!keep(buf, static_cast<std::size_t>(n))) continue;
    WireFrame f;
    f.at = now_s() - t0_;
    f.ifindex = sll.sll_ifindex;
    f.ifname = name_of(sll.sll_ifindex);
    f.outgoing = sll.sll_pkttype == PACKET_OUTGOING;
    f.data.assign(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
    if (f.outgoing) {
      auto it = sent_.find(f.data);
      f.injected = it != sent_.end();
    }
    out.push_back(std::move(f));
    if (out.size() >= 4096) break;
  }
  return out;
}

void WireTap::inject(const std::string& ifname, const std::string& frame) {
  std::lock_guard<std::mutex> g(mu_);
  std::string what = "send a frame out of " + ifname + " in " + where_;
  if (!fd_) throw Error(what + ": the tap is closed");
  int idx = index_of(ifname);
  if (!idx) throw Error(what + ": no such interface there");
  if (frame.size() < kEth) throw Error(what + ": a frame needs at least an Ethernet header");
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = idx;
  sll.sll_protocol = htons(ETH_P_IPV6);
  sll.sll_halen = 6;
  std::memcpy(sll.sll_addr, frame.data(), 6);
  if (::sendto(fd_.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&sll),
               sizeof sll) < 0)
    throw_errno(what, errno);
  sent_.insert(frame);
}

void WireTap::close() {
  std::lock_guard<std::mutex> g(mu_);
  fd_.reset();
}

}  // namespace v6lab
