// v6lab-init: the zygote of a lab and the first process of each node (PID 1
// of its PID namespace).
//
//   v6lab-init zygote --idmap BASE:COUNT [--nproc N] [--lab NAME]
//                     [--pids N] [--memory BYTES]
//
// BASE:COUNT is the host id range a node's ids map to (node root is host
// BASE); --nproc caps the processes of node root in each node
// (RLIMIT_NPROC); --pids and --memory are per-node cgroup limits where the
// host allows them, in cgroups named after --lab (node_limits.hpp).
//
// fd 3: the lab's lifeline (read end). EOF means the owner is gone: exit,
//       and the kernel kills everything else in the node.
// fd 4: commands, one per line: "node NAME" or "switch NAME"; EOF ends them.
// fd 5: reports, one per line (each written atomically):
//         "pid NAME PID"      the node's init was created (PID as the owner sees it)
//         "ok NAME"           the node is set up and running
//         "error NAME TEXT"   what failed
//         "limits TEXT"       which resource limits are in force (first line)
//         "fatal TEXT"        the zygote could not prepare the nodes' root
//                             filesystem; it exits
//
// Why a zygote: on a small VM an exec costs about 1.5 ms and a fork about
// 0.9 ms, more than the namespaces themselves. So the owner execs this
// program once per lab, and it creates every node init with
// clone(CLONE_VM | new namespaces): no exec, no copy of page tables. The
// inits therefore share the zygote's memory (each on a stack of its own) and
// must not allocate: everything after the clone below uses fixed buffers and
// system calls only.
//
// A node is an unprivileged container: its init is created in a user
// namespace of its own and pivots into a root filesystem built from the
// zygote's read-only template (node_root.hpp says how and why). Its
// hostname is its name. The zygote reaps the inits; once the lifeline is
// closed it exits after the last of them.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/futex.h>
#include <linux/securebits.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "node_limits.hpp"
#include "node_root.hpp"

namespace {

constexpr int kLifeline = 3;
constexpr int kCommands = 4;
constexpr int kReports = 5;
constexpr std::size_t kStack = 64 * 1024;

// What one node init needs; lives at the base of its own stack mapping.
struct NodeArgs {
  char name[64];
  bool full;  // a node (user namespace, root filesystem) rather than the switch
  // Set by the zygote once the node's id maps are written (1) or could not
  // be (-1); the init waits on it as a futex before doing anything else.
  int mapped;
  int map_errno;
  const char* map_what;
};

v6lab_init::IdMap g_map;
rlim_t g_nproc = 0;
v6lab_init::Limits g_limits;
const char* g_lab = "lab";
bool g_create_as_lab = false;

// -- allocation-free helpers (run in the inits) --------------------------

struct Line {
  char buf[512];
  std::size_t len = 0;
  Line& add(const char* s) {
    while (*s && len + 1 < sizeof buf) buf[len++] = *s++;
    buf[len] = 0;
    return *this;
  }
  Line& num(long v) {
    char t[24];
    int i = 0;
    bool neg = v < 0;
    unsigned long u = neg ? -static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
    do t[i++] = static_cast<char>('0' + u % 10); while ((u /= 10) && i < 23);
    if (neg) t[i++] = '-';
    while (i) {
      char c[2] = {t[--i], 0};
      add(c);
    }
    return *this;
  }
  void send() {
    add("\n");
    if (::write(kReports, buf, len) < 0) {
    }
  }
};

// The inits share the zygote's thread-local storage (CLONE_VM without a
// TLS of their own), so errno may be overwritten by another init at any
// time: decisions never depend on it, and it is only read to describe a
// failure (strerrordesc_np neither allocates nor touches TLS).
[[noreturn]] void fail(const NodeArgs* a, const char* what, const char* obj) {
  int err = errno;
  const char* desc = ::strerrordesc_np(err);
  Line l;
  l.add("error ").add(a->name).add(" ").add(what).add(obj).add(": ").add(desc ? desc : "unknown error").send();
  ::_exit(1);
}

// Waits until the zygote has written the node's id maps, then becomes node
// root and pivots into the node's own root filesystem.
void setup_node(NodeArgs* a) {
  if (!v6lab_init::limits_join(a->name)) fail(a, "put the node into its cgroup", "");
  while (__atomic_load_n(&a->mapped, __ATOMIC_ACQUIRE) == 0)
    ::syscall(SYS_futex, &a->mapped, FUTEX_WAIT, 0, nullptr, nullptr, 0);
  if (a->mapped < 0) {
    errno = a->map_errno;
    fail(a, a->map_what, "");
  }
  const char* what = "";
  const char* obj = "";
  if (!v6lab_init::enter_node_root(a->name, &what, &obj)) fail(a, what, obj);
  // Never let a trainee-reachable PID 1 be ptrace-able (see main()).
  if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
    errno = EPERM;
    fail(a, "keep the node's init non-dumpable", "");
  }
  if (g_nproc) {
    // Fork bombs stop at the node's limit; the kernel counts per user
    // namespace, so other nodes and the host are not affected.
    rlimit rl{g_nproc, g_nproc};
    if (::setrlimit(RLIMIT_NPROC, &rl) != 0) fail(a, "limit the node's processes", "");
  }
}

