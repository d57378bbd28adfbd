#include "v6lab/netlink.hpp"

#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/pkt_sched.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstring>
#include <map>
#include <memory>

#include "v6lab/error.hpp"

namespace v6lab {

namespace {

std::string fmt_mac(const unsigned char* p, int len) {
  std::string s;
  char b[4];
  for (int i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, i ? ":%02x" : "%02x", p[i]);
    s += b;
  }
  return s;
}

bool parse_mac(const std::string& s, unsigned char out[6]) {
  unsigned b[6];
  if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2],
                  &b[3], &b[4], &b[5]) != 6)
    return false;
  for (int i = 0; i < 6; ++i) out[i] = static_cast<unsigned char>(b[i]);
  return true;
}

std::string fmt_addr(int family, const void* p) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, p, buf, sizeof buf);
  return buf;
}

std::string scope_name(int s) {
  switch (s) {
    case RT_SCOPE_UNIVERSE: return "global";
    case RT_SCOPE_SITE: return "site";
    case RT_SCOPE_LINK: return "link";
    case RT_SCOPE_HOST: return "host";
    case RT_SCOPE_NOWHERE: return "nowhere";
  }
  return std::to_string(s);
}

std::string proto_name(int p) {
  static const std::map<int, std::string> names = {
      {RTPROT_UNSPEC, "unspec"}, {RTPROT_REDIRECT, "redirect"},
      {RTPROT_KERNEL, "kernel"}, {RTPROT_BOOT, "boot"},
      {RTPROT_STATIC, "static"}, {RTPROT_RA, "ra"},
      {RTPROT_DHCP, "dhcp"},     {RTPROT_ZEBRA, "zebra"},
      {RTPROT_BIRD, "bird"},     {RTPROT_BGP, "bgp"},
      {RTPROT_ISIS, "isis"},     {RTPROT_OSPF, "ospf"},
      {RTPROT_RIP, "rip"},       {RTPROT_EIGRP, "eigrp"}};
  auto it = names.find(p);
  return it == names.end() ? std::to_string(p) : it->second;
}

std::string rtype_name(int t) {
  switch (t) {
    case RTN_UNICAST: return "unicast";
    case RTN_LOCAL: return "local";
    case RTN_BROADCAST: return "broadcast";
    case RTN_ANYCAST: return "anycast";
    case RTN_MULTICAST: return "multicast";
    case RTN_BLACKHOLE: return "blackhole";
    case RTN_UNREACHABLE: return "unreachable";
    case RTN_PROHIBIT: return "prohibit";
    case RTN_THROW: return "throw";
  }
  return std::to_string(t);
}

std::string nud_name(int s) {
  switch (s) {
    case NUD_INCOMPLETE: return "INCOMPLETE";
    case NUD_REACHABLE: return "REACHABLE";
    case NUD_STALE: return "STALE";
    case NUD_DELAY: return "DELAY";
    case NUD_PROBE: return "PROBE";
    case NUD_FAILED: return "FAILED";
    case NUD_NOARP: return "NOARP";
    case NUD_PERMANENT: return "PERMANENT";
    case NUD_NONE: return "NONE";
  }
  return std::to_string(s);
}

struct MsgGuard {
  nl_msg* m;
  ~MsgGuard() {
    if (m) nlmsg_free(m);
  }
};

void put_end_attrs(nl_msg* m, const VethEnd& e) {
  nla_put_string(m, IFLA_IFNAME, e.name.c_str());
  if (e.netns_fd >= 0) nla_put_u32(m, IFLA_NET_NS_FD, e.netns_fd);
  if (e.mtu) nla_put_u32(m, IFLA_MTU, *e.mtu);
  if (e.mac) {
    unsigned char mac[6];
    if (parse_mac(*e.mac, mac)) nla_put(m, IFLA_ADDRESS, 6, mac);
  }
}

}  // namespace

