// Runtime tests: real namespaces, veths, bridges and packets. They need
// root and namespace support, and skip cleanly where either is missing
// (as libnl's own namespace tests do).
#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "v6lab/error.hpp"
#include "v6lab/lab.hpp"
#include "v6lab/node_socket.hpp"
#include "v6lab/nsutil.hpp"
#include "v6lab/probe.hpp"

using namespace v6lab;
using json = nlohmann::ordered_json;

namespace {

bool can_make_namespaces() {
  if (::geteuid() != 0) return false;
  bool ok = false;
  std::thread t([&] { ok = ::unshare(CLONE_NEWNET) == 0; });
  t.join();
  return ok;
}

std::set<std::string> host_links() {
  std::set<std::string> s;
  if (DIR* d = ::opendir("/sys/class/net")) {
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.') s.insert(e->d_name);
    ::closedir(d);
  }
  return s;
}

// PIDs of the v6lab-init processes descended from this process: each lab's
// zygote (our child) and the node inits (the zygote's children).
std::set<pid_t> my_inits() {
  std::map<pid_t, pid_t> inits;  // pid -> ppid
  DIR* d = ::opendir("/proc");
  while (auto* e = ::readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    // Processes exit while we look: read_small_file never throws.
    std::string s = read_small_file("/proc/" + std::string(e->d_name) + "/stat");
    auto rp = s.rfind(')');
    if (rp == std::string::npos || s.find("(v6lab-init)") == std::string::npos) continue;
    int ppid = 0;
    char state;
    std::sscanf(s.c_str() + rp + 2, "%c %d", &state, &ppid);
    if (state != 'Z') inits[pid] = ppid;
  }
  ::closedir(d);
  std::set<pid_t> out;
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, ppid] : inits)
      if ((ppid == ::getpid() || out.count(ppid)) && out.insert(pid).second) grew = true;
  }
  return out;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

const ImageRegistry& images() {
  static ImageRegistry r = ImageRegistry::load_dir(V6LAB_IMAGES_DIR);
  return r;
}

// r1 on a LAN with h1 and h2; h3 behind r1 on a point-to-point link.
json small_topology() {
  return json::parse(R"({
    "name": "rt",
    "nodes": {
      "r1": {"image": "router", "interfaces": {
        "eth0": {"addresses": ["2001:db8:1::1/64", "192.0.2.1/24"]},
        "eth1": {"addresses": ["2001:db8:2::1/64"], "mtu": 1400}}},
      "h1": {"interfaces": {"eth0": {"addresses": ["2001:db8:1::10/64"],
                                      "mac": "02:00:00:00:01:10"}},
             "routes": [{"dst": "default", "via": "2001:db8:1::1"}]},
      "h2": {"interfaces": {"eth0": {"addresses": ["2001:db8:1::20/64"]}}},
      "h3": {"interfaces": {"eth0": {"addresses": ["2001:db8:2::30/64"], "mtu": 1400}},
             "routes": [{"dst": "2001:db8:1::/64", "via": "2001:db8:2::1", "metric": 42}],
             "sysctls": {"net.ipv6.conf.eth0.accept_ra": "0"}}
    },
    "lans": {"lan1": {}},
    "links": [
      {"endpoints": ["r1", "lan1"]}, {"endpoints": ["h1", "lan1"]},
      {"endpoints": ["h2", "lan1"]}, {"endpoints": ["r1", "h3"], "mtu": 1400}
    ]})");
}

std::unique_ptr<Lab> make_lab(const json& raw) {
  return std::make_unique<Lab>(parse_spec(raw, "runtime_test", images()),
                               LabOptions{V6LAB_INIT_PATH});
}

