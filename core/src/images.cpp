#include "v6lab/images.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <cstring>
#include <set>
#include <unordered_map>

#include "v6lab/error.hpp"
#include "v6lab/fd.hpp"
#include "v6lab/json_text.hpp"
#include "v6lab/spec.hpp"

namespace v6lab {

namespace {

using json = nlohmann::ordered_json;

struct RawImage {
  std::string source;
  json j;
};

// An image file larger than this is not an image.
constexpr off_t kMaxImageBytes = 1 << 20;

void overlay(std::vector<std::pair<std::string, std::string>>& into,
             const std::vector<std::pair<std::string, std::string>>& from) {
  std::unordered_map<std::string, std::size_t> pos;
  for (std::size_t i = 0; i < into.size(); ++i) pos[into[i].first] = i;
  for (const auto& kv : from) {
    auto [it, fresh] = pos.emplace(kv.first, into.size());
    if (fresh)
      into.push_back(kv);
    else
      into[it->second].second = kv.second;
  }
}

// A program name or package as written into messages and looked up on
// PATH: not empty, no control characters.
bool valid_binary_field(const std::string& s) {
  return !s.empty() && s.size() <= 255 &&
         std::none_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// Reads one image file without ever blocking: a FIFO, a device or a
// directory named *.json is refused, not opened for reading.
std::string read_image_file(const std::string& path, std::string* why) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    *why = std::string("cannot be read: ") + std::strerror(errno);
    return "";
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    *why = S_ISDIR(st.st_mode) ? "is a directory, not an image file" : "is not a regular file";
    return "";
  }
  if (st.st_size > kMaxImageBytes) {
    *why = "is " + std::to_string(st.st_size) + " bytes long; an image is at most " +
           std::to_string(kMaxImageBytes);
    return "";
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}



// The roles an image may play; graph and inspect draw nodes by role.
const std::set<std::string>& known_roles() {
  static const std::set<std::string> roles = {"host", "router", "server", "provider"};
  return roles;
}

void parse_image_binaries(const json& list, Image& img,
                          const std::function<void(const std::string&, const std::string&)>& bad) {
  if (!list.is_array()) return bad("binaries", "must be a list of {name, package}");
  std::size_t i = 0;
  for (const auto& b : list) {
    std::string f = "binaries[" + std::to_string(i++) + "]";
    if (!b.is_object() || !b.contains("name") || !b["name"].is_string() ||
        !b.contains("package") || !b["package"].is_string()) {
      bad(f, "must be an object with string fields name and package");
      continue;
    }
    for (const auto& [k, v] : b.items())
      if (k != "name" && k != "package") bad(f + "." + cut(k, 64), "unknown key (expected name, package)");
    if (!valid_binary_field(b["name"].get<std::string>()))
      bad(f + ".name", "must be a program name (not empty, no control characters)");
    if (!valid_binary_field(b["package"].get<std::string>()))
      bad(f + ".package", "must be a Debian package name (not empty)");
    img.binaries.push_back({b["name"].get<std::string>(), b["package"].get<std::string>()});
  }
}

// One image file's own fields (extends not yet resolved); false if it
// cannot be an image at all (no name, not an object).
bool parse_image(const std::string& source, const json& j, Image& img, std::vector<SpecIssue>& issues) {
  auto bad = [&](const std::string& field, const std::string& msg) {
    issues.push_back({source, field, msg});
  };
  static const std::set<std::string> keys = {"name", "description", "extends", "role",
                                             "sysctls", "binaries"};
  if (!j.is_object()) return bad("", "an image must be a JSON object"), false;
  if (json_depth(j) > kMaxJsonDepth)
    return bad("", "nested more than " + std::to_string(kMaxJsonDepth) + " levels deep"), false;
  for (const auto& [k, v] : j.items())
    if (!keys.count(k))
      bad(cut(k, 64), "unknown key (expected one of: name, description, extends, role, "
                      "sysctls, binaries)");
  img.source = source;
  if (!j.contains("name") || !j["name"].is_string()) return bad("name", "missing or not a string"), false;
  img.name = j["name"].get<std::string>();
  std::string why;
  if (!valid_node_name(img.name, &why)) bad("name", why);
  auto text = [&](const char* key, std::string& out, const char* what) {
    if (!j.contains(key)) return;
    if (j[key].is_string())
      out = j[key].get<std::string>();
    else
      bad(key, what);
  };
  text("description", img.description, "must be a string");
  text("extends", img.extends, "must be the name of another image");
  text("role", img.role, "must be one of host, router, server, provider");
  if (!img.role.empty() && !known_roles().count(img.role))
    bad("role", "unknown role '" + cut(img.role) + "' (known: host, router, server, provider)");
  if (j.contains("sysctls")) {
    if (!j["sysctls"].is_object()) {
      bad("sysctls", "must be an object of key: value");
    } else {
      for (const auto& [k, v] : j["sysctls"].items()) {
        std::string w, val;
        if (!valid_node_sysctl(k, &w))
          bad("sysctls." + cut(k, 64), w);
        else if (!sysctl_value(v, &val, &w))
          bad("sysctls." + cut(k, 64), w);
        else
          img.sysctls.emplace_back(k, val);
      }
    }
  }
  if (j.contains("binaries")) parse_image_binaries(j["binaries"], img, bad);
  return true;
}

// Adds b to binaries, or replaces the package of a program already there.
void add_binary(std::vector<BinaryReq>& binaries, const BinaryReq& b) {
  auto same = std::find_if(binaries.begin(), binaries.end(),
                           [&](const BinaryReq& x) { return x.name == b.name; });
  if (same != binaries.end())
    same->package = b.package;
  else
    binaries.push_back(b);
}

// The chain from img up to its root; empty (with an issue) on an unknown
// parent or a cycle.
std::vector<const Image*> extends_chain(const Image& img, const std::map<std::string, Image>& own,
                                        std::vector<SpecIssue>& issues) {
  std::vector<const Image*> chain;
  std::set<std::string> seen;
  const Image* cur = &img;
  while (cur) {
    if (!seen.insert(cur->name).second) {
      std::string cyc;
      for (auto* c : chain) cyc += c->name + " -> ";
      issues.push_back({img.source, "extends", "extends cycle: " + cyc + cur->name});
      return {};
    }
    chain.push_back(cur);
    if (cur->extends.empty()) break;
    auto it = own.find(cur->extends);
    if (it == own.end()) {
      issues.push_back({cur->source, "extends", "unknown image '" + cut(cur->extends) + "'"});
      return {};
    }
    cur = &it->second;
  }
  return chain;
}

// Root first, so each image overrides its parent (a child may change a
// sysctl's value, the package that provides a program, or its role).
Image resolve(const Image& img, const std::vector<const Image*>& chain) {
  Image r = img;
  r.own_sysctls = img.sysctls;
  r.own_binaries = img.binaries;
  r.sysctls.clear();
  r.binaries.clear();
  r.role.clear();
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    r.chain.push_back((*it)->name);
    overlay(r.sysctls, (*it)->sysctls);
    for (const auto& b : (*it)->binaries) add_binary(r.binaries, b);
    if (!(*it)->role.empty()) r.role = (*it)->role;
  }
  if (r.role.empty()) r.role = "host";
  for (const Image* c : chain)  // the nearest image that describes itself
    if (!c->description.empty()) {
      r.description = c->description;
      break;
    }
  return r;
}

void sort_unique(std::vector<SpecIssue>& issues) {
  // Cycles are reported once per member; keep one message per file+field.
  std::sort(issues.begin(), issues.end(), [](const auto& a, const auto& b) {
    return std::tie(a.source, a.field, a.message) < std::tie(b.source, b.field, b.message);
  });
  issues.erase(std::unique(issues.begin(), issues.end(),
                           [](const auto& a, const auto& b) {
                             return a.source == b.source && a.field == b.field && a.message == b.message;
                           }),
               issues.end());
}

}  // namespace

