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
// fd 3 is the lab's lifeline (read end): EOF means the owner is gone, so
// exit, and the kernel kills everything else in the node. fd 4 carries
// commands ("node NAME", "switch NAME"; EOF ends them), fd 5 the reports
// ("limits", "pid", "ok", "error", "fatal"). The messages are defined, and
// formatted and parsed, in v6lab/zygote_proto.hpp (the owner uses the same
// code); this file only decides when to send what.
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
#include <string_view>

#include "node_limits.hpp"
#include "node_root.hpp"
#include "v6lab/zygote_proto.hpp"

namespace {

namespace zygote = v6lab::zygote;

constexpr int kLifeline = 3;
constexpr int kCommands = 4;
constexpr int kReports = 5;
constexpr std::size_t kStack = 64 * 1024;

// What one node init needs; lives at the base of its own stack mapping.
struct NodeArgs {
  char name[64];  // NUL-terminated: a valid zygote::valid_name
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

static_assert(sizeof(NodeArgs::name) > zygote::kMaxName, "a node init keeps its whole name");

// -- allocation-free helpers (run in the inits) --------------------------

// A report's TEXT, built in a fixed buffer; what does not fit is cut.
struct Text {
  char buf[zygote::kMaxLine];
  std::size_t len = 0;
  Text& add(const char* s) {
    while (*s && len < sizeof buf) buf[len++] = *s++;
    return *this;
  }
  std::string_view view() const { return {buf, len}; }
};

// One report, in one write(): atomic on the pipe, so the lines of inits
// that report at the same moment never interleave.
void report(zygote::ReportKind kind, std::string_view name, std::string_view text, pid_t pid = 0) {
  zygote::Report r;
  r.kind = kind;
  r.name = name;
  r.text = text;
  r.pid = pid;
  char line[zygote::kMaxLine];
  std::size_t n = zygote::format_report(r, line, sizeof line);
  if (n && ::write(kReports, line, n) < 0) {
  }
}

// The inits share the zygote's thread-local storage (CLONE_VM without a
// TLS of their own), so errno may be overwritten by another init at any
// time: decisions never depend on it, and it is only read to describe a
// failure (strerrordesc_np neither allocates nor touches TLS).
[[noreturn]] void fail(const NodeArgs* a, const char* what, const char* obj) {
  int err = errno;
  const char* desc = ::strerrordesc_np(err);
  Text t;
  t.add(what).add(obj).add(": ").add(desc ? desc : "unknown error");
  report(zygote::ReportKind::error, a->name, t.view());
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
  report(zygote::ReportKind::ok, a->name, {});
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

// The zygote's report that it could not create an init.
void spawn_failed(std::string_view name, const char* what) {
  Text t;
  t.add(what).add(": ").add(std::strerror(errno));
  report(zygote::ReportKind::error, name, t.view());
}

// Creates the init a command asks for (parse_command has checked its name).
void spawn(const zygote::Command& c) {
  bool full = c.kind == zygote::CommandKind::node;
  // Its own stack, with its arguments at the base; never unmapped: the init
  // runs on it until it exits (the mapping is reclaimed with the zygote).
  void* mem = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) return spawn_failed(c.name, "map a stack");
  auto* a = static_cast<NodeArgs*>(mem);
  std::memcpy(a->name, c.name.data(), c.name.size());
  a->name[c.name.size()] = 0;
  const char* name = a->name;
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
    spawn_failed(c.name, "take the lab's id");
    ::munmap(mem, kStack);
    return;
  }
  pid_t pid = ::clone(node_main, static_cast<char*>(mem) + kStack, flags, a);
  int clone_errno = errno;
  if (as_lab && ::setresuid(0, 0, 0) != 0) ::_exit(1);  // cannot happen: saved uid 0
  errno = clone_errno;
  if (pid < 0) {
    spawn_failed(c.name, "create namespaces");
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
  report(zygote::ReportKind::pid, c.name, {}, pid);
}

// The zygote cannot go on: says why (the owner then stops the lab).
void fatal(const char* why, const char* detail) {
  Text t;
  t.add(why).add(detail);
  report(zygote::ReportKind::fatal, {}, t.view());
}

void refuse_command(const zygote::ParseError& e) {
  char what[200];
  zygote::describe(e, what, sizeof what);
  fatal("the lab sent a malformed command to the node init helper: ", what);
}

// Creates an init per command until the commands end (true) or the
// lifeline closes meanwhile (false: the owner is gone, stop at once). A
// malformed command ends the commands too, reported as fatal.
bool take_commands() {
  static zygote::LineReader in;  // static: 4 KiB off the zygote's stack
  pollfd fds[2] = {{kCommands, POLLIN, 0}, {kLifeline, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return false;
    zygote::LineReader::Space room = in.space();
    ssize_t n = ::read(kCommands, room.data, room.size);
    if (n < 0) continue;
    if (n == 0) {
      if (in.pending()) refuse_command({"the last command has no newline", {}});
      return true;
    }
    in.filled(static_cast<std::size_t>(n));
    std::string_view line;
    zygote::LineReader::Status st;
    while ((st = in.next(&line)) == zygote::LineReader::Status::line) {
      zygote::Command c;
      zygote::ParseError e;
      if (!zygote::parse_command(line, &c, &e)) {
        refuse_command(e);
        return true;
      }
      spawn(c);
    }
    if (st == zygote::LineReader::Status::overlong) {
      refuse_command({"command longer than 511 bytes", {}});
      return true;
    }
  }
}

// Stays the parent of the inits: reaps them as they exit, and once the
// lifeline is closed, exits after the last one. The owner waits for this
// process, so when it is gone every node init is gone too.
int reap_inits(int sfd, bool lifeline) {
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

}  // namespace

int main(int argc, char** argv) {
  zygote::Options opts;
  zygote::ParseError bad;
  if (!zygote::parse_zygote_args(argc, argv, &opts, &bad)) {
    char what[200];
    zygote::describe(bad, what, sizeof what);
    std::fprintf(stderr,
                 "v6lab-init: %s\nusage: v6lab-init zygote --idmap BASE:COUNT [--nproc N] [--lab NAME] "
                 "[--pids N] [--memory BYTES] (run by v6lab, with fds 3-5)\n",
                 what);
    return 2;
  }
  g_map.base = opts.id_base;
  g_map.count = opts.id_count;
  g_nproc = opts.nproc;
  g_limits.pids = opts.pids;
  g_limits.memory = opts.memory;
  g_lab = opts.lab.data();  // a whole argv element (or the default): NUL-terminated
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
  report(zygote::ReportKind::limits, {}, why);
  // Root mode: nodes' user namespaces are created by the lab's id (see
  // spawn); rootless the zygote is that user already.
  if (::geteuid() == 0 && v6lab_init::limits_allow_unprivileged_create() &&
      ::prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0) == 0) {
    g_create_as_lab = true;
    v6lab_init::limits_delegate(g_map.base);
  }
  if (!v6lab_init::prepare_template(g_map, why, sizeof why)) {
    v6lab_init::limits_cleanup();
    fatal("prepare the nodes' root filesystem: ", why);
    return 1;
  }

  // Commands until EOF; stop at once if the owner goes meanwhile.
  bool lifeline = take_commands();
  ::close(kCommands);
  ::close(kReports);
  return reap_inits(sfd, lifeline);
}