int nl_error_cb(struct sockaddr_nl*, struct nlmsgerr* e, void* arg) {
  auto* self = static_cast<NlSocket*>(arg);
  self->last_errno_ = -e->error;
  self->last_ext_msg_.clear();
  // With NETLINK_EXT_ACK the kernel appends its own text as TLVs; libnl 3.7
  // does not read them, so do it here (no exception may leave this callback).
  auto* outer = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(e) -
                                            NLMSG_HDRLEN);
  if (outer->nlmsg_flags & NLM_F_ACK_TLVS) {
    std::size_t off = sizeof(nlmsgerr);
    if (!(outer->nlmsg_flags & NLM_F_CAPPED))
      off += e->msg.nlmsg_len - sizeof(nlmsghdr);
    long len = static_cast<long>(outer->nlmsg_len) - NLMSG_HDRLEN -
               static_cast<long>(off);
    auto* a = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(e) + off);
    while (len >= static_cast<long>(sizeof(nlattr)) && a->nla_len >= sizeof(nlattr) &&
           a->nla_len <= len) {
      if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
        const char* s = reinterpret_cast<const char*>(a) + NLA_HDRLEN;
        try {
          self->last_ext_msg_.assign(s, strnlen(s, a->nla_len - NLA_HDRLEN));
        } catch (...) {  // nothing may leave a C callback
        }
      }
      long step = NLA_ALIGN(a->nla_len);
      len -= step;
      a = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(a) + step);
    }
  }
  return NL_STOP;
}

NlSocket::NlSocket() {
  sk_ = nl_socket_alloc();
  if (!sk_) throw Error("allocate netlink socket: out of memory");
  int rc = nl_connect(sk_, NETLINK_ROUTE);
  if (rc < 0) {
    nl_socket_free(sk_);
    throw_nl("open rtnetlink socket", rc);
  }
  int one = 1;
  int fd = nl_socket_get_fd(sk_);
  ::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  nl_socket_set_buffer_size(sk_, 1 << 20, 1 << 20);
  nl_socket_modify_err_cb(sk_, NL_CB_CUSTOM, nl_error_cb, this);
}

NlSocket::~NlSocket() {
  if (sk_) nl_socket_free(sk_);
}

void NlSocket::request(nl_msg* msg, const std::string& what) {
  MsgGuard g{msg};
  last_errno_ = 0;
  last_ext_msg_.clear();
  int rc = nl_send_auto(sk_, msg);
  if (rc < 0) throw_nl(what, rc);
  rc = nl_wait_for_ack(sk_);
  if (rc < 0) {
    if (last_errno_ > 0) {
      std::string m = what + ": " + std::strerror(last_errno_);
      if (!last_ext_msg_.empty()) m += " (kernel: " + last_ext_msg_ + ")";
      throw KernelError(m, last_errno_);
    }
    throw_nl(what, rc);
  }
}

void NlSocket::add_veth(const VethEnd& a, const VethEnd& b) {
  nl_msg* m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (a.up) ifi.ifi_flags = ifi.ifi_change = IFF_UP;
  nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO);
  put_end_attrs(m, a);
  if (a.master) nla_put_u32(m, IFLA_MASTER, a.master);
  nlattr* info = nla_nest_start(m, IFLA_LINKINFO);
  nla_put_string(m, IFLA_INFO_KIND, "veth");
  nlattr* data = nla_nest_start(m, IFLA_INFO_DATA);
  nlattr* peer = nla_nest_start(m, VETH_INFO_PEER);
  ifinfomsg pifi{};
  pifi.ifi_family = AF_UNSPEC;
  nlmsg_append(m, &pifi, sizeof pifi, NLMSG_ALIGNTO);
  put_end_attrs(m, b);
  nla_nest_end(m, peer);
  nla_nest_end(m, data);
  nla_nest_end(m, info);
  request(m, "create veth " + a.name + " <-> " + b.name + " (" + where_ + ")");
}

void NlSocket::add_bridge(const std::string& name) {
  nl_msg* m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_flags = ifi.ifi_change = IFF_UP;
  nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO);
  nla_put_string(m, IFLA_IFNAME, name.c_str());
  nlattr* info = nla_nest_start(m, IFLA_LINKINFO);
  nla_put_string(m, IFLA_INFO_KIND, "bridge");
  nlattr* data = nla_nest_start(m, IFLA_INFO_DATA);
  // A lab LAN behaves like a plain switch: no MLD snooping (which would
  // drop multicast before any querier exists) and no STP delays.
  nla_put_u8(m, IFLA_BR_MCAST_SNOOPING, 0);
  nla_put_u32(m, IFLA_BR_STP_STATE, 0);
  nla_nest_end(m, data);
  nla_nest_end(m, info);
  request(m, "create bridge " + name + " (" + where_ + ")");
}

