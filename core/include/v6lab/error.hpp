// Errors of the core. Every message says what was being done to what, e.g.
// "add address 2001:db8:1::1/64 on r1:eth0: File exists", because libnl's
// error mapping loses the kernel's own text (libnl 3.7 maps ENOBUFS and ENOMEM
// alike, drops extended ACKs: docs/architecture.md, "Errors").
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace v6lab {

// A failure while building, running or reading a lab.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One problem found in a topology or image: where (source file and field
// path) and what.
struct SpecIssue {
  std::string source;   // file name, or a description such as "Topo Small"
  std::string field;    // dotted path: nodes.h1.interfaces.eth0.addresses[0]
  std::string message;  // what is wrong, in one sentence

  std::string str() const;
};

// A spec that cannot be built. Carries every problem found, not just the
// first, so an instructor fixes a file in one pass.
class SpecError : public Error {
 public:
  explicit SpecError(std::vector<SpecIssue> issues);
  const std::vector<SpecIssue>& issues() const { return issues_; }

 private:
  std::vector<SpecIssue> issues_;
};

// The kernel refused a netlink request; keeps its errno.
class KernelError : public Error {
 public:
  KernelError(const std::string& what, int err) : Error(what), err_(err) {}
  int err() const { return err_; }

 private:
  int err_;
};

// A required program is not installed; names the Debian package.
class MissingBinaryError : public Error {
 public:
  using Error::Error;
};

// "what: strerror(err)"
[[noreturn]] void throw_errno(const std::string& what, int err);
// "what: libnl message (kernel errno)"
[[noreturn]] void throw_nl(const std::string& what, int nl_err);

}  // namespace v6lab
