// libFuzzer harness: one image file as JSON text, read as load_dir reads it
// (parse_json_text, then ImageRegistry::from_json with a host image beside
// it so that extends chains are exercised).
#include <cstddef>
#include <cstdint>
#include <string>

#include "v6lab/error.hpp"
#include "v6lab/images.hpp"
#include "v6lab/json_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto j = v6lab::parse_json_text(text, "fuzz/x.json");
    auto host = nlohmann::ordered_json::parse(R"({"name": "host"})");
    auto reg = v6lab::ImageRegistry::from_json({{"fuzz/host.json", host}, {"fuzz/x.json", j}});
    for (const auto& n : reg.names()) (void)reg.find(n);
  } catch (const v6lab::SpecError&) {
  }
  return 0;
}
