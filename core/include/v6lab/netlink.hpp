// One rtnetlink socket bound to one network namespace (the namespace of the
// thread that opened it), with the operations a lab needs. Messages are
// built with libnl's message API; errors keep the kernel's errno and, via
// NETLINK_EXT_ACK, the kernel's own text.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "v6lab/spec.hpp"
#include "v6lab/state.hpp"

struct nl_sock;
struct nl_msg;
struct nlmsghdr;
struct nlmsgerr;
struct sockaddr_nl;

namespace v6lab {

struct VethEnd {
  std::string name;
  int netns_fd = -1;          // namespace to create this end in
  std::optional<int> mtu;
  std::optional<std::string> mac;
  bool up = false;            // honoured on the first end only (kernel rule)
  int master = 0;             // bridge ifindex in that namespace (first end)
};

int nl_error_cb(::sockaddr_nl*, ::nlmsgerr*, void*);

class NlSocket {
 public:
  // Opens a socket in the calling thread's network namespace.
  NlSocket();
  ~NlSocket();
  NlSocket(const NlSocket&) = delete;
  NlSocket& operator=(const NlSocket&) = delete;

  // `where` names the namespace in messages ("r1", "switch").
  void set_context(std::string where) { where_ = std::move(where); }
  const std::string& context() const { return where_; }

  void add_veth(const VethEnd& a, const VethEnd& b);
  void add_bridge(const std::string& name);
  // A link of any kind with default settings (probing kernel support).
  void add_link_of_kind(const std::string& name, const std::string& kind);
  // The netem qdisc on a link (probing kernel support).
  void add_netem(int ifindex);
  // Brings a link up (and optionally enslaves it), by name.
  void set_link(const std::string& name, bool up, int master = 0);
  int ifindex(const std::string& name);
  void add_address(const std::string& ifname, const IpAddr& a);
  // Removes an address (a grader undoing what its own probe made).
  void del_address(const std::string& ifname, const IpAddr& a);
  void add_route(const RouteSpec& r);

  std::vector<LinkInfo> links();
  std::vector<AddressInfo> addresses(int family = 0);
  std::vector<RouteInfo> routes(int family = 0, bool all_tables = false);
  std::vector<NeighbourInfo> neighbours(int family = 0);

 private:
  void address_request(int type, int flags, const std::string& ifname, const IpAddr& a,
                       const char* verb);
  void request(nl_msg* msg, const std::string& what);
  void dump(int type, int family, const std::string& what,
            void (*parse)(void* out, ::nlmsghdr* h), void* out);

  nl_sock* sk_ = nullptr;
  std::string where_;
  // Filled by the error callback of the last request.
  int last_errno_ = 0;
  std::string last_ext_msg_;
  friend int nl_error_cb(::sockaddr_nl*, ::nlmsgerr*, void*);
};

}  // namespace v6lab
