// libFuzzer harness: a topology as JSON text, through the same path as
// Spec.parse (parse_json_text, parse_spec, to_json). Any exception but
// SpecError, and any crash or sanitizer report, is a bug.
#include <cstddef>
#include <cstdint>
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
  try {
    v6lab::Spec s = v6lab::parse_spec(v6lab::parse_json_text(text, "fuzz"), "fuzz", Images());
    (void)s.to_json().dump();
  } catch (const v6lab::SpecError&) {
  }
  return 0;
}
