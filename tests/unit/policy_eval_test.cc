// policy/policy.h: path normalisation and prefixes, CIDR matching, and Policy::Evaluate's
// conflict rule (most specific wins; at equal specificity kill > deny > allow; several parts of a
// request are each decided and the most restrictive result applies), and tips that name exactly the
// denied path.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "base/path.h"
#include "policy/loader.h"
#include "policy/policy.h"

namespace {

using policy::Access;
using policy::Action;
using policy::Cidr;
using policy::NetAccess;
using policy::NetVerb;
using policy::Policy;
using policy::Request;
using policy::SocketAddress;
using policy::Verdict;

SocketAddress Inet(const char* ip, std::uint16_t port = 0) {
  SocketAddress a;
  if (inet_pton(AF_INET, ip, a.ip.data()) == 1) {
    a.family = AF_INET;
  } else {
    REQUIRE(inet_pton(AF_INET6, ip, a.ip.data()) == 1);
    a.family = AF_INET6;
  }
  a.port = port;
  return a;
}

SocketAddress Unix(std::string path, bool abstract = false) {
  SocketAddress a;
  a.family = AF_UNIX;
  a.unix_path = std::move(path);
  a.abstract = abstract;
  return a;
}

Cidr MakeCidr(const char* ip, int len) {
  SocketAddress a = Inet(ip);
  return Cidr{a.family, a.ip, len};
}

Verdict V(Action a, int error = 0) {
  Verdict v;
  v.action = a;
  v.error = error;
  return v;
}

policy::PathPattern Pattern(std::string_view text) {
  std::string error;
  auto p = policy::PathPattern::Compile(text, &error);
  INFO(error);
  REQUIRE(p);
  return *p;
}

policy::PathRule PR(std::string id, std::string_view pattern, Access access, Verdict verdict) {
  return policy::PathRule{std::move(id), Pattern(pattern), access, verdict};
}

std::uint8_t Verbs(std::initializer_list<NetVerb> verbs) {
  unsigned bits = 0;
  for (NetVerb v : verbs) bits |= 1u << static_cast<unsigned>(v);
  return static_cast<std::uint8_t>(bits);
}

// A policy built by hand (no loader): default allow for files, deny for addresses and families.
Policy BasePolicy() {
  Policy p;
  p.path_default = {"files-default", V(Action::kAllow)};
  p.net_default = {"net-default", V(Action::kDeny, EACCES)};
  p.family_default = {"family-default", V(Action::kDeny, EAFNOSUPPORT)};
  p.families = {AF_UNIX, AF_INET, AF_INET6};
  for (auto& prim : p.primitives) prim = {"escapes", V(Action::kDeny, EPERM)};
  return p;
}

Request PathRequest(std::string path, Access access) {
  Request r;
  r.syscall = "openat";
  r.paths[0] = {std::move(path), access, true};
  r.path_count = 1;
  return r;
}

Request NetRequest(NetVerb verb, const SocketAddress& addr) {
  Request r;
  r.syscall = "connect";
  NetAccess n;
  n.verb = verb;
  n.family = addr.family;
  n.addr = addr;
  r.net = n;
  return r;
}

}  // namespace

TEST_CASE("NormalizePath collapses slashes, dots and dot-dots lexically", "[policy][path]") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"/", "/"},
      {"", "/"},
      {"//", "/"},
      {"///", "/"},
      {"/a", "/a"},
      {"/a/", "/a"},
      {"/a//b", "/a/b"},
      {"///usr///lib//", "/usr/lib"},
      {"/a/./b", "/a/b"},
      {"/./", "/"},
      {"/a/b/..", "/a"},
      {"/a/b/../", "/a"},
      {"/a/b/../../..", "/"},
      {"/..", "/"},
      {"/../..", "/"},
      {"/../etc/passwd", "/etc/passwd"},
      {"/usr/lib/./../bin", "/usr/bin"},
      {"/a//b/./c/../d/", "/a/b/d"},
      {"/a/.../b", "/a/.../b"},  // three dots is an ordinary name
      {"/a/..b/c", "/a/..b/c"},
      {"/a/b./c", "/a/b./c"},
      {"/a/.b", "/a/.b"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    CHECK(base::NormalizePath(c.in) == c.out);
    // Idempotent: a normalised path is its own normal form.
    CHECK(base::NormalizePath(base::NormalizePath(c.in)) == c.out);
  }
}

TEST_CASE("PathHasPrefix matches whole components only", "[policy][path]") {
  struct Case {
    const char* path;
    const char* prefix;
    bool match;
  };
  const Case cases[] = {
      {"/root", "/root", true},
      {"/root/x", "/root", true},
      {"/root/x/y", "/root", true},
      {"/rootfs", "/root", false},
      {"/rootfs/x", "/root", false},
      {"/roo", "/root", false},
      {"/", "/root", false},
      {"/a/b/c", "/a/b", true},
      {"/a/bc", "/a/b", false},
      {"/a", "/a/b", false},
      {"/", "/", true},
      {"/anything/at/all", "/", true},
      {"relative", "/", false},
      {"", "/", false},
      {"pipe:[1234]", "/", false},  // anonymous objects are not under any path
      {"/home/u/.ssh", "/home/u/.ssh", true},
      {"/home/u/.sshx", "/home/u/.ssh", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path, c.prefix);
    CHECK(base::PathHasPrefix(c.path, c.prefix) == c.match);
  }
}

