// Benchmark baseline "floor": the bare-kernel floor for a chain of N nodes,
// using only the v6lab core's netlink and namespace helpers.
//
//   v6lab-bench-floor N
//
// prints one JSON line:
//   {"variant": "floor", "n": N, "build_s": .., "teardown_s": .., "settle_s": ..}
//
// Build: N network namespaces, each created by one short-lived helper thread
// with unshare(CLONE_NEWNET) and held by an fd of /proc/thread-self/ns/net;
// in each, while the thread is inside: a netlink socket, lo up and
// net.ipv6.conf.all.forwarding=1 (written before any veth exists, so the
// veths inherit it through conf.default). Then N-1 veth pairs, node i-1
// eth1 <-> node i eth0, both ends placed by namespace fd in one RTM_NEWLINK
// (first end created up, the peer brought up by a second message), and on
// link k the addresses 2001:db8:<k hex>::1/64 (node k-1) and ::2/64 (node k),
// added without IFA_F_NODAD like the core does.
// Teardown: close every socket and namespace fd. No processes, mounts or
// host-side interfaces exist, so a crash or kill leaves nothing behind.
// Settle: same method as nsid_settle.py (see there for the reasoning): each
// namespace gets an nsid in the root namespace after the build (not timed);
// after teardown, wait for RTM_DELNSID of all of them (the kernel's cleanup
// work has taken every namespace, including those whose last reference was a
// netlink socket released one RCU grace period after close()), then create,
// register and drop one sentinel namespace and wait for its RTM_DELNSID: the
// cleanup work item never runs concurrently with itself, so the batches that
// held the run's namespaces have returned by then.
#include <fcntl.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "v6lab/error.hpp"
#include "v6lab/fd.hpp"
#include "v6lab/netlink.hpp"
#include "v6lab/nsutil.hpp"
#include "v6lab/spec.hpp"

using namespace v6lab;

namespace {

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Root-namespace rtnetlink socket subscribed to RTNLGRP_NSID.
class NsidWatch {
 public:
  NsidWatch() {
    fd_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd_) throw_errno("open nsid watch socket", errno);
    int sz = 8 << 20;
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
      ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      throw_errno("bind nsid watch socket", errno);
    int grp = RTNLGRP_NSID;
    if (::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof grp) != 0)
      throw_errno("join RTNLGRP_NSID", errno);
  }

  // Gives the namespace behind nsfd an nsid in the root namespace (the kernel
  // picks it and echoes it back); returns it.
  int assign(int nsfd) {
    struct {
      nlmsghdr h;
      rtgenmsg g;
      char pad[3];
      nlattr a1;
      int32_t nsid;
      nlattr a2;
      uint32_t fd;
    } req{};
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_NEWNSID;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO;
    req.h.nlmsg_seq = ++seq_;
    req.g.rtgen_family = AF_UNSPEC;
    req.a1 = {static_cast<uint16_t>(NLA_HDRLEN + 4), NETNSA_NSID};
    req.nsid = -1;
    req.a2 = {static_cast<uint16_t>(NLA_HDRLEN + 4), NETNSA_FD};
    req.fd = static_cast<uint32_t>(nsfd);
    if (::send(fd_.get(), &req, sizeof req, 0) < 0) throw_errno("assign nsid", errno);
    int id = -1;
    double deadline = now() + 5;
    for (;;) {
      bool acked = false;
      int err = 0;
      receive(deadline - now(), [&](const nlmsghdr* h) {
        if (h->nlmsg_seq != seq_) return;
        if (h->nlmsg_type == RTM_NEWNSID) {
          int v = nsid_of(h);
          if (v >= 0) id = v;
        } else if (h->nlmsg_type == NLMSG_ERROR) {
          err = -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
          acked = true;
        }
      });
      if (acked) {
        if (err) throw_errno("assign nsid", err);
        if (id < 0) throw Error("assign nsid: the kernel echoed no nsid");
        pending_.insert(id);
        return id;
      }
      if (now() > deadline) throw Error("assign nsid: no answer from the kernel");
    }
  }

  // Waits until none of `ids` is pending any more.
  void wait_deleted(const std::set<int>& ids, double deadline) {
    auto any_left = [&] {
      for (int i : ids)
        if (pending_.count(i)) return true;
      return false;
    };
    while (any_left()) {
      if (lost_) resync();
      if (!any_left()) break;
      if (now() > deadline) throw Error("namespaces were not destroyed in time");
      receive(std::min(1.0, deadline - now()), [](const nlmsghdr*) {});
    }
  }
  const std::set<int>& pending() const { return pending_; }

 private:
  static int nsid_of(const nlmsghdr* h) {
    const char* p = static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(rtgenmsg));
    int len = static_cast<int>(h->nlmsg_len) - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(rtgenmsg)));
    for (auto* a = reinterpret_cast<const nlattr*>(p); len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
                                                      a->nla_len <= len;) {
      if ((a->nla_type & NLA_TYPE_MASK) == NETNSA_NSID)
        return *reinterpret_cast<const int32_t*>(reinterpret_cast<const char*>(a) + NLA_HDRLEN);
      int step = NLA_ALIGN(a->nla_len);
      len -= step;
      a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + step);
    }
    return -1;
  }

  // Reads whatever arrives within `timeout` seconds; RTM_DELNSID of our
  // nsids is recorded here, every message is also handed to fn.
  template <typename Fn>
  void receive(double timeout, Fn fn) {
    pollfd p{fd_.get(), POLLIN, 0};
    int ms = timeout <= 0 ? 0 : static_cast<int>(timeout * 1000) + 1;
    if (::poll(&p, 1, ms) <= 0) return;
    alignas(nlmsghdr) static char buf[1 << 16];
    for (;;) {
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == ENOBUFS) {
          lost_ = true;
          continue;
        }
        if (errno == EAGAIN || errno == EINTR) return;
        throw_errno("read nsid events", errno);
      }
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == RTM_DELNSID) pending_.erase(nsid_of(h));
        fn(h);
      }
    }
  }

  // Events were lost: a dump of the root's nsids; ours that are absent have
  // been deleted.
  void resync() {
    lost_ = false;
    UniqueFd s(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!s) throw_errno("open nsid dump socket", errno);
    struct {
      nlmsghdr h;
      rtgenmsg g;
      char pad[3];
    } req{};
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_GETNSID;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 1;
    if (::send(s.get(), &req, sizeof req, 0) < 0) throw_errno("dump nsids", errno);
    std::set<int> present;
    alignas(nlmsghdr) static char buf[1 << 16];
    for (bool done = false; !done;) {
      ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
      if (n < 0) throw_errno("dump nsids", errno);
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
          done = true;
          break;
        }
        present.insert(nsid_of(h));
      }
    }
    for (auto it = pending_.begin(); it != pending_.end();)
      it = present.count(*it) ? std::next(it) : pending_.erase(it);
  }

  UniqueFd fd_;
  uint32_t seq_ = 0;
  std::set<int> pending_;
  bool lost_ = false;
};

