// See nodefs.hpp for the rules. Every fd is a UniqueFd; every read of a
// path the node controls goes through openat2 from the init's root.
#include "v6lab/nodefs.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "v6lab/fd.hpp"

namespace v6lab {

const char* node_file_error_kind_name(NodeFileErrorKind k) {
  switch (k) {
    case NodeFileErrorKind::not_found: return "not_found";
    case NodeFileErrorKind::not_regular: return "not_regular";
    case NodeFileErrorKind::too_large: return "too_large";
    case NodeFileErrorKind::refused: return "refused";
    case NodeFileErrorKind::timed_out: return "timed_out";
    case NodeFileErrorKind::process_gone: return "process_gone";
    case NodeFileErrorKind::io: return "io";
  }
  return "io";
}

namespace {

using Kind = NodeFileErrorKind;

[[noreturn]] void fail(const std::string& what, Kind kind, int err, const std::string& why = "") {
  throw NodeFileError(what + ": " + (why.empty() ? std::strerror(err) : why), kind, err);
}

// Runs fn on a helper thread and waits at most `timeout` seconds. A thread
// still blocked then (a FUSE daemon in the node that never answers) is left
// to finish on its own: it owns copies of everything it uses, and the node's
// end aborts whatever it waits for. Exceptions are carried back.
template <class T>
T with_deadline(double timeout, const std::string& what, std::function<T()> fn) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    T value{};
    std::exception_ptr err;
  };
  auto st = std::make_shared<State>();
  std::thread t([st, fn = std::move(fn)] {
    T v{};
    std::exception_ptr e;
    try {
      v = fn();
    } catch (...) {
      e = std::current_exception();
    }
    std::lock_guard<std::mutex> g(st->mu);
    st->value = std::move(v);
    st->err = e;
    st->done = true;
    st->cv.notify_all();
  });
  std::unique_lock<std::mutex> lk(st->mu);
  auto limit = std::chrono::duration<double>(timeout > 0 ? timeout : 0.001);
  if (!st->cv.wait_for(lk, limit, [&] { return st->done; })) {
    lk.unlock();
    t.detach();
    std::ostringstream os;
    os << "no result within " << timeout << " s (something in the node blocks it)";
    fail(what, Kind::timed_out, ETIMEDOUT, os.str());
  }
  lk.unlock();
  t.join();
  if (st->err) std::rethrow_exception(st->err);
  return std::move(st->value);
}

// Reads an open fd to its end, refusing more than max_bytes.
std::string read_capped(int fd, std::size_t max_bytes, const std::string& what) {
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(what, errno == ESRCH ? Kind::process_gone : Kind::io, errno);
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes)
      fail(what, Kind::too_large, EFBIG, "larger than " + std::to_string(max_bytes) + " bytes");
  }
}

// A file under a pinned /proc/PID (the host's procfs, which the node
// cannot change), opened without following any symlink.
std::string read_proc_at(int procdir, const char* rel, std::size_t max_bytes,
                         const std::string& what) {
  open_how how{};
  how.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, procdir, rel, &how, sizeof how)));
  if (!fd) fail(what, errno == ESRCH || errno == ENOENT ? Kind::process_gone : Kind::io, errno);
  return read_capped(fd.get(), max_bytes, what);
}

struct StatFields {
  char state = '?';
  pid_t ppid = 0;
  unsigned long long starttime = 0;
  std::string comm;
};