TEST_CASE("CidrContains handles prefix edges, IPv6 and IPv4-mapped addresses", "[policy][net]") {
  struct Case {
    const char* cidr;
    int len;
    const char* addr;
    bool match;
  };
  const Case cases[] = {
      // IPv4 /0: everything IPv4, nothing else.
      {"0.0.0.0", 0, "1.2.3.4", true},
      {"0.0.0.0", 0, "255.255.255.255", true},
      {"0.0.0.0", 0, "0.0.0.0", true},
      {"0.0.0.0", 0, "::1", false},
      {"0.0.0.0", 0, "::ffff:1.2.3.4", true},
      // /8 edges.
      {"127.0.0.0", 8, "127.0.0.1", true},
      {"127.0.0.0", 8, "127.255.255.255", true},
      {"127.0.0.0", 8, "126.255.255.255", false},
      {"127.0.0.0", 8, "128.0.0.0", false},
      // Host bits beyond the prefix in the rule do not matter.
      {"127.1.2.3", 8, "127.9.9.9", true},
      // A prefix that does not end on a byte boundary.
      {"192.168.0.0", 23, "192.168.1.255", true},
      {"192.168.0.0", 23, "192.168.2.0", false},
      {"10.0.0.128", 25, "10.0.0.200", true},
      {"10.0.0.128", 25, "10.0.0.127", false},
      // /32: exactly one address.
      {"10.1.2.3", 32, "10.1.2.3", true},
      {"10.1.2.3", 32, "10.1.2.4", false},
      {"10.1.2.3", 32, "11.1.2.3", false},
      // IPv6 /128 and /64.
      {"::1", 128, "::1", true},
      {"::1", 128, "::2", false},
      {"::1", 128, "1.0.0.0", false},
      {"2001:db8::", 64, "2001:db8::ffff", true},
      {"2001:db8::", 64, "2001:db8::ffff:ffff:ffff:ffff", true},
      {"2001:db8::", 64, "2001:db8:0:1::", false},
      {"::", 0, "2001:db8::1", true},
      {"::", 0, "1.2.3.4", false},  // an IPv6 rule never matches an AF_INET address
      // IPv4-mapped IPv6 is matched by IPv4 rules as the IPv4 address it carries.
      {"127.0.0.0", 8, "::ffff:127.0.0.1", true},
      {"127.0.0.1", 32, "::ffff:127.0.0.1", true},
      {"127.0.0.0", 8, "::ffff:10.0.0.1", false},
      {"10.0.0.0", 8, "::1", false},
      // ...but not the deprecated IPv4-compatible form.
      {"127.0.0.1", 32, "::127.0.0.1", false},
      // And IPv6 rules still see the mapped address as IPv6.
      {"::ffff:0:0", 96, "::ffff:127.0.0.1", true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.cidr, c.len, c.addr);
    CHECK(policy::CidrContains(MakeCidr(c.cidr, c.len), Inet(c.addr)) == c.match);
  }
  SECTION("a unix address is in no CIDR") {
    CHECK_FALSE(policy::CidrContains(MakeCidr("0.0.0.0", 0), Unix("/tmp/s")));
    CHECK_FALSE(policy::CidrContains(MakeCidr("::", 0), Unix("/tmp/s")));
  }
}

namespace {

Policy FilePolicy() {
  Policy p = BasePolicy();
  const Access kMutate = Access::kWrite | Access::kCreate | Access::kDelete;
  p.path_rules = {
      PR("root-mutate", "/", kMutate, V(Action::kDeny, EACCES)),
      PR("home-mutate", "/home/u", kMutate, V(Action::kAllow)),
      PR("ssh", "/home/u/.ssh", Access::kRead | Access::kWrite, V(Action::kDeny, EPERM)),
      PR("data-read-allow", "/data", Access::kRead, V(Action::kAllow)),
      PR("data-read-kill", "/data", Access::kRead, V(Action::kKill)),
      PR("data-write-deny", "/data", Access::kWrite, V(Action::kDeny, EROFS)),
      PR("data-write-allow", "/data", Access::kWrite, V(Action::kAllow)),
      PR("root-home", "/root", Access::kRead, V(Action::kDeny, EACCES)),
      PR("exec-deny", "/opt/bad", Access::kExec, V(Action::kDeny, EACCES)),
      PR("meta-deny", "/secret", Access::kMetadata, V(Action::kDeny, ENOENT)),
      // Patterns: specificity is the number of literal characters.
      PR("any-ssh", "/srv/*/.ssh", Access::kRead, V(Action::kDeny, EACCES)),     // 4+0+5 = 9
      PR("srv-bob", "/srv/bob", Access::kRead, V(Action::kAllow)),               // 8
      PR("srv-alice-ssh", "/srv/alice/.ssh", Access::kRead, V(Action::kAllow)),  // 15
      PR("logs", "/var/log/**/*.log", Access::kWrite, V(Action::kKill)),
      PR("tty", "/dev/tty[0-9]", Access::kWrite, V(Action::kDeny, EPERM)),
  };
  return p;
}

}  // namespace

