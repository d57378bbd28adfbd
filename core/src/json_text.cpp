#include "v6lab/json_text.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>
#include <vector>

#include "v6lab/error.hpp"

namespace v6lab {

using json = nlohmann::ordered_json;

std::string cut(const std::string& s, std::size_t max) {
  std::size_t n = std::min(s.size(), max);
  // Do not split a UTF-8 sequence: back up to the start of the character.
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
  std::string out;
  out.reserve(n + 8);
  static const char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {  // one line per message, and no NUL in it
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (n < s.size()) out += "\u2026";
  return out;
}

namespace {

// Builds an ordered_json from SAX events: each key is appended (the
// duplicate check uses a hash set, not ordered_map's linear search), and
// parsing stops at the first nesting level past the limit.
class Builder final : public nlohmann::json_sax<json> {
 public:
  explicit Builder(int max_depth) : max_depth_(max_depth) {}

  json root;
  std::string error;        // set when we stopped the parse ourselves
  std::string error_field;  // where

  bool null() override { return put(json(nullptr)); }
  bool boolean(bool v) override { return put(json(v)); }
  bool number_integer(number_integer_t v) override { return put(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(json(v)); }
  bool number_float(number_float_t v, const string_t&) override {
    return put(json(v));
  }
  bool string(string_t& v) override { return put(json(std::move(v))); }
  bool binary(binary_t& v) override { return put(json::binary(std::move(v))); }

  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    Frame& f = stack_.back();
    if (!f.keys.insert(k).second) {
      error_field = path(false);
      error = "duplicate key '" + cut(k) + "'";
      return false;
    }
    auto* obj = f.value->get_ptr<json::object_t*>();
    obj->emplace_back(k, nullptr);  // appended: no linear search
    f.slot = &obj->back().second;
    f.last_key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    std::string what = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, ..."
    auto close_br = what.find("] ");
    if (what.rfind("[json.exception", 0) == 0 && close_br != std::string::npos)
      what = what.substr(close_br + 2);
    syntax_error = cut(what, 200);
    return false;
  }

  std::string syntax_error;

 private:
  struct Frame {
    json* value;
    json* slot = nullptr;  // object: the value of the last key
    std::unordered_set<std::string> keys;
    std::string last_key;
  };

  json* place(json&& v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    Frame& f = stack_.back();
    if (f.value->is_array()) {
      auto* arr = f.value->get_ptr<json::array_t*>();
      arr->push_back(std::move(v));
      return &arr->back();
    }
    *f.slot = std::move(v);
    return f.slot;
  }

  bool put(json&& v) {
    place(std::move(v));
    return true;
  }

  bool open(json&& container) {
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      error_field = path(true);
      error = "nested more than " + std::to_string(max_depth_) +
              " levels deep (a topology needs about 6)";
      return false;
    }
    json* v = place(std::move(container));
    stack_.push_back(Frame{v, nullptr, {}, {}});
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  // A field path as the validator writes it (nodes.h1.routes[0]): to the
  // innermost open container, or with pending to the value about to be
  // placed in it.
  std::string path(bool pending) const {
    std::string p;
    for (std::size_t i = 0; i < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      bool last = i + 1 == stack_.size();
      if (last && !pending) break;
      if (f.value->is_array())
        p += "[" + std::to_string(f.value->size() - (last ? 0 : 1)) + "]";
      else
        p += (p.empty() ? "" : ".") + cut(f.last_key);
    }
    return cut(p, 200);
  }

  int max_depth_;
  std::vector<Frame> stack_;
};

}  // namespace

json parse_json_text(const std::string& text, const std::string& source,
                     int max_depth) {
  if (text.size() > kMaxJsonBytes)
    throw SpecError({{source, "",
                      "is " + std::to_string(text.size()) +
                          " bytes long; at most " +
                          std::to_string(kMaxJsonBytes) + " are read"}});
  Builder b(max_depth);
  bool ok = json::sax_parse(text, &b);
  if (ok) return std::move(b.root);
  if (!b.error.empty()) throw SpecError({{source, b.error_field, b.error}});
  throw SpecError({{source, "", "is not valid JSON: " + (b.syntax_error.empty()
                                                        ? std::string("cannot be parsed")
                                                        : b.syntax_error)}});
}

int json_depth(const json& j, int limit) {
  int deepest = 0;
  std::vector<std::pair<const json*, int>> todo{{&j, 0}};
  while (!todo.empty()) {
    auto [v, d] = todo.back();
    todo.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, d + 1);
    if (deepest > limit) return limit + 1;
    for (const auto& child : *v)
      if (child.is_structured()) todo.emplace_back(&child, d + 1);
  }
  return deepest;
}

}  // namespace v6lab
