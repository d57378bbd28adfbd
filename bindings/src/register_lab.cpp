#include <pybind11/stl.h>

#include "register.hpp"
#include "v6lab/lab.hpp"
#include "v6lab/nsutil.hpp"

namespace py = pybind11;

namespace v6lab::py_bindings {

void register_lab(py::module_& m) {
  using rel = py::call_guard<py::gil_scoped_release>;

  m.def("kernel_feature_missing", &kernel_feature_missing, py::arg("feature"),
        "'' if the kernel provides a link kind (sit, ip6tnl, gre, dummy, ...) or the "
        "netem qdisc, otherwise what is missing and the kernel option.",
        py::call_guard<py::gil_scoped_release>());
  m.def("process_starttime", &process_starttime, py::arg("pid"),
        "Start time of a process (field 22 of /proc/PID/stat); 0 if it is gone "
        "or a zombie.");
  m.def("default_id_range", [] {
        IdRange r = default_id_range();
        return std::make_pair(r.base, r.count);
      },
        "(base, count): the host ids a lab's nodes run as (node id N is host id base+N).");
  m.def("namespace_support", &namespace_support,
        "'' if labs can be built here, otherwise why not (one sentence).");

  py::class_<NodeHandle>(m, "NodeHandle",
                         "A node's namespaces, for reading kernel state over "
                         "netlink from outside the node.")
      .def_static("attach", &NodeHandle::attach, py::arg("name"), py::arg("pid"),
                  py::arg("starttime"), rel())
      .def_property_readonly("name", &NodeHandle::name)
      .def_property_readonly("pid", &NodeHandle::pid)
      .def_property_readonly("starttime", &NodeHandle::starttime)
      .def("links", &NodeHandle::links, rel())
      .def("addresses", &NodeHandle::addresses, py::arg("family") = 0, rel())
      .def("routes", &NodeHandle::routes, py::arg("family") = 0,
           py::arg("all_tables") = false, rel())
      .def("neighbours", &NodeHandle::neighbours, py::arg("family") = 0, rel())
      .def("sysctl", &NodeHandle::sysctl, py::arg("key"), rel())
      .def("set_sysctl", &NodeHandle::set_sysctl, py::arg("key"),
           py::arg("value"), rel());

  py::class_<Lab>(m, "Lab", "A running lab; built entirely or not at all.")
      .def(py::init([](const Spec& spec, const std::string& init_path) {
             // Released in the factory, not by a call guard: pybind11
             // registers the instance after the factory returns, and must
             // hold the GIL for that (see register_wire.cpp).
             py::gil_scoped_release r;
             return std::make_unique<Lab>(spec, LabOptions{init_path});
           }),
           py::arg("spec"), py::arg("init_path"))
      .def("stop", &Lab::stop, rel())
      .def_property_readonly("running", &Lab::running)
      .def_property_readonly("limits", &Lab::limits)
      .def_property_readonly("id_base", &Lab::id_base)
      .def_property_readonly("spec", &Lab::spec, py::return_value_policy::reference_internal)
      .def("node", &Lab::node, py::arg("name"), py::return_value_policy::reference_internal)
      .def("node_names", &Lab::node_names)
      .def("switch_ns", &Lab::switch_ns, py::return_value_policy::reference_internal)
      .def("lan_bridge", &Lab::lan_bridge, py::arg("lan"))
      .def("timing", [](const Lab& l) {
        const auto& t = l.timing();
        py::dict d;
        d["spawn"] = t.spawn;
        d["sockets"] = t.sockets;
        d["links"] = t.links;
        d["addresses"] = t.addresses;
        d["total"] = t.total;
        return d;
      });
}

}  // namespace v6lab::py_bindings
