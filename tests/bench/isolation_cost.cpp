// What full node isolation costs the kernel, per node: clone() with a new
// network namespace only (the floor's isolation) against network, UTS,
// mount, PID and IPC namespaces (v6lab's), each child exiting at once, 500
// at a time, alternating, median of 5. No v6lab code: the kernel alone.
//   sudo build/tests/bench/v6lab-bench-isolation
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace {
char stack[65536];
int child(void*) { _exit(0); }
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int main() {
  const int all = CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC;
  const int n = 500;
  std::vector<double> net, full;
  for (int rep = 0; rep < 5; ++rep)
    for (int flags : {CLONE_NEWNET, all}) {
      std::vector<pid_t> pids;
      double t0 = now();
      for (int i = 0; i < n; ++i)
        pids.push_back(clone(child, stack + sizeof stack, flags | CLONE_VM | CLONE_VFORK | SIGCHLD, nullptr));
      for (pid_t p : pids) waitpid(p, nullptr, 0);
      (flags == CLONE_NEWNET ? net : full).push_back((now() - t0) * 1000 / n);
      sleep(1);  // let the kernel finish destroying them
    }
  std::sort(net.begin(), net.end());
  std::sort(full.begin(), full.end());
  std::printf("{\"net_only_ms_per_node\": %.3f, \"full_isolation_ms_per_node\": %.3f}\n", net[2], full[2]);
}