TEST_CASE("Evaluate: path rules, most specific prefix wins, ties go to the most restrictive",
          "[policy][evaluate]") {
  struct Case {
    const char* path;
    Access access;
    Action action;
    int error;
    const char* rule;
  };
  const Case cases[] = {
      {"/home/u/file", Access::kWrite, Action::kAllow, 0, "home-mutate"},
      {"/home/u", Access::kCreate, Action::kAllow, 0, "home-mutate"},
      {"/home/user2/file", Access::kWrite, Action::kDeny, EACCES, "root-mutate"},
      {"/home/u/.ssh/id_rsa", Access::kRead, Action::kDeny, EPERM, "ssh"},
      {"/home/u/.ssh/id_rsa", Access::kWrite, Action::kDeny, EPERM, "ssh"},
      {"/home/u/.ssh/new", Access::kCreate, Action::kAllow, 0, "home-mutate"},
      {"/home/u/.sshx", Access::kRead, Action::kAllow, 0, "files-default"},
      {"/etc/passwd", Access::kWrite, Action::kDeny, EACCES, "root-mutate"},
      {"/etc/passwd", Access::kRead, Action::kAllow, 0, "files-default"},
      {"/", Access::kDelete, Action::kDeny, EACCES, "root-mutate"},
      // Equal specificity: kill beats allow, deny beats allow, whatever the rule order.
      {"/data/x", Access::kRead, Action::kKill, 0, "data-read-kill"},
      {"/data", Access::kRead, Action::kKill, 0, "data-read-kill"},
      {"/data/x", Access::kWrite, Action::kDeny, EROFS, "data-write-deny"},
      {"/database", Access::kRead, Action::kAllow, 0, "files-default"},
      {"/root/x", Access::kRead, Action::kDeny, EACCES, "root-home"},
      {"/rootfs/x", Access::kRead, Action::kAllow, 0, "files-default"},
      {"/opt/bad/tool", Access::kExec, Action::kDeny, EACCES, "exec-deny"},
      {"/opt/bad/tool", Access::kRead, Action::kAllow, 0, "files-default"},
      {"/secret/a", Access::kMetadata, Action::kDeny, ENOENT, "meta-deny"},
      // Several access kinds: each is decided, the most restrictive applies.
      {"/etc/passwd", Access::kRead | Access::kWrite, Action::kDeny, EACCES, "root-mutate"},
      {"/home/u/.ssh/k", Access::kRead | Access::kCreate, Action::kDeny, EPERM, "ssh"},
      {"/data/x", Access::kRead | Access::kWrite, Action::kKill, 0, "data-read-kill"},
      {"/home/u/f", Access::kRead | Access::kWrite | Access::kCreate, Action::kAllow, 0,
       "files-default"},
      // A pattern with more literal characters beats a shorter literal prefix, and loses to a
      // longer one.
      {"/srv/bob/.ssh", Access::kRead, Action::kDeny, EACCES, "any-ssh"},
      {"/srv/bob/notes", Access::kRead, Action::kAllow, 0, "srv-bob"},
      {"/srv/alice/.ssh", Access::kRead, Action::kAllow, 0, "srv-alice-ssh"},
      // A wildcard match covers what lies below it, like a literal prefix.
      {"/srv/bob/.ssh/id_rsa", Access::kRead, Action::kDeny, EACCES, "any-ssh"},
      {"/srv/.ssh", Access::kRead, Action::kAllow, 0, "files-default"},  // "*" needs a component
      {"/var/log/app.log", Access::kWrite, Action::kKill, 0, "logs"},    // "**" can be empty
      {"/var/log/a/b/app.log", Access::kWrite, Action::kKill, 0, "logs"},
      {"/var/log/app.txt", Access::kWrite, Action::kDeny, EACCES, "root-mutate"},
      {"/dev/tty7", Access::kWrite, Action::kDeny, EPERM, "tty"},
      {"/dev/tty10", Access::kWrite, Action::kDeny, EACCES, "root-mutate"},
  };
  Policy forward = FilePolicy();
  Policy reversed = FilePolicy();
  std::reverse(reversed.path_rules.begin(), reversed.path_rules.end());
  for (const auto& c : cases) {
    CAPTURE(c.path, static_cast<int>(c.access));
    for (const Policy* p : {&forward, &reversed}) {
      policy::Decision d = p->Evaluate(PathRequest(c.path, c.access));
      CHECK(d.action == c.action);
      CHECK(d.rule == c.rule);
      if (c.action == Action::kDeny) CHECK(d.error == c.error);
    }
  }
}

TEST_CASE("Evaluate: a path the tracer could not resolve is denied", "[policy][evaluate]") {
  Policy p = FilePolicy();
  Request r = PathRequest("/home/u/file", Access::kRead);
  r.paths[0].resolved = false;
  policy::Decision d = p.Evaluate(r);
  CHECK(d.action == Action::kDeny);
  CHECK(d.error == EACCES);
  CHECK(d.rule == "builtin:unresolvable-path");
}

