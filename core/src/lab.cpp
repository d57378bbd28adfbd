#include "v6lab/lab.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "v6lab/error.hpp"
#include "v6lab/nsutil.hpp"
#include "preparer.hpp"
#include "zygote_client.hpp"

namespace v6lab {

namespace {

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Sysctls of one interface (net.ipv6.conf.eth0.x) can only be written once
// the interface exists; everything else is written before links are made so
// that new interfaces inherit conf.default.
bool is_iface_sysctl(const std::string& key) { return !sysctl_interface(key).empty(); }

constexpr std::size_t kPortsPerBridge = 1000;  // the kernel's limit is 1023

// Bridge k of LAN i in the switch namespace: br0, br0x1, br0x2, ...
std::string bridge_name(std::size_t lan, std::size_t k) {
  return "br" + std::to_string(lan) + (k ? "x" + std::to_string(k) : std::string());
}


}  // namespace

// ------------------------------------------------------------- NodeHandle

NodeHandle::NodeHandle(std::string name, pid_t pid, UniqueFd pidfd,
                       UniqueFd netns)
    : name_(std::move(name)),
      pid_(pid),
      starttime_(process_starttime(pid)),
      pidfd_(std::move(pidfd)),
      netns_(std::move(netns)) {}

std::unique_ptr<NodeHandle> NodeHandle::attach(const std::string& name,
                                               pid_t pid,
                                               unsigned long long starttime) {
  UniqueFd pfd;
  try {
    pfd = pidfd_open(pid);
  } catch (const Error&) {
    throw Error("attach to node " + name + ": its process " +
                std::to_string(pid) + " is gone (the lab has stopped)");
  }
  // Checked after pidfd_open: the pidfd now pins this very process.
  if (starttime && process_starttime(pid) != starttime)
    throw Error("attach to node " + name + ": process " + std::to_string(pid) +
                " is no longer its init (the lab has stopped)");
  auto ns = open_ns(pid, "net");
  return std::make_unique<NodeHandle>(name, pid, std::move(pfd), std::move(ns));
}

NlSocket& NodeHandle::nl() {
  if (!netns_) throw Error("node " + name_ + ": the lab has stopped");
  if (!nl_) {
    run_in_netns(netns_.get(), [&] { nl_ = std::make_unique<NlSocket>(); });
    nl_->set_context(name_);
  }
  return *nl_;
}

void NodeHandle::adopt_socket(std::unique_ptr<NlSocket> s) {
  std::lock_guard<std::mutex> g(mu_);
  nl_ = std::move(s);
  nl_->set_context(name_);
}

void NodeHandle::close_socket() {
  std::lock_guard<std::mutex> g(mu_);
  nl_.reset();
}

void NodeHandle::close() {
  std::lock_guard<std::mutex> g(mu_);
  nl_.reset();
  netns_.reset();
}

UniqueFd NodeHandle::netns_dup() {
  std::lock_guard<std::mutex> g(mu_);
  if (!netns_) throw Error("node " + name_ + ": the lab has stopped");
  int fd = ::fcntl(netns_.get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) throw_errno("node " + name_ + ": duplicate its namespace fd", errno);
  return UniqueFd(fd);
}

std::vector<LinkInfo> NodeHandle::links() {
  std::lock_guard<std::mutex> g(mu_);
  return nl().links();
}
std::vector<AddressInfo> NodeHandle::addresses(int family) {
  std::lock_guard<std::mutex> g(mu_);
  return nl().addresses(family);
}
std::vector<RouteInfo> NodeHandle::routes(int family, bool all_tables) {
  std::lock_guard<std::mutex> g(mu_);
  return nl().routes(family, all_tables);
}
std::vector<NeighbourInfo> NodeHandle::neighbours(int family) {
  std::lock_guard<std::mutex> g(mu_);
  return nl().neighbours(family);
}
std::string NodeHandle::sysctl(const std::string& key) {
  std::string v;
  UniqueFd ns = netns_dup();
  run_in_netns(ns.get(), [&] {
    try {
      v = read_sysctl(key);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + " on " + name_);
    }
  });
  return v;
}
void NodeHandle::set_sysctl(const std::string& key, const std::string& value) {
  std::string why;
  if (!valid_node_sysctl(key, &why)) throw Error("set sysctl on " + name_ + ": " + why);
  UniqueFd ns = netns_dup();
  run_in_netns(ns.get(), [&] {
    try {
      write_sysctl(key, value);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + " on " + name_);
    }
  });
}

