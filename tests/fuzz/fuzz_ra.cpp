// libFuzzer harness: one ICMPv6 message, from its type byte on, through
// decode_ra as router_adverts reads what its raw socket receives. Any crash,
// sanitizer report or broken invariant (abort) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "v6lab/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  v6lab::Decoded<v6lab::RouterAdvert> d = v6lab::decode_ra(data, size);
  if (!d) {
    if (d.error.empty()) std::abort();  // no value must say why
    return 0;
  }
  // Every option is at least 8 bytes: an RA cannot yield more items than that.
  std::size_t items = d->prefixes.size() + d->routes.size() + d->dnssl.size() + d->rdnss.size() +
                      d->pref64.size();
  if (items > size) std::abort();
  for (const auto& p : d->prefixes)
    if (p.prefix.size() > 43) std::abort();  // "xxxx:...:xxxx/128"
  for (const auto& p : d->pref64)
    if (p.prefix.size() > 43 || p.lifetime > 65528 || p.lifetime % 8) std::abort();
  for (const auto& n : d->dnssl)
    if (n.empty() || n.size() > 255) std::abort();
  return 0;
}