TEST_CASE("Evaluate: a rename's two paths are both decided", "[policy][evaluate]") {
  Policy p = FilePolicy();
  Request r;
  r.syscall = "rename";
  r.path_count = 2;
  r.paths[0] = {"/home/u/a", Access::kDelete, true};
  r.paths[1] = {"/etc/b", Access::kCreate | Access::kDelete, true};
  policy::Decision d = p.Evaluate(r);
  CHECK(d.action == Action::kDeny);
  CHECK(d.rule == "root-mutate");

  r.paths[1].path = "/home/u/b";
  d = p.Evaluate(r);
  CHECK(d.action == Action::kAllow);

  // Order of the parts does not matter.
  std::swap(r.paths[0], r.paths[1]);
  r.paths[0].path = "/etc/b";
  CHECK(p.Evaluate(r).action == Action::kDeny);
}

TEST_CASE("Evaluate: escape primitives use their own verdict", "[policy][evaluate]") {
  Policy p = BasePolicy();
  p.primitives.at(static_cast<std::size_t>(policy::Primitive::kPersonality)) = {"personality-ok",
                                                                                V(Action::kAllow)};
  p.primitives.at(static_cast<std::size_t>(policy::Primitive::kKexec)) = {"kexec-kill",
                                                                          V(Action::kKill)};
  for (std::size_t i = 1; i < policy::kPrimitiveCount; ++i) {
    Request r;
    r.primitive = static_cast<policy::Primitive>(i);
    CAPTURE(i);
    policy::Decision d = p.Evaluate(r);
    CHECK(d.action == p.primitives.at(i).verdict.action);
    CHECK(d.error == p.primitives.at(i).verdict.error);
    CHECK(d.rule == p.primitives.at(i).id);
  }
  SECTION("an empty request is allowed") { CHECK(p.Evaluate(Request{}).action == Action::kAllow); }
  SECTION("an allowed primitive does not hide a denied path in the same request") {
    p.path_rules.push_back(PR("deny-etc", "/etc", Access::kWrite, V(Action::kDeny, EACCES)));
    Request r = PathRequest("/etc/x", Access::kWrite);
    r.primitive = policy::Primitive::kPersonality;
    policy::Decision d = p.Evaluate(r);
    CHECK(d.action == Action::kDeny);
    CHECK(d.rule == "deny-etc");
  }
  SECTION("a killing primitive beats an allowed path") {
    Request r = PathRequest("/tmp/x", Access::kRead);
    r.primitive = policy::Primitive::kKexec;
    CHECK(p.Evaluate(r).action == Action::kKill);
  }
}

namespace {

Policy NetPolicy() {
  Policy p = BasePolicy();
  using policy::NetRule;
  auto rule = [](std::string id, std::uint8_t verbs, Action a) {
    NetRule r;
    r.id = std::move(id);
    r.verbs = verbs;
    r.verdict = V(a, a == Action::kDeny ? EACCES : 0);
    return r;
  };
  const std::uint8_t kConnectSend = Verbs({NetVerb::kConnect, NetVerb::kSend});
  const std::uint8_t kConnect = Verbs({NetVerb::kConnect});

  NetRule unix_any = rule("unix-any", kConnectSend, Action::kAllow);
  unix_any.family = AF_UNIX;
  NetRule docker = rule("docker", kConnectSend, Action::kDeny);
  docker.family = AF_UNIX;
  docker.unix_path = Pattern("/var/run/docker.sock");
  NetRule abstract_ok = rule("abstract-ok", kConnect, Action::kAllow);
  abstract_ok.family = AF_UNIX;
  abstract_ok.abstract = "allowed*";
  NetRule abstract_evil = rule("abstract-evil", kConnect, Action::kDeny);
  abstract_evil.family = AF_UNIX;
  abstract_evil.abstract = "evil*";
  NetRule lo_ports = rule("lo-8000-8100", kConnect, Action::kAllow);
  lo_ports.cidr = MakeCidr("127.0.0.0", 8);
  lo_ports.port_lo = 8000;
  lo_ports.port_hi = 8100;
  NetRule lo = rule("lo", kConnect, Action::kDeny);
  lo.cidr = MakeCidr("127.0.0.0", 8);
  NetRule ten_kill = rule("ten-kill", kConnect, Action::kKill);
  ten_kill.cidr = MakeCidr("10.0.0.0", 8);
  NetRule ten_allow = rule("ten-allow", kConnect, Action::kAllow);
  ten_allow.cidr = MakeCidr("10.0.0.0", 8);
  NetRule ssh6 = rule("ssh6", kConnect, Action::kAllow);
  ssh6.cidr = MakeCidr("::1", 128);
  ssh6.port_lo = ssh6.port_hi = 22;
  NetRule dns = rule("dns", Verbs({NetVerb::kSend}), Action::kAllow);
  dns.cidr = MakeCidr("0.0.0.0", 0);
  dns.port_lo = dns.port_hi = 53;
  NetRule port_9000 = rule("port-9000", kConnectSend, Action::kDeny);  // no family, no CIDR
  port_9000.port_lo = port_9000.port_hi = 9000;
  NetRule inet_bind = rule("inet-bind", Verbs({NetVerb::kBind}), Action::kAllow);
  inet_bind.family = AF_INET;

  p.net_rules = {unix_any, docker,    abstract_ok, abstract_evil, lo_ports,  lo,
                 ten_kill, ten_allow, ssh6,        dns,           port_9000, inet_bind};
  return p;
}

}  // namespace

