// v6lab._core: the thin pybind11 layer over the C++ core. Everything here
// converts; nothing decides. Long kernel work releases the GIL.
#include "register.hpp"

namespace py = pybind11;
using namespace v6lab::py_bindings;

PYBIND11_MODULE(_core, m) {
  m.doc() = "v6lab C++ core: lab runtime over libnl (private; use the v6lab package)";
  register_errors(m);
  register_spec(m);
  register_state(m);
  register_lab(m);
  register_probe(m);
  register_nodefs(m);
  register_wire(m);
  register_socket(m);
}
