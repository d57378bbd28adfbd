// The one privileged primitive a check needs to speak any protocol: a socket
// opened inside a node's (or the switch's) network namespace, on a helper
// thread, and handed back as a plain file descriptor. Everything above it
// (DHCPv6, DNS, NDP codecs, the checks) is unprivileged Python over that fd,
// so a new protocol needs no C++.
//
// The socket belongs to the namespace it was created in for its whole life:
// binding, sending and receiving later from any thread stay there. Interface
// names (SO_BINDTODEVICE, IPV6_MULTICAST_IF, a group's interface, a
// link-local address's %scope) are resolved inside the namespace too.
#pragma once

#include <string>
#include <vector>

#include "v6lab/error.hpp"
#include "v6lab/fd.hpp"

namespace v6lab {

class NodeHandle;

struct SocketOptions {
  std::string bind_iface;           // SO_BINDTODEVICE ("" none)
  std::string bind_addr;            // "" any; "fe80::1%eth0" or "fe80::1" + bind_iface
  int port = 0;                     // bound when bind_addr or port is set
  bool reuse_addr = false;          // SO_REUSEADDR
  bool reuse_port = false;          // SO_REUSEPORT
  bool broadcast = false;           // SO_BROADCAST (IPv4)
  bool v6only = false;              // IPV6_V6ONLY
  bool recv_pktinfo = false;        // IPV6_RECVPKTINFO / IP_PKTINFO
  bool recv_hoplimit = false;       // IPV6_RECVHOPLIMIT / IP_RECVTTL
  bool nonblocking = false;         // O_NONBLOCK
  int unicast_hops = -1;            // IPV6_UNICAST_HOPS / IP_TTL (-1: default)
  int multicast_hops = -1;          // IPV6_MULTICAST_HOPS / IP_MULTICAST_TTL
  int multicast_loop = -1;          // IPV6_MULTICAST_LOOP (0/1, -1: default)
  std::string multicast_if;         // IPV6_MULTICAST_IF (default: bind_iface)
  std::vector<std::string> join_groups;  // IPV6_JOIN_GROUP / IP_ADD_MEMBERSHIP
  int icmp6_filter_type = -1;       // ICMP6_FILTER: pass only this type (raw ICMPv6)
};

// A socket that could not be opened or set up; keeps the errno.
class SocketError : public KernelError {
 public:
  using KernelError::KernelError;
};

// Opens socket(family, type, proto) in h's network namespace with the
// options applied, in this order: socket, socket options, SO_BINDTODEVICE,
// bind, group joins. Every failure throws SocketError naming the step and
// the node: "bind [fe80::1%eth0]:546 on h1: Address already in use". The
// returned fd is close-on-exec and owned by the caller.
UniqueFd open_node_socket(NodeHandle& h, int family, int type, int proto,
                          const SocketOptions& o);

}  // namespace v6lab
