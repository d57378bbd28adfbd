// v6lab-ra: a small Router Advertisement sender for v6lab's nodes.
//
// Debian 12's radvd 2.19 cannot send the PREF64 option (RFC 8781; radvd
// 2.20 added `nat64prefix`), which IPv6-mostly networks need. v6lab-ra reads
// the part of radvd.conf that v6lab's labs use, in radvd's syntax
// (ra_config.hpp), and behaves like radvd on the wire: RAs with hop limit
// 255 from the interface's link-local address to ff02::1, at random
// intervals between MinRtrAdvInterval and MaxRtrAdvInterval (the first
// three sooner), an answer to every valid Router Solicitation (unicast to a
// solicitor with an address, as radvd's AdvRASolicitedUnicast), and a last
// RA with router lifetime 0 when it stops. Inside a node it is found at
// /opt/v6lab/bin/v6lab-ra (docs/architecture.md).
//
//   v6lab-ra [-C FILE] [-p PIDFILE] [-l LOGFILE] [-n] [-c]
//
// -c checks the file and exits (0, or 1 with "FILE:LINE: ..."), like
// radvd -c. Without -n it goes to the background once its socket is open,
// logging to LOGFILE. SIGHUP reloads the file (keeping the old one if the
// new one is wrong); SIGTERM and SIGINT stop it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ra_config.hpp"

namespace {

using v6lab_ra::Config;
using v6lab_ra::Interface;

struct Options {
  std::string config = "/etc/v6lab-ra.conf";
  std::string pidfile = "/run/v6lab-ra.pid";
  std::string logfile = "/var/log/v6lab-ra.log";
  bool foreground = false, check = false;
};

FILE* g_log = stderr;

void log(const char* fmt, ...) {
  char when[32];
  std::time_t t = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  std::fprintf(g_log, "%s v6lab-ra[%d]: ", when, static_cast<int>(::getpid()));
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(g_log, fmt, ap);
  va_end(ap);
  std::fputc('\n', g_log);
  std::fflush(g_log);
}

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

bool read_config(const std::string& path, Config* out, std::string* error) {
  std::ifstream f(path);
  if (!f) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  auto c = v6lab_ra::parse_config(ss.str(), path, error);
  if (!c) return false;
  *out = std::move(*c);
  return true;
}

// The interface's link-local address once it has passed DAD (an RA must
// come from one, RFC 4861 6.1.2), from the kernel's /proc/net/if_inet6.
bool link_local(int ifindex, in6_addr* out) {
  std::ifstream f("/proc/net/if_inet6");
  std::string hex, name;
  unsigned idx, plen, scope, flags;
  while (f >> hex >> std::hex >> idx >> plen >> scope >> flags >> std::dec >> name) {
    if (static_cast<int>(idx) != ifindex || scope != 0x20 || (flags & 0x40) || hex.size() != 32)
      continue;  // 0x20: link scope; 0x40: IFA_F_TENTATIVE
    for (int i = 0; i < 16; ++i)
      out->s6_addr[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    return true;
  }
  return false;
}

bool mac_of(int sock, const std::string& ifname, std::uint8_t mac[6]) {
  ifreq r{};
  std::snprintf(r.ifr_name, sizeof r.ifr_name, "%s", ifname.c_str());
  if (::ioctl(sock, SIOCGIFHWADDR, &r) != 0) return false;
  std::memcpy(mac, r.ifr_hwaddr.sa_data, 6);
  return true;
}

// One advertising interface: its config, kernel index and timers.
struct Iface {
  Interface conf;
  int index = 0;
  bool joined = false;
  int initial_left = 3;  // RFC 4861 6.2.4: the first RAs at most 16 s apart
  double next = 0;
  double last_multicast = -1e9;
  bool warned = false;
};

class Sender {
 public:
  explicit Sender(int sock) : sock_(sock), rng_(std::random_device{}()) {}

  void configure(const Config& c) {
    std::vector<Iface> next;
    for (const auto& i : c.interfaces) {
      if (!i.send_advert) continue;
      Iface x;
      x.conf = i;
      for (auto& old : ifaces_)
        if (old.conf.name == i.name) x.joined = old.joined, x.index = old.index;
      x.next = now();
      next.push_back(std::move(x));
    }
    ifaces_ = std::move(next);
  }

  // Seconds until the next periodic RA is due (for poll).
  double tick() {
    double t = now(), wait = 1.0;
    for (auto& i : ifaces_) {
      if (!ready(i)) continue;
      if (t >= i.next) {
        if (send(i, nullptr, false)) schedule(i);
        else i.next = t + 0.25;  // DAD not done yet: soon again
      }
      wait = std::min(wait, std::max(0.0, i.next - t));
    }
    return wait;
  }

  void solicited() {
    std::uint8_t buf[1500];
    sockaddr_in6 from{};
    char ctl[256];
    iovec iov{buf, sizeof buf};
    msghdr m{};
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof ctl;
    ssize_t n = ::recvmsg(sock_, &m, MSG_DONTWAIT);
    if (n < 8 || buf[0] != ND_ROUTER_SOLICIT || buf[1] != 0) return;
    int hops = -1, ifindex = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_HOPLIMIT) std::memcpy(&hops, CMSG_DATA(c), sizeof hops);
      if (c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        ifindex = static_cast<int>(pi.ipi6_ifindex);
      }
    }
    if (hops != 255) return;  // RFC 4861 6.1.1: not from this link
    for (auto& i : ifaces_) {
      if (i.index != ifindex || !ready(i)) continue;
      if (!IN6_IS_ADDR_UNSPECIFIED(&from.sin6_addr)) {
        send(i, &from.sin6_addr, false);  // unicast, at once
      } else if (now() - i.last_multicast >= 3) {  // MIN_DELAY_BETWEEN_RAS
        send(i, nullptr, false);
        schedule(i);
      }
    }
  }