// Runs a command in a node through v6lab-nsexec; returns its exit code.
int run_in(NodeHandle& n, std::vector<std::string> argv) {
  std::vector<std::string> full = {V6LAB_NSEXEC_PATH, std::to_string(n.pid()),
                                   std::to_string(n.starttime()), "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> a;
    for (auto& s : full) a.push_back(s.data());
    a.push_back(nullptr);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

template <class F>
bool eventually(F f, double seconds = 5) {
  auto end = std::chrono::steady_clock::now() +
             std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return f();
}

class Runtime : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!can_make_namespaces())
      GTEST_SKIP() << "needs root and network namespaces";
    before_ = host_links();
  }
  void TearDown() override {
    if (IsSkipped()) return;
    EXPECT_TRUE(my_inits().empty()) << "a test left node inits running";
    EXPECT_EQ(host_links(), before_) << "a test left links in the host namespace";
  }
  std::set<std::string> before_;
};

}  // namespace

TEST_F(Runtime, BuildsNodesLinksAddressesRoutesAndSysctls) {
  auto lab = make_lab(small_topology());
  // Nothing of the lab is visible in the host's network namespace.
  EXPECT_EQ(host_links(), before_);
  EXPECT_EQ(my_inits().size(), 6u);  // four nodes, the switch, the zygote

  auto& h1 = lab->node("h1");
  auto links = h1.links();
  auto eth0 = std::find_if(links.begin(), links.end(),
                           [](const LinkInfo& l) { return l.name == "eth0"; });
  ASSERT_NE(eth0, links.end());
  EXPECT_EQ(eth0->kind, "veth");
  EXPECT_TRUE(eth0->up);
  EXPECT_EQ(eth0->mac, "02:00:00:00:01:10");

  auto& h3 = lab->node("h3");
  for (const auto& l : h3.links()) {
    if (l.name == "eth0") {
      EXPECT_EQ(l.mtu, 1400);
    }
  }

  auto addrs = lab->node("r1").addresses();
  auto has = [&](const std::string& a, int len) {
    return std::any_of(addrs.begin(), addrs.end(), [&](const AddressInfo& x) {
      return x.address == a && x.prefix_len == len;
    });
  };
  EXPECT_TRUE(has("2001:db8:1::1", 64));
  EXPECT_TRUE(has("192.0.2.1", 24));
  EXPECT_TRUE(has("2001:db8:2::1", 64));

  bool found = false;
  for (const auto& r : h3.routes(AF_INET6))
    if (r.dst == "2001:db8:1::/64") {
      found = true;
      EXPECT_EQ(r.protocol, "static");
      EXPECT_EQ(r.metric, 42u);
      ASSERT_EQ(r.nexthops.size(), 1u);
      EXPECT_EQ(r.nexthops[0].gateway, "2001:db8:2::1");
      EXPECT_EQ(r.nexthops[0].ifname, "eth0");
    }
  EXPECT_TRUE(found);
  found = false;
  for (const auto& r : h1.routes(AF_INET6))
    if (r.dst == "::/0") found = r.nexthops[0].gateway == "2001:db8:1::1";
  EXPECT_TRUE(found);

  EXPECT_EQ(lab->node("r1").sysctl("net.ipv6.conf.all.forwarding"), "1");
  EXPECT_EQ(lab->node("r1").sysctl("net.ipv6.conf.eth0.accept_ra"), "0");
  EXPECT_EQ(h1.sysctl("net.ipv6.conf.all.forwarding"), "0");
  EXPECT_EQ(h3.sysctl("net.ipv6.conf.eth0.accept_ra"), "0");
  EXPECT_EQ(h1.sysctl("net.ipv6.conf.eth0.accept_ra"), "1");

  // The switch: one bridge, three ports enslaved, no IPv6 of its own.
  ASSERT_NE(lab->switch_ns(), nullptr);
  auto sw = lab->switch_ns()->links();
  int br = 0, ports = 0;
  for (const auto& l : sw)
    if (l.kind == "bridge") br = l.index;
  for (const auto& l : sw) ports += (l.master == br && br != 0);
  EXPECT_EQ(ports, 3);
  EXPECT_EQ(lab->switch_ns()->sysctl("net.ipv6.conf.all.disable_ipv6"), "1");
  for (const auto& a : lab->switch_ns()->addresses(AF_INET6))
    ADD_FAILURE() << "switch has an IPv6 address " << a.address;

  lab->stop();
  EXPECT_TRUE(my_inits().empty());
}

