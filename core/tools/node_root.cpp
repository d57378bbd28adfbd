// The node's root filesystem and user namespace: see node_root.hpp for the
// design. prepare_template() runs in the zygote before any node exists and
// may allocate; everything a node init calls is allocation-free (the inits
// share the zygote's memory, see v6lab-init.cpp).
#include "node_root.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <string>

namespace v6lab_init {

namespace {

// ------------------------------------------------- the zygote's template

struct Failure {
  std::string what;
};

[[noreturn]] void fail(const std::string& what) {
  throw Failure{what + ": " + std::strerror(errno)};
}

void must(int rc, const std::string& what) {
  if (rc < 0) fail(what);
}

// Whether the zygote runs in the host's user namespace (root mode) or in
// one an unprivileged user entered (rootless: bindings/v6lab/userns.py).
bool read_initial_userns() {
  char buf[128] = {0};
  int fd = ::open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  unsigned long a = 1, b = 1, c = 0;
  return n > 0 && std::sscanf(buf, "%lu %lu %lu", &a, &b, &c) == 3 && a == 0 && b == 0 &&
         c == 4294967295UL;
}

// Read once: the zygote's user namespace does not change, and the rootless
// copy of /etc asks for every file.
bool initial_userns() {
  static const bool initial = read_initial_userns();
  return initial;
}

// An id the node can have: ids beyond the node's range (and, rootless, the
// overflow id that stands for the host's unmapped root) become node root.
unsigned long node_id(unsigned long id, const IdMap& m) {
  if (!initial_userns() && id == 65534) return 0;
  return id < m.count ? id : 0;
}

// Entries of the template are created by the zygote (host root) and must
// belong to node root: shifted by the map.
void own(const std::string& path, const IdMap& m, uid_t uid = 0, gid_t gid = 0) {
  must(::lchown(path.c_str(), static_cast<uid_t>(m.base + node_id(uid, m)),
                static_cast<gid_t>(m.base + node_id(gid, m))),
       "chown " + path);
}

void make_dir(const std::string& path, mode_t mode, const IdMap& m, uid_t uid = 0, gid_t gid = 0) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) fail("create " + path);
  must(::chmod(path.c_str(), mode), "chmod " + path);
  own(path, m, uid, gid);
}