// -------------------------------------------------------------------- Lab

namespace {

struct SubRanges {
  IdRange root;                // the range given to "root" or uid 0, if any
  unsigned long highest = 0;   // the end of the highest range given to anyone
};

// Subordinate ranges of /etc/subuid or /etc/subgid ("name:start:count").
SubRanges subordinate_ranges(const char* file) {
  SubRanges out;
  std::istringstream in(read_small_file(file));
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.rfind(':');
    if (a == std::string::npos || a == b) continue;
    try {
      IdRange r{std::stoul(line.substr(a + 1, b - a - 1)), std::stoul(line.substr(b + 1))};
      std::string who = line.substr(0, a);
      if ((who == "root" || who == "0") && !out.root.count) out.root = r;
      out.highest = std::max(out.highest, r.base + r.count);
    } catch (...) {
    }
  }
  return out;
}

// SUB_UID_MAX and SUB_GID_MAX of /etc/login.defs: useradd gives new users
// ranges up to there (600100000 when unset).
unsigned long login_defs_max() {
  unsigned long top = 600100000;
  std::istringstream in(read_small_file("/etc/login.defs"));
  std::string key;
  unsigned long value;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    if (l >> key >> value && (key == "SUB_UID_MAX" || key == "SUB_GID_MAX")) top = std::max(top, value);
  }
  return top;
}

}  // namespace

IdRange default_id_range() {
  // Inside a user namespace (rootless, bindings/v6lab/userns.py): the ids
  // mapped from 0 up, as node ids are relative to it.
  std::string map = read_small_file("/proc/self/uid_map");
  std::istringstream lines(map);
  unsigned long inside, outside, count, next = 0;
  bool initial = false;
  while (lines >> inside >> outside >> count) {
    if (inside == 0 && outside == 0 && count == 4294967295UL) initial = true;
    if (inside == next) next += count;
  }
  if (!initial && next > 0) return {0, std::min<unsigned long>(next, 65536), 1};
  SubRanges u = subordinate_ranges("/etc/subuid"), g = subordinate_ranges("/etc/subgid");
  // Node ids must reach the daemons' users (dnsmasq, _kea, ...): 65536 ids.
  if (u.root.count >= 65536 && u.root.base == g.root.base && g.root.count >= 65536 && u.root.base)
    return {u.root.base, 65536, std::min<unsigned long>(std::min(u.root.count, g.root.count) / 65536, 1024)};
  // Otherwise a range no user can be given: above every range handed out
  // and above what useradd may hand out later. A user whose subordinate ids
  // included a root lab's node ids could signal its processes.
  unsigned long floor = std::max({u.highest, g.highest, login_defs_max() + 1});
  return {(floor + 65535) / 65536 * 65536, 65536, 1024};
}

std::string missing_binaries(const Spec& spec) {
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> miss;
  for (const auto& n : spec.nodes)
    for (const auto& b : n.binaries)
      if (find_program(b.name).empty()) {
        miss[b.name].first = b.package;
        miss[b.name].second.push_back(n.name + " (image " + n.image + ")");
      }
  std::string msg;
  for (const auto& [prog, info] : miss) {
    std::string nodes;
    for (const auto& n : info.second) nodes += (nodes.empty() ? "" : ", ") + n;
    if (!msg.empty()) msg += "\n";
    msg += "program '" + prog + "' is not installed; " + nodes +
           " need(s) it: install the Debian package " + info.first +
           " (apt-get install " + info.first + ")";
  }
  return msg;
}

