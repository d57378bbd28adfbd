#include <pybind11/stl.h>

#include "register.hpp"
#include "v6lab/lab.hpp"
#include "v6lab/probe.hpp"

namespace py = pybind11;

namespace v6lab::py_bindings {

void register_probe(py::module_& m) {
  py::class_<IcmpError>(m, "IcmpError")
      .def_readonly("kind", &IcmpError::kind)
      .def_readonly("type", &IcmpError::type)
      .def_readonly("code", &IcmpError::code)
      .def_readonly("source", &IcmpError::from)
      .def_readonly("mtu", &IcmpError::mtu)
      .def_readonly("detail", &IcmpError::detail)
      .def_readonly("rtt_ms", &IcmpError::rtt_ms)
      .def("__repr__", [](const IcmpError& e) {
        return "<IcmpError " + e.kind + " from " + (e.from.empty() ? "local" : e.from) +
               ": " + e.detail + ">";
      });
  py::class_<PingReply>(m, "PingReply")
      .def_readonly("seq", &PingReply::seq)
      .def_readonly("rtt_ms", &PingReply::rtt_ms)
      .def_readonly("source", &PingReply::from)
      .def_readonly("hop_limit", &PingReply::hop_limit);
  py::class_<PingResult>(m, "PingResult")
      .def_readonly("dst", &PingResult::dst)
      .def_readonly("sent", &PingResult::sent)
      .def_property_readonly("received", &PingResult::received)
      .def_readonly("replies", &PingResult::replies)
      .def_readonly("errors", &PingResult::errors)
      .def_readonly("path_mtu", &PingResult::path_mtu)
      .def("__repr__", [](const PingResult& r) {
        return "<PingResult " + r.dst + " " + std::to_string(r.received()) + "/" +
               std::to_string(r.sent) + " replies, " + std::to_string(r.errors.size()) +
               " errors>";
      });
  py::class_<TracerouteHop>(m, "TracerouteHop")
      .def_readonly("hop", &TracerouteHop::hop)
      .def_readonly("source", &TracerouteHop::from)
      .def_readonly("rtt_ms", &TracerouteHop::rtt_ms)
      .def_readonly("kind", &TracerouteHop::kind);
  py::class_<TracerouteResult>(m, "TracerouteResult")
      .def_readonly("dst", &TracerouteResult::dst)
      .def_readonly("reached", &TracerouteResult::reached)
      .def_readonly("hops", &TracerouteResult::hops);
  py::class_<ConnectResult>(m, "ConnectResult")
      .def_readonly("ok", &ConnectResult::ok)
      .def_readonly("error", &ConnectResult::error)
      .def_readonly("ms", &ConnectResult::ms)
      .def_property_readonly("received", [](const ConnectResult& c) { return py::bytes(c.received); })
      .def("__repr__", [](const ConnectResult& c) {
        return std::string("<ConnectResult ") + (c.ok ? "ok" : c.error) + ">";
      });
  py::class_<DnsRecord>(m, "DnsRecord")
      .def_readonly("name", &DnsRecord::name)
      .def_readonly("type", &DnsRecord::type)
      .def_readonly("ttl", &DnsRecord::ttl)
      .def_readonly("data", &DnsRecord::data)
      .def("__repr__", [](const DnsRecord& d) {
        return "<DnsRecord " + d.name + " " + d.type + " " + d.data + ">";
      });
  py::class_<DnsResult>(m, "DnsResult")
      .def_readonly("answered", &DnsResult::answered)
      .def_readonly("error", &DnsResult::error)
      .def_readonly("rcode", &DnsResult::rcode)
      .def_readonly("authoritative", &DnsResult::authoritative)
      .def_readonly("recursion_available", &DnsResult::recursion_available)
      .def_readonly("truncated", &DnsResult::truncated)
      .def_readonly("answers", &DnsResult::answers)
      .def_readonly("ms", &DnsResult::ms);
  py::class_<RaPrefix>(m, "RaPrefix")
      .def_readonly("prefix", &RaPrefix::prefix)
      .def_readonly("on_link", &RaPrefix::on_link)
      .def_readonly("autonomous", &RaPrefix::autonomous)
      .def_readonly("valid_lifetime", &RaPrefix::valid_lifetime)
      .def_readonly("preferred_lifetime", &RaPrefix::preferred_lifetime)
      .def("__repr__", [](const RaPrefix& p) {
        return "<RaPrefix " + p.prefix + (p.on_link ? " L" : "") + (p.autonomous ? " A" : "") + ">";
      });
  py::class_<RaRoute>(m, "RaRoute")
      .def_readonly("prefix", &RaRoute::prefix)
      .def_readonly("preference", &RaRoute::preference)
      .def_readonly("lifetime", &RaRoute::lifetime);
  py::class_<RaPref64>(m, "RaPref64")
      .def_readonly("prefix", &RaPref64::prefix)
      .def_readonly("lifetime", &RaPref64::lifetime)
      .def("__repr__", [](const RaPref64& p) {
        return "<RaPref64 " + p.prefix + " " + std::to_string(p.lifetime) + " s>";
      });
  py::class_<RouterAdvert>(m, "RouterAdvert")
      .def_readonly("source", &RouterAdvert::from)
      .def_readonly("hop_limit", &RouterAdvert::hop_limit)
      .def_readonly("cur_hop_limit", &RouterAdvert::cur_hop_limit)
      .def_readonly("managed", &RouterAdvert::managed)
      .def_readonly("other", &RouterAdvert::other)
      .def_readonly("home_agent", &RouterAdvert::home_agent)
      .def_readonly("preference", &RouterAdvert::preference)
      .def_readonly("router_lifetime", &RouterAdvert::router_lifetime)
      .def_readonly("reachable_time", &RouterAdvert::reachable_time)
      .def_readonly("retrans_timer", &RouterAdvert::retrans_timer)
      .def_readonly("prefixes", &RouterAdvert::prefixes)
      .def_readonly("rdnss", &RouterAdvert::rdnss)
      .def_readonly("rdnss_lifetime", &RouterAdvert::rdnss_lifetime)
      .def_readonly("dnssl", &RouterAdvert::dnssl)
      .def_readonly("mtu", &RouterAdvert::mtu)
      .def_readonly("source_lladdr", &RouterAdvert::source_lladdr)
      .def_readonly("routes", &RouterAdvert::routes)
      .def_readonly("pref64", &RouterAdvert::pref64)
      .def_readonly("at", &RouterAdvert::at)
      .def("__repr__", [](const RouterAdvert& r) {
        std::string p;
        for (const auto& x : r.prefixes) p += " " + x.prefix;
        return "<RouterAdvert from " + r.from + (r.managed ? " M" : "") + (r.other ? " O" : "") +
               " lifetime " + std::to_string(r.router_lifetime) + p + ">";
      });

  using rel = py::call_guard<py::gil_scoped_release>;
  // Probes are methods of NodeHandle (registered by register_lab first).
  py::class_<NodeHandle> h = py::reinterpret_borrow<py::class_<NodeHandle>>(m.attr("NodeHandle"));
  h.def(
       "ping",
       [](NodeHandle& n, const std::string& dst, int count, double timeout, double interval,
          int hop_limit, int size, bool dont_fragment, const std::string& iface,
          const std::string& src) {
         PingOptions o{dst, count, timeout, interval, hop_limit, size, dont_fragment, iface, src};
         return ping(n.netns_dup().get(), o);
       },
       py::arg("dst"), py::arg("count") = 1, py::arg("timeout") = 1.0,
       py::arg("interval") = 0.05, py::arg("hop_limit") = -1, py::arg("size") = 56,
       py::arg("dont_fragment") = false, py::arg("iface") = "", py::arg("src") = "", rel())
      .def(
          "traceroute",
          [](NodeHandle& n, const std::string& dst, int max_hops, double timeout,
             const std::string& iface) { return traceroute(n.netns_dup().get(), dst, max_hops, timeout, iface); },
          py::arg("dst"), py::arg("max_hops") = 16, py::arg("timeout") = 1.0,
          py::arg("iface") = "", rel())
      .def(
          "tcp_connect",
          [](NodeHandle& n, const std::string& addr, int port, double timeout,
             const std::string& send) { return tcp_connect(n.netns_dup().get(), addr, port, timeout, send); },
          py::arg("addr"), py::arg("port"), py::arg("timeout") = 2.0, py::arg("send") = "", rel())
      .def(
          "udp_exchange",
          [](NodeHandle& n, const std::string& addr, int port, const std::string& payload,
             double timeout) { return udp_exchange(n.netns_dup().get(), addr, port, payload, timeout); },
          py::arg("addr"), py::arg("port"), py::arg("payload"), py::arg("timeout") = 2.0, rel())
      .def(
          "dns_query",
          [](NodeHandle& n, const std::string& server, const std::string& name,
             const std::string& qtype, double timeout, int port) {
            return dns_query(n.netns_dup().get(), server, name, qtype, timeout, port);
          },
          py::arg("server"), py::arg("name"), py::arg("qtype") = "AAAA",
          py::arg("timeout") = 2.0, py::arg("port") = 53, rel())
      .def(
          "router_adverts",
          [](NodeHandle& n, const std::string& iface, bool solicit, double duration,
             bool stop_at_first) {
            RaOptions o{iface, solicit, duration, stop_at_first};
            return router_adverts(n.netns_dup().get(), o);
          },
          py::arg("iface"), py::arg("solicit") = true, py::arg("duration") = 2.0,
          py::arg("stop_at_first") = true, rel());
}

}  // namespace v6lab::py_bindings
