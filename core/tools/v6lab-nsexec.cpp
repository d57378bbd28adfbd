// v6lab-nsexec: run a command inside a node.
//
//   v6lab-nsexec [--cwd DIR] PID STARTTIME -- COMMAND [ARG...]
//
// PID is the node's init and STARTTIME its start time (from /proc/PID/stat,
// 0 to skip the check), so a reused PID is never entered by mistake. The
// command joins the node's user, network, UTS, IPC, mount and PID namespaces
// and runs as the node's root (an unprivileged id on the host); this
// process stays outside as its parent, relays termination signals and exits
// with the command's status (128+N if it died of signal N), so callers can
// treat it exactly like the command itself.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <grp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

pid_t g_child = -1;

void relay(int sig) {
  if (g_child > 0) ::kill(g_child, sig);
}

unsigned long long starttime(pid_t pid) {
  // Plain reads: an ifstream throws if the process exits meanwhile.
  std::string s;
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return 0;
  std::istringstream rest(s.substr(rp + 2));
  std::string f;
  for (int i = 3; i <= 22; ++i)
    if (!(rest >> f)) return 0;
  return std::strtoull(f.c_str(), nullptr, 10);
}

// At a terminal, the command gets a pseudo-terminal of the node's own
// devpts, relayed from here, never the caller's terminal: a process in the
// node whose controlling terminal were the caller's could push keystrokes
// into it with TIOCSTI and run commands as the caller when the command
// ends. Without a terminal the command runs in a session of its own.
volatile sig_atomic_t g_winch = 1;

void on_winch(int) { g_winch = 1; }

// The master side of a new pty in the node's devpts (we are in its mount
// namespace) and the path of its slave; -1 with why[] on failure.
int open_node_pty(std::string* slave, std::string* why) {
  int m = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  int unlock = 0;
  unsigned n = 0;
  if (m < 0 || ::ioctl(m, TIOCSPTLCK, &unlock) != 0 || ::ioctl(m, TIOCGPTN, &n) != 0) {
    *why = std::string("open a terminal in the node: ") + std::strerror(errno);
    if (m >= 0) ::close(m);
    return -1;
  }
  *slave = "/dev/pts/" + std::to_string(n);
  return m;
}

// In the child: the slave becomes the controlling terminal and fds 0-2.
void attach_slave(const std::string& slave) {
  int s = ::open(slave.c_str(), O_RDWR);
  if (s < 0 || ::ioctl(s, TIOCSCTTY, 0) != 0) ::_exit(125);
  for (int fd = 0; fd < 3; ++fd) ::dup2(s, fd);
  if (s > 2) ::close(s);
}

bool write_all(int fd, const char* p, ssize_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, static_cast<std::size_t>(n));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= w;
  }
  return true;
}

// Copies the caller's terminal to the node's pty and back until the
// command's side closes, with the caller's terminal in raw mode meanwhile
// (so ^C and job control act inside the node).
void relay_pty(int master) {
  termios saved{}, raw{};
  bool restore = ::tcgetattr(0, &saved) == 0;
  if (restore) {
    raw = saved;
    ::cfmakeraw(&raw);
    ::tcsetattr(0, TCSANOW, &raw);
  }
  struct sigaction sw {};
  sw.sa_handler = on_winch;
  ::sigaction(SIGWINCH, &sw, nullptr);
  bool in_open = true;
  char buf[8192];
  for (;;) {
    if (g_winch) {
      g_winch = 0;
      winsize ws{};
      if (::ioctl(0, TIOCGWINSZ, &ws) == 0) ::ioctl(master, TIOCSWINSZ, &ws);
    }
    pollfd fds[2] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR (SIGWINCH, relayed signals)
    if (fds[0].revents) {
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0 && errno != EINTR) break;  // EIO: the command's side closed
      if (n > 0 && !write_all(1, buf, n)) break;
    }
    if (in_open && fds[1].revents) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n <= 0)
        in_open = false;
      else
        write_all(master, buf, n);
    }
  }
  if (restore) ::tcsetattr(0, TCSANOW, &saved);
}

// Whether pid lives in a user namespace other than ours (a node does; the
// hidden switch namespace does not).
bool own_userns(pid_t pid) {
  struct stat a, b;
  std::string path = "/proc/" + std::to_string(pid) + "/ns/user";
  if (::stat("/proc/self/ns/user", &a) != 0 || ::stat(path.c_str(), &b) != 0) return false;
  return a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

// Joins the cgroups v6lab made for the node (named v6lab-*), so that the
// command counts against the node's limits, not ours.
bool join_node_cgroups(pid_t pid, std::string* why) {
  std::string text;
  {
    std::string path = "/proc/" + std::to_string(pid) + "/cgroup";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;  // gone: reported by the start-time check
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
  }
  std::istringstream in(text);
  std::string line, me = std::to_string(::getpid());
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (b == std::string::npos || line.find("/v6lab-", b) == std::string::npos) continue;
    std::string ctl = line.substr(a + 1, b - a - 1);
    std::string dir = "/sys/fs/cgroup" + (ctl.empty() ? "" : "/" + ctl) + line.substr(b + 1);
    int fd = ::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && ::write(fd, me.data(), me.size()) == static_cast<ssize_t>(me.size());
    if (fd >= 0) ::close(fd);
    if (!ok) {
      *why = "join the node's cgroup " + dir + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "v6lab-nsexec: %s\n", msg.c_str());
  std::exit(125);
}

}  // namespace