// Fields of /proc/PID/stat; the command (which the process chooses) is
// between the first '(' and the last ')'.
bool parse_stat(const std::string& s, StatFields& out) {
  auto lp = s.find('('), rp = s.rfind(')');
  if (lp == std::string::npos || rp == std::string::npos || rp < lp || rp + 2 > s.size())
    return false;
  out.comm = s.substr(lp + 1, rp - lp - 1);
  std::istringstream rest(s.substr(rp + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return false;
    if (i == 3) out.state = field.empty() ? '?' : field[0];
    if (i == 4) out.ppid = static_cast<pid_t>(std::strtol(field.c_str(), nullptr, 10));
  }
  out.starttime = std::strtoull(field.c_str(), nullptr, 10);
  return true;
}

// The node's init, pinned: a pidfd taken first, a /proc/PID directory fd
// whose start time is the recorded one, and the pidfd still alive after
// that, so the directory is that very process (it never follows a reused
// PID: reads through it fail once the process is gone).
struct Pinned {
  UniqueFd pidfd;
  UniqueFd dir;
  StatFields stat;
};

Pinned pin(pid_t pid, unsigned long long starttime, const std::string& what) {
  Pinned p;
  if (pid <= 0) fail(what, Kind::process_gone, ESRCH, "no such process (pid " + std::to_string(pid) + ")");
  p.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!p.pidfd) fail(what, Kind::process_gone, errno, "the node's init (pid " + std::to_string(pid) + ") is gone");
  std::string dir = "/proc/" + std::to_string(pid);
  p.dir.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!p.dir) fail(what, Kind::process_gone, errno, "open " + dir + ": " + std::strerror(errno));
  std::string s = read_proc_at(p.dir.get(), "stat", 4096, what);
  if (!parse_stat(s, p.stat) || p.stat.state == 'Z' || p.stat.state == 'X' ||
      p.stat.starttime != starttime)
    fail(what, Kind::process_gone, ESRCH,
         "pid " + std::to_string(pid) + " is no longer the recorded process (it exited or the PID was reused)");
  if (::syscall(SYS_pidfd_send_signal, p.pidfd.get(), 0, nullptr, 0) != 0)
    fail(what, Kind::process_gone, errno, "the node's init (pid " + std::to_string(pid) + ") is gone");
  return p;
}

const char* file_type(mode_t m) {
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISLNK(m)) return "a symbolic link";
  return "not a plain file";
}

// Filesystems whose files are made up by a kernel subsystem or a user-space
// daemon: reading them as host root could leak host state (proc, sysfs,
// debugfs...) or block (FUSE). An answer file never lives there.
const char* pseudo_fs(long type) {
  switch (static_cast<unsigned long>(type)) {
    case PROC_SUPER_MAGIC: return "proc";
    case SYSFS_MAGIC: return "sysfs";
    case DEBUGFS_MAGIC: return "debugfs";
    case TRACEFS_MAGIC: return "tracefs";
    case SECURITYFS_MAGIC: return "securityfs";
    case CGROUP_SUPER_MAGIC: return "cgroup";
    case CGROUP2_SUPER_MAGIC: return "cgroup2";
    case BPF_FS_MAGIC: return "bpf";
    case DEVPTS_SUPER_MAGIC: return "devpts";
    case EFIVARFS_MAGIC: return "efivarfs";
    case PSTOREFS_MAGIC: return "pstore";
    case SELINUX_MAGIC: return "selinuxfs";
    case BINFMTFS_MAGIC: return "binfmt_misc";
    case 0x65735546UL: return "fuse";
    case 0x65735543UL: return "fusectl";
    case 0x62656570UL: return "configfs";
    default: return nullptr;
  }
}

// openat2 from the node's root: symlinks are followed but stay inside it
// (RESOLVE_IN_ROOT), magic links are refused. O_PATH: nothing is opened
// for reading yet, so a device's open() or a FIFO's wait never happens.
UniqueFd open_in_root(int rootfd, const std::string& path, bool follow, const std::string& what) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_NO_SYMLINKS);
  for (int attempt = 0;; ++attempt) {
    int fd = static_cast<int>(::syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof how));
    if (fd >= 0) return UniqueFd(fd);
    int e = errno;
    if ((e == EAGAIN || e == EINTR) && attempt < 8) continue;  // a rename raced the lookup
    if (e == ENOENT || e == ENOTDIR) fail(what, Kind::not_found, e, "no such file");
    if (e == ELOOP && !follow)
      fail(what, Kind::refused, e, "a symbolic link is on the path, and links are not followed here");
    if (e == ELOOP) fail(what, Kind::refused, e, "too many symbolic links, or a link into /proc");
    if (e == EXDEV) fail(what, Kind::refused, e, "the path leaves the node's filesystem");
    if (e == ENOSYS) fail(what, Kind::io, e, "openat2 is not available (Linux 5.6 or later is needed)");
    fail(what, Kind::io, e);
  }
}