namespace {

// Root mode: each lab gets 65536 ids of its own, slot k of the range above
// the base, held by an flock on /run/v6lab/ids/K for as long as this
// process holds the fd (its owner dies: the slot is free again). Nodes of
// two labs then never share a host uid, nor the kernel's per-uid keyrings
// and quotas. A range with one slot only (root's /etc/subuid entry of
// exactly 65536 ids) is shared, as before.
UniqueFd claim_id_slot(IdRange& ids, std::size_t slots) {
  if (slots < 2 || ::geteuid() != 0) return UniqueFd();
  ::mkdir("/run/v6lab", 0755);
  ::mkdir("/run/v6lab/ids", 0700);
  for (std::size_t k = 0; k < slots; ++k) {
    std::string path = "/run/v6lab/ids/" + std::to_string(k);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      ids.base += k * 65536;
      return UniqueFd(fd);
    }
    ::close(fd);
  }
  throw Error("start a lab: every one of the " + std::to_string(slots) +
              " id ranges for labs is in use (/run/v6lab/ids)");
}

}  // namespace

Lab::Lab(Spec spec, LabOptions opts)
    : spec_(std::move(spec)), opts_(std::move(opts)) {
  std::string miss = missing_binaries(spec_);
  if (!miss.empty()) throw MissingBinaryError(miss);
  if (::access(opts_.init_path.c_str(), X_OK) != 0)
    throw_errno("find the node init helper " + opts_.init_path, errno);
  id_slot_ = claim_id_slot(opts_.ids, opts_.id_slots);
  try {
    build();
  } catch (...) {
    stop();
    throw;
  }
}

Lab::~Lab() { stop(); }

NodeHandle& Lab::node(const std::string& name) {
  for (auto& n : nodes_)
    if (n && n->name() == name) return *n;
  throw Error("lab " + spec_.name + " has no node '" + name + "'");
}

std::vector<std::string> Lab::node_names() const {
  std::vector<std::string> v;
  for (const auto& n : spec_.nodes) v.push_back(n.name);
  return v;
}

std::string Lab::lan_bridge(const std::string& lan) const {
  for (std::size_t i = 0; i < spec_.lans.size(); ++i)
    if (spec_.lans[i].name == lan) return bridge_name(i, 0);
  throw Error("lab " + spec_.name + " has no LAN '" + lan + "'");
}

// Starts the lab's zygote, has it create every node's init (and the
// switch's), and prepares each namespace as soon as its init is ready.
void Lab::spawn_inits() {
  double t0 = now();
  detail::raise_fd_limit();
  detail::SpawnSession session(opts_.init_path, init_requests());
  detail::ZygoteProcess z = detail::start_zygote(opts_.init_path, zygote_options());
  zygote_ = z.pid;
  lifeline_w_ = std::move(z.lifeline);
  nodes_.clear();
  nodes_.resize(spec_.nodes.size());
  detail::Preparer prep([this](NodeHandle* h, const NodeSpec* n) { prepare(h, n); });
  std::string error;
  try {
    error = session.run(
        z, &zygote_, [&](std::size_t i, pid_t pid) { prep.push(adopt_init(i, pid)); },
        [&] { return prep.failed(); });
  } catch (...) {
    prep.finish();
    adopt_leftovers(session);
    throw;
  }
  double spawned = now();
  prep.finish();
  double prepared = now();
  // spawn: until every node is created and prepared; sockets: the part of
  // the preparation that did not overlap the spawning.
  timing_.spawn = prepared - t0;
  timing_.sockets = prepared - spawned;
  limits_ = session.limits();
  adopt_leftovers(session);
  prep.rethrow();
  if (!error.empty()) throw Error(error);
}

// What the zygote is started with: the lab's ids and per-node limits.
zygote::Options Lab::zygote_options() const {
  zygote::Options o;
  o.id_base = opts_.ids.base;
  o.id_count = opts_.ids.count;
  o.nproc = opts_.nproc;
  o.lab = spec_.name;
  o.pids = opts_.pids;
  o.memory = opts_.memory;
  return o;
}

// Every init the zygote is asked for: the nodes in spec order, then the
// switch namespace if there are LANs. adopt_init() relies on this order.
std::vector<detail::InitRequest> Lab::init_requests() const {
  std::vector<detail::InitRequest> r;
  for (const auto& n : spec_.nodes) r.push_back({zygote::CommandKind::node, n.name});
  if (!spec_.lans.empty()) r.push_back({zygote::CommandKind::switch_ns, std::string(zygote::kSwitchName)});
  return r;
}

