// Per-node cgroups: see node_limits.hpp. limits_init runs in the zygote
// before any node exists; the rest runs in the zygote while inits run, and
// sticks to fixed buffers and system calls.
#include "node_limits.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace v6lab_init {

namespace {

enum class Kind { none, v1, v2 };

Kind g_kind = Kind::none;
Limits g_limits;
// The lab's cgroup in each hierarchy we use: v1 pids and memory, or one v2.
char g_lab[2][512];
int g_nlab = 0;

struct Slot {
  pid_t pid;
  char name[64];
};
constexpr std::size_t kSlots = 16384;
Slot g_slots[kSlots];

bool write_str(const char* path, const char* s) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::size_t n = std::strlen(s);
  bool ok = ::write(fd, s, n) == static_cast<ssize_t>(n);
  int err = errno;
  ::close(fd);
  errno = err;
  return ok;
}

// The path of our own cgroup in a hierarchy, from /proc/self/cgroup:
// "N:pids:/path" (v1) or "0::/path" (v2).
std::string own_path(const std::string& controller) {
  FILE* f = std::fopen("/proc/self/cgroup", "re");
  if (!f) return "";
  char line[1024];
  std::string found;
  while (std::fgets(line, sizeof line, f)) {
    std::string l = line;
    if (!l.empty() && l.back() == '\n') l.pop_back();
    auto a = l.find(':'), b = l.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctl = l.substr(a + 1, b - a - 1);
    bool match = controller.empty() ? (l.compare(0, a, "0") == 0 && ctl.empty())
                                    : (("," + ctl + ",").find("," + controller + ",") != std::string::npos);
    if (match) found = l.substr(b + 1);
  }
  std::fclose(f);
  return found == "/" ? "" : found;
}

bool is_dir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool make_lab_dir(const std::string& parent, const std::string& lab) {
  if (!is_dir(parent) || ::access(parent.c_str(), W_OK) != 0) return false;
  // Unique per lab run: two labs of one name must not share cgroups.
  std::string dir = parent + "/v6lab-" + lab + "-" + std::to_string(::getpid());
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return false;
  std::snprintf(g_lab[g_nlab++], sizeof g_lab[0], "%s", dir.c_str());
  return true;
}

bool try_v2(const std::string& lab) {
  if (::access("/sys/fs/cgroup/cgroup.controllers", R_OK) != 0) return false;
  std::string own = "/sys/fs/cgroup" + own_path("");
  // Children of our cgroup get the controllers only if we may enable them
  // there (a delegated subtree without processes of its own).
  if (!write_str((own + "/cgroup.subtree_control").c_str(), "+pids +memory")) return false;
  if (!make_lab_dir(own, lab)) return false;
  if (!write_str((std::string(g_lab[0]) + "/cgroup.subtree_control").c_str(), "+pids +memory")) {
    ::rmdir(g_lab[0]);
    g_nlab = 0;
    return false;
  }
  return true;
}

bool try_v1(const std::string& lab) {
  std::string pids = "/sys/fs/cgroup/pids" + own_path("pids");
  std::string mem = "/sys/fs/cgroup/memory" + own_path("memory");
  if (!is_dir(pids) || !is_dir(mem)) return false;
  if (!make_lab_dir(pids, lab)) return false;
  if (!make_lab_dir(mem, lab)) {
    ::rmdir(g_lab[0]);
    g_nlab = 0;
    return false;
  }
  return true;
}

// "<lab dir>/<node>/<file>" into buf.
const char* node_path(char* buf, std::size_t len, int which, const char* node, const char* file) {
  std::snprintf(buf, len, "%s/%s%s%s", g_lab[which], node, file ? "/" : "", file ? file : "");
  return buf;
}

// Half the host's memory (MemTotal of /proc/meminfo), in bytes.
unsigned long long half_of_memory() {
  FILE* f = std::fopen("/proc/meminfo", "re");
  unsigned long long kb = 0;
  if (f) {
    if (std::fscanf(f, "MemTotal: %llu kB", &kb) != 1) kb = 0;
    std::fclose(f);
  }
  return kb * 1024 / 2;
}