std::string read_in_root(int rootfd, const std::string& path, std::size_t max_bytes,
                         bool follow, const std::string& what) {
  UniqueFd opath = open_in_root(rootfd, path, follow, what);
  struct stat st{};
  if (::fstat(opath.get(), &st) != 0) fail(what, Kind::io, errno);
  if (!S_ISREG(st.st_mode))
    fail(what, Kind::not_regular, EINVAL, std::string("not a regular file (") + file_type(st.st_mode) + ")");
  struct statfs sfs{};
  if (::fstatfs(opath.get(), &sfs) != 0) fail(what, Kind::io, errno);
  if (const char* fs = pseudo_fs(sfs.f_type))
    fail(what, Kind::refused, EPERM, std::string("the file is on ") + fs + ", which is not read from outside");
  if (static_cast<unsigned long long>(st.st_size) > max_bytes)
    fail(what, Kind::too_large, EFBIG, "larger than " + std::to_string(max_bytes) + " bytes");
  // Reopen the very inode for reading, through our own fd table.
  std::string self = "/proc/self/fd/" + std::to_string(opath.get());
  UniqueFd fd(::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) fail(what, Kind::io, errno);
  struct stat st2{};
  if (::fstat(fd.get(), &st2) != 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
    fail(what, Kind::io, EIO, "the file changed while it was opened");
  return read_capped(fd.get(), max_bytes, what);
}

}  // namespace

