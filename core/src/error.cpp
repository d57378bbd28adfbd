#include "v6lab/error.hpp"

#include <cstring>

#include <netlink/errno.h>

namespace v6lab {

std::string SpecIssue::str() const {
  std::string s = source;
  if (!field.empty()) s += ": " + field;
  return s + ": " + message;
}

static std::string join_issues(const std::vector<SpecIssue>& issues) {
  std::string s;
  for (const auto& i : issues) {
    if (!s.empty()) s += "\n";
    s += i.str();
  }
  return s;
}

SpecError::SpecError(std::vector<SpecIssue> issues)
    : Error(join_issues(issues)), issues_(std::move(issues)) {}

void throw_errno(const std::string& what, int err) {
  throw Error(what + ": " + std::strerror(err));
}

void throw_nl(const std::string& what, int nl_err) {
  // libnl folds several errnos into one code (EEXIST and EADDRINUSE both
  // become NLE_EXIST); the caller's context is what makes this useful.
  throw Error(what + ": " + nl_geterror(nl_err < 0 ? -nl_err : nl_err));
}

}  // namespace v6lab
