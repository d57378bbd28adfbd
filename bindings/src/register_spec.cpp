#include <pybind11/eval.h>
#include <pybind11/stl.h>

#include "register.hpp"
#include "v6lab/error.hpp"
#include "v6lab/images.hpp"
#include "v6lab/json_text.hpp"
#include "v6lab/lab.hpp"
#include "v6lab/preflight.hpp"
#include "v6lab/spec.hpp"

namespace py = pybind11;

namespace v6lab::py_bindings {

namespace {
// Python exception classes, created once at import and kept for the life of
// the interpreter.
PyObject* g_error = nullptr;
PyObject* g_spec_error = nullptr;
PyObject* g_missing = nullptr;
PyObject* g_kernel = nullptr;
}  // namespace

void register_errors(py::module_& m) {
  g_error = PyErr_NewExceptionWithDoc(
      "v6lab._core.Error",
      "A lab could not be built, run or read; the message says what was being "
      "done to what.",
      nullptr, nullptr);
  g_spec_error = PyErr_NewExceptionWithDoc(
      "v6lab._core.SpecError",
      "A topology or image is invalid. args[0] is the message (one line per "
      "problem), args[1] the list of (source, field, message).",
      g_error, nullptr);
  g_missing = PyErr_NewExceptionWithDoc(
      "v6lab._core.MissingBinaryError",
      "A program a node's image needs is not installed; the message names the "
      "Debian package.",
      g_error, nullptr);
  // The kernel refused something: also an OSError, with the kernel's errno.
  // Its str() is the message alone (no "[Errno N]" prefix): errors are one
  // sentence that says what was done to what.
  py::dict ns;
  ns["Error"] = py::handle(g_error);
  py::exec(R"(
class KernelError(Error, OSError):
    """The kernel refused an operation on a lab: an OSError whose errno is the
    kernel's, and whose message says what was done to what."""
    __module__ = "v6lab._core"

    def __str__(self):
        return self.strerror if self.strerror else OSError.__str__(self)
)", ns);
  g_kernel = py::object(ns["KernelError"]).release().ptr();
  m.add_object("KernelError", py::handle(g_kernel));
  m.add_object("Error", py::handle(g_error));
  m.add_object("SpecError", py::handle(g_spec_error));
  m.add_object("MissingBinaryError", py::handle(g_missing));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const SpecError& e) {
      py::list issues;
      for (const auto& i : e.issues())
        issues.append(py::make_tuple(i.source, i.field, i.message));
      py::object args = py::make_tuple(py::str(e.what()), issues);
      PyErr_SetObject(g_spec_error, args.ptr());
    } catch (const MissingBinaryError& e) {
      PyErr_SetString(g_missing, e.what());
    } catch (const KernelError& e) {
      py::object args = py::make_tuple(e.err(), py::str(e.what()));
      PyErr_SetObject(g_kernel, args.ptr());
    } catch (const Error& e) {
      PyErr_SetString(g_error, e.what());
    }
  });
}