std::string read_node_file(const NodeRef& node, const std::string& path,
                           std::size_t max_bytes, double timeout, bool follow_symlinks) {
  std::string what = "read " + path + " on " + node.name;
  if (path.empty()) fail(what, Kind::not_found, ENOENT, "empty path");
  if (path.find('\0') != std::string::npos) fail(what, Kind::refused, EINVAL, "the path contains a NUL byte");
  NodeRef n = node;
  std::string p = path;
  bool follow = follow_symlinks;
  return with_deadline<std::string>(timeout, what, [n, p, max_bytes, follow, what]() {
    Pinned pinned = pin(n.pid, n.starttime, what);
    UniqueFd root(::openat(pinned.dir.get(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) fail(what, errno == ENOENT || errno == ESRCH ? Kind::process_gone : Kind::io, errno,
                    std::string("open the node's root: ") + std::strerror(errno));
    return read_in_root(root.get(), p, max_bytes, follow, what);
  });
}

namespace {

// NSpid's last field (the pid inside the innermost namespace) and the real
// uid, from /proc/X/status.
void parse_status(const std::string& s, NodeProcess& p) {
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("NSpid:", 0) == 0) {
      std::istringstream f(line.substr(6));
      long v = 0;
      while (f >> v) p.node_pid = static_cast<pid_t>(v);
    } else if (line.rfind("Uid:", 0) == 0) {
      p.uid = static_cast<unsigned>(std::strtoul(line.c_str() + 4, nullptr, 10));
    }
  }
}

// The uid inside the process's user namespace: uid_map lines are "inside
// outside count"; an unmapped uid shows as the overflow uid.
unsigned map_uid(const std::string& uid_map, unsigned outside) {
  std::istringstream in(uid_map);
  unsigned long long first = 0, lower = 0, count = 0;
  while (in >> first >> lower >> count)
    if (outside >= lower && outside - lower < count) return static_cast<unsigned>(first + (outside - lower));
  return 65534;
}

bool same_ns(int dirfd, const char* ns, const struct stat& want) {
  struct stat st{};
  return ::fstatat(dirfd, ns, &st, 0) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino;
}

// One /proc entry: false if it is not (or no longer) in the namespace.
bool read_process(int procfd, const char* name, const struct stat& pidns, NodeProcess& p) {
  UniqueFd d(::openat(procfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!d || !same_ns(d.get(), "ns/pid", pidns)) return false;
  StatFields sf;
  try {
    if (!parse_stat(read_proc_at(d.get(), "stat", 4096, "stat"), sf)) return false;
    parse_status(read_proc_at(d.get(), "status", 65536, "status"), p);
    p.node_uid = map_uid(read_proc_at(d.get(), "uid_map", 65536, "uid_map"), p.uid);
  } catch (const NodeFileError&) {
    return false;  // it exited while we read it
  }
  p.host_pid = static_cast<pid_t>(std::strtol(name, nullptr, 10));
  p.host_ppid = sf.ppid;
  p.starttime = sf.starttime;
  p.comm = sf.comm;
  p.state = sf.state;
  struct stat exe{};
  if (::fstatat(d.get(), "exe", &exe, 0) == 0) {  // the kernel's link to the mapped binary
    p.exe_dev = exe.st_dev;
    p.exe_ino = exe.st_ino;
    char buf[4096];
    ssize_t n = ::readlinkat(d.get(), "exe", buf, sizeof buf);
    if (n > 0) p.exe_path.assign(buf, static_cast<std::size_t>(n));
  }
  return true;
}

// Which PID namespace each host process is in, remembered from one scan
// to the next (list_node_processes). Why: a daemon check scans every
// process of the host, and on a class server that is every process of
// thirty labs, several times a grading; the stat of /proc/PID/ns/pid is
// most of what a scan costs. Why it holds: a process never changes its PID
// namespace, and /proc/PID keeps its inode number for as long as that
// process lives (a process that reuses the PID gets a new inode, which
// readdir reports), so (pid, inode) -> namespace stays true while readdir
// still shows the pair. Memory only ever skips a process: one remembered
// as inside the node is still opened and checked again (read_process).
struct PidNsOf {
  ino_t dir_ino = 0;
  dev_t dev = 0;
  ino_t ino = 0;
};
std::mutex g_pidns_mu;
std::unordered_map<pid_t, PidNsOf> g_pidns;  // guarded by g_pidns_mu

// The PID namespace of /proc/<name>, whose inode readdir says is dir_ino:
// from `known` if it holds the pair, else looked up. false if it exited.
bool pidns_of(int procfd, const char* name, ino_t dir_ino,
              const std::unordered_map<pid_t, PidNsOf>* known, PidNsOf& out) {
  pid_t pid = static_cast<pid_t>(std::strtol(name, nullptr, 10));
  if (known != nullptr && dir_ino > 1) {  // 1: readdir could not say
    auto it = known->find(pid);
    if (it != known->end() && it->second.dir_ino == dir_ino) {
      out = it->second;
      return true;
    }
  }
  struct stat st{};
  std::string path = std::string(name) + "/ns/pid";
  if (::fstatat(procfd, path.c_str(), &st, 0) != 0) return false;
  out = {dir_ino, st.st_dev, st.st_ino};
  return true;
}

}  // namespace

namespace {

// Calls each(name, ns) for every process /proc lists, with its PID
// namespace (remembered where it can be: g_pidns), and remembers what it
// saw. procfd is an open /proc.
template <class Each>
void for_each_pidns(int procfd, const std::string& what, Each each) {
  int dup = ::fcntl(procfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) fail(what, Kind::io, errno);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(dup), ::closedir);
  if (!dir) {
    ::close(dup);
    fail(what, Kind::io, errno);
  }
  // Not waited for: a helper thread left blocked past its deadline may
  // hold it, and a scan without memory is only slower.
  std::unique_lock<std::mutex> lk(g_pidns_mu, std::try_to_lock);
  std::unordered_map<pid_t, PidNsOf> seen;
  while (dirent* e = ::readdir(dir.get())) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    PidNsOf ns;
    if (!pidns_of(procfd, e->d_name, e->d_ino, lk ? &g_pidns : nullptr, ns)) continue;
    if (lk) seen.emplace(static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10)), ns);
    each(e->d_name, ns);
  }
  if (lk) g_pidns.swap(seen);  // what readdir no longer shows is forgotten
}