void NlSocket::add_link_of_kind(const std::string& name, const std::string& kind) {
  nl_msg* m = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO);
  nla_put_string(m, IFLA_IFNAME, name.c_str());
  nlattr* info = nla_nest_start(m, IFLA_LINKINFO);
  nla_put_string(m, IFLA_INFO_KIND, kind.c_str());
  nla_nest_end(m, info);
  request(m, "create a " + kind + " link (" + where_ + ")");
}

void NlSocket::add_netem(int ifindex) {
  nl_msg* m = nlmsg_alloc_simple(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
  tcmsg tc{};
  tc.tcm_family = AF_UNSPEC;
  tc.tcm_ifindex = ifindex;
  tc.tcm_parent = TC_H_ROOT;
  nlmsg_append(m, &tc, sizeof tc, NLMSG_ALIGNTO);
  nla_put_string(m, TCA_KIND, "netem");
  tc_netem_qopt q{};
  q.limit = 1000;
  nla_put(m, TCA_OPTIONS, sizeof q, &q);
  request(m, "add a netem qdisc (" + where_ + ")");
}

void NlSocket::set_link(const std::string& name, bool up, int master) {
  nl_msg* m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_change = IFF_UP;
  ifi.ifi_flags = up ? IFF_UP : 0;
  nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO);
  nla_put_string(m, IFLA_IFNAME, name.c_str());
  if (master) nla_put_u32(m, IFLA_MASTER, master);
  request(m, std::string(up ? "bring up " : "bring down ") + where_ + ":" + name);
}

int NlSocket::ifindex(const std::string& name) {
  for (const auto& l : links())
    if (l.name == name) return l.index;
  throw Error("find interface " + where_ + ":" + name + ": No such device");
}

// RTM_NEWADDR or RTM_DELADDR for address a on ifname: the same message.
void NlSocket::address_request(int type, int flags, const std::string& ifname, const IpAddr& a,
                               const char* verb) {
  int idx = ifindex(ifname);
  nl_msg* m = nlmsg_alloc_simple(type, flags);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<unsigned char>(a.family);
  ifa.ifa_prefixlen = static_cast<unsigned char>(a.prefix_len);
  ifa.ifa_index = static_cast<unsigned>(idx);
  nlmsg_append(m, &ifa, sizeof ifa, NLMSG_ALIGNTO);
  int len = a.family == AF_INET6 ? 16 : 4;
  nla_put(m, IFA_LOCAL, len, a.bytes.data());
  nla_put(m, IFA_ADDRESS, len, a.bytes.data());
  request(m, std::string(verb) + " address " + a.cidr() + " on " + where_ + ":" + ifname);
}

void NlSocket::add_address(const std::string& ifname, const IpAddr& a) {
  address_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifname, a, "add");
}

void NlSocket::del_address(const std::string& ifname, const IpAddr& a) {
  address_request(RTM_DELADDR, 0, ifname, a, "delete");
}

