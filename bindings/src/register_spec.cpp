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

void register_spec(py::module_& m) {
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
      .def_readonly("name", &Spec::name)
      .def_readonly("source", &Spec::source)
      .def("to_json", [](const Spec& s) { return s.to_json().dump(); })
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