  void cease() {
    for (auto& i : ifaces_)
      if (ready(i)) send(i, nullptr, true);
  }

 private:
  bool ready(Iface& i) {
    int idx = static_cast<int>(::if_nametoindex(i.conf.name.c_str()));
    if (idx == 0) {
      if (!i.warned) log("interface %s does not exist (yet): waiting for it", i.conf.name.c_str());
      i.warned = true;
      i.joined = false;
      return false;
    }
    if (idx != i.index) i.joined = false;
    i.index = idx;
    if (!i.joined) {
      ipv6_mreq mr{};
      inet_pton(AF_INET6, "ff02::2", &mr.ipv6mr_multiaddr);
      mr.ipv6mr_interface = static_cast<unsigned>(idx);
      if (::setsockopt(sock_, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr) != 0 &&
          errno != EADDRINUSE) {
        if (!i.warned) log("join ff02::2 on %s: %s", i.conf.name.c_str(), std::strerror(errno));
        i.warned = true;
        return false;
      }
      i.joined = true;
      i.warned = false;
    }
    return true;
  }

  void schedule(Iface& i) {
    double lo = i.conf.min_s(), hi = i.conf.max_interval;
    double d = std::uniform_real_distribution<double>(lo, hi)(rng_);
    if (i.initial_left > 0) {
      --i.initial_left;
      d = std::min(d, 16.0);
    }
    i.next = now() + d;
  }

  bool send(Iface& i, const in6_addr* to, bool ceasing) {
    in6_addr src;
    if (!link_local(i.index, &src)) return false;
    std::uint8_t mac[6];
    bool have_mac = mac_of(sock_, i.conf.name, mac);
    std::vector<std::uint8_t> ra = v6lab_ra::encode_ra(i.conf, have_mac ? mac : nullptr, ceasing);
    sockaddr_in6 dst{};
    dst.sin6_family = AF_INET6;
    dst.sin6_scope_id = static_cast<unsigned>(i.index);
    if (to) dst.sin6_addr = *to;
    else inet_pton(AF_INET6, "ff02::1", &dst.sin6_addr);
    char ctl[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    iovec iov{ra.data(), ra.size()};
    msghdr m{};
    m.msg_name = &dst;
    m.msg_namelen = sizeof dst;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl;
    m.msg_controllen = sizeof ctl;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo pi{};
    pi.ipi6_addr = src;
    pi.ipi6_ifindex = static_cast<unsigned>(i.index);
    std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
    if (::sendmsg(sock_, &m, 0) < 0) {
      log("send a Router Advertisement on %s: %s", i.conf.name.c_str(), std::strerror(errno));
      return false;
    }
    if (!to) i.last_multicast = now();
    return true;
  }

  int sock_;
  std::mt19937 rng_;
  std::vector<Iface> ifaces_;
};

int open_socket() {
  int s = ::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (s < 0) return -1;
  int on = 1, hops = 255, off = 0;
  icmp6_filter f;
  ICMP6_FILTER_SETBLOCKALL(&f);
  ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &f);
  if (::setsockopt(s, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f) != 0 ||
      ::setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) != 0 ||
      ::setsockopt(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) != 0 ||
      ::setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0 ||
      ::setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) != 0 ||
      ::setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof off) != 0) {
    int e = errno;
    ::close(s);
    errno = e;
    return -1;
  }
  return s;
}

