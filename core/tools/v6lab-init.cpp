// v6lab-init: the first process of a node (PID 1 of its PID namespace).
//
//   v6lab-init node NAME     set up a node that feels like its own machine
//   v6lab-init switch NAME   hold the hidden namespace of the LAN bridges
//
// fd 3: the lab's lifeline (read end). EOF means the owner is gone: exit,
//       and the kernel kills everything else in the node.
// fd 4: readiness. "ok", or the failure, then closed.
//
// A node gets a private view of the filesystem where daemons write: its own
// /run, /tmp and /var/tmp (tmpfs) and copy-on-write /etc, /var/lib and
// /var/log (overlayfs over the host's), plus /proc and /sys of its own PID
// and network namespaces. Its hostname is its name.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr int kLifeline = 3;
constexpr int kReady = 4;

[[noreturn]] void fail(const std::string& what) {
  std::string msg = what + ": " + std::strerror(errno);
  if (::write(kReady, msg.data(), msg.size()) < 0) {
  }
  ::_exit(1);
}

void mkdir_p(const std::string& path, mode_t mode) {
  for (std::size_t i = 1; i <= path.size(); ++i)
    if (i == path.size() || path[i] == '/') {
      std::string sub = path.substr(0, i);
      if (::mkdir(sub.c_str(), mode) != 0 && errno != EEXIST)
        fail("create " + sub);
    }
}

void mount_tmpfs(const char* where, const char* mode) {
  std::string opts = std::string("mode=") + mode;
  if (::mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0)
    fail(std::string("mount tmpfs on ") + where);
}

// A writable copy-on-write view of a host directory: reads see the host's
// files, writes land in the node's /run.
void mount_overlay(const std::string& dir, const std::string& tag) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  std::string base = "/run/.v6lab/" + tag;
  mkdir_p(base + "/upper", 0755);
  mkdir_p(base + "/work", 0755);
  std::string opts = "lowerdir=" + dir + ",upperdir=" + base +
                     "/upper,workdir=" + base + "/work";
  if (::mount("overlay", dir.c_str(), "overlay", 0, opts.c_str()) != 0)
    fail("mount overlay on " + dir);
}

void write_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("write " + path);
  if (::write(fd, text.data(), text.size()) < 0) fail("write " + path);
  ::close(fd);
}

void setup_node(const std::string& name) {
  // Nothing mounted here may propagate back to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    fail("make mounts private");
  mount_tmpfs("/run", "0755");
  mkdir_p("/run/lock", 01777);
  mount_tmpfs("/tmp", "1777");
  struct stat st;
  if (::lstat("/var/run", &st) == 0 && S_ISDIR(st.st_mode))
    mount_tmpfs("/var/run", "0755");
  if (::stat("/var/tmp", &st) == 0 && S_ISDIR(st.st_mode))
    mount_tmpfs("/var/tmp", "1777");
  mount_overlay("/etc", "etc");
  mount_overlay("/var/lib", "varlib");
  mount_overlay("/var/log", "varlog");
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0)
    fail("mount /proc");
  if (::mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0)
    fail("mount /sys");
  write_file("/etc/hostname", name + "\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: v6lab-init node|switch NAME (run by v6lab)\n");
    return 2;
  }
  std::string mode = argv[1], name = argv[2];
  ::prctl(PR_SET_NAME, "v6lab-init", 0, 0, 0);
  // Only fds 0-4 are ours.
  ::syscall(SYS_close_range, 5, ~0U, 0);
  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    if (devnull > 4) ::close(devnull);
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) fail("create signalfd");

  if (::sethostname(name.data(), name.size()) != 0) fail("set hostname");
  if (mode == "node") setup_node(name);

  if (::write(kReady, "ok", 2) != 2) ::_exit(1);
  ::close(kReady);

  pollfd fds[2] = {{kLifeline, POLLIN, 0}, {sfd, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ::_exit(1);
    }
    if (fds[0].revents) {
      char c;
      ssize_t n = ::read(kLifeline, &c, 1);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) ::_exit(0);
    }
    if (fds[1].revents) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof si) == sizeof si)
        if (si.ssi_signo != SIGCHLD) ::_exit(0);
      // Adopted orphans (daemons that double-forked) are reaped here.
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    }
  }
}