// The lab as a whole: never more than half the host's memory nor 32768
// processes, however many nodes it has (each node's own limits come on top).
void lab_caps() {
  char path[1200], num[32];
  unsigned long long mem = half_of_memory();
  for (int i = 0; i < g_nlab; ++i) {
    bool pids_here = g_kind == Kind::v2 || i == 0;
    bool mem_here = g_kind == Kind::v2 || i == 1;
    if (pids_here) {
      std::snprintf(path, sizeof path, "%s/pids.max", g_lab[i]);
      write_str(path, "32768");
    }
    if (mem_here && mem) {
      std::snprintf(path, sizeof path, "%s/%s", g_lab[i],
                    g_kind == Kind::v2 ? "memory.max" : "memory.limit_in_bytes");
      std::snprintf(num, sizeof num, "%llu", mem);
      write_str(path, num);
    }
  }
}

}  // namespace

void limits_init(const char* lab, const Limits& l, char* how, std::size_t how_len) {
  g_limits = l;
  std::string name = lab;
  if (try_v2(name))
    g_kind = Kind::v2;
  else if (try_v1(name))
    g_kind = Kind::v1;
  if (g_kind != Kind::none) lab_caps();
  if (g_kind == Kind::none)
    std::snprintf(how, how_len, "none: no cgroup this process may create children in; "
                                "processes are capped per node by RLIMIT_NPROC");
  else
    std::snprintf(how, how_len, "cgroup %s (pids.max %lu, memory %llu MiB per node; "
                                "the lab at most 32768 processes and %llu MiB)",
                  g_kind == Kind::v2 ? "v2" : "v1", l.pids, l.memory >> 20, half_of_memory() >> 20);
}

bool limits_allow_unprivileged_create() { return g_kind != Kind::v2; }

void limits_delegate(unsigned long uid) {
  // The inits join as the lab's id, not as root: the lab's cgroups are
  // theirs to make children in (cgroup v1 lets a task move itself into a
  // cgroup it may write).
  if (g_kind == Kind::v1)
    for (int i = 0; i < g_nlab; ++i)
      if (::chown(g_lab[i], static_cast<uid_t>(uid), static_cast<gid_t>(uid)) != 0) {
      }
}

void limits_track(const char* node, pid_t pid) {
  if (g_kind == Kind::none) return;
  for (auto& s : g_slots)
    if (s.pid == 0) {
      s.pid = pid;
      std::snprintf(s.name, sizeof s.name, "%s", node);
      return;
    }
}

bool limits_join(const char* node) {
  if (g_kind == Kind::none) return true;
  char path[1200], num[32];
  for (int i = 0; i < g_nlab; ++i) {
    if (::mkdir(node_path(path, sizeof path, i, node, nullptr), 0755) != 0 && errno != EEXIST)
      return false;
    bool pids_here = g_kind == Kind::v2 || i == 0;
    bool mem_here = g_kind == Kind::v2 || i == 1;
    if (pids_here && g_limits.pids) {
      std::snprintf(num, sizeof num, "%lu", g_limits.pids);
      if (!write_str(node_path(path, sizeof path, i, node, "pids.max"), num)) return false;
    }
    if (mem_here && g_limits.memory) {
      std::snprintf(num, sizeof num, "%llu", g_limits.memory);
      const char* file = g_kind == Kind::v2 ? "memory.max" : "memory.limit_in_bytes";
      if (!write_str(node_path(path, sizeof path, i, node, file), num)) return false;
    }
    // "0" is the writer: the init moves itself, before it runs anything.
    if (!write_str(node_path(path, sizeof path, i, node, "cgroup.procs"), "0")) return false;
  }
  return true;
}

void limits_remove(pid_t pid) {
  char path[1200];
  for (auto& s : g_slots)
    if (s.pid == pid) {
      for (int i = 0; i < g_nlab; ++i) ::rmdir(node_path(path, sizeof path, i, s.name, nullptr));
      s.pid = 0;
      return;
    }
}

void limits_cleanup() {
  char path[1200];
  // Processes of a node may take a moment to leave its cgroup after its
  // init was reaped: retry briefly.
  for (int attempt = 0; attempt < 50; ++attempt) {
    bool busy = false;
    for (auto& s : g_slots) {
      if (s.pid == 0) continue;
      bool gone = true;
      for (int i = 0; i < g_nlab; ++i)
        if (::rmdir(node_path(path, sizeof path, i, s.name, nullptr)) != 0 && errno != ENOENT) gone = false;
      if (gone) s.pid = 0;
      busy |= !gone;
    }
    for (int i = 0; i < g_nlab; ++i)
      if (::rmdir(g_lab[i]) != 0 && errno != ENOENT) busy = true;
    if (!busy) return;
    ::usleep(20000);
  }
}

}  // namespace v6lab_init
