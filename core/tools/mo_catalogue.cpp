#include "mo_catalogue.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace v6lab {

namespace {

constexpr uint32_t kMagic = 0x950412de;
constexpr off_t kMaxSize = 16 << 20;

uint32_t swap32(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

}  // namespace

bool MoCatalogue::load(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  struct stat st {};
  std::string data;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= kMaxSize;
  if (ok) {
    data.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < data.size()) {
      ssize_t n = read(fd, data.data() + got, data.size() - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    data.resize(got);
  }
  close(fd);
  return ok && parse(std::move(data));
}

bool MoCatalogue::parse(std::string data) {
  data_ = std::move(data);
  count_ = 0;
  if (data_.size() < 20) return false;
  uint32_t magic = 0;
  data_.copy(reinterpret_cast<char*>(&magic), 4, 0);
  if (magic != kMagic && swap32(magic) != kMagic) return false;
  swapped_ = magic != kMagic;
  uint32_t count = word(8), originals = word(12), translations = word(16);
  uint64_t end = uint64_t{count} * 8;
  if (originals + end > data_.size() || translations + end > data_.size()) return false;
  count_ = count;
  originals_ = originals;
  translations_ = translations;
  return true;
}

uint32_t MoCatalogue::word(uint32_t offset) const {
  uint32_t v = 0;
  data_.copy(reinterpret_cast<char*>(&v), 4, offset);
  return swapped_ ? swap32(v) : v;
}

std::optional<std::string> MoCatalogue::entry(uint32_t table, uint32_t i) const {
  uint32_t length = word(table + i * 8), offset = word(table + i * 8 + 4);
  if (uint64_t{offset} + length > data_.size()) return std::nullopt;
  return data_.substr(offset, length);
}

std::optional<std::string> MoCatalogue::find(const std::string& msgid) const {
  for (uint32_t i = 0; i < count_; ++i) {
    std::optional<std::string> id = entry(originals_, i);
    if (id && *id == msgid) return entry(translations_, i);
  }
  return std::nullopt;
}

}  // namespace v6lab