// The node's init, in the child of clone(CLONE_VM): set up, report, watch.
int node_main(void* arg) {
  NodeArgs* a = static_cast<NodeArgs*>(arg);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &dfl, nullptr);  // the zygote ignores it; an init reaps
  ::close(kCommands);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) fail(a, "create signalfd", "");
  if (a->full) setup_node(a);
  if (::sethostname(a->name, std::strlen(a->name)) != 0) fail(a, "set hostname", "");
  Line ok;
  ok.add("ok ").add(a->name).send();
  ::close(kReports);

  pollfd fds[2] = {{kLifeline, POLLIN, 0}, {sfd, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR; errno is not ours to read
    if (fds[0].revents) {
      char c;
      if (::read(kLifeline, &c, 1) == 0) ::_exit(0);  // the owner is gone
    }
    if (fds[1].revents) {
      signalfd_siginfo si;
      // A termination signal counts only from outside the node (sender pid
      // 0 here): `kill 1` by the trainee must not make the node vanish.
      while (::read(sfd, &si, sizeof si) == sizeof si)
        if (si.ssi_signo != SIGCHLD && si.ssi_pid == 0) ::_exit(0);
      // Adopted orphans (daemons that double-forked) are reaped here.
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    }
  }
}

// -- the zygote ------------------------------------------------------------

void spawn(bool full, const char* name) {
  Line l;
  // Its own stack, with its arguments at the base; never unmapped: the init
  // runs on it until it exits (the mapping is reclaimed with the zygote).
  void* mem = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) {
    l.add("error ").add(name).add(" map a stack: ").add(std::strerror(errno)).send();
    return;
  }
  auto* a = static_cast<NodeArgs*>(mem);
  std::strncpy(a->name, name, sizeof a->name - 1);
  a->full = full;
  a->mapped = 0;
  // The switch holds only bridges and runs nothing a trainee controls; a
  // node gets a user namespace of its own.
  int flags = CLONE_VM | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID |
              CLONE_NEWIPC | SIGCHLD | (full ? CLONE_NEWUSER : 0);
  // A node's user namespace is made by the lab's own unprivileged id, not
  // by root: the kernel charges per-user counts inside it (inotify
  // instances, namespaces, ...) to the namespace's creator, and a node must
  // not use up root's. The zygote keeps its capabilities meanwhile
  // (SECBIT_NO_SETUID_FIXUP, set in main) and its saved uid 0 to return.
  bool as_lab = full && g_create_as_lab;
  if (as_lab && ::setresuid(static_cast<uid_t>(g_map.base), static_cast<uid_t>(g_map.base), 0) != 0) {
    l.add("error ").add(name).add(" take the lab's id: ").add(std::strerror(errno)).send();
    ::munmap(mem, kStack);
    return;
  }
  pid_t pid = ::clone(node_main, static_cast<char*>(mem) + kStack, flags, a);
  int clone_errno = errno;
  if (as_lab && ::setresuid(0, 0, 0) != 0) ::_exit(1);  // cannot happen: saved uid 0
  errno = clone_errno;
  if (pid < 0) {
    l.add("error ").add(name).add(" create namespaces: ").add(std::strerror(errno)).send();
    ::munmap(mem, kStack);
    return;
  }
  if (full) {
    const char* what = "";
    v6lab_init::limits_track(name, pid);
    bool ok = v6lab_init::write_id_maps(pid, g_map, &what);
    a->map_errno = errno;
    a->map_what = what;
    __atomic_store_n(&a->mapped, ok ? 1 : -1, __ATOMIC_RELEASE);
    ::syscall(SYS_futex, &a->mapped, FUTEX_WAKE, 1, nullptr, nullptr, 0);
  }
  l.add("pid ").add(name).add(" ").num(pid).send();
}

