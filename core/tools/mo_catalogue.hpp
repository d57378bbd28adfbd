// A gettext catalogue (.mo file) read without gettext: for v6lab-check,
// which must say its few messages in the trainee's language and cannot ask
// glibc's gettext (that wants the language's locale installed, and a
// static program cannot load one by name). The format is GNU gettext's:
// a header, then two tables of (length, offset) pairs, the message ids and
// their translations, in the same order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace v6lab {

class MoCatalogue {
 public:
  // Reads path; false (and an empty catalogue) if it is missing, too large
  // or not a well-formed .mo file.
  bool load(const std::string& path);
  // Parses the bytes of a .mo file; false if they are not one.
  bool parse(std::string data);
  // The translation of msgid (a singular message without context), if the
  // catalogue has one.
  std::optional<std::string> find(const std::string& msgid) const;

 private:
  std::string data_;
  uint32_t count_ = 0, originals_ = 0, translations_ = 0;
  bool swapped_ = false;

  uint32_t word(uint32_t offset) const;
  std::optional<std::string> entry(uint32_t table, uint32_t i) const;
};

}  // namespace v6lab