// The handle of init i of init_requests(), kept in nodes_ or switch_, and
// the job that prepares it (no NodeSpec for the switch).
std::pair<NodeHandle*, const NodeSpec*> Lab::adopt_init(std::size_t i, pid_t pid) {
  bool is_switch = i == spec_.nodes.size();
  std::string name = is_switch ? std::string(zygote::kSwitchName) : spec_.nodes[i].name;
  auto h = std::make_unique<NodeHandle>(name, pid, pidfd_open(pid), open_ns(pid, "net"));
  NodeHandle* raw = h.get();
  if (is_switch) {
    switch_ = std::move(h);
    return {raw, nullptr};
  }
  nodes_[i] = std::move(h);
  return {raw, &spec_.nodes[i]};
}

// Inits that were created but never got a handle (not ready yet when
// something failed) get one now, so that stop() kills them too.
void Lab::adopt_leftovers(const detail::SpawnSession& session) {
  for (const auto& [i, pid] : session.leftovers()) {
    try {
      adopt_init(i, pid);
    } catch (const Error&) {
    }
  }
}

// Runs on the preparing thread, inside h's network namespace: opens the
// node's socket there, writes the sysctls that interfaces inherit and
// brings lo up. node is null for the switch namespace.
void Lab::prepare(NodeHandle* h, const NodeSpec* node) {
  h->adopt_socket(std::make_unique<NlSocket>());  // in this namespace
  if (!node) {
    // The switch is invisible at layer 3: no IPv6 on bridges or ports.
    write_sysctl("net.ipv6.conf.all.disable_ipv6", "1");
    write_sysctl("net.ipv6.conf.default.disable_ipv6", "1");
    return;
  }
  for (const auto& [k, v] : node->sysctls)
    if (!is_iface_sysctl(k)) {
      try {
        write_sysctl(k, v);
      } catch (const Error& e) {
        throw Error(std::string(e.what()) + " on " + node->name);
      }
    }
  std::lock_guard<std::mutex> g(h->lock());
  h->nl().set_link("lo", true);
}

void Lab::build() {
  double t0 = now();
  spawn_inits();  // also prepares each namespace as its init comes up
  double t2 = now();
  build_links(build_bridges());
  double t3 = now();
  configure_nodes();
  double t4 = now();
  timing_.links = t3 - t2;
  timing_.addresses = t4 - t3;
  timing_.total = t4 - t0;
  running_ = true;
}

// LAN bridges, in the switch namespace; returns each LAN's bridge ifindexes.
// A Linux bridge takes at most 1023 ports, so a bigger LAN is a star of
// bridges joined by veth trunks: still one L2 segment (no loop, so no STP
// needed).
std::vector<std::vector<int>> Lab::build_bridges() {
  std::vector<std::vector<int>> lan_bridges(spec_.lans.size());
  for (std::size_t i = 0; i < spec_.lans.size(); ++i) {
    std::size_t count = std::max<std::size_t>(1, (spec_.lans[i].members.size() + kPortsPerBridge - 1) /
                                                       kPortsPerBridge);
    for (std::size_t k = 0; k < count; ++k) {
      std::string br = bridge_name(i, k);
      switch_->nl().add_bridge(br);
      lan_bridges[i].push_back(switch_->nl().ifindex(br));
      if (k == 0) continue;
      std::string a = "t" + std::to_string(i) + "x" + std::to_string(k) + "a";
      std::string b = "t" + std::to_string(i) + "x" + std::to_string(k) + "b";
      switch_->nl().add_veth({a, switch_->netns_fd(), std::nullopt, std::nullopt, true, lan_bridges[i][0]},
                             {b, switch_->netns_fd(), std::nullopt, std::nullopt, false, 0});
      switch_->nl().set_link(b, true, lan_bridges[i][k]);
    }
  }
  return lan_bridges;
}