// "--idmap BASE:COUNT [--nproc N]"; false if malformed.
bool parse_options(int argc, char** argv) {
  for (int i = 2; i + 1 < argc; i += 2) {
    char* end = nullptr;
    if (std::strcmp(argv[i], "--idmap") == 0) {
      g_map.base = std::strtoul(argv[i + 1], &end, 10);
      if (*end != ':') return false;
      g_map.count = std::strtoul(end + 1, &end, 10);
      if (*end || !g_map.count) return false;
    } else if (std::strcmp(argv[i], "--nproc") == 0) {
      g_nproc = std::strtoul(argv[i + 1], &end, 10);
      if (*end) return false;
    } else if (std::strcmp(argv[i], "--pids") == 0) {
      g_limits.pids = std::strtoul(argv[i + 1], &end, 10);
      if (*end) return false;
    } else if (std::strcmp(argv[i], "--memory") == 0) {
      g_limits.memory = std::strtoull(argv[i + 1], &end, 10);
      if (*end) return false;
    } else if (std::strcmp(argv[i], "--lab") == 0) {
      g_lab = argv[i + 1];
    } else {
      return false;
    }
  }
  return g_map.count != 0 && argc % 2 == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "zygote") != 0 || !parse_options(argc, argv)) {
    std::fprintf(stderr,
                 "usage: v6lab-init zygote --idmap BASE:COUNT [--nproc N] (run by v6lab, with fds 3-5)\n");
    return 2;
  }
  ::prctl(PR_SET_NAME, "v6lab-init", 0, 0, 0);
  // The node inits share this memory (CLONE_VM) and are reachable from
  // inside their nodes as PID 1. Non-dumpable, nobody but the host's root
  // (CAP_SYS_PTRACE over the zygote's user namespace) may ptrace them or
  // open /proc/1/mem: without it node root could write the zygote's memory
  // and run code as the zygote. The flag belongs to the memory, so it
  // holds for every init, whatever fs.suid_dumpable says and also rootless,
  // where node root has the zygote's own uid.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    std::fprintf(stderr, "v6lab-init: cannot make the zygote non-dumpable\n");
    return 1;
  }
  ::syscall(SYS_close_range, 6, ~0U, 0);
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    if (devnull > 5) ::close(devnull);
  }
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  char why[512];
  v6lab_init::limits_init(g_lab, g_limits, why, sizeof why);
  {
    Line l;
    l.add("limits ").add(why).send();
  }
  // Root mode: nodes' user namespaces are created by the lab's id (see
  // spawn); rootless the zygote is that user already.
  if (::geteuid() == 0 && v6lab_init::limits_allow_unprivileged_create() &&
      ::prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) == 0) {
    g_create_as_lab = true;
    v6lab_init::limits_delegate(g_map.base);
  }
  if (!v6lab_init::prepare_template(g_map, why, sizeof why)) {
    v6lab_init::limits_cleanup();
    Line l;
    l.add("fatal ").add(why).send();
    return 1;
  }

  // Commands until EOF; stop at once if the owner goes meanwhile.
  static char buf[65536];
  std::size_t have = 0;
  pollfd fds[2] = {{kCommands, POLLIN, 0}, {kLifeline, POLLIN, 0}};
  bool more = true;
  bool lifeline = true;
  while (more) {
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) {  // lifeline closed: the lab is gone; reap and exit
      lifeline = false;
      break;
    }
    ssize_t n = ::read(kCommands, buf + have, sizeof buf - 1 - have);
    if (n < 0) continue;
    if (n == 0) more = false;
    else have += static_cast<std::size_t>(n);
    char* start = buf;
    char* nl;
    while ((nl = static_cast<char*>(std::memchr(start, '\n', have - (start - buf))))) {
      *nl = 0;
      char* sp = std::strchr(start, ' ');
      if (sp) {
        *sp = 0;
        spawn(std::strcmp(start, "node") == 0, sp + 1);
      }
      start = nl + 1;
    }
    have -= static_cast<std::size_t>(start - buf);
    std::memmove(buf, start, have);
  }
  ::close(kCommands);
  ::close(kReports);
  // Stay the parent of the inits: reap them as they exit, and once the
  // lifeline is closed, exit after the last one. The owner waits for this
  // process, so when it is gone every node init is gone too.
  for (;;) {
    pid_t p;
    while ((p = ::waitpid(-1, nullptr, WNOHANG | __WALL)) > 0) v6lab_init::limits_remove(p);
    if (p < 0 && !lifeline) {  // no child left (the zygote's own errno)
      v6lab_init::limits_cleanup();
      return 0;
    }
    pollfd w[2] = {{sfd, POLLIN, 0}, {lifeline ? kLifeline : -1, POLLIN, 0}};
    if (::poll(w, 2, lifeline ? -1 : 100) < 0) continue;
    if (w[0].revents) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof si) == sizeof si) {
      }
    }
    if (lifeline && w[1].revents) {
      char c;
      if (::read(kLifeline, &c, 1) == 0) lifeline = false;
    }
  }
}