// Runs fn on a fresh thread (which may unshare); rethrows its exception.
template <typename Fn>
void on_helper_thread(Fn fn) {
  std::exception_ptr err;
  std::thread t([&] {
    try {
      fn();
    } catch (...) {
      err = std::current_exception();
    }
  });
  t.join();
  if (err) std::rethrow_exception(err);
}

UniqueFd new_netns_here() {
  if (::unshare(CLONE_NEWNET) != 0) throw_errno("unshare(CLONE_NEWNET)", errno);
  int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("open /proc/thread-self/ns/net", errno);
  return UniqueFd(fd);
}

IpAddr addr(unsigned link, int host) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2001:db8:%x::%d/64", link, host);
  std::string why;
  auto a = parse_ip(buf, true, &why);
  if (!a) throw Error(std::string("parse ") + buf + ": " + why);
  return *a;
}

}  // namespace

int main(int argc, char** argv) {
  char* end = nullptr;
  long n = argc == 2 ? std::strtol(argv[1], &end, 10) : 0;
  if (argc != 2 || *end || n < 2 || n > 100000) {
    std::fprintf(stderr, "usage: %s N   (N >= 2)\n", argv[0]);
    return 2;
  }
  const std::size_t N = static_cast<std::size_t>(n);
  try {
    // Two descriptors per node (namespace fd, netlink socket).
    rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    NsidWatch watch;  // in the root namespace (this thread's)

    std::vector<UniqueFd> ns(N);
    std::vector<std::unique_ptr<NlSocket>> nl(N);

    // ------------------------------------------------------------ build
    double t0 = now();
    on_helper_thread([&] {
      for (std::size_t i = 0; i < N; ++i) {
        ns[i] = new_netns_here();
        nl[i] = std::make_unique<NlSocket>();  // bound to this namespace
        nl[i]->set_context("n" + std::to_string(i));
        nl[i]->set_link("lo", true);
        write_sysctl("net.ipv6.conf.all.forwarding", "1");
      }
    });
    for (std::size_t k = 1; k < N; ++k) {
      VethEnd a{"eth1", ns[k - 1].get(), std::nullopt, std::nullopt, true, 0};
      VethEnd b{"eth0", ns[k].get(), std::nullopt, std::nullopt, false, 0};
      nl[k - 1]->add_veth(a, b);
      nl[k]->set_link("eth0", true);
      nl[k - 1]->add_address("eth1", addr(static_cast<unsigned>(k), 1));
      nl[k]->add_address("eth0", addr(static_cast<unsigned>(k), 2));
    }
    double t1 = now();

    // -------------------------------------- settle bookkeeping (not timed)
    std::set<int> ids;
    for (auto& f : ns) ids.insert(watch.assign(f.get()));

    // --------------------------------------------------------- teardown
    double t2 = now();
    nl.clear();
    ns.clear();
    double t3 = now();

    // ----------------------------------------------------------- settle
    double deadline = t3 + 120;
    watch.wait_deleted(ids, deadline);
    UniqueFd sentinel;
    on_helper_thread([&] { sentinel = new_netns_here(); });
    int sid = watch.assign(sentinel.get());
    sentinel.reset();
    watch.wait_deleted({sid}, deadline);
    double t4 = now();

    std::printf(
        "{\"variant\": \"floor\", \"n\": %zu, \"build_s\": %.6f, \"teardown_s\": %.6f, "
        "\"settle_s\": %.6f}\n",
        N, t1 - t0, t3 - t2, t4 - t3);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "v6lab-bench-floor: %s\n", e.what());
    return 1;
  }
}