void NlSocket::add_route(const RouteSpec& r) {
  nl_msg* m = nlmsg_alloc_simple(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  rtmsg rt{};
  rt.rtm_family = static_cast<unsigned char>(r.dst.family);
  rt.rtm_dst_len = static_cast<unsigned char>(r.dst.prefix_len);
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = RTPROT_STATIC;
  rt.rtm_type = RTN_UNICAST;
  rt.rtm_scope = (!r.via && r.dst.family == AF_INET) ? RT_SCOPE_LINK
                                                     : RT_SCOPE_UNIVERSE;
  nlmsg_append(m, &rt, sizeof rt, NLMSG_ALIGNTO);
  int len = r.dst.family == AF_INET6 ? 16 : 4;
  if (r.dst.prefix_len > 0) nla_put(m, RTA_DST, len, r.dst.bytes.data());
  if (r.via) nla_put(m, RTA_GATEWAY, len, r.via->bytes.data());
  std::string what = "add route " + (r.dst.prefix_len == 0 ? std::string("default") : r.dst.cidr());
  if (r.via) what += " via " + r.via->str();
  if (!r.dev.empty()) {
    what += " dev " + r.dev;
    try {
      nla_put_u32(m, RTA_OIF, static_cast<unsigned>(ifindex(r.dev)));
    } catch (...) {
      nlmsg_free(m);
      throw;
    }
  }
  if (r.metric) nla_put_u32(m, RTA_PRIORITY, *r.metric);
  request(m, what + " on " + where_);
}

// ------------------------------------------------------------------ dumps

namespace {

struct DumpCtx {
  void (*parse)(void*, nlmsghdr*);
  void* out;
  bool failed = false;
};

int dump_valid_cb(nl_msg* msg, void* arg) {
  auto* ctx = static_cast<DumpCtx*>(arg);
  try {
    ctx->parse(ctx->out, nlmsg_hdr(msg));
  } catch (...) {
    ctx->failed = true;  // nothing may cross the C callback
    return NL_STOP;
  }
  return NL_OK;
}

void parse_link(void* out, nlmsghdr* h) {
  auto* v = static_cast<std::vector<LinkInfo>*>(out);
  auto* ifi = static_cast<ifinfomsg*>(nlmsg_data(h));
  nlattr* tb[IFLA_MAX + 1];
  if (nlmsg_parse(h, sizeof *ifi, tb, IFLA_MAX, nullptr) < 0) return;
  LinkInfo l;
  l.index = ifi->ifi_index;
  l.up = ifi->ifi_flags & IFF_UP;
  l.running = ifi->ifi_flags & IFF_RUNNING;
  if (tb[IFLA_IFNAME]) l.name = nla_get_string(tb[IFLA_IFNAME]);
  if (tb[IFLA_MTU]) l.mtu = static_cast<int>(nla_get_u32(tb[IFLA_MTU]));
  if (tb[IFLA_ADDRESS])
    l.mac = fmt_mac(static_cast<unsigned char*>(nla_data(tb[IFLA_ADDRESS])),
                    nla_len(tb[IFLA_ADDRESS]));
  if (tb[IFLA_MASTER]) l.master = static_cast<int>(nla_get_u32(tb[IFLA_MASTER]));
  static const char* oper[] = {"unknown", "notpresent", "down",
                               "lowerlayerdown", "testing", "dormant", "up"};
  if (tb[IFLA_OPERSTATE]) {
    unsigned o = nla_get_u8(tb[IFLA_OPERSTATE]);
    l.operstate = o < 7 ? oper[o] : std::to_string(o);
  }
  if (tb[IFLA_LINKINFO]) {
    nlattr* li[IFLA_INFO_MAX + 1];
    if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) == 0 &&
        li[IFLA_INFO_KIND])
      l.kind = nla_get_string(li[IFLA_INFO_KIND]);
  }
  if (l.kind.empty() && ifi->ifi_type == ARPHRD_LOOPBACK) l.kind = "loopback";
  v->push_back(std::move(l));
}

void parse_addr(void* out, nlmsghdr* h) {
  auto* v = static_cast<std::vector<AddressInfo>*>(out);
  auto* ifa = static_cast<ifaddrmsg*>(nlmsg_data(h));
  nlattr* tb[IFA_MAX + 1];
  if (nlmsg_parse(h, sizeof *ifa, tb, IFA_MAX, nullptr) < 0) return;
  AddressInfo a;
  a.family = ifa->ifa_family;
  a.ifindex = static_cast<int>(ifa->ifa_index);
  a.prefix_len = ifa->ifa_prefixlen;
  a.scope = scope_name(ifa->ifa_scope);
  a.flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
  nlattr* ad = (a.family == AF_INET && tb[IFA_LOCAL]) ? tb[IFA_LOCAL]
                                                      : tb[IFA_ADDRESS];
  if (!ad) ad = tb[IFA_LOCAL];
  if (!ad) return;
  a.address = fmt_addr(a.family, nla_data(ad));
  if (tb[IFA_CACHEINFO]) {
    auto* ci = static_cast<ifa_cacheinfo*>(nla_data(tb[IFA_CACHEINFO]));
    if (ci->ifa_valid != 0xFFFFFFFFu) a.valid_lft = ci->ifa_valid;
    if (ci->ifa_prefered != 0xFFFFFFFFu) a.preferred_lft = ci->ifa_prefered;
  }
  v->push_back(std::move(a));
}