// The same directory as the host's, empty: mode and owner shifted.
void mirror_dir(const std::string& host, const std::string& path, const IdMap& m) {
  struct stat st;
  if (::lstat(host.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  make_dir(path, st.st_mode & 07777, m, st.st_uid, st.st_gid);
}

// A user namespace with the lab's mapping, for id-mapped mounts: a child
// is cloned into it and kept until its namespace fd is open.
int mapping_userns(const IdMap& m) {
  int p[2];
  must(::pipe2(p, O_CLOEXEC), "create a pipe");
  pid_t c = static_cast<pid_t>(::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
  if (c == 0) {
    char x;
    ::close(p[1]);
    while (::read(p[0], &x, 1) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  int err = errno;
  ::close(p[0]);
  if (c < 0) {
    errno = err;
    fail("create a user namespace for the lab's id mapping");
  }
  const char* what = nullptr;
  bool ok = write_id_maps(c, m, &what);
  err = errno;
  int fd = ok ? ::open(("/proc/" + std::to_string(c) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC) : -1;
  if (ok && fd < 0) err = errno;
  ::close(p[1]);
  ::waitpid(c, nullptr, 0);
  if (fd < 0) {
    errno = err;
    fail(what ? what : "open the lab's user namespace");
  }
  return fd;
}

// A read-only view of host directory src at dst, id-mapped so that host
// root shows as node root. A filesystem that cannot be id-mapped is bound
// plainly (its files then show as nobody inside the node).
void bind_view(const char* src, const std::string& dst, int userns) {
  int t = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, src,
                                     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (t < 0) fail(std::string("clone the mount tree of ") + src);
  mount_attr a{};
  a.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_IDMAP;
  a.userns_fd = static_cast<unsigned long long>(userns);
  if (::syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) != 0) {
    a.attr_set &= ~static_cast<unsigned long long>(MOUNT_ATTR_IDMAP);
    if (::syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) != 0) {
      ::close(t);
      fail(std::string("make the view of ") + src + " read-only");
    }
  }
  if (::syscall(SYS_move_mount, t, "", AT_FDCWD, dst.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    ::close(t);
    fail(std::string("mount the view of ") + src + " on " + dst);
  }
  ::close(t);
}

// Rootless, the host's files cannot be id-mapped (only the host's root may
// do that): a copy of /etc the node's ids own instead, regular files and
// links only, unreadable ones (secrets) left out. files_only=false copies
// just the directory tree (for /var: the daemons' directories, no data).
void copy_tree(const std::string& from, const std::string& to, const IdMap& m, bool files,
               int depth, std::size_t* budget) {
  DIR* d = ::opendir(from.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    std::string src = from + "/" + n, dst = to + "/" + n;
    struct stat st;
    if (::lstat(src.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth <= 0) continue;
      make_dir(dst, st.st_mode & 07777, m, st.st_uid, st.st_gid);
      copy_tree(src, dst, m, files, depth - 1, budget);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t len = ::readlink(src.c_str(), target, sizeof target - 1);
      if (len <= 0) continue;
      target[len] = 0;
      if (::symlink(target, dst.c_str()) == 0) own(dst, m, st.st_uid, st.st_gid);
    } else if (files && S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) <= *budget) {
      int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      if (in < 0) continue;  // not readable by this user: not the node's either
      int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (out < 0) {
        ::close(in);
        fail("create " + dst);
      }
      char buf[65536];
      ssize_t r;
      while ((r = ::read(in, buf, sizeof buf)) > 0)
        if (::write(out, buf, static_cast<std::size_t>(r)) != r) break;
      ::close(in);
      ::close(out);
      *budget -= static_cast<std::size_t>(st.st_size);
      must(::chmod(dst.c_str(), st.st_mode & 07777), "chmod " + dst);
      own(dst, m, st.st_uid, st.st_gid);
    }
  }
  ::closedir(d);
}

// /dev/net/tun for NAT64 labs (tayga). Root mode: a device node of our
// own, made by the zygote on a small tmpfs of its own (mounted without
// nodev, read-only afterwards) and owned by node root, so node root may
// open it whatever the host's mode (0600 on some hosts). Node root creates
// tun devices in its own network namespace only. Rootless, where only the
// host's root may make devices: the host's device bound in, usable when
// its mode lets anyone open it (Debian's default 0666).
void bind_tun(const std::string& dev, const IdMap& m) {
  struct stat st;
  if (::stat("/dev/net/tun", &st) != 0 || !S_ISCHR(st.st_mode)) return;
  std::string net = dev + "/net", path = net + "/tun";
  make_dir(net, 0755, m);
  if (initial_userns()) {
    must(::mount("tmpfs", net.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=4k,nr_inodes=4"),
         "mount tmpfs on " + net);
    own(net, m);
    must(::mknod(path.c_str(), S_IFCHR | 0666, st.st_rdev), "create " + path);
    must(::chmod(path.c_str(), 0666), "chmod " + path);
    own(path, m);
    must(::mount(nullptr, net.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
                 nullptr), "make " + net + " read-only");
    return;
  }
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) fail("create " + path);
  ::close(fd);
  must(::mount("/dev/net/tun", path.c_str(), nullptr, MS_BIND, nullptr), "bind /dev/net/tun");
}

// v6lab's own programs for nodes (today v6lab-ra, the RA sender), bound
// read-only from the directory of this program (the package's libexec/) at
// /opt/v6lab/bin, each file on its own: the node sees those files and
// nothing else of libexec. A file that is missing (not built) is skipped.
void bind_tools(const IdMap& m, int userns) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) fail("read /proc/self/exe");
  self[n] = 0;
  std::string dir(self);
  dir.erase(dir.rfind('/') + 1);
  std::string opt = std::string(kTemplate) + "/opt/v6lab", bin = opt + "/bin";
  make_dir(opt, 0755, m);
  make_dir(bin, 0755, m);
  for (const char* tool : {"v6lab-ra"}) {
    std::string src = dir + tool, dst = bin + "/" + tool;
    struct stat st;
    if (::stat(src.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    int fd = ::open(dst.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
    if (fd < 0) fail("create " + dst);
    ::close(fd);
    bind_view(src.c_str(), dst, userns);
  }
}

void mount_tmpfs(const std::string& where, const std::string& opts) {
  must(::mount("tmpfs", where.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()),
       "mount tmpfs on " + where);
}

// The top of the template: the host's top-level symlinks (/bin -> usr/bin
// on merged-/usr Debian) and empty directories.
void template_top(const IdMap& m) {
  std::string t = kTemplate;
  DIR* d = ::opendir("/");
  if (!d) fail("list /");
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    char target[256];
    ssize_t len = ::readlinkat(dirfd(d), n.c_str(), target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = 0;
    if (::symlink(target, (t + "/" + n).c_str()) == 0) own(t + "/" + n, m);
  }
  ::closedir(d);
  for (const char* dir : {"usr", "etc", "var", "run", "tmp", "proc", "sys", "home", "mnt",
                          "opt", "srv", "media"})
    make_dir(t + "/" + dir, 0755, m);
  make_dir(t + "/root", 0700, m);
}

// A minimal /dev: the harmless character devices bound from the host, the
// usual symlinks, and mount points for the node's own /dev/pts and /dev/shm.
void template_dev(const IdMap& m) {
  std::string dev = std::string(kTemplate) + "/dev";
  make_dir(dev, 0755, m);
  make_dir(dev + "/pts", 0755, m);
  make_dir(dev + "/shm", 01777, m);
  for (const char* n : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string host = std::string("/dev/") + n, path = dev + "/" + n;
    int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) fail("create " + path);
    ::close(fd);
    must(::mount(host.c_str(), path.c_str(), nullptr, MS_BIND, nullptr), "bind " + host);
  }
  const char* links[][2] = {{"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
                            {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
                            {"ptmx", "pts/ptmx"}};
  for (const auto& l : links) {
    std::string path = dev + "/" + l[0];
    must(::symlink(l[1], path.c_str()), "create " + path);
    own(path, m);
  }
}

// An empty file in the mask layer where the host has a secret, same mode
// and (shifted) owner: the node sees an empty file.
void mask_file(const std::string& host, const std::string& mask, const IdMap& m) {
  struct stat st;
  if (::lstat(host.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  int fd = ::open(mask.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, st.st_mode & 07777);
  if (fd < 0) fail("create " + mask);
  ::close(fd);
  must(::chmod(mask.c_str(), st.st_mode & 07777), "chmod " + mask);
  own(mask, m, st.st_uid, st.st_gid);
}

// An opaque directory in the mask layer: the node sees it empty (overlayfs
// mounted inside a user namespace reads user.overlay.* attributes).
void mask_dir(const std::string& host, const std::string& mask, const IdMap& m) {
  struct stat st;
  if (::lstat(host.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  mirror_dir(host, mask, m);
  must(::setxattr(mask.c_str(), "user.overlay.opaque", "y", 1, 0), "mark " + mask + " opaque");
}

void mask_etc(const IdMap& m) {
  std::string mk = kEtcMask;
  mount_tmpfs(mk, "mode=0755,size=1m");
  mirror_dir("/etc", mk, m);
  for (const char* f : {"shadow", "shadow-", "gshadow", "gshadow-", "sudoers"})
    mask_file(std::string("/etc/") + f, mk + "/" + f, m);
  mirror_dir("/etc/ssh", mk + "/ssh", m);
  mirror_dir("/etc/ssl", mk + "/ssl", m);
  mask_dir("/etc/ssl/private", mk + "/ssl/private", m);
  if (DIR* d = ::opendir("/etc/ssh")) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind("ssh_host_", 0) == 0 && n.size() > 4 && n.compare(n.size() - 4, 4, ".pub") != 0)
        mask_file("/etc/ssh/" + n, mk + "/ssh/" + n, m);
    }
    ::closedir(d);
  }
}

// The host's logs, temporary files, mail and private daemon state are not
// the node's: empty directories instead, keeping the first level of /var/log
// (daemons expect /var/log/kea and the like to exist).
void mask_var(const IdMap& m) {
  std::string mk = kVarMask;
  mount_tmpfs(mk, "mode=0755,size=1m");
  mirror_dir("/var", mk, m);
  for (const char* dir : {"log", "tmp", "mail", "backups", "spool"})
    mask_dir(std::string("/var/") + dir, mk + "/" + dir, m);
  mirror_dir("/var/lib", mk + "/lib", m);
  for (const char* dir : {"private", "systemd", "sudo", "dhcp"})
    mask_dir(std::string("/var/lib/") + dir, mk + "/lib/" + dir, m);
  for (const char* dir : {"log", "spool"}) {  // kea's log directory, cron's: empty
    std::string host = std::string("/var/") + dir;
    if (DIR* d = ::opendir(host.c_str())) {
      while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') mirror_dir(host + "/" + e->d_name, mk + "/" + dir + "/" + e->d_name, m);
      ::closedir(d);
    }
  }
}

}  // namespace

bool prepare_template(const IdMap& m, char* why, std::size_t why_len) {
  prepare_id_maps(m);
  try {
    // Our own mount namespace: nothing below is visible on the host, and
    // it all goes when the zygote and the last node are gone.
    must(::unshare(CLONE_NEWNS), "create the zygote's mount namespace");
    must(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "make mounts private");
    bool rootless = !initial_userns();
    mount_tmpfs(kStage, rootless ? "mode=0711,size=128m" : "mode=0711,size=4m");
    for (const char* d : {kTemplate, kEtcLower, kVarLower, kEtcMask, kVarMask})
      must(::mkdir(d, 0711), std::string("create ") + d);
    mount_tmpfs(kTemplate, "mode=0755,size=1m,nr_inodes=4096");
    own(kTemplate, m);
    int userns = mapping_userns(m);
    struct Close {
      int fd;
      ~Close() { ::close(fd); }
    } close_userns{userns};
    template_top(m);
    template_dev(m);
    bind_tun(std::string(kTemplate) + "/dev", m);
    bind_view("/usr", std::string(kTemplate) + "/usr", userns);
    bind_tools(m, userns);
    if (rootless) {
      std::size_t budget = 64u << 20;
      mirror_dir("/etc", kEtcLower, m);
      copy_tree("/etc", kEtcLower, m, true, 16, &budget);
      mirror_dir("/var", kVarLower, m);
      copy_tree("/var", kVarLower, m, false, 4, &budget);
    } else {
      bind_view("/etc", kEtcLower, userns);
      bind_view("/var", kVarLower, userns);
    }
    mask_etc(m);
    mask_var(m);
    // Read-only from here on: nodes share these superblocks.
    for (const char* d : {kTemplate, kEtcMask, kVarMask, kStage})
      must(::mount(nullptr, d, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr),
           std::string("make ") + d + " read-only");
    return true;
  } catch (const Failure& f) {
    std::snprintf(why, why_len, "%s", f.what.c_str());
    return false;
  }
}

// ----------------------------------------------- allocation-free parts

namespace {

bool write_file(const char* path, const char* data, std::size_t len) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, data, len) == static_cast<ssize_t>(len);
  int err = errno;
  ::close(fd);
  errno = err;
  return ok;
}

}  // namespace

namespace {

char g_uid_map[512], g_gid_map[512];

// The node's map: node id i is our id base+i. Each line must fall inside one
// line of our own map (the kernel refuses a range that spans two), so in a
// user namespace with several ranges (rootless: 0 -> the user, 1.. -> its
// subordinate ids) the node's map is cut the same way.
void build_map(const char* own_file, const IdMap& m, char* out, std::size_t len) {
  std::size_t used = 0;
  out[0] = 0;
  if (initial_userns()) {
    std::snprintf(out, len, "%lu %lu %lu\n", 0UL, m.base, m.count);
    return;
  }
  FILE* f = std::fopen(own_file, "re");
  unsigned long inside, outside, count;
  while (f && std::fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3) {
    if (inside < m.base || inside >= m.base + m.count) continue;
    unsigned long n = std::min(count, m.base + m.count - inside);
    int w = std::snprintf(out + used, len - used, "%lu %lu %lu\n", inside - m.base, inside, n);
    if (w > 0 && used + static_cast<std::size_t>(w) < len) used += static_cast<std::size_t>(w);
  }
  if (f) std::fclose(f);
}

}  // namespace

void prepare_id_maps(const IdMap& m) {
  build_map("/proc/self/uid_map", m, g_uid_map, sizeof g_uid_map);
  build_map("/proc/self/gid_map", m, g_gid_map, sizeof g_gid_map);
}

bool write_id_maps(pid_t pid, const IdMap&, const char** what) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/uid_map", static_cast<int>(pid));
  if (!write_file(path, g_uid_map, std::strlen(g_uid_map))) {
    *what = "write the node's uid_map";
    return false;
  }
  std::snprintf(path, sizeof path, "/proc/%d/gid_map", static_cast<int>(pid));
  if (!write_file(path, g_gid_map, std::strlen(g_gid_map))) {
    *what = "write the node's gid_map";
    return false;
  }
  return true;
}

namespace {

#define V6_T "/tmp/root"  // kTemplate, as a literal to build paths

struct Mnt {
  const char* src;
  const char* dst;
  const char* type;
  unsigned long flags;
  const char* opts;
};

// The node's own mounts on its bind of the template. The upper layers of
// /etc and /var live in the node's /run.
constexpr Mnt kNodeMounts[] = {
    {"tmpfs", V6_T "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=256m"},
    {"tmpfs", V6_T "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m"},
    {"tmpfs", V6_T "/root", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=64m"},
    {"tmpfs", V6_T "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m"},
    {"devpts", V6_T "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"},
};

constexpr const char* kNodeDirs[] = {
    V6_T "/run/lock",           V6_T "/run/.v6lab",          V6_T "/run/.v6lab/etc",
    V6_T "/run/.v6lab/etc/upper", V6_T "/run/.v6lab/etc/work", V6_T "/run/.v6lab/var",
    V6_T "/run/.v6lab/var/upper", V6_T "/run/.v6lab/var/work",
};

constexpr Mnt kNodeLate[] = {
    {"overlay", V6_T "/etc", "overlay", MS_NOSUID | MS_NODEV,
     "lowerdir=/tmp/mask-etc:/tmp/etc,upperdir=" V6_T "/run/.v6lab/etc/upper,workdir=" V6_T
     "/run/.v6lab/etc/work,userxattr"},
    {"overlay", V6_T "/var", "overlay", MS_NOSUID | MS_NODEV,
     "lowerdir=/tmp/mask-var:/tmp/var,upperdir=" V6_T "/run/.v6lab/var/upper,workdir=" V6_T
     "/run/.v6lab/var/work,userxattr"},
    {"proc", V6_T "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"sysfs", V6_T "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
};

// Where the sysfs v6lab runs under is read-only (a container's: a
// Kubernetes pod with hostUsers: false), the kernel lets a namespace below
// mount sysfs read-only only; the node then gets it so (its sysctls are in
// /proc/sys, which stays writable).
bool mount_sysfs_readonly_instead(const Mnt& m) {
  return errno == EPERM && std::strcmp(m.type, "sysfs") == 0 &&
         ::mount(m.src, m.dst, m.type, m.flags | MS_RDONLY, m.opts) == 0;
}

bool do_mounts(const Mnt* list, std::size_t n, const char** what, const char** obj) {
  for (std::size_t i = 0; i < n; ++i)
    if (::mount(list[i].src, list[i].dst, list[i].type, list[i].flags, list[i].opts) != 0 &&
        !mount_sysfs_readonly_instead(list[i])) {
      *what = "mount ";
      *obj = list[i].dst + sizeof(V6_T) - 1;
      return false;
    }
  return true;
}

}  // namespace

bool enter_node_root(const char* name, const char** what, const char** obj) {
  *obj = "";
  // Node root: uid 0 of the node's namespace, an unprivileged id on the
  // host. Until this, the init still carried the host's root ids.
  // setgroups is denied where only one id is mapped (rootless without
  // subordinate ids): then there are no supplementary groups to drop.
  if (::setresgid(0, 0, 0) != 0 || (::setgroups(0, nullptr) != 0 && errno != EPERM) ||
      ::setresuid(0, 0, 0) != 0) {
    *what = "become root of the node's user namespace";
    return false;
  }
  // A bind of the template: its top is ours (not locked) so we can pivot
  // into it; its submounts (/usr, /dev/*) stay locked to it.
  if (::mount(V6_T, V6_T, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    *what = "bind the template root";
    return false;
  }
  if (!do_mounts(kNodeMounts, sizeof kNodeMounts / sizeof *kNodeMounts, what, obj)) return false;
  ::umask(0);
  for (const char* d : kNodeDirs)
    if (::mkdir(d, std::strcmp(d, V6_T "/run/lock") == 0 ? 01777 : 0755) != 0 && errno != EEXIST) {
      *what = "create ";
      *obj = d + sizeof(V6_T) - 1;
      return false;
    }
  ::umask(022);
  if (!do_mounts(kNodeLate, sizeof kNodeLate / sizeof *kNodeLate, what, obj)) return false;
  int fd = ::open(V6_T "/etc/hostname", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    *what = "write ";
    *obj = "/etc/hostname";
    return false;
  }
  char line[80];
  int n = std::snprintf(line, sizeof line, "%s\n", name);
  bool wrote = n > 0 && ::write(fd, line, static_cast<std::size_t>(n)) == n;
  ::close(fd);
  if (!wrote) {
    *what = "write ";
    *obj = "/etc/hostname";
    return false;
  }
  // Into the node's root; the host's tree is detached from this namespace.
  if (::chdir(V6_T) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0 ||
      ::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0) {
    *what = "pivot into the node's root";
    return false;
  }
  return true;
}

}  // namespace v6lab_init