ImageRegistry ImageRegistry::from_json(
    const std::vector<std::pair<std::string, json>>& files) {
  std::vector<SpecIssue> issues;
  std::map<std::string, Image> own;  // not yet resolved
  for (const auto& file : files) {
    Image img;
    if (!parse_image(file.first, file.second, img, issues)) continue;
    if (own.count(img.name)) {
      issues.push_back({file.first, "name", "image '" + cut(img.name) + "' is also defined in " +
                                                own[img.name].source});
      continue;
    }
    own[img.name] = img;
  }
  ImageRegistry reg;
  for (auto& [name, img] : own) {
    auto chain = extends_chain(img, own, issues);
    if (!chain.empty()) reg.images_[name] = resolve(img, chain);
  }
  sort_unique(issues);
  if (!issues.empty()) throw SpecError(std::move(issues));
  return reg;
}

namespace {

// Every *.json of dir, read and parsed (problems into issues).
void read_image_dir(const std::string& dir, std::vector<std::pair<std::string, json>>& files,
                    std::vector<SpecIssue>& issues) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw_errno("read image directory " + dir, errno);
  std::vector<std::string> names;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string path = dir + "/" + n;
    std::string why;
    std::string text = read_image_file(path, &why);
    if (!why.empty()) {
      issues.push_back({path, "", why});
      continue;
    }
    try {
      files.emplace_back(path, parse_json_text(text, path));
    } catch (const SpecError& e) {
      issues.insert(issues.end(), e.issues().begin(), e.issues().end());
    }
  }
}

}  // namespace

ImageRegistry ImageRegistry::load_path(const std::vector<std::string>& dirs) {
  std::vector<std::pair<std::string, json>> files;
  std::vector<SpecIssue> issues;
  for (const auto& dir : dirs) {
    std::vector<std::pair<std::string, json>> here;
    read_image_dir(dir, here, issues);
    // A later directory (a lab's own images, the user's) redefines an image
    // of an earlier one (the project's) by name; within one directory a
    // name given twice stays an error.
    for (auto& f : here) {
      const json& j = f.second;
      std::string name = j.is_object() && j.contains("name") && j["name"].is_string()
                             ? j["name"].get<std::string>() : "";
      auto earlier = std::find_if(files.begin(), files.end(), [&](const auto& g) {
        return !name.empty() && g.second.is_object() && g.second.contains("name") &&
               g.second["name"] == name && g.first.rfind(dir + "/", 0) != 0;
      });
      if (earlier != files.end())
        *earlier = std::move(f);
      else
        files.push_back(std::move(f));
    }
  }
  if (!issues.empty()) throw SpecError(std::move(issues));
  return from_json(files);
}

ImageRegistry ImageRegistry::load_dir(const std::string& dir) { return load_path({dir}); }

const Image* ImageRegistry::find(const std::string& name) const {
  auto it = images_.find(name);
  return it == images_.end() ? nullptr : &it->second;
}

std::vector<std::string> ImageRegistry::names() const {
  std::vector<std::string> n;
  for (const auto& [k, v] : images_) n.push_back(k);
  return n;
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos)
    return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* p = ::getenv("PATH");
  std::string path = p ? p : "";
  path += ":/usr/local/sbin:/usr/sbin:/sbin";
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty()) {
      std::string full = dir + "/" + name;
      struct stat st;
      if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          ::access(full.c_str(), X_OK) == 0)
        return full;
    }
    start = end + 1;
  }
  return "";
}

}  // namespace v6lab
