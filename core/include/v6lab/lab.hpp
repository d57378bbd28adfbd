// A running lab: one small init process per node (and one for the hidden
// switch namespace that holds the LAN bridges), each the only holder of its
// node's network, UTS, mount, IPC and PID namespaces. The inits watch a
// "lifeline" pipe whose write end only the owning process holds: when the
// owner exits for any reason, even SIGKILL, every init sees EOF and exits,
// and the kernel tears down the namespaces with everything in them. No
// /run/netns bind mount keeps anything alive.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "v6lab/fd.hpp"
#include "v6lab/netlink.hpp"
#include "v6lab/spec.hpp"
#include "v6lab/zygote_proto.hpp"

namespace v6lab {

namespace detail {
struct InitRequest;
class SpawnSession;
}  // namespace detail

// A handle on one node's namespaces, usable from the owning process or from
// any other process (attach by PID and start time). State reads go through
// a netlink socket opened inside the node's network namespace on a helper
// thread; the node's own programs are never run to read state.
class NodeHandle {
 public:
  // Attaches to a running node init. Throws if the process is gone or its
  // start time differs (the PID was reused).
  static std::unique_ptr<NodeHandle> attach(const std::string& name, pid_t pid,
                                            unsigned long long starttime);
  NodeHandle(std::string name, pid_t pid, UniqueFd pidfd, UniqueFd netns);

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }
  unsigned long long starttime() const { return starttime_; }
  int netns_fd() const { return netns_.get(); }
  int pidfd() const { return pidfd_.get(); }

  std::vector<LinkInfo> links();
  std::vector<AddressInfo> addresses(int family = 0);
  std::vector<RouteInfo> routes(int family = 0, bool all_tables = false);
  std::vector<NeighbourInfo> neighbours(int family = 0);
  std::string sysctl(const std::string& key);
  void set_sysctl(const std::string& key, const std::string& value);

  // The node's socket; the caller must hold lock().
  NlSocket& nl();
  std::mutex& lock() { return mu_; }
  void close_socket();
  // Ends the handle when its lab stops: socket and namespace fd closed;
  // every later use throws "the lab has stopped" (a Python object may
  // outlive the lab's run).
  void close();
  // A duplicate of the namespace fd for a probe, owned by the caller, so
  // that a concurrent close() cannot hand the number to another namespace.
  UniqueFd netns_dup();
  // Takes a socket opened by the caller on a thread inside this node's
  // namespace (bring-up opens all sockets from one thread).
  void adopt_socket(std::unique_ptr<NlSocket> s);

 private:
  std::string name_;
  pid_t pid_;
  unsigned long long starttime_ = 0;
  UniqueFd pidfd_, netns_;
  std::unique_ptr<NlSocket> nl_;
  std::mutex mu_;
};

// Host ids a lab's nodes run as: node uid/gid N is host id base + N. Root
// uses the range /etc/subuid and /etc/subgid give "root" (both must agree),
// or 100000:65536 (the range LXC and podman give root by default).
struct IdRange {
  unsigned long base = 0, count = 0;
  unsigned long slots = 1;  // ranges of `count` ids from base, one per lab
};
IdRange default_id_range();

struct LabOptions {
  std::string init_path;   // the v6lab-init helper binary
  IdRange ids = default_id_range();
  // How many per-lab ranges of ids.count ids lie above ids.base (root mode
  // gives each lab its own; see claim_id_slot in lab.cpp).
  std::size_t id_slots = default_id_range().slots;
  // At most this many processes of node root per node (0: no limit).
  unsigned long nproc = 1024;
  // Per-node cgroup limits, where the host lets us create cgroups (0: none).
  unsigned long pids = 1024;
  unsigned long long memory = 512ull << 20;
};

class Lab {
 public:
  // Builds the whole lab or nothing: on any failure everything made so far
  // is destroyed and the error says what was being done to what.
  Lab(Spec spec, LabOptions opts);
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  // Destroys the lab: inits exit, the kernel frees the namespaces. Idempotent.
  void stop();
  bool running() const { return running_; }

  const Spec& spec() const { return spec_; }
  // Which resource limits are in force, in one sentence (from the zygote).
  const std::string& limits() const { return limits_; }
  // The host id node root has (this lab's own range).
  unsigned long id_base() const { return opts_.ids.base; }
  NodeHandle& node(const std::string& name);
  std::vector<std::string> node_names() const;
  // The hidden namespace with the LAN bridges (nullptr if no LANs).
  NodeHandle* switch_ns() { return switch_.get(); }
  // Name of the bridge of a LAN inside the switch namespace.
  std::string lan_bridge(const std::string& lan) const;

  // How long bring-up took, by phase, in seconds (for benchmarks).
  struct Timing {
    double spawn = 0, sockets = 0, links = 0, addresses = 0, total = 0;
  };
  const Timing& timing() const { return timing_; }

 private:
  void build();
  std::vector<std::vector<int>> build_bridges();
  void build_links(const std::vector<std::vector<int>>& lan_bridges);
  void configure_nodes();
  void spawn_inits();
  zygote::Options zygote_options() const;
  std::vector<detail::InitRequest> init_requests() const;
  std::pair<NodeHandle*, const NodeSpec*> adopt_init(std::size_t i, pid_t pid);
  void adopt_leftovers(const detail::SpawnSession& session);
  void prepare(NodeHandle* h, const NodeSpec* node);

  Spec spec_;
  LabOptions opts_;
  bool running_ = false;
  UniqueFd lifeline_w_;
  UniqueFd id_slot_;  // held for the lab's life: its range of ids
  std::vector<std::unique_ptr<NodeHandle>> nodes_;
  std::unique_ptr<NodeHandle> switch_;
  pid_t zygote_ = -1;  // our child; the node inits are its children
  std::string limits_;
  Timing timing_;
};

// Programs the spec's images need that are missing, as one message per
// program naming the nodes and the Debian package ("" if none missing).
std::string missing_binaries(const Spec& spec);

}  // namespace v6lab
