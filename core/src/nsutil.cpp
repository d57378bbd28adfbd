#include "v6lab/nsutil.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <thread>

#include "v6lab/error.hpp"
#include "v6lab/netlink.hpp"

namespace v6lab {

UniqueFd open_ns(pid_t pid, const char* type) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("open " + path, errno);
  return UniqueFd(fd);
}

UniqueFd pidfd_open(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) throw_errno("pidfd_open " + std::to_string(pid), errno);
  return UniqueFd(fd);
}

void for_each_netns(std::size_t n, const std::function<int(std::size_t)>& nsfd,
                    const std::function<void(std::size_t)>& fn) {
  std::exception_ptr err;
  std::thread t([&] {
    try {
      for (std::size_t i = 0; i < n; ++i) {
        if (::setns(nsfd(i), CLONE_NEWNET) != 0)
          throw_errno("enter network namespace", errno);
        fn(i);
      }
    } catch (...) {
      err = std::current_exception();
    }
  });
  t.join();
  if (err) std::rethrow_exception(err);
}

void run_in_netns(int nsfd, const std::function<void()>& fn) {
  for_each_netns(
      1, [nsfd](std::size_t) { return nsfd; }, [&](std::size_t) { fn(); });
}

std::string sysctl_path(const std::string& key) {
  // Dots separate levels, except inside an interface name given with '/'
  // (net/ipv6/conf/eth0.10/forwarding): accept both spellings.
  std::string path = "/proc/sys/";
  if (key.find('/') != std::string::npos) return path + key;
  for (char c : key) path += (c == '.') ? '/' : c;
  return path;
}

std::string read_sysctl(const std::string& key) {
  std::string path = sysctl_path(key);
  if (::access(path.c_str(), R_OK) != 0) throw_errno("read sysctl " + key, errno);
  std::string v = read_small_file(path);
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

void write_sysctl(const std::string& key, const std::string& value) {
  std::string path = sysctl_path(key);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("set sysctl " + key + "=" + value, errno);
  UniqueFd f(fd);
  if (::write(fd, value.data(), value.size()) < 0)
    throw_errno("set sysctl " + key + "=" + value, errno);
}

std::string namespace_support() {
  if (::geteuid() != 0) return "building a lab needs root";
  int err = 0;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) err = errno;
  });
  t.join();
  if (err) return std::string("network namespaces are unavailable here: ") + std::strerror(err);
  return "";
}

std::string kernel_feature_missing(const std::string& feature) {
  static const std::pair<const char*, const char*> options[] = {
      {"sit", "CONFIG_IPV6_SIT"},      {"ip6tnl", "CONFIG_IPV6_TUNNEL"},
      {"gre", "CONFIG_NET_IPGRE"},     {"ip6gre", "CONFIG_IPV6_GRE"},
      {"ipip", "CONFIG_NET_IPIP"},     {"dummy", "CONFIG_DUMMY"},
      {"vxlan", "CONFIG_VXLAN"},       {"vrf", "CONFIG_NET_VRF"},
      {"macvlan", "CONFIG_MACVLAN"},   {"wireguard", "CONFIG_WIREGUARD"},
      {"netem", "CONFIG_NET_SCH_NETEM"}};
  std::string why;
  std::thread t([&] {
    try {
      if (::unshare(CLONE_NEWNET) != 0) throw_errno("create a namespace to probe", errno);
      NlSocket s;
      s.set_context("probe");
      if (feature == "netem")
        s.add_netem(s.ifindex("lo"));
      else
        s.add_link_of_kind("v6lab-probe", feature);
    } catch (const KernelError& e) {
      // An unknown kind is EOPNOTSUPP (links) or ENOENT (qdiscs); anything
      // else (EINVAL: "attributes required") means the kind exists.
      if (e.err() == EOPNOTSUPP || (feature == "netem" && e.err() == ENOENT)) why = e.what();
    } catch (const std::exception& e) {
      why = e.what();
    }
  });
  t.join();
  if (why.empty()) return "";
  std::string option;
  for (const auto& [f, o] : options)
    if (feature == f) option = o;
  return "this kernel has no " + feature + " support" +
         (option.empty() ? "" : " (kernel option " + option + ")") + ": " + why;
}

std::string read_small_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  UniqueFd f(fd);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

unsigned long long process_starttime(pid_t pid) {
  std::string s = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  auto rp = s.rfind(')');
  if (rp == std::string::npos || rp + 2 > s.size()) return 0;
  std::istringstream rest(s.substr(rp + 2));
  std::string field;
  // Fields after the command: state is field 3; starttime is field 22. A
  // zombie has exited already: treat it as gone.
  if (!(rest >> field) || field == "Z" || field == "X") return 0;
  for (int i = 4; i <= 22; ++i)
    if (!(rest >> field)) return 0;
  try {
    return std::stoull(field);
  } catch (...) {
    return 0;
  }
}

}  // namespace v6lab
