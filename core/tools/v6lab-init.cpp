// v6lab-init: the zygote of a lab and the first process of each node (PID 1
// of its PID namespace).
//
//   v6lab-init zygote
//
// fd 3: the lab's lifeline (read end). EOF means the owner is gone: exit,
//       and the kernel kills everything else in the node.
// fd 4: commands, one per line: "node NAME" or "switch NAME"; EOF ends them.
// fd 5: reports, one per line (each written atomically):
//         "pid NAME PID"      the node's init was created (PID as the owner sees it)
//         "ok NAME"           the node is set up and running
//         "error NAME TEXT"   what failed
//
// Why a zygote: on a small VM an exec costs about 1.5 ms and a fork about
// 0.9 ms, more than the namespaces themselves. So the owner execs this
// program once per lab, and it creates every node init with
// clone(CLONE_VM | new namespaces): no exec, no copy of page tables. The
// inits therefore share the zygote's memory (each on a stack of its own) and
// must not allocate: everything after the clone below uses fixed buffers and
// system calls only.
//
// A node gets a private view of the filesystem where daemons write: its own
// /run and /tmp (tmpfs) and copy-on-write /etc, /var and /root (overlayfs
// over the host's), plus /proc and /sys of its own PID
// and network namespaces. Its hostname is its name. The zygote reaps the
// inits; once the lifeline is closed it exits after the last of them.
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

#include <cstdio>
#include <cstring>

namespace {

constexpr int kLifeline = 3;
constexpr int kCommands = 4;
constexpr int kReports = 5;
constexpr std::size_t kStack = 64 * 1024;

// What one node init needs; lives at the base of its own stack mapping.
struct NodeArgs {
  char name[64];
  bool full;  // a node (mounts) rather than the switch
};

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

bool is_dir(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void mkdir_p(const NodeArgs* a, const char* path, mode_t mode) {
  char sub[256];
  std::size_t n = std::strlen(path);
  if (n >= sizeof sub) return;
  for (std::size_t i = 1; i <= n; ++i)
    if (i == n || path[i] == '/') {
      std::memcpy(sub, path, i);
      sub[i] = 0;
      if (::mkdir(sub, mode) != 0 && !is_dir(sub)) fail(a, "create ", sub);
      if (i == n) ::chmod(sub, mode);  // not masked by the umask
    }
}

void mount_tmpfs(const NodeArgs* a, const char* where, const char* opts) {
  if (::mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
    fail(a, "mount tmpfs on ", where);
}

// A writable copy-on-write view of a host directory: reads see the host's
// files, writes land in the node's /run.
void mount_overlay(const NodeArgs* a, const char* dir, const char* tag) {
  struct stat st;
  if (::stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return;
  Line upper, work, opts;
  upper.add("/run/.v6lab/").add(tag).add("/upper");
  work.add("/run/.v6lab/").add(tag).add("/work");
  mkdir_p(a, upper.buf, 0755);
  mkdir_p(a, work.buf, 0755);
  opts.add("lowerdir=").add(dir).add(",upperdir=").add(upper.buf).add(",workdir=").add(work.buf);
  if (::mount("overlay", dir, "overlay", 0, opts.buf) != 0) fail(a, "mount overlay on ", dir);
}

void setup_node(const NodeArgs* a) {
  // Nothing mounted here may propagate back to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    fail(a, "make mounts private", "");
  // Sized, so that one node cannot fill the host's memory. /run also holds
  // the copy-on-write layers of /etc, /var and /root.
  mount_tmpfs(a, "/run", "mode=0755,size=256m");
  mkdir_p(a, "/run/lock", 01777);
  mount_tmpfs(a, "/tmp", "mode=1777,size=256m");
  // One overlay for all of /var (lib, log, cache, spool, tmp) instead of
  // one per directory: fewer mounts per node.
  mount_overlay(a, "/etc", "etc");
  mount_overlay(a, "/var", "var");
  mount_overlay(a, "/root", "root");  // shells start here; answers live here
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    fail(a, "mount ", "/proc");
  if (::mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    fail(a, "mount ", "/sys");
  int fd = ::open("/etc/hostname", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(a, "write ", "/etc/hostname");
  Line l;
  l.add(a->name).add("\n");
  if (::write(fd, l.buf, l.len) < 0) fail(a, "write ", "/etc/hostname");
  ::close(fd);
}

// The node's init, in the child of clone(CLONE_VM): set up, report, watch.
int node_main(void* arg) {
  const NodeArgs* a = static_cast<const NodeArgs*>(arg);
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
  if (::sethostname(a->name, std::strlen(a->name)) != 0) fail(a, "set hostname", "");
  if (a->full) setup_node(a);
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
  int flags = CLONE_VM | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID |
              CLONE_NEWIPC | SIGCHLD;
  pid_t pid = ::clone(node_main, static_cast<char*>(mem) + kStack, flags, a);
  if (pid < 0) {
    l.add("error ").add(name).add(" create namespaces: ").add(std::strerror(errno)).send();
    ::munmap(mem, kStack);
    return;
  }
  l.add("pid ").add(name).add(" ").num(pid).send();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "zygote") != 0) {
    std::fprintf(stderr, "usage: v6lab-init zygote (run by v6lab, with fds 3-5)\n");
    return 2;
  }
  ::prctl(PR_SET_NAME, "v6lab-init", 0, 0, 0);
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
    while ((p = ::waitpid(-1, nullptr, WNOHANG | __WALL)) > 0) {
    }
    if (p < 0 && !lifeline) return 0;  // no child left (the zygote's own errno)
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