UniqueFd open_proc(const std::string& what) {
  UniqueFd procfd(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!procfd) fail(what, Kind::io, errno, std::string("open /proc: ") + std::strerror(errno));
  return procfd;
}

}  // namespace

std::vector<NodeProcess> list_node_processes(const NodeRef& node, double timeout) {
  std::string what = "list the processes of " + node.name;
  NodeRef n = node;
  return with_deadline<std::vector<NodeProcess>>(timeout, what, [n, what]() {
    Pinned init = pin(n.pid, n.starttime, what);
    struct stat pidns{};
    if (::fstatat(init.dir.get(), "ns/pid", &pidns, 0) != 0) fail(what, Kind::process_gone, errno);
    UniqueFd procfd = open_proc(what);
    std::vector<NodeProcess> out;
    for_each_pidns(procfd.get(), what, [&](const char* name, const PidNsOf& ns) {
      if (ns.dev != pidns.st_dev || ns.ino != pidns.st_ino) return;
      NodeProcess p;
      if (read_process(procfd.get(), name, pidns, p)) out.push_back(std::move(p));
    });
    return out;
  });
}

std::size_t remember_pid_namespaces() {
  const std::string what = "scan the host's processes";
  UniqueFd procfd = open_proc(what);
  std::size_t n = 0;
  for_each_pidns(procfd.get(), what, [&n](const char*, const PidNsOf&) { ++n; });
  return n;
}

std::vector<MulticastGroup> node_multicast_groups(const NodeRef& node, double timeout) {
  std::string what = "read the multicast groups of " + node.name;
  NodeRef n = node;
  return with_deadline<std::vector<MulticastGroup>>(timeout, what, [n, what]() {
    Pinned init = pin(n.pid, n.starttime, what);
    std::istringstream in(read_proc_at(init.dir.get(), "net/igmp6", 4 << 20, what));
    std::vector<MulticastGroup> out;
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      MulticastGroup g;
      std::string hex;
      if (!(f >> g.ifindex >> g.ifname >> hex >> g.users) || hex.size() != 32) continue;
      unsigned char raw[16];
      bool ok = true;
      for (int i = 0; i < 16 && ok; ++i) {
        char* end = nullptr;
        std::string byte = hex.substr(static_cast<std::size_t>(i) * 2, 2);
        raw[i] = static_cast<unsigned char>(std::strtoul(byte.c_str(), &end, 16));
        ok = end && *end == '\0';
      }
      char text[INET6_ADDRSTRLEN];
      if (ok && ::inet_ntop(AF_INET6, raw, text, sizeof text)) {
        g.group = text;
        out.push_back(std::move(g));
      }
    }
    return out;
  });
}

ProcessIdentity process_identity(pid_t pid, unsigned long long starttime) {
  std::string what = "identify process " + std::to_string(pid);
  Pinned p = pin(pid, starttime, what);
  ProcessIdentity id;
  id.pid = pid;
  id.starttime = p.stat.starttime;
  id.ppid = p.stat.ppid;
  struct stat st{};
  if (::fstatat(p.dir.get(), "ns/net", &st, 0) != 0) fail(what + ": ns/net", Kind::process_gone, errno);
  id.netns_dev = st.st_dev;
  id.netns_ino = st.st_ino;
  if (::fstatat(p.dir.get(), "ns/pid", &st, 0) != 0) fail(what + ": ns/pid", Kind::process_gone, errno);
  id.pidns_dev = st.st_dev;
  id.pidns_ino = st.st_ino;
  return id;
}

}  // namespace v6lab