// Links and LAN ports: both ends of every veth are created directly in
// their namespaces.
void Lab::build_links(const std::vector<std::vector<int>>& lan_bridges) {
  std::map<std::string, NodeHandle*> by_name;
  for (auto& n : nodes_) by_name[n->name()] = n.get();
  for (const auto& l : spec_.links) {
    const IfaceSpec* ia = spec_.node(l.node_a)->iface(l.iface_a);
    const IfaceSpec* ib = spec_.node(l.node_b)->iface(l.iface_b);
    NodeHandle* a = by_name[l.node_a];
    NodeHandle* b = by_name[l.node_b];
    VethEnd ea{ia->name, a->netns_fd(), ia->mtu, ia->mac, true, 0};
    VethEnd eb{ib->name, b->netns_fd(), ib->mtu, ib->mac, false, 0};
    a->nl().add_veth(ea, eb);
    b->nl().set_link(ib->name, true);
  }
  for (std::size_t li = 0; li < spec_.lans.size(); ++li) {
    const LanSpec& lan = spec_.lans[li];
    for (std::size_t k = 0; k < lan.members.size(); ++k) {
      int br = lan_bridges[li][k / kPortsPerBridge];
      const auto& [nn, ifn] = lan.members[k];
      const IfaceSpec* ifc = spec_.node(nn)->iface(ifn);
      NodeHandle* n = by_name[nn];
      std::string port = "l" + std::to_string(li) + "p" + std::to_string(k);
      VethEnd sw{port, switch_->netns_fd(), ifc->mtu, std::nullopt, true, br};
      VethEnd ne{ifc->name, n->netns_fd(), ifc->mtu, ifc->mac, false, 0};
      switch_->nl().add_veth(sw, ne);
      n->nl().set_link(ifc->name, true);
    }
  }
}

// Per-interface sysctls (the interfaces exist now), addresses, routes.
void Lab::configure_nodes() {
  std::vector<std::size_t> late;
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i)
    for (const auto& [k, v] : spec_.nodes[i].sysctls)
      if (is_iface_sysctl(k)) {
        late.push_back(i);
        break;
      }
  if (!late.empty())
    for_each_netns(
        late.size(), [&](std::size_t j) { return nodes_[late[j]]->netns_fd(); },
        [&](std::size_t j) {
          const NodeSpec& ns = spec_.nodes[late[j]];
          for (const auto& [k, v] : ns.sysctls)
            if (is_iface_sysctl(k)) {
              try {
                write_sysctl(k, v);
              } catch (const Error& e) {
                throw Error(std::string(e.what()) + " on " + ns.name);
              }
            }
        });
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i) {
    const NodeSpec& ns = spec_.nodes[i];
    for (const auto& ifc : ns.ifaces)
      for (const auto& a : ifc.addresses) nodes_[i]->nl().add_address(ifc.name, a);
  }
  for (std::size_t i = 0; i < spec_.nodes.size(); ++i)
    for (const auto& r : spec_.nodes[i].routes) nodes_[i]->nl().add_route(r);
}

void Lab::stop() {
  // Closing the lifeline makes every init exit; SIGKILL through each pidfd
  // makes it immediate. The zygote reaps them and exits after the last, so
  // once we have reaped the zygote no process of the lab is left. The
  // kernel then frees each namespace, and every device in it, in one batch.
  detail::close_lifeline(lifeline_w_);
  // Handles stay (Python may hold them); they are closed, not destroyed.
  auto kill = [](NodeHandle* h) {
    if (!h) return;
    h->close();
    ::syscall(SYS_pidfd_send_signal, h->pidfd(), SIGKILL, nullptr, 0);
  };
  for (auto& n : nodes_) kill(n.get());
  kill(switch_.get());
  if (zygote_ > 0) {
    // A zygote that does not finish within 10 s is killed; the kernel then
    // hands any init left to the system's init, which reaps it.
    int zfd = static_cast<int>(::syscall(SYS_pidfd_open, zygote_, 0));
    if (zfd >= 0) {
      pollfd p{zfd, POLLIN, 0};
      while (::poll(&p, 1, 10000) < 0 && errno == EINTR) {
      }
      if (!(p.revents & POLLIN)) ::kill(zygote_, SIGKILL);
      ::close(zfd);
    }
    while (::waitpid(zygote_, nullptr, 0) < 0 && errno == EINTR) {
    }
    zygote_ = -1;
  }
  running_ = false;
}

}  // namespace v6lab