NextHop make_nh(int family, nlattr* gw, int oif) {
  NextHop n;
  if (gw) n.gateway = fmt_addr(family, nla_data(gw));
  n.ifindex = oif;
  return n;
}

// RTA_METRICS is a nest of RTAX_* u32 attributes; only the MTU is kept.
void parse_metrics(RouteInfo& r, nlattr* metrics) {
  nlattr* mx[RTAX_MAX + 1] = {};
  if (nla_parse_nested(mx, RTAX_MAX, metrics, nullptr) < 0) return;
  if (mx[RTAX_MTU]) r.mtu = nla_get_u32(mx[RTAX_MTU]);
  if (mx[RTAX_LOCK]) r.mtu_locked = nla_get_u32(mx[RTAX_LOCK]) & (1u << RTAX_MTU);
}

void parse_route(void* out, nlmsghdr* h) {
  auto* v = static_cast<std::vector<RouteInfo>*>(out);
  auto* rt = static_cast<rtmsg*>(nlmsg_data(h));
  nlattr* tb[RTA_MAX + 1];
  if (nlmsg_parse(h, sizeof *rt, tb, RTA_MAX, nullptr) < 0) return;
  RouteInfo r;
  r.family = rt->rtm_family;
  r.table = tb[RTA_TABLE] ? static_cast<int>(nla_get_u32(tb[RTA_TABLE]))
                          : rt->rtm_table;
  r.protocol = proto_name(rt->rtm_protocol);
  r.type = rtype_name(rt->rtm_type);
  r.cached = rt->rtm_flags & RTM_F_CLONED;
  if (tb[RTA_METRICS]) parse_metrics(r, tb[RTA_METRICS]);
  if (tb[RTA_DST])
    r.dst = fmt_addr(r.family, nla_data(tb[RTA_DST])) + "/" +
            std::to_string(rt->rtm_dst_len);
  else
    r.dst = (r.family == AF_INET6 ? "::/" : "0.0.0.0/") +
            std::to_string(rt->rtm_dst_len);
  if (tb[RTA_PRIORITY]) r.metric = nla_get_u32(tb[RTA_PRIORITY]);
  if (tb[RTA_PREF]) {
    switch (nla_get_u8(tb[RTA_PREF])) {
      case 0: r.pref = "medium"; break;
      case 1: r.pref = "high"; break;
      case 3: r.pref = "low"; break;
      default: r.pref = "invalid";
    }
  }
  if (tb[RTA_CACHEINFO]) {
    auto* ci = static_cast<rta_cacheinfo*>(nla_data(tb[RTA_CACHEINFO]));
    if (ci->rta_expires)  // in USER_HZ (1/100 s) ticks
      r.expires = static_cast<std::int32_t>(ci->rta_expires) / 100.0;
  }
  int oif = tb[RTA_OIF] ? static_cast<int>(nla_get_u32(tb[RTA_OIF])) : 0;
  if (tb[RTA_MULTIPATH]) {
    auto* nh = static_cast<rtnexthop*>(nla_data(tb[RTA_MULTIPATH]));
    int len = nla_len(tb[RTA_MULTIPATH]);
    while (len >= static_cast<int>(sizeof *nh) && nh->rtnh_len >= sizeof *nh && nh->rtnh_len <= len) {
      nlattr* ntb[RTA_MAX + 1] = {};
      nla_parse(ntb, RTA_MAX, reinterpret_cast<nlattr*>(RTNH_DATA(nh)),
                nh->rtnh_len - static_cast<int>(sizeof *nh), nullptr);
      r.nexthops.push_back(make_nh(r.family, ntb[RTA_GATEWAY], nh->rtnh_ifindex));
      len -= RTNH_ALIGN(nh->rtnh_len);
      nh = RTNH_NEXT(nh);
    }
  } else {
    r.nexthops.push_back(make_nh(r.family, tb[RTA_GATEWAY], oif));
  }
  v->push_back(std::move(r));
}