TEST_F(Runtime, PacketsCrossTheLanAndTheRouter) {
  auto lab = make_lab(small_topology());
  auto& h1 = lab->node("h1");
  // DAD keeps new addresses tentative for about a second (more on a
  // loaded machine).
  ASSERT_TRUE(eventually([&] {
    for (auto* n : {&h1, &lab->node("h2"), &lab->node("r1"), &lab->node("h3")})
      for (const auto& a : n->addresses(AF_INET6))
        if (a.tentative()) return false;
    return true;
  }, 20));
  EXPECT_EQ(run_in(h1, {"ping", "-6", "-c1", "-W5", "2001:db8:1::20"}), 0);
  EXPECT_EQ(run_in(lab->node("h3"), {"ping", "-6", "-c1", "-W5", "2001:db8:1::10"}), 0);
  // A neighbour entry for h2 now exists on h1, learned by real NDP.
  bool seen = false;
  for (const auto& n : h1.neighbours(AF_INET6))
    seen |= n.address == "2001:db8:1::20" && !n.lladdr.empty();
  EXPECT_TRUE(seen);
  // Negative: an address nobody has is not reachable.
  EXPECT_NE(run_in(h1, {"ping", "-6", "-c1", "-W1", "2001:db8:1::99"}), 0);
}

TEST_F(Runtime, NodeHasItsOwnHostnameAndMounts) {
  auto lab = make_lab(small_topology());
  auto& h2 = lab->node("h2");
  EXPECT_EQ(run_in(h2, {"sh", "-c", "test \"$(hostname)\" = h2"}), 0);
  EXPECT_EQ(run_in(h2, {"sh", "-c", "echo x > /etc/v6lab-rt-probe && test -f /etc/v6lab-rt-probe"}), 0);
  EXPECT_NE(::access("/etc/v6lab-rt-probe", F_OK), 0) << "a node wrote to the host's /etc";
  EXPECT_NE(run_in(lab->node("h1"), {"test", "-f", "/etc/v6lab-rt-probe"}), 0);
  // PID 1 of the node is its init.
  EXPECT_EQ(run_in(h2, {"sh", "-c", "grep -q v6lab-init /proc/1/cmdline"}), 0);
}

TEST_F(Runtime, FailedBuildLeavesNothing) {
  json raw = small_topology();
  // An IPv4 gateway that is on no connected network: the kernel refuses the
  // route after nodes and links exist; everything must be undone.
  raw["nodes"]["h2"]["routes"] = json::parse(R"([{"dst": "198.51.100.0/24", "via": "203.0.113.1"}])");
  try {
    make_lab(raw);
    FAIL() << "expected the route to be refused";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("add route 198.51.100.0/24 via 203.0.113.1 on h2"), std::string::npos) << m;
  }
  EXPECT_TRUE(my_inits().empty());
}

TEST_F(Runtime, MissingProgramNamesDebianPackage) {
  auto reg = ImageRegistry::from_json(
      {{"x.json", json::parse(R"({"name": "host", "binaries": [{"name": "v6lab-no-such-prog", "package": "v6lab-pkg"}]})")}});
  Spec s = parse_spec(json::parse(R"({"nodes": {"a": {}}})"), "t", reg);
  try {
    Lab lab(s, LabOptions{V6LAB_INIT_PATH});
    FAIL() << "expected MissingBinaryError";
  } catch (const MissingBinaryError& e) {
    EXPECT_NE(std::string(e.what()).find("apt-get install v6lab-pkg"), std::string::npos);
  }
  EXPECT_TRUE(my_inits().empty());
}

TEST_F(Runtime, AttachChecksStartTime) {
  auto lab = make_lab(small_topology());
  auto& h1 = lab->node("h1");
  auto other = NodeHandle::attach("h1", h1.pid(), h1.starttime());
  EXPECT_FALSE(other->addresses(AF_INET6).empty());
  EXPECT_THROW(NodeHandle::attach("h1", h1.pid(), h1.starttime() + 1), Error);
  pid_t pid = h1.pid();
  unsigned long long st = h1.starttime();
  other.reset();
  lab->stop();
  EXPECT_THROW(NodeHandle::attach("h1", pid, st), Error);
}

