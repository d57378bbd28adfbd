// libFuzzer harness: a topology as JSON text, through the same path as
// Spec.parse (parse_json_text, parse_spec, to_json), and read back as a
// lab's record is (spec_from_json), which must give the same JSON again.
// The text is also read as a record itself. Any exception but SpecError, a
// round trip that differs, and any crash or sanitizer report, is a bug.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "v6lab/error.hpp"
#include "v6lab/images.hpp"
#include "v6lab/json_text.hpp"
#include "v6lab/spec.hpp"

namespace {
const v6lab::ImageRegistry& Images() {
  static const v6lab::ImageRegistry r = v6lab::ImageRegistry::from_json(
      {{"fuzz/host.json", nlohmann::ordered_json::parse(
                              R"({"name": "host", "sysctls": {"net.ipv6.conf.all.forwarding": 0},
                                  "binaries": [{"name": "ip", "package": "iproute2"}]})")},
       {"fuzz/router.json",
        nlohmann::ordered_json::parse(R"({"name": "router", "extends": "host"})")}});
  return r;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::ordered_json j;
  try {
    j = v6lab::parse_json_text(text, "fuzz");
  } catch (const v6lab::SpecError&) {
    return 0;
  }
  std::optional<v6lab::Spec> s;
  try {
    s = v6lab::parse_spec(j, "fuzz", Images());
  } catch (const v6lab::SpecError&) {
  }
  if (s) {
    // Outside the try: a valid spec whose JSON is refused is a bug too.
    nlohmann::ordered_json resolved = s->to_json();
    (void)resolved.dump();
    if (v6lab::spec_from_json(resolved, "record").to_json() != resolved) __builtin_trap();
  }
  try {
    (void)v6lab::spec_from_json(j, "record").to_json().dump();
  } catch (const v6lab::SpecError&) {
  }
  return 0;
}
