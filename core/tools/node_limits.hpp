// Per-node resource limits through cgroups, where the host lets us make
// them. A fork bomb or a memory hog in one node must leave other nodes,
// other labs and the host working.
//
// Tried in order, by the zygote (which is root on the host in root mode):
//   cgroup v2 — a cgroup of our own where "pids" and "memory" can be
//               enabled for children (a delegated subtree);
//   cgroup v1 — the pids and memory hierarchies (hybrid hosts such as this
//               project's CI have them);
//   none      — only the RLIMIT_NPROC fallback the inits set themselves,
//               and the sized tmpfs mounts.
// Each node gets v6lab-<lab>-<zygote pid>/<node>; the zygote removes them as the inits
// exit, and the lab's cgroup after the last.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace v6lab_init {

struct Limits {
  unsigned long pids = 0;          // per node; 0: none
  unsigned long long memory = 0;   // bytes per node; 0: none
};

// Finds where limits can be set and makes the lab's cgroup(s). Never
// fails: writes what is in force ("cgroup v1 (pids, memory)", "none: ...")
// into how[] for the owner to report.
void limits_init(const char* lab, const Limits& l, char* how, std::size_t how_len);

// Run by a new node init, first thing, while it still has the host's root
// ids (so it may write the host's cgroup files): makes its cgroup, sets the
// limits and moves itself in. The inits do this in parallel, off the
// zygote's path. Allocation-free. False, with errno, if that failed.
bool limits_join(const char* node);

// Run by the zygote after creating a node init: remembers which cgroup to
// remove when it is reaped. Allocation-free.
void limits_track(const char* node, pid_t pid);

// Whether node inits may be created with the lab's unprivileged id (true
// for cgroup v1 and none; cgroup v2's migration rule needs write access to
// a common ancestor the lab does not own), and hands the lab's cgroups to
// that id.
bool limits_allow_unprivileged_create();
void limits_delegate(unsigned long uid);

// Removes a node's cgroup once its init has been reaped; allocation-free.
void limits_remove(pid_t pid);

// Removes the lab's cgroups (after the last init).
void limits_cleanup();

}  // namespace v6lab_init