namespace {

constexpr auto kInternal = py::return_value_policy::reference_internal;

std::string opt_mtu(const std::optional<int>& mtu) {
  return mtu ? " mtu " + std::to_string(*mtu) : "";
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// The resolved model, read-only: nothing here can be constructed or
// changed from Python. Lists are built on each access; their items refer
// into the Spec, which they keep alive.
void register_addresses(py::module_& m) {
  py::class_<IpAddr>(m, "IpAddr", "An address of a resolved spec, with its prefix length if it has one.")
      .def_readonly("family", &IpAddr::family, "socket.AF_INET6 or socket.AF_INET.")
      .def_property_readonly("address", &IpAddr::str, "The address alone.")
      .def_property_readonly(
          "prefix_len",
          [](const IpAddr& a) -> std::optional<int> {
            return a.prefix_len < 0 ? std::nullopt : std::optional<int>(a.prefix_len);
          })
      .def_property_readonly("cidr", &IpAddr::cidr, "address/length (the address if it has no length).")
      .def_property_readonly("is_link_local", &IpAddr::is_link_local)
      .def("__str__", &IpAddr::cidr)
      .def("__repr__", [](const IpAddr& a) { return "<IpAddr " + a.cidr() + ">"; })
      .def("__eq__", [](const IpAddr& a, const IpAddr& b) { return a == b; }, py::is_operator())
      .def("__hash__", [](const IpAddr& a) { return py::hash(py::str(a.cidr())); });

  py::class_<RouteSpec>(m, "RouteSpec", "A static route of a node's initial state.")
      .def_readonly("dst", &RouteSpec::dst, "The prefix (default is ::/0 or 0.0.0.0/0).")
      .def_readonly("via", &RouteSpec::via, "The gateway, or None.")
      .def_readonly("dev", &RouteSpec::dev, "The output interface, or ''.")
      .def_readonly("metric", &RouteSpec::metric)
      .def("__repr__", [](const RouteSpec& r) {
        return "<RouteSpec " + r.dst.cidr() + (r.via ? " via " + r.via->str() : "") +
               (r.dev.empty() ? "" : " dev " + r.dev) +
               (r.metric ? " metric " + std::to_string(*r.metric) : "") + ">";
      });

  py::class_<BinaryReq>(m, "BinaryReq", "A program a node needs, and the Debian package with it.")
      .def_readonly("name", &BinaryReq::name)
      .def_readonly("package", &BinaryReq::package)
      .def("__repr__", [](const BinaryReq& b) {
        return "<BinaryReq " + b.name + " (" + b.package + ")>";
      });
}

void register_model(py::module_& m) {
  register_addresses(m);
  py::class_<IfaceSpec>(m, "IfaceSpec",
                        "An interface of a node: on a LAN (kind 'lan') or one end of a "
                        "point-to-point link (kind 'link', to peer_node:peer_iface).")
      .def_readonly("name", &IfaceSpec::name)
      .def_readonly("kind", &IfaceSpec::kind)
      .def_readonly("lan", &IfaceSpec::lan, "The LAN's name, or '' on a link.")
      .def_readonly("peer_node", &IfaceSpec::peer_node)
      .def_readonly("peer_iface", &IfaceSpec::peer_iface)
      .def_property_readonly(
          "peer",
          [](const IfaceSpec& i) {
            return i.kind == "link" ? i.peer_node + ":" + i.peer_iface : std::string();
          },
          "'node:iface' at the other end of a link, or '' on a LAN.")
      .def_readonly("mtu", &IfaceSpec::mtu)
      .def_readonly("mac", &IfaceSpec::mac)
      .def_readonly("addresses", &IfaceSpec::addresses)
      .def("__repr__", [](const IfaceSpec& i) {
        std::string to = i.kind == "lan" ? "lan " + i.lan : "link to " + i.peer_node + ":" + i.peer_iface;
        return "<IfaceSpec " + i.name + " on " + to + opt_mtu(i.mtu) + ", " +
               std::to_string(i.addresses.size()) + " addresses>";
      });

  py::class_<NodeSpec>(m, "NodeSpec", "A node with its images applied.")
      .def_readonly("name", &NodeSpec::name)
      .def_readonly("image", &NodeSpec::image, "The images joined by '+'.")
      .def_readonly("images", &NodeSpec::images)
      .def_readonly("roles", &NodeSpec::roles, "Each image's role: host, router, server, provider.")
      .def_readonly("provider", &NodeSpec::provider,
                    "Provided by the lab (the ISP): trainees do not log into it.")
      .def_readonly("sysctls", &NodeSpec::sysctls, "(key, value) in the order they are applied.")
      .def_readonly("binaries", &NodeSpec::binaries)
      .def_readonly("interfaces", &NodeSpec::ifaces)
      .def_readonly("routes", &NodeSpec::routes)
      .def("iface", &NodeSpec::iface, py::arg("name"), kInternal, "The interface, or None.")
      .def("__repr__", [](const NodeSpec& n) {
        return "<NodeSpec " + n.name + " (" + n.image + ") roles " + joined(n.roles, ",") +
               (n.provider ? ", provider" : "") + ", " + std::to_string(n.ifaces.size()) +
               " interfaces>";
      });

  py::class_<LanSpec>(m, "LanSpec", "A LAN: one L2 segment (a bridge in the switch namespace).")
      .def_readonly("name", &LanSpec::name)
      .def_readonly("mtu", &LanSpec::mtu)
      .def_readonly("members", &LanSpec::members,
                    "(node, iface) in the order links were declared: member k is switch port k.")
      .def("__repr__", [](const LanSpec& l) {
        return "<LanSpec " + l.name + opt_mtu(l.mtu) + ", " + std::to_string(l.members.size()) +
               " members>";
      });

  py::class_<LinkSpec>(m, "LinkSpec", "A point-to-point link (a veth pair).")
      .def_readonly("node_a", &LinkSpec::node_a)
      .def_readonly("iface_a", &LinkSpec::iface_a)
      .def_readonly("node_b", &LinkSpec::node_b)
      .def_readonly("iface_b", &LinkSpec::iface_b)
      .def_readonly("mtu", &LinkSpec::mtu)
      .def_property_readonly("endpoints",
                             [](const LinkSpec& l) {
                               return std::vector<std::pair<std::string, std::string>>{
                                   {l.node_a, l.iface_a}, {l.node_b, l.iface_b}};
                             })
      .def("__repr__", [](const LinkSpec& l) {
        return "<LinkSpec " + l.node_a + ":" + l.iface_a + " -- " + l.node_b + ":" + l.iface_b +
               opt_mtu(l.mtu) + ">";
      });
}

}  // namespace

void register_spec(py::module_& m) {
  register_model(m);
  py::class_<ImageRegistry>(m, "ImageRegistry",
                            "Node images loaded from a directory of JSON files.")
      .def_static("load_dir", &ImageRegistry::load_dir, py::arg("directory"))
      .def_static("load_path", &ImageRegistry::load_path, py::arg("directories"),
                  "Directories in order; a later one's image replaces an earlier one's of that name.")
      .def("names", &ImageRegistry::names)
      .def(
          "describe",
          [](const ImageRegistry& r, const std::string& name) -> py::object {
            const Image* i = r.find(name);
            if (!i) return py::none();
            py::dict d;
            d["name"] = i->name;
            d["description"] = i->description;
            d["extends"] = i->extends;
            d["role"] = i->role;
            d["source"] = i->source;
            py::dict sc;
            for (const auto& [k, v] : i->sysctls) sc[py::str(k)] = v;
            d["sysctls"] = sc;
            py::list b;
            for (const auto& x : i->binaries)
              b.append(py::dict(py::arg("name") = x.name,
                                py::arg("package") = x.package));
            d["binaries"] = b;
            return d;
          },
          py::arg("name"));

  py::class_<Spec>(m, "Spec", "A validated, resolved topology.")
      .def_static(
          "parse",
          [](const std::string& json_text, const std::string& source,
             const ImageRegistry& images) {
            // Linear and depth-limited; errors name source.
            return parse_spec(parse_json_text(json_text, source), source, images);
          },
          py::arg("json_text"), py::arg("source"), py::arg("images"))
      .def_static(
          "from_json",
          [](const std::string& json_text, const std::string& origin) {
            // What to_json wrote (a lab's record); errors name origin and the field.
            return spec_from_json(parse_json_text(json_text, origin), origin);
          },
          py::arg("json_text"), py::arg("origin"))
      .def_readonly("name", &Spec::name)
      .def_readonly("source", &Spec::source)
      .def_readonly("nodes", &Spec::nodes)
      .def_readonly("lans", &Spec::lans)
      .def_readonly("links", &Spec::links)
      .def("node", &Spec::node, py::arg("name"), kInternal, "The node, or None.")
      .def("lan", &Spec::lan, py::arg("name"), kInternal, "The LAN, or None.")
      .def("to_json", [](const Spec& s) { return s.to_json().dump(); })
      .def(
          "to_dict",
          [](const Spec& s) {
            return py::module_::import("json").attr("loads")(s.to_json().dump());
          },
          "The resolved spec as plain data (what --json prints and records keep).")
      .def("__eq__", [](const Spec& a, const Spec& b) { return a.to_json() == b.to_json(); },
           py::is_operator())
      .def("__repr__",
           [](const Spec& s) {
             return "<Spec " + s.name + " from " + s.source + ": " + std::to_string(s.nodes.size()) +
                    " nodes, " + std::to_string(s.lans.size()) + " LANs, " +
                    std::to_string(s.links.size()) + " links>";
           })
      .def("node_names",
           [](const Spec& s) {
             std::vector<std::string> v;
             for (const auto& n : s.nodes) v.push_back(n.name);
             return v;
           })
      .def("missing_binaries", &missing_binaries)
      .def("fds_needed", &fds_needed,
           "File descriptors building this lab holds open at once (an estimate).")
      .def(
          "fd_limit_problem",
          [](const Spec& s, std::uint64_t hard_limit) {
            return fd_limit_problem(s, hard_limit ? hard_limit : nofile_hard_limit());
          },
          py::arg("hard_limit") = 0,
          "'' if the lab fits in the hard RLIMIT_NOFILE (or hard_limit), else "
          "one sentence saying how to raise it.");

  m.def("find_program", &find_program, py::arg("name"),
        "Full path of a program on PATH (or /usr/sbin, /sbin), or ''.");
}

}  // namespace v6lab::py_bindings