// The pid file, locked for as long as this process (or its daemon child,
// which inherits the lock) lives: a second v6lab-ra is refused.
int lock_pidfile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "v6lab-ra: open the pid file %s: %s\n", path.c_str(), std::strerror(errno));
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    std::fprintf(stderr, "v6lab-ra: another v6lab-ra is running (pid %s in %s)\n",
                 n > 0 ? std::string(buf, strcspn(buf, "\n")).c_str() : "?", path.c_str());
    ::close(fd);
    return -1;
  }
  return fd;
}

void write_pid(int fd) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%d\n", static_cast<int>(::getpid()));
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, buf, static_cast<std::size_t>(n), 0) != n)
    log("write the pid file: %s", std::strerror(errno));
}

bool parse_args(int argc, char** argv, Options* o) {
  int c;
  while ((c = ::getopt(argc, argv, "C:p:l:nch")) != -1) {
    switch (c) {
      case 'C': o->config = optarg; break;
      case 'p': o->pidfile = optarg; break;
      case 'l': o->logfile = optarg; break;
      case 'n': o->foreground = true; break;
      case 'c': o->check = true; break;
      default: return false;
    }
  }
  return optind == argc;
}

// Background: a child in its own session, stdio on /dev/null, the log file
// for messages. The parent returns true (and exits 0) once the child has
// written the pid file, so a script may read it right after.
bool daemonize(const std::string& logfile, int pidfd, bool* parent) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return false;
  pid_t p = ::fork();
  if (p < 0) return false;
  *parent = p > 0;
  if (*parent) {
    ::close(ready[1]);
    char x;
    while (::read(ready[0], &x, 1) < 0 && errno == EINTR) {
    }
    return true;
  }
  ::close(ready[0]);
  ::setsid();
  write_pid(pidfd);
  ::close(ready[1]);
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (null > 2) ::close(null);
  }
  if (FILE* f = std::fopen(logfile.c_str(), "ae")) g_log = f;
  return true;
}

int run(int sock, int sfd, const Options& o, Config conf) {
  Sender s(sock);
  s.configure(conf);
  log("advertising from %s", o.config.c_str());
  while (true) {
    double wait = s.tick();
    pollfd p[2] = {{sock, POLLIN, 0}, {sfd, POLLIN, 0}};
    int r = ::poll(p, 2, static_cast<int>(wait * 1000) + 1);
    if (r < 0 && errno != EINTR) {
      log("poll: %s", std::strerror(errno));
      return 1;
    }
    if (r > 0 && (p[0].revents & POLLIN)) s.solicited();
    if (r > 0 && (p[1].revents & POLLIN)) {
      signalfd_siginfo si;
      if (::read(sfd, &si, sizeof si) != sizeof si) continue;
      if (si.ssi_signo == SIGHUP) {
        std::string err;
        if (read_config(o.config, &conf, &err)) {
          s.configure(conf);
          log("reloaded %s", o.config.c_str());
        } else {
          log("reload refused, keeping the old configuration: %s", err.c_str());
        }
        continue;
      }
      s.cease();
      log("stopping (signal %u): sent RAs with router lifetime 0", si.ssi_signo);
      return 0;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, &o)) {
    std::fprintf(stderr, "usage: v6lab-ra [-C CONFIG] [-p PIDFILE] [-l LOGFILE] [-n] [-c]\n"
                         "  -C  configuration, radvd syntax (default /etc/v6lab-ra.conf)\n"
                         "  -c  check the configuration and exit\n"
                         "  -n  stay in the foreground, log to stderr\n");
    return 2;
  }
  Config conf;
  std::string err;
  if (!read_config(o.config, &conf, &err)) {
    std::fprintf(stderr, "v6lab-ra: %s\n", err.c_str());
    return 1;
  }
  if (o.check) {
    std::printf("v6lab-ra: %s is valid\n", o.config.c_str());
    return 0;
  }
  int sock = open_socket();
  if (sock < 0) {
    std::fprintf(stderr, "v6lab-ra: open a raw ICMPv6 socket: %s (run it as root)\n",
                 std::strerror(errno));
    return 1;
  }
  int pidfd = lock_pidfile(o.pidfile);
  if (pidfd < 0) return 1;
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&set, sig);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC);
  if (!o.foreground) {
    bool parent = false;
    if (!daemonize(o.logfile, pidfd, &parent)) {
      std::fprintf(stderr, "v6lab-ra: go to the background: %s\n", std::strerror(errno));
      return 1;
    }
    if (parent) return 0;
  } else {
    write_pid(pidfd);
  }
  int rc = run(sock, sfd, o, std::move(conf));
  ::unlink(o.pidfile.c_str());
  return rc;
}
