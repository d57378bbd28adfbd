// One register_*.cpp per area of the core; module.cpp only calls them.
#pragma once

#include <pybind11/pybind11.h>

namespace v6lab::py_bindings {
void register_errors(pybind11::module_& m);
void register_spec(pybind11::module_& m);
void register_state(pybind11::module_& m);
void register_lab(pybind11::module_& m);
void register_probe(pybind11::module_& m);
void register_nodefs(pybind11::module_& m);
void register_wire(pybind11::module_& m);
void register_socket(pybind11::module_& m);
}  // namespace v6lab::py_bindings