TEST_F(Runtime, TwoLabsOfTheSameTopologyCoexist) {
  auto a = make_lab(small_topology());
  auto b = make_lab(small_topology());
  EXPECT_EQ(my_inits().size(), 12u);
  EXPECT_EQ(run_in(a->node("h1"), {"sh", "-c", "test \"$(hostname)\" = h1"}), 0);
  a->stop();
  // b is untouched by a's teardown.
  EXPECT_FALSE(b->node("h1").links().empty());
  EXPECT_EQ(my_inits().size(), 6u);
}

TEST_F(Runtime, OwnerKilledTakesTheLabWithIt) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t owner = ::fork();
  if (owner == 0) {
    // The owner: build a lab, report its init PIDs, then wait to be killed.
    ::close(fds[0]);
    try {
      auto lab = make_lab(small_topology());
      std::string pids;
      for (const auto& n : lab->node_names()) pids += std::to_string(lab->node(n).pid()) + " ";
      pids += std::to_string(lab->switch_ns()->pid()) + "\n";
      if (::write(fds[1], pids.data(), pids.size()) < 0) ::_exit(2);
      ::pause();
    } catch (...) {
    }
    ::_exit(1);
  }
  ::close(fds[1]);
  std::string text;
  char buf[256];
  ssize_t n;
  while (text.find('\n') == std::string::npos && (n = ::read(fds[0], buf, sizeof buf)) > 0)
    text.append(buf, n);
  ::close(fds[0]);
  std::vector<pid_t> pids;
  std::istringstream in(text);
  for (pid_t p; in >> p;) pids.push_back(p);
  ASSERT_EQ(pids.size(), 5u) << text;
  for (pid_t p : pids) EXPECT_TRUE(alive(p));
  ::kill(owner, SIGKILL);
  ::waitpid(owner, nullptr, 0);
  // The inits were the owner's children: once it is gone they are adopted
  // and reaped by the system's init; they must be gone within a few seconds.
  EXPECT_TRUE(eventually([&] {
    return std::none_of(pids.begin(), pids.end(), [](pid_t p) {
      std::string s = read_small_file("/proc/" + std::to_string(p) + "/stat");
      return s.find("(v6lab-init)") != std::string::npos;
    });
  }, 5));
  EXPECT_EQ(host_links(), before_);
}

TEST_F(Runtime, LanBeyondTheBridgePortLimitIsOneSegment) {
  // A Linux bridge takes at most 1023 ports; a bigger LAN is a star of
  // bridges joined by trunks. The first and the last member must still
  // share one L2 segment.
  json raw = json::parse(R"({"name": "biglan", "nodes": {}, "lans": {"lan": {}}, "links": []})");
  const int n = 1030;
  for (int i = 0; i < n; ++i) {
    std::string name = "n" + std::to_string(i);
    raw["nodes"][name] = json::object();
    raw["links"].push_back({{"endpoints", {name, "lan"}}});
  }
  raw["nodes"]["n0"]["interfaces"]["eth0"]["addresses"] = {"2001:db8:b::1/64"};
  raw["nodes"]["n1029"]["interfaces"]["eth0"]["addresses"] = {"2001:db8:b::2/64"};
  auto lab = make_lab(raw);
  int bridges = 0;
  for (const auto& l : lab->switch_ns()->links()) bridges += l.kind == "bridge";
  EXPECT_EQ(bridges, 2);
  auto& first = lab->node("n0");
  auto& last = lab->node("n1029");
  // Every member's DAD and MLD multicast is flooded to every other member,
  // so on two cores (slower still under the sanitizers) DAD takes several
  // seconds here: wait for both ends' addresses.
  auto settled = [](NodeHandle& n, const char* addr) {
    for (const auto& a : n.addresses(AF_INET6))
      if (a.address == addr) return !a.tentative();
    return false;
  };
  ASSERT_TRUE(eventually([&] {
    return settled(last, "2001:db8:b::2") && settled(first, "2001:db8:b::1");
  }, 60));
  EXPECT_EQ(run_in(last, {"ping", "-6", "-c1", "-W3", "2001:db8:b::1"}), 0);
}