void parse_neigh(void* out, nlmsghdr* h) {
  auto* v = static_cast<std::vector<NeighbourInfo>*>(out);
  auto* nd = static_cast<ndmsg*>(nlmsg_data(h));
  nlattr* tb[NDA_MAX + 1];
  if (nlmsg_parse(h, sizeof *nd, tb, NDA_MAX, nullptr) < 0) return;
  if (!tb[NDA_DST]) return;
  NeighbourInfo n;
  n.family = nd->ndm_family;
  n.ifindex = nd->ndm_ifindex;
  n.address = fmt_addr(n.family, nla_data(tb[NDA_DST]));
  if (tb[NDA_LLADDR])
    n.lladdr = fmt_mac(static_cast<unsigned char*>(nla_data(tb[NDA_LLADDR])),
                       nla_len(tb[NDA_LLADDR]));
  n.state = nud_name(nd->ndm_state);
  n.router = nd->ndm_flags & NTF_ROUTER;
  v->push_back(std::move(n));
}

}  // namespace

void NlSocket::dump(int type, int family, const std::string& what,
                    void (*parse)(void*, nlmsghdr*), void* out) {
  // Every dump request starts with a family byte; rtgenmsg is enough.
  rtgenmsg g{};
  g.rtgen_family = static_cast<unsigned char>(family);
  int rc = nl_send_simple(sk_, type, NLM_F_DUMP, &g, sizeof g);
  if (rc < 0) throw_nl(what + " (" + where_ + ")", rc);
  DumpCtx ctx{parse, out};
  // nl_socket_get_cb takes a reference of its own: both are put (leaking
  // it kept every dumping socket's callbacks alive; found by LeakSanitizer).
  using CbRef = std::unique_ptr<nl_cb, decltype(&nl_cb_put)>;
  CbRef base(nl_socket_get_cb(sk_), &nl_cb_put);
  CbRef cb(nl_cb_clone(base.get()), &nl_cb_put);
  if (!cb) throw Error(what + " (" + where_ + "): allocate netlink callbacks: out of memory");
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, dump_valid_cb, &ctx);
  rc = nl_recvmsgs(sk_, cb.get());
  if (ctx.failed) throw Error(what + " (" + where_ + "): out of memory");
  if (rc < 0) throw_nl(what + " (" + where_ + ")", rc);
}

std::vector<LinkInfo> NlSocket::links() {
  std::vector<LinkInfo> v;
  dump(RTM_GETLINK, AF_UNSPEC, "list links", parse_link, &v);
  return v;
}

namespace {
template <class T>
void fill_ifnames(std::vector<T>& v, const std::vector<LinkInfo>& links) {
  for (auto& x : v)
    for (const auto& l : links)
      if (l.index == x.ifindex) x.ifname = l.name;
}
}  // namespace

std::vector<AddressInfo> NlSocket::addresses(int family) {
  std::vector<AddressInfo> v;
  dump(RTM_GETADDR, family, "list addresses", parse_addr, &v);
  fill_ifnames(v, links());
  return v;
}

std::vector<RouteInfo> NlSocket::routes(int family, bool all_tables) {
  std::vector<RouteInfo> all, v;
  dump(RTM_GETROUTE, family, "list routes", parse_route, &all);
  auto ls = links();
  for (auto& r : all) {
    if (!all_tables && r.table != RT_TABLE_MAIN) continue;
    for (auto& n : r.nexthops)
      for (const auto& l : ls)
        if (l.index == n.ifindex) n.ifname = l.name;
    v.push_back(std::move(r));
  }
  return v;
}

std::vector<NeighbourInfo> NlSocket::neighbours(int family) {
  std::vector<NeighbourInfo> v;
  dump(RTM_GETNEIGH, family, "list neighbours", parse_neigh, &v);
  fill_ifnames(v, links());
  return v;
}

std::vector<std::string> AddressInfo::flag_names() const {
  static const std::pair<std::uint32_t, const char*> names[] = {
      {0x01, "temporary"},  {0x02, "nodad"},     {0x04, "optimistic"},
      {0x08, "dadfailed"},  {0x10, "homeaddress"}, {0x20, "deprecated"},
      {0x40, "tentative"},  {0x80, "permanent"}, {0x100, "mngtmpaddr"},
      {0x200, "noprefixroute"}, {0x400, "autojoin"}, {0x800, "stable-privacy"}};
  std::vector<std::string> out;
  for (const auto& [bit, n] : names)
    if (flags & bit) out.emplace_back(n);
  if (!(flags & 0x80)) out.emplace_back("dynamic");
  return out;
}

}  // namespace v6lab
