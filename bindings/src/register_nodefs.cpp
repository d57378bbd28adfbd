// The outside view of a node's files and processes (nodefs.hpp). Errors
// reading a node file become NodeFileError, a subclass of Error that keeps
// the kind ("not_regular", "too_large", ...) and the errno.
#include <pybind11/stl.h>

#include "register.hpp"
#include "v6lab/nodefs.hpp"

namespace py = pybind11;

namespace v6lab::py_bindings {

namespace {
PyObject* g_node_file_error = nullptr;  // lives as long as the interpreter

void register_node_file_error(py::module_& m) {
  g_node_file_error = PyErr_NewExceptionWithDoc(
      "v6lab._core.NodeFileError",
      "A node's file or process could not be read from outside. `kind` is one of "
      "not_found, not_regular, too_large, refused, timed_out, process_gone, io; "
      "`errno` is the system error (0 if none).",
      m.attr("Error").ptr(), nullptr);
  m.add_object("NodeFileError", py::handle(g_node_file_error));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const NodeFileError& e) {
      py::object exc = py::reinterpret_borrow<py::object>(g_node_file_error)(py::str(e.what()));
      exc.attr("kind") = node_file_error_kind_name(e.kind());
      exc.attr("errno") = e.err();
      PyErr_SetObject(g_node_file_error, exc.ptr());
    }
  });
}
}  // namespace

void register_nodefs(py::module_& m) {
  using rel = py::call_guard<py::gil_scoped_release>;
  register_node_file_error(m);

  py::class_<NodeProcess>(m, "NodeProcess",
                          "A process in a node's PID namespace, as the host's /proc reports it. "
                          "comm is chosen by the process: a label, not evidence.")
      .def_readonly("host_pid", &NodeProcess::host_pid)
      .def_readonly("node_pid", &NodeProcess::node_pid)
      .def_readonly("host_ppid", &NodeProcess::host_ppid)
      .def_readonly("starttime", &NodeProcess::starttime)
      .def_readonly("exe_dev", &NodeProcess::exe_dev)
      .def_readonly("exe_ino", &NodeProcess::exe_ino)
      .def_readonly("exe_path", &NodeProcess::exe_path)
      .def_readonly("uid", &NodeProcess::uid)
      .def_readonly("node_uid", &NodeProcess::node_uid)
      .def_readonly("comm", &NodeProcess::comm)
      .def_property_readonly("state", [](const NodeProcess& p) { return std::string(1, p.state); })
      .def("__repr__", [](const NodeProcess& p) {
        return "<NodeProcess " + std::to_string(p.node_pid) + " (host " +
               std::to_string(p.host_pid) + ") " + p.comm + " " + p.exe_path + ">";
      });

  py::class_<MulticastGroup>(m, "MulticastGroup", "A group an interface has joined (igmp6).")
      .def_readonly("ifindex", &MulticastGroup::ifindex)
      .def_readonly("ifname", &MulticastGroup::ifname)
      .def_readonly("group", &MulticastGroup::group)
      .def_readonly("users", &MulticastGroup::users)
      .def("__repr__", [](const MulticastGroup& g) {
        return "<MulticastGroup " + g.ifname + " " + g.group + ">";
      });

  py::class_<ProcessIdentity>(m, "ProcessIdentity",
                              "Kernel identities of a process (namespaces as (dev, ino)).")
      .def_readonly("pid", &ProcessIdentity::pid)
      .def_readonly("starttime", &ProcessIdentity::starttime)
      .def_readonly("ppid", &ProcessIdentity::ppid)
      .def_property_readonly("netns", [](const ProcessIdentity& i) {
        return py::make_tuple(i.netns_dev, i.netns_ino);
      })
      .def_property_readonly("pidns", [](const ProcessIdentity& i) {
        return py::make_tuple(i.pidns_dev, i.pidns_ino);
      });

  m.def(
      "read_node_file",
      [](const std::string& node, pid_t pid, unsigned long long starttime,
         const std::string& path, std::size_t max_bytes, double timeout, bool follow_symlinks) {
        std::string data;
        {
          py::gil_scoped_release r;
          data = read_node_file(NodeRef{node, pid, starttime}, path, max_bytes, timeout,
                                follow_symlinks);
        }
        return py::bytes(data);
      },
      py::arg("node"), py::arg("pid"), py::arg("starttime"), py::arg("path"),
      py::arg("max_bytes") = 65536, py::arg("timeout") = 2.0, py::arg("follow_symlinks") = true,
      "The bytes of a regular file inside a node, read from the host through the "
      "node init's root: symlinks stay inside the node; FIFOs, devices, pseudo "
      "filesystems and files over max_bytes are refused (NodeFileError).");
  m.def(
      "list_node_processes",
      [](const std::string& node, pid_t pid, unsigned long long starttime, double timeout) {
        py::gil_scoped_release r;
        return list_node_processes(NodeRef{node, pid, starttime}, timeout);
      },
      py::arg("node"), py::arg("pid"), py::arg("starttime"), py::arg("timeout") = 5.0,
      "Every live process in the node's PID namespace (its init included).");
  m.def(
      "remember_pid_namespaces",
      [] {
        py::gil_scoped_release r;
        return remember_pid_namespaces();
      },
      "Scans the host's /proc now, on this thread, so that later calls of "
      "list_node_processes (here and in forked children) look up only new "
      "processes' PID namespaces; returns how many processes it knows.");
  m.def(
      "node_multicast_groups",
      [](const std::string& node, pid_t pid, unsigned long long starttime, double timeout) {
        py::gil_scoped_release r;
        return node_multicast_groups(NodeRef{node, pid, starttime}, timeout);
      },
      py::arg("node"), py::arg("pid"), py::arg("starttime"), py::arg("timeout") = 2.0,
      "The node's IPv6 multicast memberships (/proc/PID/net/igmp6 of its init).");
  m.def("process_identity", &process_identity, py::arg("pid"), py::arg("starttime"), rel(),
        "Start time, parent and namespace identities of a live process; raises "
        "NodeFileError (process_gone) if pid is not the process that started at starttime.");
}

}  // namespace v6lab::py_bindings
