#include "v6lab/preflight.hpp"

#include <sys/resource.h>

namespace v6lab {

namespace {
constexpr std::uint64_t kPerNode = 3, kPerVethEnd = 2, kMargin = 64;
}  // namespace

std::uint64_t fds_needed(const Spec& spec) {
  std::uint64_t members = 0;
  for (const auto& l : spec.lans) members += l.members.size();
  std::uint64_t nodes = spec.nodes.size() + (spec.lans.empty() ? 0 : 1);
  return kMargin + kPerNode * nodes + kPerVethEnd * (spec.links.size() + members);
}

std::uint64_t nofile_hard_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max == RLIM_INFINITY)
    return UINT64_MAX;
  return rl.rlim_max;
}

std::string fd_limit_problem(const Spec& spec, std::uint64_t hard_limit) {
  std::uint64_t need = fds_needed(spec);
  if (need <= hard_limit) return "";
  return "lab " + spec.name + " (" + std::to_string(spec.nodes.size()) + " nodes) needs about " +
         std::to_string(need) + " open files but this process may open at most " +
         std::to_string(hard_limit) + ": raise the limit first, e.g. run 'ulimit -n " +
         std::to_string(need < 65536 ? 65536 : need) + "' as root in the shell that starts it";
}

}  // namespace v6lab
