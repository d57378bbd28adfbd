// Reading untrusted JSON text into the ordered JSON model the spec uses.
//
// nlohmann's own DOM parser inserts each object key with a linear search
// (ordered_map), so an object of n keys costs O(n^2), and the copy
// constructor, dump() and comparisons recurse, so deeply nested input
// overflows the stack. Everything that reads a topology or an image goes
// through here instead: linear, depth-limited, and duplicate keys are
// errors, as in the Python readers.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace v6lab {

// Nesting deeper than this is refused everywhere (text, dicts, images). A
// real topology nests 6 levels (nodes.h1.interfaces.eth0.addresses[0]).
inline constexpr int kMaxJsonDepth = 64;

// Text longer than this is refused before parsing (a lab of 100,000 nodes
// is about 4 MiB).
inline constexpr std::size_t kMaxJsonBytes = 64u << 20;

// Parses text; throws SpecError naming source (and the byte offset) for
// syntax errors, duplicate keys and nesting deeper than max_depth.
nlohmann::ordered_json parse_json_text(const std::string& text,
                                       const std::string& source,
                                       int max_depth = kMaxJsonDepth);

// The nesting depth of j (a scalar is 0, [] and {} are 1), counted without
// recursion; stops counting once it passes limit and returns limit + 1.
int json_depth(const nlohmann::ordered_json& j, int limit = kMaxJsonDepth);

// Text for messages: at most max bytes of s (cut at a UTF-8 boundary) and
// "…" when cut, so that a megabyte name is never echoed back; control
// characters are written as \xNN so that a message stays one line.
std::string cut(const std::string& s, std::size_t max = 40);

}  // namespace v6lab
