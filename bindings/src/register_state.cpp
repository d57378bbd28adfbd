#include <pybind11/stl.h>

#include "register.hpp"
#include "v6lab/state.hpp"

namespace py = pybind11;

namespace v6lab::py_bindings {

void register_state(py::module_& m) {
  py::class_<LinkInfo>(m, "LinkInfo", "A network interface as the kernel reports it.")
      .def_readonly("index", &LinkInfo::index)
      .def_readonly("name", &LinkInfo::name)
      .def_readonly("kind", &LinkInfo::kind)
      .def_readonly("up", &LinkInfo::up)
      .def_readonly("running", &LinkInfo::running)
      .def_readonly("operstate", &LinkInfo::operstate)
      .def_readonly("mtu", &LinkInfo::mtu)
      .def_readonly("mac", &LinkInfo::mac)
      .def_readonly("master", &LinkInfo::master)
      .def("__repr__", [](const LinkInfo& l) {
        return "<LinkInfo " + l.name + " " + l.kind + " " + l.operstate +
               " mtu " + std::to_string(l.mtu) + " " + l.mac + ">";
      });

  py::class_<AddressInfo>(m, "AddressInfo",
                          "An address with its flags and lifetimes (seconds; "
                          "None means forever).")
      .def_readonly("ifname", &AddressInfo::ifname)
      .def_readonly("ifindex", &AddressInfo::ifindex)
      .def_readonly("family", &AddressInfo::family)
      .def_readonly("address", &AddressInfo::address)
      .def_readonly("prefix_len", &AddressInfo::prefix_len)
      .def_readonly("scope", &AddressInfo::scope)
      .def_readonly("flags", &AddressInfo::flags)
      .def_readonly("valid_lft", &AddressInfo::valid_lft)
      .def_readonly("preferred_lft", &AddressInfo::preferred_lft)
      .def_property_readonly("tentative", &AddressInfo::tentative)
      .def_property_readonly("dadfailed", &AddressInfo::dadfailed)
      .def_property_readonly("deprecated", &AddressInfo::deprecated)
      .def_property_readonly("temporary", &AddressInfo::temporary)
      .def_property_readonly("mngtmpaddr", &AddressInfo::mngtmpaddr)
      .def_property_readonly("permanent", &AddressInfo::permanent)
      .def_property_readonly("optimistic", &AddressInfo::optimistic)
      .def_property_readonly("flag_names", &AddressInfo::flag_names)
      .def_property_readonly("cidr",
                             [](const AddressInfo& a) {
                               return a.address + "/" + std::to_string(a.prefix_len);
                             })
      .def("__repr__", [](const AddressInfo& a) {
        std::string f;
        for (const auto& n : a.flag_names()) f += " " + n;
        return "<AddressInfo " + a.ifname + " " + a.address + "/" +
               std::to_string(a.prefix_len) + " scope " + a.scope + f + ">";
      });

  py::class_<NextHop>(m, "NextHop")
      .def_readonly("gateway", &NextHop::gateway)
      .def_readonly("ifname", &NextHop::ifname)
      .def_readonly("ifindex", &NextHop::ifindex)
      .def("__repr__", [](const NextHop& n) {
        return "<NextHop " + (n.gateway.empty() ? std::string("direct") : "via " + n.gateway) +
               " dev " + n.ifname + ">";
      });

  py::class_<RouteInfo>(m, "RouteInfo",
                        "A route; expires is the seconds left for routes learned "
                        "from Router Advertisements.")
      .def_readonly("family", &RouteInfo::family)
      .def_readonly("dst", &RouteInfo::dst)
      .def_readonly("table", &RouteInfo::table)
      .def_readonly("protocol", &RouteInfo::protocol)
      .def_readonly("type", &RouteInfo::type)
      .def_readonly("metric", &RouteInfo::metric)
      .def_readonly("pref", &RouteInfo::pref)
      .def_readonly("expires", &RouteInfo::expires)
      .def_readonly("nexthops", &RouteInfo::nexthops)
      .def_readonly("mtu", &RouteInfo::mtu,
                    "The route's MTU metric, 0 when unset (ip route ... mtu N).")
      .def_readonly("mtu_locked", &RouteInfo::mtu_locked,
                    "The MTU is locked (mtu lock N): set by hand, PMTUD leaves it.")
      .def_readonly("cached", &RouteInfo::cached,
                    "An entry of the route cache (RTM_F_CLONED, ip -6 route show cache), "
                    "e.g. a path MTU learned from a Packet Too Big: only the kernel makes one.")
      .def("__repr__", [](const RouteInfo& r) {
        std::string s = "<RouteInfo " + r.dst;
        for (const auto& n : r.nexthops) {
          if (!n.gateway.empty()) s += " via " + n.gateway;
          if (!n.ifname.empty()) s += " dev " + n.ifname;
        }
        if (r.mtu) s += std::string(" mtu ") + (r.mtu_locked ? "lock " : "") + std::to_string(r.mtu);
        if (r.cached) s += " cache";
        return s + " proto " + r.protocol + " metric " + std::to_string(r.metric) + ">";
      });

  py::class_<NeighbourInfo>(m, "NeighbourInfo")
      .def_readonly("ifname", &NeighbourInfo::ifname)
      .def_readonly("ifindex", &NeighbourInfo::ifindex)
      .def_readonly("family", &NeighbourInfo::family)
      .def_readonly("address", &NeighbourInfo::address)
      .def_readonly("lladdr", &NeighbourInfo::lladdr)
      .def_readonly("state", &NeighbourInfo::state)
      .def_readonly("router", &NeighbourInfo::router)
      .def("__repr__", [](const NeighbourInfo& n) {
        return "<NeighbourInfo " + n.address + " dev " + n.ifname + " lladdr " +
               n.lladdr + " " + n.state + (n.router ? " router" : "") + ">";
      });
}

}  // namespace v6lab::py_bindings
