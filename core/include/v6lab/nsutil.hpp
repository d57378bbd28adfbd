// Namespace plumbing. The one rule: setns() happens only on short-lived
// helper threads, never on the caller's thread (which may be Python's), and
// no exception crosses a thread boundary unconverted.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "v6lab/fd.hpp"

namespace v6lab {

// Opens /proc/PID/ns/TYPE ("net", "uts", "mnt", "pid").
UniqueFd open_ns(pid_t pid, const char* type);
UniqueFd pidfd_open(pid_t pid);

// Runs fn on a fresh thread that has first joined the network namespace
// behind nsfd. Exceptions thrown by fn are rethrown here.
void run_in_netns(int nsfd, const std::function<void()>& fn);

// Runs fn(i) for i in [0, n) on one fresh thread, which joins the network
// namespace nsfd(i) before each call. One thread for many namespaces keeps
// lab bring-up fast.
void for_each_netns(std::size_t n, const std::function<int(std::size_t)>& nsfd,
                    const std::function<void(std::size_t)>& fn);

// Sysctls of the calling thread's network namespace (call from inside
// run_in_netns). "net.ipv6.conf.eth0.forwarding" -> /proc/sys/net/ipv6/...
std::string sysctl_path(const std::string& key);
std::string read_sysctl(const std::string& key);   // trailing newline dropped
void write_sysctl(const std::string& key, const std::string& value);

// "" if this process can create network namespaces (a helper thread tries
// one), otherwise why not, in one sentence.
std::string namespace_support();

// "" if this kernel provides `feature` (a link kind such as "sit",
// "ip6tnl", "gre", "dummy", "vxlan", or the qdisc "netem"), otherwise a
// sentence saying what is missing and which kernel option provides it. The
// probe runs in a throwaway network namespace on a helper thread.
std::string kernel_feature_missing(const std::string& feature);

// The whole of a small file (procfs, sysfs) read with plain system calls;
// "" if it cannot be read. Unlike an ifstream it never throws when the file
// vanishes while being read (a process exiting under /proc/PID).
std::string read_small_file(const std::string& path);

// Start time of a process (field 22 of /proc/PID/stat), used with the PID to
// recognise a process after PID reuse. 0 if the process does not exist or
// is a zombie.
unsigned long long process_starttime(pid_t pid);

}  // namespace v6lab
