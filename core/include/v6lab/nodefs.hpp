// The outside view of a node: its files and processes, read by the grader
// (host root) without trusting anything the node controls.
//
// A trainee is root inside a node: they plant symlinks, FIFOs, devices and
// FUSE mounts where the grader reads, and they reuse PIDs. So every read
//  - pins the node's init: a /proc/PID directory fd whose start time is
//    checked (and a pidfd that is still alive), so a reused PID is never read;
//  - resolves node paths with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
//    from the init's root: symlinks (absolute or "..") stay inside the node's
//    filesystem view, /proc/X/root-style links are refused;
//  - opens with O_PATH first and looks before it reads: only a regular file
//    on an ordinary filesystem is opened for reading (a FIFO, device, socket
//    or directory never is, so opening has no side effect and never blocks;
//    proc, sysfs, FUSE and other pseudo filesystems are refused, since
//    reading them as host root could leak host data or block);
//  - reads at most max_bytes, all within a deadline.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "v6lab/error.hpp"

namespace v6lab {

// Why a node file could not be read. The kind is stable (Python sees it as
// a string); err is the errno when a system call failed, else 0.
enum class NodeFileErrorKind {
  not_found,     // ENOENT/ENOTDIR along the path
  not_regular,   // a FIFO, device, socket, directory, ...
  too_large,     // more than max_bytes
  refused,       // escapes the node's root, magic link, symlink loop, pseudo fs
  timed_out,     // the deadline passed (a blocking FUSE lookup, ...)
  process_gone,  // the node's init exited or its PID was reused
  io,            // any other failing system call
};

const char* node_file_error_kind_name(NodeFileErrorKind k);

// "read /root/answer.txt on h1: not a regular file (a FIFO)"
class NodeFileError : public Error {
 public:
  NodeFileError(const std::string& what, NodeFileErrorKind kind, int err)
      : Error(what), kind_(kind), err_(err) {}
  NodeFileErrorKind kind() const { return kind_; }
  int err() const { return err_; }

 private:
  NodeFileErrorKind kind_;
  int err_;
};

// Which node init to read through: its name (for messages), host PID and
// start time (field 22 of /proc/PID/stat).
struct NodeRef {
  std::string name;
  pid_t pid = 0;
  unsigned long long starttime = 0;
};

// The contents of `path` (absolute or relative: both from the node's root)
// inside the node. Throws NodeFileError. Symlinks are followed inside the
// node's root; with follow_symlinks=false any symlink on the path is refused
// (for answers: a link is not something the trainee wrote, and while nodes
// share the host's files a link "inside the node" can still name one).
std::string read_node_file(const NodeRef& node, const std::string& path,
                           std::size_t max_bytes, double timeout = 2.0,
                           bool follow_symlinks = true);

// A process in the node's PID namespace, as the host's /proc reports it.
struct NodeProcess {
  pid_t host_pid = 0;
  pid_t node_pid = 0;       // last field of NSpid
  pid_t host_ppid = 0;
  unsigned long long starttime = 0;
  unsigned long long exe_dev = 0;  // 0/0 when there is no executable to see
  unsigned long long exe_ino = 0;
  std::string exe_path;     // readlink of /proc/X/exe (" (deleted)" kept)
  unsigned uid = 0;         // real uid on the host
  unsigned node_uid = 0;    // the same uid inside the node (its user namespace)
  std::string comm;         // set by the process itself: a label, not evidence
  char state = '?';
};

// Every live process whose PID namespace is the init's (the init included).
// Which PID namespace each host process is in is remembered from one call
// to the next (a process never changes it): a call looks up only the
// processes that are new since the last.
std::vector<NodeProcess> list_node_processes(const NodeRef& node, double timeout = 5.0);

// Fills that memory now, on this thread, and says how many processes it
// holds: for a process that forks workers (the classroom's zygote), so
// that each starts with it. Reads only the host's /proc; enters nothing.
std::size_t remember_pid_namespaces();

// One line of /proc/PID/net/igmp6: a group an interface has joined.
struct MulticastGroup {
  int ifindex = 0;
  std::string ifname;
  std::string group;  // canonical IPv6 text
  int users = 0;
};

// The node's IPv6 multicast memberships, from the init's procfs (the kernel
// writes that file; nothing in the node can replace it).
std::vector<MulticastGroup> node_multicast_groups(const NodeRef& node, double timeout = 2.0);

// Kernel identities of a process, read through a pinned /proc/PID: what a
// lab record stores so that a record can be checked against the live lab.
struct ProcessIdentity {
  pid_t pid = 0;
  unsigned long long starttime = 0;
  pid_t ppid = 0;
  unsigned long long netns_dev = 0, netns_ino = 0;
  unsigned long long pidns_dev = 0, pidns_ino = 0;
};

// Throws NodeFileError (process_gone) if pid is not the process that
// started at starttime.
ProcessIdentity process_identity(pid_t pid, unsigned long long starttime);

}  // namespace v6lab