TEST_CASE("Evaluate: network rules by verb, CIDR, ports and unix names", "[policy][evaluate]") {
  struct Case {
    const char* what;
    NetVerb verb;
    SocketAddress addr;
    Action action;
    const char* rule;
  };
  const Case cases[] = {
      {"port range low edge", NetVerb::kConnect, Inet("127.0.0.1", 8000), Action::kAllow,
       "lo-8000-8100"},
      {"port range high edge", NetVerb::kConnect, Inet("127.0.0.1", 8100), Action::kAllow,
       "lo-8000-8100"},
      {"below the range", NetVerb::kConnect, Inet("127.0.0.1", 7999), Action::kDeny, "lo"},
      {"above the range", NetVerb::kConnect, Inet("127.0.0.1", 8101), Action::kDeny, "lo"},
      {"mapped IPv4 in range", NetVerb::kConnect, Inet("::ffff:127.0.0.1", 8050), Action::kAllow,
       "lo-8000-8100"},
      {"mapped IPv4 outside range", NetVerb::kConnect, Inet("::ffff:127.0.0.1", 22), Action::kDeny,
       "lo"},
      {"equal CIDR, kill beats allow", NetVerb::kConnect, Inet("10.1.1.1", 80), Action::kKill,
       "ten-kill"},
      {"no rule", NetVerb::kConnect, Inet("192.168.1.1", 80), Action::kDeny, "net-default"},
      {"bind: only the bind rule applies", NetVerb::kBind, Inet("127.0.0.1", 8000), Action::kAllow,
       "inet-bind"},
      {"listen has no rule", NetVerb::kListen, Inet("127.0.0.1", 8000), Action::kDeny,
       "net-default"},
      {"docker socket", NetVerb::kConnect, Unix("/var/run/docker.sock"), Action::kDeny, "docker"},
      {"docker socket, send", NetVerb::kSend, Unix("/var/run/docker.sock"), Action::kDeny,
       "docker"},
      {"docker prefix is component-wise", NetVerb::kConnect, Unix("/var/run/docker.sock.bak"),
       Action::kAllow, "unix-any"},
      {"other unix path", NetVerb::kConnect, Unix("/tmp/x.sock"), Action::kAllow, "unix-any"},
      {"abstract allowed", NetVerb::kConnect, Unix("allowed-123", true), Action::kAllow,
       "abstract-ok"},
      {"abstract evil", NetVerb::kConnect, Unix("evil-x", true), Action::kDeny, "abstract-evil"},
      {"abstract rule ignores paths", NetVerb::kConnect, Unix("evil"), Action::kAllow, "unix-any"},
      {"path rule ignores abstract names", NetVerb::kConnect, Unix("/var/run/docker.sock", true),
       Action::kAllow, "unix-any"},
      {"IPv6 host and port", NetVerb::kConnect, Inet("::1", 22), Action::kAllow, "ssh6"},
      {"IPv6 other port", NetVerb::kConnect, Inet("::1", 23), Action::kDeny, "net-default"},
      {"send to port 53", NetVerb::kSend, Inet("8.8.8.8", 53), Action::kAllow, "dns"},
      {"connect to port 53 (send-only rule)", NetVerb::kConnect, Inet("8.8.8.8", 53), Action::kDeny,
       "net-default"},
      {"port-only rule", NetVerb::kConnect, Inet("1.1.1.1", 9000), Action::kDeny, "port-9000"},
      {"port-only rule does not apply to unix", NetVerb::kSend, Unix("/tmp/s"), Action::kAllow,
       "unix-any"},
      {"family rule matches mapped IPv4", NetVerb::kBind, Inet("::ffff:1.2.3.4", 80),
       Action::kAllow, "inet-bind"},
      {"family rule does not match IPv6", NetVerb::kBind, Inet("::2", 80), Action::kDeny,
       "net-default"},
  };
  Policy forward = NetPolicy();
  Policy reversed = NetPolicy();
  std::reverse(reversed.net_rules.begin(), reversed.net_rules.end());
  for (const auto& c : cases) {
    CAPTURE(c.what);
    for (const Policy* p : {&forward, &reversed}) {
      policy::Decision d = p->Evaluate(NetRequest(c.verb, c.addr));
      CHECK(d.action == c.action);
      CHECK(d.rule == c.rule);
    }
  }
}

TEST_CASE("Evaluate: socket() is decided by the family list", "[policy][evaluate]") {
  Policy p = NetPolicy();
  struct Case {
    int family;
    Action action;
  };
  const Case cases[] = {{AF_UNIX, Action::kAllow},  {AF_INET, Action::kAllow},
                        {AF_INET6, Action::kAllow}, {AF_NETLINK, Action::kDeny},
                        {AF_PACKET, Action::kDeny}, {AF_BLUETOOTH, Action::kDeny},
                        {-1, Action::kDeny}};
  for (const auto& c : cases) {
    CAPTURE(c.family);
    Request r;
    r.syscall = "socket";
    NetAccess n;
    n.verb = NetVerb::kSocket;
    n.family = c.family;
    n.type = SOCK_STREAM;
    r.net = n;
    policy::Decision d = p.Evaluate(r);
    CHECK(d.action == c.action);
    if (c.action == Action::kDeny) {
      CHECK(d.error == EAFNOSUPPORT);
      CHECK(d.rule == "family-default");
    }
  }
}

