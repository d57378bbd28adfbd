// libFuzzer harness: one DNS message, as dns_query receives it over UDP,
// through decode_dns_response; and decode_dns_name at every offset of the
// first 64 bytes (names are where compression pointers are). Any crash,
// sanitizer report or broken invariant (abort) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "v6lab/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  v6lab::Decoded<v6lab::DnsResponse> d = v6lab::decode_dns_response(data, size);
  if (!d) {
    if (d.error.empty() || size >= 12) std::abort();
    return 0;
  }
  // Each answer takes at least 11 bytes of the message.
  if (d->answers.size() * 11 > size) std::abort();
  for (const auto& a : d->answers)
    if (a.name.empty() || a.name.size() > 255 || a.data.size() > 255) std::abort();
  for (std::size_t off = 0; off < size && off < 64; ++off) {
    std::size_t o = off;
    std::string name = "x";
    std::string why = v6lab::decode_dns_name(data, size, o, name);
    if (why.empty() ? (o <= off || o > size || name.empty() || name.size() > 255)
                    : (o != off || !name.empty()))
      std::abort();
  }
  return 0;
}
