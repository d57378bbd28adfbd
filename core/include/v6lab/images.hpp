// Node images: JSON role definitions (host, router, servers) that may extend
// one another. An image says which sysctls a node of that role starts with
// and which programs the role needs (with the Debian package providing them).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace v6lab {

struct BinaryReq {
  std::string name;     // program looked up on PATH, e.g. "radvd"
  std::string package;  // Debian package that provides it
};

struct Image {
  std::string name;
  std::string description;
  std::string extends;   // empty for a root image
  // What a node of this image is: host, router, server or provider
  // (inherited through extends; "host" for a root image that says nothing).
  std::string role;
  std::string source;    // file it came from
  // Resolved (own entries overlaid on the parent's), in application order.
  std::vector<std::pair<std::string, std::string>> sysctls;
  std::vector<BinaryReq> binaries;
  // This image's own entries, and its extends chain root first (ending with
  // itself): a node of several images applies each ancestor once.
  std::vector<std::pair<std::string, std::string>> own_sysctls;
  std::vector<BinaryReq> own_binaries;
  std::vector<std::string> chain;
};

class ImageRegistry {
 public:
  // Loads every *.json in dir. Throws SpecError naming file and field for
  // bad files, unknown parents and extends cycles.
  static ImageRegistry load_dir(const std::string& dir);
  // Loads a search path of directories, in order (the project's, a lab's
  // own, the user's): an image in a later directory replaces the one of
  // that name in an earlier directory.
  static ImageRegistry load_path(const std::vector<std::string>& dirs);
  // Builds from (source, json) pairs; what load_dir uses, and tests.
  static ImageRegistry from_json(
      const std::vector<std::pair<std::string, nlohmann::ordered_json>>& files);

  const Image* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Image> images_;
};

// Finds a program on PATH (plus /usr/sbin and /sbin, where Debian puts
// daemons). Returns the full path or "".
std::string find_program(const std::string& name);

}  // namespace v6lab