TEST_CASE("Evaluate: a send without a destination is allowed", "[policy][evaluate]") {
  Policy p = NetPolicy();
  Request r;
  NetAccess n;
  n.verb = NetVerb::kSend;
  r.net = n;
  CHECK(p.Evaluate(r).action == Action::kAllow);
}

TEST_CASE("Evaluate: every sendmmsg destination is decided (more_net)", "[policy][evaluate]") {
  Policy p = NetPolicy();
  auto send = [](const SocketAddress& a) {
    NetAccess n;
    n.verb = NetVerb::kSend;
    n.family = a.family;
    n.addr = a;
    return n;
  };
  Request r = NetRequest(NetVerb::kSend, Inet("8.8.8.8", 53));
  r.more_net = {send(Inet("8.8.4.4", 53)), send(Inet("1.1.1.1", 53))};
  CHECK(p.Evaluate(r).action == Action::kAllow);

  SECTION("one denied destination denies the call") {
    r.more_net.push_back(send(Inet("1.2.3.4", 80)));
    policy::Decision d = p.Evaluate(r);
    CHECK(d.action == Action::kDeny);
    CHECK(d.rule == "net-default");
  }
  SECTION("the denied destination may be the first") {
    r.net = send(Inet("1.2.3.4", 80));
    CHECK(p.Evaluate(r).action == Action::kDeny);
  }
  SECTION("a kill anywhere wins over a deny") {
    r.more_net.push_back(send(Inet("1.2.3.4", 80)));
    r.more_net.push_back(send(Inet("1.1.1.1", 9000)));
    for (auto& rule : p.net_rules) {
      if (rule.id == "port-9000") rule.verdict.action = Action::kKill;
    }
    policy::Decision d = p.Evaluate(r);
    CHECK(d.action == Action::kKill);
    CHECK(d.rule == "port-9000");
  }
}

TEST_CASE("Policy::Needs* reflect whether any decision can differ from allow", "[policy]") {
  Policy p = BasePolicy();
  p.net_default = {"n", V(Action::kAllow)};
  p.family_default = {"f", V(Action::kAllow)};
  CHECK_FALSE(p.NeedsPaths());
  CHECK_FALSE(p.NeedsMetadata());
  CHECK_FALSE(p.NeedsNetwork());

  p.path_rules.push_back(PR("w", "/etc", Access::kWrite, V(Action::kDeny, EACCES)));
  CHECK(p.NeedsPaths());
  CHECK_FALSE(p.NeedsMetadata());

  p.path_rules.push_back(PR("m", "/secret", Access::kMetadata, V(Action::kDeny, EACCES)));
  CHECK(p.NeedsMetadata());

  policy::NetRule r;
  r.verbs = Verbs({NetVerb::kConnect});
  r.verdict = V(Action::kDeny, EACCES);
  p.net_rules.push_back(r);
  CHECK(p.NeedsNetwork());

  Policy q = BasePolicy();
  CHECK(q.NeedsNetwork());  // default deny
}

