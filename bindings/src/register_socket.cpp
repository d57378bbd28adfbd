// NodeHandle.open_socket: a socket made inside a node's network namespace
// (core/include/v6lab/node_socket.hpp), returned as a bare fd number that
// Python wraps with socket.socket(fileno=fd) and from then on owns. Errors
// become v6lab._core.SocketError, both a v6lab Error and an OSError whose
// errno is the kernel's.
#include <pybind11/stl.h>

#include <optional>

#include "register.hpp"
#include "v6lab/lab.hpp"
#include "v6lab/node_socket.hpp"

namespace py = pybind11;

namespace v6lab::py_bindings {

namespace {

PyObject* g_socket_error = nullptr;

template <typename T>
void take(py::dict& d, const char* key, T& into) {
  if (d.contains(key)) {
    into = d[key].cast<T>();
    d.attr("pop")(key);
  }
}

// The options dict, strictly: an unknown key is a typo in a check, so it
// raises rather than being ignored.
SocketOptions to_options(const py::dict& given) {
  py::dict d(given);
  d = d.attr("copy")();
  SocketOptions o;
  take(d, "reuse_addr", o.reuse_addr);
  take(d, "reuse_port", o.reuse_port);
  take(d, "broadcast", o.broadcast);
  take(d, "v6only", o.v6only);
  take(d, "recv_pktinfo", o.recv_pktinfo);
  take(d, "recv_hoplimit", o.recv_hoplimit);
  take(d, "nonblocking", o.nonblocking);
  take(d, "unicast_hops", o.unicast_hops);
  take(d, "multicast_hops", o.multicast_hops);
  take(d, "multicast_if", o.multicast_if);
  take(d, "icmp6_filter_type", o.icmp6_filter_type);
  if (d.contains("multicast_loop")) {
    o.multicast_loop = d["multicast_loop"].cast<bool>() ? 1 : 0;
    d.attr("pop")("multicast_loop");
  }
  take(d, "join_groups", o.join_groups);
  if (py::len(d)) {
    std::string keys;
    for (auto kv : d) keys += (keys.empty() ? "" : ", ") + py::str(kv.first).cast<std::string>();
    throw py::value_error("unknown socket option(s): " + keys);
  }
  return o;
}

}  // namespace

void register_socket(py::module_& m) {
  py::tuple bases = py::make_tuple(m.attr("Error"), py::module_::import("builtins").attr("OSError"));
  g_socket_error = PyErr_NewExceptionWithDoc(
      "v6lab._core.SocketError",
      "A socket could not be opened or set up in a node; an OSError whose errno is the "
      "kernel's, and whose message says what was done to what.",
      bases.ptr(), nullptr);
  m.add_object("SocketError", py::handle(g_socket_error));
  // Registered after register_errors, so tried before its translator.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const SocketError& e) {
      py::object args = py::make_tuple(e.err(), py::str(e.what()));
      PyErr_SetObject(g_socket_error, args.ptr());
    }
  });

  py::class_<NodeHandle> h = py::reinterpret_borrow<py::class_<NodeHandle>>(m.attr("NodeHandle"));
  h.def(
      "open_socket",
      [](NodeHandle& n, int family, int type, int proto, std::optional<std::string> bind_iface,
         std::optional<std::string> bind_addr, int port, const py::dict& options) {
        SocketOptions o = to_options(options);
        o.bind_iface = bind_iface.value_or("");
        o.bind_addr = bind_addr.value_or("");
        o.port = port;
        py::gil_scoped_release r;
        return open_node_socket(n, family, type, proto, o).release();
      },
      py::arg("family"), py::arg("type"), py::arg("proto") = 0, py::kw_only(),
      py::arg("bind_iface") = py::none(), py::arg("bind_addr") = py::none(), py::arg("port") = 0,
      py::arg("options") = py::dict(),
      "Opens a socket inside this node's network namespace and returns its fd, which the "
      "caller owns (wrap it: socket.socket(fileno=fd)). options: reuse_addr, reuse_port, "
      "broadcast, v6only, recv_pktinfo, recv_hoplimit, nonblocking, unicast_hops, "
      "multicast_hops, multicast_loop, multicast_if, join_groups, icmp6_filter_type.");
}

}  // namespace v6lab::py_bindings
