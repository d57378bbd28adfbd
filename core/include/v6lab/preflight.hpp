// Checks made before a lab is built, from the resolved spec alone: things
// that validation cannot see in the file but that would make the build fail
// halfway (and then be torn down), such as running out of file descriptors.
#pragma once

#include <cstdint>
#include <string>

#include "v6lab/spec.hpp"

namespace v6lab {

// File descriptors the builder holds open at once for spec: about three per
// node (pidfd, namespace fd, netlink socket), two per veth end being made
// (a point-to-point link or a LAN member), the switch namespace if there
// are LANs, and a margin for the process itself.
std::uint64_t fds_needed(const Spec& spec);

// The hard RLIMIT_NOFILE of this process: the core raises the soft limit
// to it before building, so it is what a lab must fit in.
std::uint64_t nofile_hard_limit();

// "" if spec fits in hard_limit descriptors, else one sentence saying how
// many it needs and how to raise the limit.
std::string fd_limit_problem(const Spec& spec, std::uint64_t hard_limit);

}  // namespace v6lab