int main(int argc, char** argv) {
  int i = 1;
  std::string cwd = "/";
  if (i + 1 < argc && std::strcmp(argv[i], "--cwd") == 0) {
    cwd = argv[i + 1];
    i += 2;
  }
  if (argc - i < 4 || std::strcmp(argv[i + 2], "--") != 0)
    die("usage: v6lab-nsexec [--cwd DIR] PID STARTTIME -- COMMAND [ARG...]");
  pid_t pid = static_cast<pid_t>(std::atol(argv[i]));
  unsigned long long want = std::strtoull(argv[i + 1], nullptr, 10);
  char** cmd = argv + i + 3;

  int pfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pfd < 0) die("node process " + std::to_string(pid) + " is gone: the lab has stopped");
  if (want && starttime(pid) != want)
    die("process " + std::to_string(pid) + " is no longer the node's init: the lab has stopped");
  // The node's limits are its init's: a command inherits ours otherwise,
  // and a fork bomb from a shell would not stop at the node's limit.
  rlimit rl;
  if (::prlimit(pid, RLIMIT_NPROC, nullptr, &rl) == 0 && ::setrlimit(RLIMIT_NPROC, &rl) != 0)
    die(std::string("apply the node's process limit: ") + std::strerror(errno));
  std::string why;
  if (!join_node_cgroups(pid, &why)) die(why);
  bool userns = own_userns(pid);
  if (::setns(pfd, CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWPID |
                       (userns ? CLONE_NEWUSER : 0)) != 0)
    die(std::string("enter the node's namespaces: ") + std::strerror(errno));
  ::close(pfd);
  // Inside the node's user namespace our host ids are unmapped; the
  // command runs as node root, never as the host's.
  if (userns && (::setresgid(0, 0, 0) != 0 || (::setgroups(0, nullptr) != 0 && errno != EPERM) ||
                 ::setresuid(0, 0, 0) != 0))
    die(std::string("become the node's root: ") + std::strerror(errno));

  // Nothing in the node may ptrace this relay or read its memory.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  bool terminal = ::isatty(0) && ::isatty(1);
  std::string slave;
  int master = -1;
  if (terminal && (master = open_node_pty(&slave, &why)) < 0) die(why);

  g_child = ::fork();
  if (g_child < 0) die(std::string("fork: ") + std::strerror(errno));
  if (g_child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // The relay is outside the node's PID namespace, so it shows as 0; if
    // it died before prctl, this process was adopted by the node's init.
    if (::getppid() != 0) ::_exit(125);
    // A session of its own: the caller's terminal is never the command's
    // controlling terminal (see open_node_pty).
    if (::setsid() < 0) ::_exit(125);
    if (master >= 0) attach_slave(slave);
    if (::chdir(cwd.c_str()) != 0 && ::chdir("/") != 0) {
    }
    // The command starts as from a login: every signal at its default and
    // none blocked. Ignored dispositions survive exec, and whoever ran us
    // may have ignored some (Python ignores SIGPIPE and SIGXFSZ, a shell's
    // background job SIGINT and SIGQUIT): `yes | head` in a node would
    // print "Broken pipe" errors instead of ending quietly.
    for (int s = 1; s < NSIG; ++s)
      if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(cmd[0], cmd);
    int e = errno;
    std::fprintf(stderr, "v6lab-nsexec: cannot run %s: %s\n", cmd[0],
                 std::strerror(e));
    ::_exit(e == ENOENT ? 127 : 126);
  }
  struct sigaction sa {};
  sa.sa_handler = relay;
  ::sigemptyset(&sa.sa_mask);
  for (int s : {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) ::sigaction(s, &sa, nullptr);
  // At a terminal, ^C and ^\ reach the command through its own pty (the
  // caller's terminal is raw meanwhile); otherwise they are relayed.
  if (master >= 0) {
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGQUIT, SIG_IGN);
    relay_pty(master);
    ::close(master);
  } else {
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGQUIT, &sa, nullptr);
  }
  int st = 0;
  while (::waitpid(g_child, &st, 0) < 0)
    if (errno != EINTR) die(std::string("wait: ") + std::strerror(errno));
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return 128 + WTERMSIG(st);
}
