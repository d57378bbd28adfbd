// libFuzzer harness: one datagram as ping's raw sockets receive it, through
// decode_icmp as ICMPv6 (from the ICMPv6 header) and as ICMP (from the IPv4
// header), then echo_answered. Any crash, sanitizer report or broken
// invariant (abort) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "v6lab/decode.hpp"

namespace {
void check(const v6lab::Decoded<v6lab::IcmpMessage>& d) {
  if (!d) {
    if (d.error.empty()) std::abort();
    return;
  }
  if (!d->reply && (d->error.kind.empty() || d->error.detail.empty() || d->quoted_dst.empty()))
    std::abort();  // an error must say what it is and whom it quotes
  (void)v6lab::echo_answered(*d, d->id, "2001:db8::1", "2001:db8::2", false);
  (void)v6lab::echo_answered(*d, d->id, "fe80::1", "ff02::1", true);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check(v6lab::decode_icmp(data, size, true));
  check(v6lab::decode_icmp(data, size, false));
  return 0;
}