// The socket primitive: made in the node's namespace (the kernel says so,
// SIOCGSKNS), bound to a privileged port there, and a failure keeps errno
// and says what was done to what.
TEST_F(Runtime, NodeSocketIsInTheNodeAndKeepsErrno) {
  auto lab = make_lab(small_topology());
  auto& h1 = lab->node("h1");
  ASSERT_TRUE(eventually([&] {
    for (const auto& a : h1.addresses(AF_INET6))
      if (a.tentative()) return false;
    return true;
  }, 20));
  SocketOptions o;
  o.bind_addr = "2001:db8:1::10";
  o.port = 547;
  o.bind_iface = "eth0";
  o.join_groups = {"ff02::1:2"};
  UniqueFd s = open_node_socket(h1, AF_INET6, SOCK_DGRAM, 0, o);
  ASSERT_TRUE(s);
  UniqueFd ns(::ioctl(s.get(), SIOCGSKNS));
  ASSERT_TRUE(ns) << std::strerror(errno);
  struct stat a {}, b {};
  ASSERT_EQ(::fstat(ns.get(), &a), 0);
  ASSERT_EQ(::stat(("/proc/" + std::to_string(h1.pid()) + "/ns/net").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  try {
    open_node_socket(h1, AF_INET6, SOCK_DGRAM, 0, o);
    ADD_FAILURE() << "a second bind succeeded";
  } catch (const SocketError& e) {
    EXPECT_EQ(e.err(), EADDRINUSE);
    EXPECT_STREQ(e.what(), "bind [2001:db8:1::10]:547 on h1: Address already in use");
  }
  o = SocketOptions{};
  o.bind_iface = "eth9";
  try {
    open_node_socket(h1, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, o);
    ADD_FAILURE() << "bound to a missing device";
  } catch (const SocketError& e) {
    EXPECT_EQ(e.err(), ENODEV);
    EXPECT_STREQ(e.what(), "bind to device eth9 on h1: No such device");
  }
  s.reset();
  lab->stop();
}

// A Packet Too Big from r1 (h3's link is 1400) makes h1's kernel cache the
// path MTU: routes() reports that entry as cached, with its MTU and expiry;
// a route with "mtu lock" typed by hand is neither cached nor unlocked.
TEST_F(Runtime, RoutesReportTheCachedPathMtuAndHandSetMtus) {
  auto lab = make_lab(small_topology());
  auto& h1 = lab->node("h1");
  ASSERT_TRUE(eventually([&] {
    for (auto* n : {&h1, &lab->node("r1"), &lab->node("h3")})
      for (const auto& a : n->addresses(AF_INET6))
        if (a.tentative()) return false;
    return true;
  }, 20));
  PingOptions o;
  o.dst = "2001:db8:2::30";
  o.size = 1452;  // 1500 bytes of IPv6
  o.dont_fragment = true;
  PingResult r = ping(h1.netns_dup().get(), o);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0].mtu, 1400u);
  auto find = [&](const std::string& dst) -> std::optional<RouteInfo> {
    for (const auto& x : h1.routes(AF_INET6))
      if (x.dst == dst) return x;
    return std::nullopt;
  };
  auto cached = find("2001:db8:2::30/128");
  ASSERT_TRUE(cached);
  EXPECT_TRUE(cached->cached);
  EXPECT_EQ(cached->mtu, 1400u);
  EXPECT_FALSE(cached->mtu_locked);
  EXPECT_TRUE(cached->expires && *cached->expires > 0);
  ASSERT_EQ(run_in(h1, {"ip", "-6", "route", "add", "2001:db8:2::77/128", "via",
                        "2001:db8:1::1", "mtu", "lock", "1300"}), 0);
  auto hand = find("2001:db8:2::77/128");
  ASSERT_TRUE(hand);
  EXPECT_FALSE(hand->cached);
  EXPECT_EQ(hand->mtu, 1300u);
  EXPECT_TRUE(hand->mtu_locked);
  auto plain = find("::/0");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->cached);
  EXPECT_EQ(plain->mtu, 0u);
  lab->stop();
}
