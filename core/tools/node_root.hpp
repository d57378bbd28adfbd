// The filesystem a node sees, and the user namespace it runs in.
//
// A trainee is root inside a node and may be hostile. So a node is an
// unprivileged container that the kernel itself fences in:
//
//  * Every node init is created with CLONE_NEWUSER: node root is an
//    unprivileged id on the host (the lab's id range, e.g. host 100000 for
//    node 0), and the node's network, mount, UTS, IPC and PID namespaces are
//    owned by that user namespace. Host sysctls, the clock, devices, cgroups
//    and every namespace of the host are out of reach: the kernel checks
//    capabilities against the host's user namespace, where node root has
//    none.
//  * The node's root filesystem is not the host's with mounts on top (those
//    can be unmounted to reveal the host): the zygote prepares a template
//    root once per lab — a read-only tmpfs with the host's /usr bound in
//    read-only and id-mapped (host root shows as node root), a minimal /dev,
//    and read-only, id-mapped views of the host's /etc and /var as the lower
//    layers of each node's copy-on-write /etc and /var. Each node init binds
//    that template, mounts its private /run, /tmp, /root, /dev/shm, /dev/pts,
//    /etc, /var, /proc and /sys on it and pivots into it; the host's tree is
//    then detached from the node's mount namespace. The template's mounts
//    reach the node through a copy into a less privileged user namespace,
//    so the kernel locks them: they cannot be unmounted, made writable or
//    separated from their parents. Unmounting one of the node's own mounts
//    reveals only the template's empty directory.
//  * Secrets of the host in /etc and /var (shadow files, logs, temporary
//    files) are masked by an upper read-only layer.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace v6lab_init {

struct IdMap {
  unsigned long base = 0;   // host id of node root
  unsigned long count = 0;  // ids mapped (node 0 .. count-1)
};

// Where the zygote keeps the template root and the layers (inside its own
// private mount namespace: nothing of it is visible on the host).
inline constexpr const char* kStage = "/tmp";
inline constexpr const char* kTemplate = "/tmp/root";
inline constexpr const char* kEtcLower = "/tmp/etc";
inline constexpr const char* kVarLower = "/tmp/var";
inline constexpr const char* kEtcMask = "/tmp/mask-etc";
inline constexpr const char* kVarMask = "/tmp/mask-var";

// Run by the zygote before any node exists (it may allocate): a private
// mount namespace, the id-mapped layers and the read-only template root.
// Returns false with a sentence in why[] on failure.
bool prepare_template(const IdMap& map, char* why, std::size_t why_len);

// Computes the text of the nodes' uid_map and gid_map (prepare_template
// does it first).
void prepare_id_maps(const IdMap& map);

// Writes uid_map and gid_map of a new node's user namespace (run by the
// zygote, which is root in the parent user namespace). Allocation-free.
bool write_id_maps(pid_t pid, const IdMap& map, const char** what);

// Run by a node init after its maps are written: become node root, build
// the node's root from the template, pivot into it. Allocation-free; on
// failure sets *what/*obj to describe it and returns false (errno kept).
bool enter_node_root(const char* name, const char** what, const char** obj);

}  // namespace v6lab_init