TEST_CASE("Evaluate: a compiled policy decides exactly like a scanned one", "[policy][evaluate]") {
  // Compile() builds indexes; a policy that was never compiled scans every rule. Both must give
  // the same decision for every request.
  Policy scanned = FilePolicy();
  scanned.net_rules = NetPolicy().net_rules;
  Policy compiled = scanned;
  compiled.Compile();

  const char* kComponents[] = {"home",   "u",   ".ssh",    "srv", "bob",  "alice", "data",
                               "var",    "log", "app.log", "dev", "tty7", "tty10", "root",
                               "rootfs", "etc", "secret",  "opt", "bad"};
  const Access kKinds[] = {
      Access::kRead,   Access::kWrite, Access::kCreate,
      Access::kDelete, Access::kExec,  Access::kMetadata,
      Access::kChmod,  Access::kChown, Access::kRead | Access::kWrite | Access::kCreate};
  std::mt19937 rng(99u);
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  int mismatches = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string path;
    std::size_t depth = 1 + pick(5);
    for (std::size_t d = 0; d < depth; ++d) path += "/" + std::string(kComponents[pick(19)]);
    Request r = PathRequest(path, kKinds[pick(9)]);
    policy::Decision a = scanned.Evaluate(r);
    policy::Decision b = compiled.Evaluate(r);
    if (a.action != b.action || a.error != b.error || a.rule != b.rule) {
      ++mismatches;
      UNSCOPED_INFO("path " << path << ": scanned " << a.rule << ", compiled " << b.rule);
    }
  }
  const SocketAddress kAddrs[] = {Inet("127.0.0.1", 8000),
                                  Inet("127.0.0.1", 7999),
                                  Inet("127.1.2.3", 8100),
                                  Inet("::ffff:127.0.0.1", 8050),
                                  Inet("::ffff:10.9.9.9", 1),
                                  Inet("10.1.1.1", 80),
                                  Inet("10.255.255.255", 9000),
                                  Inet("11.0.0.1", 9000),
                                  Inet("::1", 22),
                                  Inet("::1", 23),
                                  Inet("::2", 22),
                                  Inet("8.8.8.8", 53),
                                  Inet("0.0.0.0", 0),
                                  Unix("/var/run/docker.sock"),
                                  Unix("/var/run/docker.sock/x"),
                                  Unix("/tmp/s"),
                                  Unix("allowed-1", true),
                                  Unix("evil", true),
                                  Unix("other", true)};
  const NetVerb kNetVerbs[] = {NetVerb::kConnect, NetVerb::kBind, NetVerb::kSend, NetVerb::kListen,
                               NetVerb::kAccept};
  for (const auto& addr : kAddrs) {
    for (NetVerb verb : kNetVerbs) {
      Request r = NetRequest(verb, addr);
      policy::Decision a = scanned.Evaluate(r);
      policy::Decision b = compiled.Evaluate(r);
      if (a.action != b.action || a.rule != b.rule) {
        ++mismatches;
        UNSCOPED_INFO("address family " << addr.family << " port " << addr.port << ": scanned "
                                        << a.rule << ", compiled " << b.rule);
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("Evaluate: moving a directory carries the read denials beneath it",
          "[policy][evaluate]") {
  Policy p = FilePolicy();
  p.Compile();
  auto moving = [&](const char* path) {
    Request r;
    r.syscall = "rename";
    r.path_count = 1;
    r.paths[0] = {path, Access::kDelete | Access::kRead, true, true};
    return p.Evaluate(r);
  };
  // /home/u/.ssh is read-denied: /home/u may not be renamed (the keys would change name).
  policy::Decision d = moving("/home/u");
  CHECK(d.action == Action::kDeny);
  CHECK(d.rule == "ssh");
  CHECK(moving("/home/u/.ssh").action == Action::kDeny);
  // Nothing read-denied below /home/u/projects: allowed like any rename in the home.
  CHECK(moving("/home/u/projects").action == Action::kAllow);
  // Without carries_tree (unlink), only the name itself counts.
  Request unlink;
  unlink.syscall = "unlink";
  unlink.path_count = 1;
  unlink.paths[0] = {"/home/u", Access::kDelete, true};
  CHECK(p.Evaluate(unlink).action == Action::kAllow);
}

TEST_CASE("Evaluate: moving a directory carries every denial beneath it, not only reads",
          "[policy][evaluate]") {
  // A write-protected directory below a writable one: renaming the writable parent would let
  // the program change the protected files under the new name (and rename it back).
  Policy p;
  auto rule = [&](const char* id, const char* path, Access access, Action action) {
    p.path_rules.push_back(
        {id, *policy::PathPattern::Compile(path, nullptr), access, {action, EACCES}, 0});
  };
  rule("tmp", "/tmp", Access::kWrite | Access::kCreate | Access::kDelete, Action::kAllow);
  rule("protected", "/tmp/work/.git/hooks",
       Access::kWrite | Access::kCreate | Access::kDelete | Access::kChmod, Action::kDeny);
  p.Compile();
  Request r;
  r.syscall = "rename";
  r.path_count = 1;
  r.paths[0] = {"/tmp/work", Access::kDelete | Access::kRead, true, true};
  auto d = p.Evaluate(r);
  CHECK(d.action == Action::kDeny);
  CHECK(d.rule == "protected");
  r.paths[0].path = "/tmp/other";
  CHECK(p.Evaluate(r).action == Action::kAllow);
}

// ---------------------------------------------------------------------------------------------
// Tips name the denied path exactly: a name with metacharacters gets an escaped pattern.

namespace {

const policy::Variables kTipVars{{"CWD", "/srv/proj"},
                                 {"WORKDIR", "/srv/proj"},
                                 {"HOME", "/home/u"},
                                 {"TMPDIR", "/tmp"},
                                 {"COMMAND", "/usr/bin/tool"}};

// `base` with the tip's files section pasted in, as docs/events.md says to use a tip.
Policy WithTip(const std::string& base, const nlohmann::json& tip) {
  nlohmann::json doc = {{"version", 1}, {"extends", base}};
  doc.update(tip);
  return policy::LoadPolicyText(doc.dump(), "tip.json", kTipVars);
}

}  // namespace

TEST_CASE("Tip: a denied path with metacharacters gets a rule for that path only",
          "[policy][tips][escape]") {
  Policy base = policy::LoadPolicyText(R"({"version": 1, "extends": "standard"})", "b", kTipVars);
  struct Case {
    const char* path;
    Access access;
  };
  const Case cases[] = {
      {"/home/**", Access::kRead},       {"/home/*", Access::kRead},
      {"/home/?", Access::kRead},        {"/home/[a-z]", Access::kRead},
      {"/home/[!u]x", Access::kRead},    {"/home/${HOME}", Access::kRead},
      {"/home/$HOME", Access::kRead},    {"/home/{a,b}", Access::kRead},
      {"/home/a\\b", Access::kRead},     {"/home/\\", Access::kRead},
      {"/home/o*/**/x?", Access::kRead}, {"/etc/**", Access::kWrite | Access::kCreate},
      {"/etc/*.conf", Access::kWrite},   {"/usr/[", Access::kCreate},
  };
  const std::vector<std::string> probes{
      "/home/other", "/home/other/secret", "/home/u",     "/home/a",      "/home/x",
      "/home/q",     "/home/ux",           "/home/ax",    "/home/a/b",    "/home/**x",
      "/home/*x",    "/home/o/d/x1",       "/home/oz/x1", "/home/{a,b}x", "/home/ab",
      "/etc/passwd", "/etc/x.conf",        "/etc/a/b",    "/usr/x",       "/usr/[x",
      "/home/\\x",   "/home/a\\bc",
  };
  for (const auto& c : cases) {
    CAPTURE(c.path);
    Request r = PathRequest(c.path, c.access);
    REQUIRE(base.Evaluate(r).action != Action::kAllow);
    nlohmann::json tip = base.Tip(r);
    INFO(tip.dump());
    REQUIRE(tip["files"]["rules"].size() == 1);
    std::string pattern = tip["files"]["rules"][0]["path"].get<std::string>();
    CHECK(pattern == policy::EscapeGlob(c.path));
    auto compiled = policy::PathPattern::Compile(pattern, nullptr);
    REQUIRE(compiled);
    CHECK(compiled->is_literal());
    CHECK(compiled->text() == c.path);

    Policy fixed = WithTip("standard", tip);
    CHECK(fixed.Evaluate(r).action == Action::kAllow);
    CHECK(fixed.Tip(r).is_null());
    // Nothing else changes: every other path is decided as the base decides it.
    std::vector<std::string> all = probes;
    all.push_back(std::string(c.path) + "x");
    for (const auto& probe : all) {
      CAPTURE(probe);
      for (Access kind : {Access::kRead, Access::kWrite, Access::kCreate}) {
        Action got = fixed.DecidePathAccess(probe, kind).action;
        bool tipped = base::PathHasPrefix(probe, c.path) && Any(c.access & kind);
        CHECK(got == (tipped ? Action::kAllow : base.DecidePathAccess(probe, kind).action));
      }
    }
  }
}

TEST_CASE("Tip: unix socket paths and abstract names with metacharacters are escaped",
          "[policy][tips][escape]") {
  Policy p = BasePolicy();
  p.Compile();
  for (const char* name : {"/run/a*b.sock", "/run/[x]/s?", "/run/${HOME}\\s"}) {
    CAPTURE(name);
    nlohmann::json tip = p.Tip(NetRequest(NetVerb::kConnect, Unix(name)));
    INFO(tip.dump());
    std::string pattern = tip["network"]["rules"][0]["unix"].get<std::string>();
    auto compiled = policy::PathPattern::Compile(pattern, nullptr);
    REQUIRE(compiled);
    CHECK(compiled->is_literal());
    CHECK(compiled->Matches(name));
    for (const char* other : {"/run/aXb.sock", "/run/ab.sock", "/run/x/s1", "/run/[x]/sa"}) {
      CHECK_FALSE(compiled->Matches(other));
    }
  }
  for (const char* name : {"a*", "x[0-9]", "p?/q\\", "${HOME}"}) {
    CAPTURE(name);
    nlohmann::json tip = p.Tip(NetRequest(NetVerb::kConnect, Unix(name, true)));
    INFO(tip.dump());
    std::string pattern = tip["network"]["rules"][0]["unix"].get<std::string>();
    REQUIRE(pattern.starts_with("@"));
    std::string abstract = pattern.substr(1);
    CHECK(policy::CheckComponentPattern(abstract, nullptr));
    CHECK(policy::MatchComponent(abstract, name));
    for (const char* other : {"ab", "x5", "p1/q\\", "/home/u", "a"}) {
      CHECK_FALSE(policy::MatchComponent(abstract, other));
    }
  }
}

// As root (HOME=/root), root's home is the caller's own: standard's "other users' homes" rule
// must not tie with its own-home rule and deny it (git could not read ~/.gitconfig).
TEST_CASE("Evaluate: standard lets root read its own home and still denies other homes",
          "[policy][evaluate][presets]") {
  struct Case {
    const char* home;
    const char* path;
    policy::Action expected;
  };
  const Case cases[] = {
      {"/root", "/root/.gitconfig", policy::Action::kAllow},
      {"/root", "/root/.ssh/id_ed25519", policy::Action::kDeny},  // secrets stay secret
      {"/root", "/home/alice/notes", policy::Action::kDeny},
      {"/home/alice", "/root/.gitconfig", policy::Action::kDeny},
      {"/home/alice", "/home/alice/notes", policy::Action::kAllow},
      {"/home/alice", "/home/bob/notes", policy::Action::kDeny},
  };
  const char* saved = std::getenv("HOME");
  const std::string saved_home = saved ? saved : "";
  for (const Case& c : cases) {
    CAPTURE(c.home, c.path);
    REQUIRE(setenv("HOME", c.home, 1) == 0);
    auto p = policy::LoadPreset("standard", policy::DefaultVariables());
    REQUIRE(p);
    CHECK(p->Evaluate(PathRequest(c.path, policy::Access::kRead)).action == c.expected);
  }
  if (saved) {
    setenv("HOME", saved_home.c_str(), 1);
  } else {
    unsetenv("HOME");
  }
}
