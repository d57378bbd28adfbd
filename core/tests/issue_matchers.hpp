// Shared by the spec and image tests: run a validator and match its issues.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "v6lab/error.hpp"

namespace v6lab::testing_util {

// The issues fn() reports by throwing SpecError; empty if it succeeded.
template <class F>
std::vector<SpecIssue> IssuesOf(F&& fn) {
  try {
    fn();
  } catch (const SpecError& e) {
    return e.issues();
  }
  return {};
}

inline std::string Dump(const std::vector<SpecIssue>& issues) {
  std::string s = "issues:";
  for (const auto& i : issues) s += "\n  " + i.str();
  return s;
}

// Passes if an issue has exactly this source and field and a message
// containing message_part.
inline ::testing::AssertionResult HasIssueFrom(const std::vector<SpecIssue>& issues,
                                               const std::string& source,
                                               const std::string& field,
                                               const std::string& message_part) {
  for (const auto& i : issues)
    if (i.source == source && i.field == field &&
        i.message.find(message_part) != std::string::npos)
      return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "no issue " << source << ": " << field << " containing '" << message_part
         << "'; " << Dump(issues);
}

}  // namespace v6lab::testing_util
