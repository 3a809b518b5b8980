// Issue 14, the whole kernel surface, without ptrace: the decoder's new decisions (other
// processes by pid, priority, signal owners, terminal ioctls, descriptor-based changes, device
// nodes, unix bind, /proc aliases), destinations as the kernel uses them, capability names and
// the policy's capability sets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fakes.h"
#include "policy/capabilities.h"
#include "policy/loader.h"
#include "policy/presets.h"
#include "syscalls/table.h"
#include "tracer/decode.h"

namespace {

using policy::Access;
using policy::Primitive;
using tjtest::BytesOf;
using tjtest::FakeContext;
using Args = std::array<std::uint64_t, 6>;

constexpr std::uint64_t R(long long v) { return static_cast<std::uint64_t>(v); }

tracer::DecodedCall Run(FakeContext& ctx, std::string_view name, const Args& args) {
  const syscalls::SyscallRow* row = syscalls::FindRow(name);
  REQUIRE(row != nullptr);
  tracer::DecodedCall out;
  tracer::Decode(*row, args, ctx, out);
  return out;
}

policy::SocketAddress V4(const char* ip, std::uint16_t port = 80) {
  policy::SocketAddress a;
  a.family = AF_INET;
  a.port = port;
  REQUIRE(inet_pton(AF_INET, ip, a.ip.data()) == 1);
  return a;
}

policy::SocketAddress V6(const char* ip, std::uint16_t port = 80) {
  policy::SocketAddress a;
  a.family = AF_INET6;
  a.port = port;
  REQUIRE(inet_pton(AF_INET6, ip, a.ip.data()) == 1);
  return a;
}

std::string Text(const policy::SocketAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family, a.ip.data(), buf, sizeof buf);
  return buf;
}

policy::Policy Preset(const char* level) {
  return policy::LoadPolicyText(*policy::PresetText(level), level, policy::DefaultVariables());
}

}  // namespace

TEST_CASE("Kernel surface: calls naming another process by pid", "[decode][kernel_surface]") {
  // Tree: 4242, 4243, 4300; group 4242. Pid 0 is the caller.
  struct Case {
    const char* syscall;
    Args args;
    Primitive primitive;
  };
  const Case cases[] = {
      {"sched_setaffinity", {0, 128, 0}, Primitive::kNone},
      {"sched_setaffinity", {4300, 128, 0}, Primitive::kNone},
      {"sched_setaffinity", {1, 128, 0}, Primitive::kProcessOutside},
      {"sched_getaffinity", {1, 128, 0}, Primitive::kProcessOutside},
      {"sched_setscheduler", {7, 0, 0}, Primitive::kProcessOutside},
      {"sched_getattr", {1, 0, 48, 0}, Primitive::kProcessOutside},
      {"prlimit64", {1, 7, 0, 0}, Primitive::kProcessOutside},
      {"prlimit64", {4243, 7, 0, 0}, Primitive::kNone},
      {"getpgid", {1}, Primitive::kProcessOutside},
      {"getsid", {4242}, Primitive::kNone},
      {"get_robust_list", {1, 0, 0}, Primitive::kProcessOutside},
      {"migrate_pages", {1, 0, 0, 0}, Primitive::kProcessOutside},
      {"move_pages", {1, 0, 0, 0, 0, 0}, Primitive::kProcessOutside},
      {"kcmp", {4242, 1, 0, 0, 0}, Primitive::kProcessOutside},
      {"kcmp", {4242, 4300, 0, 0, 0}, Primitive::kNone},
      {"kcmp", {R(-5), 4242, 0, 0, 0}, Primitive::kNone},  // the kernel refuses it
      // which/who: PRIO_PROCESS 0, PRIO_PGRP 1, PRIO_USER 2.
      {"setpriority", {0, 1, 5}, Primitive::kProcessOutside},
      {"setpriority", {0, 0, 5}, Primitive::kNone},
      {"setpriority", {0, 4300, 5}, Primitive::kNone},
      {"setpriority", {1, 4242, 5}, Primitive::kNone},
      {"setpriority", {1, 99, 5}, Primitive::kProcessOutside},
      {"setpriority", {2, 0, 5}, Primitive::kProcessOutside},  // every process of the caller's user
      {"getpriority", {2, 1000}, Primitive::kProcessOutside},
      // IOPRIO_WHO_PROCESS 1, PGRP 2, USER 3.
      {"ioprio_set", {1, 1, 0}, Primitive::kProcessOutside},
      {"ioprio_set", {1, 0, 0}, Primitive::kNone},
      {"ioprio_get", {3, 0}, Primitive::kProcessOutside},
      {"ioprio_get", {2, 4242}, Primitive::kNone},
  };
  for (const auto& c : cases) {
    CAPTURE(c.syscall, c.args[0], c.args[1]);
    FakeContext ctx;
    auto out = Run(ctx, c.syscall, c.args);
    CHECK(out.request.primitive == c.primitive);
    CHECK(out.early_errno == 0);
    CHECK(out.note.empty() == (c.primitive == Primitive::kNone));
  }
  SECTION("the outside pid is named for the self guard") {
    FakeContext ctx;
    auto out = Run(ctx, "prlimit64", {1, 7, 0, 0});
    CHECK(out.outside.pids == std::vector<pid_t>{1});
  }
  SECTION("the filter stops them only when they name someone else") {
    const syscalls::SyscallRow* row = syscalls::FindRow("sched_getaffinity");
    REQUIRE(row != nullptr);
    REQUIRE(row->cond_count == 1);
    CHECK(row->conds[0].op == syscalls::KernelCond::Op::kNotEq);
    CHECK(row->conds[0].value == 0);
  }
}

TEST_CASE("Kernel surface: capget reads the header's pid", "[decode][kernel_surface]") {
  FakeContext ctx;
  struct {
    std::uint32_t version;
    std::int32_t pid;
  } header{_LINUX_CAPABILITY_VERSION_3, 1};
  std::uint64_t outside = ctx.mem.PutValue(header);
  header.pid = 0;
  std::uint64_t self = ctx.mem.PutValue(header);
  CHECK(Run(ctx, "capget", {outside, 0}).request.primitive == Primitive::kProcessOutside);
  CHECK(Run(ctx, "capget", {self, 0}).request.primitive == Primitive::kNone);
  CHECK(Run(ctx, "capget", {0xdead0000, 0}).early_errno == EFAULT);
}

TEST_CASE("Kernel surface: signal owners of descriptors", "[decode][kernel_surface]") {
  FakeContext ctx;
  CHECK(Run(ctx, "fcntl", {3, F_SETOWN, 1}).request.primitive == Primitive::kSignalOutside);
  CHECK(Run(ctx, "fcntl", {3, F_SETOWN, 4243}).request.primitive == Primitive::kNone);
  CHECK(Run(ctx, "fcntl", {3, F_SETOWN, R(-4242)}).request.primitive == Primitive::kNone);
  CHECK(Run(ctx, "fcntl", {3, F_SETOWN, R(-77)}).request.primitive == Primitive::kSignalOutside);
  CHECK(Run(ctx, "fcntl", {3, F_SETOWN, 0}).request.primitive == Primitive::kNone);
  f_owner_ex ex{F_OWNER_PID, 1};
  std::uint64_t outside = ctx.mem.PutValue(ex);
  ex = {F_OWNER_PGRP, 4242};
  std::uint64_t group = ctx.mem.PutValue(ex);
  CHECK(Run(ctx, "fcntl", {3, F_SETOWN_EX, outside}).request.primitive ==
        Primitive::kSignalOutside);
  CHECK(Run(ctx, "fcntl", {3, F_SETOWN_EX, group}).request.primitive == Primitive::kNone);
  // FIOSETOWN / SIOCSPGRP take a pointer to the owner.
  std::uint64_t one = ctx.mem.PutValue(std::int32_t{1});
  CHECK(Run(ctx, "ioctl", {3, 0x8901, one}).request.primitive == Primitive::kSignalOutside);
  CHECK(Run(ctx, "ioctl", {3, 0x8902, one}).request.primitive == Primitive::kSignalOutside);
  // The filter compares the command's low 32 bits only.
  const syscalls::SyscallRow* fcntl = syscalls::FindRow("fcntl");
  REQUIRE(fcntl != nullptr);
  for (std::size_t i = 0; i < fcntl->cond_count; ++i) {
    if (fcntl->conds[i].arg == 1) CHECK(fcntl->conds[i].mask == 0xffffffffu);
  }
}

TEST_CASE("Kernel surface: terminal ioctls are escape primitives", "[decode][kernel_surface]") {
  FakeContext ctx;
  for (std::uint64_t request : {0x5412ULL, 0x100005412ULL, 0x541CULL, 0x541DULL, 0x540EULL}) {
    CAPTURE(request);
    auto out = Run(ctx, "ioctl", {0, request, 0});
    CHECK(out.request.primitive == Primitive::kTerminal);
    CHECK_THAT(out.note, Catch::Contains("terminal"));
  }
  auto sti = Run(ctx, "ioctl", {0, 0x5412, 0});
  CHECK(sti.capability == "CAP_SYS_ADMIN");
  CHECK_THAT(sti.note, Catch::Contains("CAP_SYS_ADMIN"));
  // Any other request is not the table's business.
  CHECK(Run(ctx, "ioctl", {0, 0x5401 /*TCGETS*/, 0}).request.primitive == Primitive::kNone);
  const syscalls::SyscallRow* ioctl = syscalls::FindRow("ioctl");
  REQUIRE(ioctl != nullptr);
  auto stops = [&](std::uint64_t request) {
    for (std::size_t i = 0; i < ioctl->cond_count; ++i) {
      if ((request & ioctl->conds[i].mask) == ioctl->conds[i].value) return true;
    }
    return false;
  };
  for (std::size_t i = 0; i < ioctl->cond_count; ++i) {
    // Never a bit above 31: the kernel reads the request as 32 bits.
    CHECK((ioctl->conds[i].mask >> 32) == 0);
  }
  for (std::uint64_t request :
       {0x5412ULL, 0x5402ULL, 0x5414ULL, 0x5452ULL, 0x40045436ULL, 0x40086602ULL, 0x8901ULL}) {
    CAPTURE(request);
    CHECK(stops(request));
  }
  CHECK_FALSE(stops(0x8910));  // SIOCGIFNAME: not the table's business
}

TEST_CASE("Kernel surface: the caller's terminal and terminal signals",
          "[decode][kernel_surface]") {
  using T = tracer::TraceeContext::Terminal;
  FakeContext ctx;
  ctx.terminals = {{0, T::kCallers}, {7, T::kTerminal}};
  std::uint64_t on = ctx.mem.PutValue(std::int32_t{1});
  std::uint64_t off = ctx.mem.PutValue(std::int32_t{0});
  // Changing the caller's terminal (modes, size, flow, foreground group): refused without --tty.
  for (std::uint64_t request :
       {0x5402ULL /*TCSETS*/, 0x5414ULL /*TIOCSWINSZ*/, 0x540AULL /*TCXONC*/,
        0x540CULL /*TIOCEXCL*/, 0x5410ULL /*TIOCSPGRP*/, 0x40045436ULL /*TIOCSIG*/}) {
    CAPTURE(request);
    CHECK(Run(ctx, "ioctl", {0, request, 0}).request.primitive == Primitive::kTerminal);
    CHECK(Run(ctx, "ioctl", {7, request, 0}).request.primitive == Primitive::kNone);
  }
  // Asking is fine anywhere.
  for (std::uint64_t request : {0x5401ULL /*TCGETS*/, 0x5413ULL /*TIOCGWINSZ*/, 0x5421ULL}) {
    CAPTURE(request);
    CHECK(Run(ctx, "ioctl", {0, request, on}).request.primitive == Primitive::kNone);
  }
  // SIGIO from a terminal goes to its foreground group: never on a terminal.
  CHECK(Run(ctx, "ioctl", {7, 0x5452, on}).request.primitive == Primitive::kTerminal);
  CHECK(Run(ctx, "ioctl", {7, 0x5452, off}).request.primitive == Primitive::kNone);
  CHECK(Run(ctx, "ioctl", {9, 0x5452, on}).request.primitive == Primitive::kNone);  // a socket
  CHECK(Run(ctx, "fcntl", {0, F_SETFL, O_ASYNC | O_NONBLOCK}).request.primitive ==
        Primitive::kTerminal);
  CHECK(Run(ctx, "fcntl", {9, F_SETFL, O_ASYNC}).request.primitive == Primitive::kNone);
  // The filter stops F_SETFL only with O_ASYNC.
  const syscalls::SyscallRow* fcntl = syscalls::FindRow("fcntl");
  REQUIRE(fcntl != nullptr);
  CHECK(fcntl->conds[3].and_prev);
  CHECK(fcntl->conds[3].mask == O_ASYNC);
}

TEST_CASE("Kernel surface: changes through a descriptor are path decisions",
          "[decode][kernel_surface]") {
  FakeContext ctx;
  ctx.dir_fds = {{5, "/etc/passwd"}};
  struct Case {
    const char* syscall;
    Args args;
    Access access;
  };
  const Case cases[] = {
      {"fchmod", {5, 0644}, Access::kChmod},
      {"fchown", {5, 0, 0}, Access::kChown},
      {"fsetxattr", {5, 0, 0, 0, 0}, Access::kWrite},
      {"fremovexattr", {5, 0}, Access::kWrite},
      {"ioctl", {5, 0x40086602 /*FS_IOC_SETFLAGS*/, 0}, Access::kWrite | Access::kChmod},
      {"ioctl", {5, 0x40046602 /*FS_IOC32_SETFLAGS*/, 0}, Access::kWrite | Access::kChmod},
      {"ioctl", {5, 0x401c5820 /*FS_IOC_FSSETXATTR*/, 0}, Access::kWrite | Access::kChmod},
      {"ioctl", {5, 0x40806685 /*FS_IOC_ENABLE_VERITY*/, 0}, Access::kWrite | Access::kChmod},
      {"ioctl", {5, 0x40087602 /*FS_IOC_SETVERSION*/, 0}, Access::kWrite | Access::kChmod},
      {"ioctl", {5, 0x40049409 /*FICLONE*/, 0}, Access::kWrite | Access::kChmod},
      {"ioctl",
       {5, 0x800c6613 /*FS_IOC_SET_ENCRYPTION_POLICY, declared _IOR*/, 0},
       Access::kWrite | Access::kChmod},
  };
  for (const auto& c : cases) {
    CAPTURE(c.syscall, c.args[1]);
    auto out = Run(ctx, c.syscall, c.args);
    REQUIRE(out.request.path_count == 1);
    CHECK(out.request.paths[0].path == "/etc/passwd");
    CHECK(out.request.paths[0].access == c.access);
    CHECK(ctx.resolve_calls.back().empty_path_ok);
  }
  CHECK(Run(ctx, "fchmod", {9, 0644}).early_errno == EBADF);
  // Reading a file's flags or extents is no change.
  for (std::uint64_t getter : {0x80086601ULL /*FS_IOC_GETFLAGS*/, 0xc020660bULL /*FIEMAP*/,
                               0x801c581fULL /*FS_IOC_FSGETXATTR*/}) {
    CAPTURE(getter);
    CHECK(Run(ctx, "ioctl", {5, getter, 0}).request.path_count == 0);
  }
}

TEST_CASE("Kernel surface: newer path calls, device nodes, whiteouts", "[decode][kernel_surface]") {
  FakeContext ctx;
  std::uint64_t path = ctx.mem.PutCString("/etc/shadow");
  auto chmod2 = Run(ctx, "fchmodat2", {R(AT_FDCWD), path, 0777, 0});
  REQUIRE(chmod2.request.path_count == 1);
  CHECK(chmod2.request.paths[0].access == Access::kChmod);
  auto setattr = Run(ctx, "file_setattr", {R(AT_FDCWD), path, 0, 0, 0});
  CHECK(setattr.request.paths[0].access == Access::kChmod);
  auto xattr = Run(ctx, "setxattrat", {R(AT_FDCWD), path, 0, 0, 0, 0});
  CHECK(xattr.request.paths[0].access == Access::kWrite);

  std::uint64_t node = ctx.mem.PutCString("disk");
  auto blk = Run(ctx, "mknodat", {R(AT_FDCWD), node, S_IFBLK | 0600, 0x800});
  CHECK(blk.request.primitive == Primitive::kSystemAdmin);
  CHECK(blk.capability == "CAP_MKNOD");
  auto fifo = Run(ctx, "mknod", {node, S_IFIFO | 0600, 0});
  CHECK(fifo.request.primitive == Primitive::kNone);
  CHECK(fifo.request.paths[0].access == Access::kCreate);

  std::uint64_t a = ctx.mem.PutCString("a"), b = ctx.mem.PutCString("b");
  auto whiteout = Run(ctx, "renameat2", {R(AT_FDCWD), a, R(AT_FDCWD), b, 4 /*RENAME_WHITEOUT*/});
  CHECK(Any(whiteout.request.paths[0].access & Access::kCreate));
  auto plain = Run(ctx, "renameat2", {R(AT_FDCWD), a, R(AT_FDCWD), b, 0});
  CHECK_FALSE(Any(plain.request.paths[0].access & Access::kCreate));
}

TEST_CASE("Kernel surface: binding a unix socket creates a file", "[decode][kernel_surface]") {
  FakeContext ctx;
  sa_family_t family = AF_UNIX;
  std::string addr = BytesOf(family) + std::string("/srv/protected/sock") + '\0';
  std::uint64_t at = ctx.mem.Put(addr);
  auto out = Run(ctx, "bind", {3, at, addr.size()});
  REQUIRE(out.request.path_count == 1);
  CHECK(out.request.paths[0].path == "/srv/protected/sock");
  CHECK(out.request.paths[0].access == Access::kCreate);
  REQUIRE(out.request.net);
  // Abstract names create no file.
  std::string abstract = BytesOf(family) + std::string("\0name", 5);
  CHECK(Run(ctx, "bind", {3, ctx.mem.Put(abstract), abstract.size()}).request.path_count == 0);
}

TEST_CASE("Kernel surface: every /proc entry of an outside process, under any alias",
          "[decode][kernel_surface]") {
  for (const char* p : {"/proc/1/cmdline", "/proc/1/status", "/proc/1/task/1/comm",
                        "/proc/1/oom_score_adj", "/proc/1", "/proc/77/ns/net"}) {
    CAPTURE(p);
    FakeContext ctx;
    auto out = Run(ctx, "openat", {R(AT_FDCWD), ctx.mem.PutCString(p), O_RDONLY, 0});
    CHECK((out.request.primitive == Primitive::kProcessOutside ||
           out.request.primitive == Primitive::kProcessVmRead));
    CHECK_FALSE(out.outside.pids.empty());
  }
  FakeContext ctx;
  auto env_entry =
      Run(ctx, "openat", {R(AT_FDCWD), ctx.mem.PutCString("/proc/1/environ"), O_RDONLY, 0});
  CHECK(env_entry.request.primitive == Primitive::kProcessVmRead);
  for (const char* p : {"/proc/4243/status", "/proc/self/status", "/proc/cpuinfo", "/proc"}) {
    CAPTURE(p);
    auto own = Run(ctx, "openat", {R(AT_FDCWD), ctx.mem.PutCString(p), O_RDONLY, 0});
    CHECK(own.request.primitive == Primitive::kNone);
  }
}

TEST_CASE("Kernel surface: destinations as the kernel uses them", "[policy][kernel_surface]") {
  auto as_used = [](const policy::SocketAddress& a,
                    const std::vector<policy::SocketAddress>& local = {}) {
    std::vector<std::string> out;
    for (const auto& d : policy::DestinationsAsUsed(a, local)) out.push_back(Text(d));
    return out;
  };
  CHECK(as_used(V4("0.0.0.0")) == std::vector<std::string>{"127.0.0.1"});
  CHECK(as_used(V6("::")) == std::vector<std::string>{"::1"});
  CHECK(as_used(V6("::ffff:0.0.0.0")) == std::vector<std::string>{"127.0.0.1"});
  CHECK(as_used(V6("::ffff:10.1.2.3")) == std::vector<std::string>{"10.1.2.3"});
  CHECK(as_used(V4("127.0.0.2")) == std::vector<std::string>{"127.0.0.2", "127.0.0.1"});
  CHECK(as_used(V4("127.0.0.1")) == std::vector<std::string>{"127.0.0.1"});
  CHECK(as_used(V4("10.0.0.5")) == std::vector<std::string>{"10.0.0.5"});
  // Broadcast and multicast reach this host's listeners too.
  CHECK(as_used(V4("255.255.255.255")) == std::vector<std::string>{"255.255.255.255", "127.0.0.1"});
  CHECK(as_used(V4("10.0.0.255")) == std::vector<std::string>{"10.0.0.255", "127.0.0.1"});
  CHECK(as_used(V4("224.0.0.1")) == std::vector<std::string>{"224.0.0.1", "127.0.0.1"});
  CHECK(as_used(V6("ff02::1")) == std::vector<std::string>{"ff02::1", "::1"});
  CHECK(as_used(V4("10.0.0.5"), {V4("10.0.0.5")}) ==
        std::vector<std::string>{"10.0.0.5", "127.0.0.1"});

  // A policy that denies 127.0.0.1:8080 denies every alias of it, and only for that port.
  policy::Policy p = policy::LoadPolicyText(R"({"version": 1, "extends": "basic",
      "network": {"rules": [{"cidr": "127.0.0.1/32", "ports": "8080",
                             "verbs": ["connect", "send"], "action": "deny"}]}})",
                                            "test", policy::DefaultVariables());
  p.local_addresses = {V4("10.0.0.5")};
  for (const auto& a : {V4("0.0.0.0", 8080), V6("::ffff:0.0.0.0", 8080), V4("127.0.0.2", 8080),
                        V4("10.0.0.5", 8080), V6("::ffff:127.0.0.1", 8080)}) {
    CAPTURE(Text(a));
    policy::Request r;
    r.net = policy::NetAccess{policy::NetVerb::kConnect, a.family, SOCK_STREAM, 0, a};
    CHECK(p.Evaluate(r).action == policy::Action::kDeny);
  }
  policy::Request other;
  other.net =
      policy::NetAccess{policy::NetVerb::kConnect, AF_INET, SOCK_STREAM, 0, V4("0.0.0.0", 9090)};
  CHECK(p.Evaluate(other).action == policy::Action::kAllow);
}

TEST_CASE("Kernel surface: capability names and the levels' sets", "[policy][kernel_surface]") {
  CHECK(policy::CapFromName("CAP_SYS_ADMIN") == CAP_SYS_ADMIN);
  CHECK(policy::CapFromName("sys_admin") == CAP_SYS_ADMIN);
  CHECK(policy::CapFromName("NET_RAW") == CAP_NET_RAW);
  CHECK_FALSE(policy::CapFromName("CAP_NOPE").has_value());
  CHECK(policy::CapName(CAP_CHECKPOINT_RESTORE) == "CAP_CHECKPOINT_RESTORE");
  CHECK(policy::AllCapNames().size() == static_cast<std::size_t>(CAP_LAST_CAP + 1));

  // Docker's default set without NET_RAW is the most basic and standard keep.
  policy::CapSet docker = 0;
  for (int cap : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_SETGID,
                  CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
                  CAP_KILL, CAP_AUDIT_WRITE}) {
    docker |= policy::CapBit(cap);
  }
  auto basic = Preset("basic").isolation.capabilities;
  auto standard = Preset("standard").isolation.capabilities;
  auto strict = Preset("strict").isolation.capabilities;
  auto maximum = Preset("maximum").isolation.capabilities;
  REQUIRE(basic);
  REQUIRE(standard);
  REQUIRE(strict);
  REQUIRE(maximum);
  CHECK((*basic & ~docker) == 0);
  CHECK(*standard == *basic);
  CHECK((*strict & ~*standard) == 0);
  CHECK(*strict != *standard);
  CHECK(*maximum == 0);
  CHECK_FALSE(Preset("none").isolation.capabilities.has_value());
  for (int cap : {CAP_SYS_ADMIN, CAP_SYSLOG, CAP_SYS_TIME, CAP_SYS_PTRACE, CAP_NET_RAW,
                  CAP_SYS_MODULE, CAP_DAC_READ_SEARCH, CAP_MKNOD, CAP_SETFCAP, CAP_FSETID}) {
    CHECK((*basic & policy::CapBit(cap)) == 0);
  }

  // The policy key, with clear errors.
  auto load = [](const std::string& caps) {
    return policy::LoadPolicyText(
        R"({"version": 1, "extends": "standard", "isolation": {"capabilities": )" + caps + "}}",
        "test", policy::DefaultVariables());
  };
  CHECK(load(R"(["CAP_CHOWN", "kill"])").isolation.capabilities ==
        (policy::CapBit(CAP_CHOWN) | policy::CapBit(CAP_KILL)));
  CHECK_FALSE(load(R"("inherit")").isolation.capabilities.has_value());
  CHECK(load("[]").isolation.capabilities == 0);
  CHECK_THROWS_WITH(load(R"(["CAP_CHOWNN"])"), Catch::Contains("unknown capability"));
  CHECK_THROWS_WITH(load("5"), Catch::Contains("inherit"));
}

TEST_CASE("Kernel surface: set-ID files and file capabilities are privileged_file",
          "[decode][kernel_surface]") {
  FakeContext ctx;
  ctx.dir_fds = {{5, "/tmp/x"}};
  std::uint64_t path = ctx.mem.PutCString("/tmp/x");
  struct Case {
    const char* syscall;
    Args args;
    Primitive primitive;
  };
  const Case cases[] = {
      {"chmod", {path, 04755}, Primitive::kPrivilegedFile},
      {"chmod", {path, 02755}, Primitive::kPrivilegedFile},
      {"chmod", {path, 0755}, Primitive::kNone},
      {"fchmod", {5, 04755}, Primitive::kPrivilegedFile},
      {"fchmodat", {R(AT_FDCWD), path, 06777}, Primitive::kPrivilegedFile},
      {"fchmodat2", {R(AT_FDCWD), path, 04000, 0}, Primitive::kPrivilegedFile},
      {"openat", {R(AT_FDCWD), path, O_CREAT | O_WRONLY, 04755}, Primitive::kPrivilegedFile},
      {"openat", {R(AT_FDCWD), path, O_WRONLY, 04755}, Primitive::kNone},  // mode unused
      {"creat", {path, 02755}, Primitive::kPrivilegedFile},
      {"mknod", {path, S_IFREG | 04755, 0}, Primitive::kPrivilegedFile},
      {"mkdir", {path, 02775}, Primitive::kNone},  // setgid directories are ordinary
  };
  for (const auto& c : cases) {
    CAPTURE(c.syscall, c.args[1], c.args[2], c.args[3]);
    CHECK(Run(ctx, c.syscall, c.args).request.primitive == c.primitive);
  }
  std::uint64_t cap = ctx.mem.PutCString("security.capability");
  std::uint64_t user = ctx.mem.PutCString("user.note");
  auto caps = Run(ctx, "setxattr", {path, cap, 0, 20, 0});
  CHECK(caps.request.primitive == Primitive::kPrivilegedFile);
  CHECK(caps.capability == "CAP_SETFCAP");
  CHECK(Run(ctx, "fsetxattr", {5, cap, 0, 20, 0}).request.primitive == Primitive::kPrivilegedFile);
  CHECK(Run(ctx, "setxattrat", {R(AT_FDCWD), path, 0, cap, 0, 0}).request.primitive ==
        Primitive::kPrivilegedFile);
  CHECK(Run(ctx, "setxattr", {path, user, 0, 1, 0}).request.primitive == Primitive::kNone);
}

TEST_CASE("Kernel surface: another session's terminal and AF_UNSPEC destinations",
          "[decode][kernel_surface]") {
  FakeContext ctx;
  auto open_pts = [&](const char* p) {
    return Run(ctx, "openat", {R(AT_FDCWD), ctx.mem.PutCString(p), O_RDWR, 0});
  };
  CHECK(open_pts("/dev/pts/3").request.primitive == Primitive::kNone);
  auto other = open_pts("/dev/pts/9");
  CHECK(other.request.primitive == Primitive::kTerminal);
  CHECK_THAT(other.note, Catch::Contains("another session"));
  CHECK(open_pts("/dev/pts/ptmx").request.primitive == Primitive::kNone);
  CHECK(open_pts("/dev/ptmx").request.primitive == Primitive::kNone);

  // An IPv4 datagram socket sends to an AF_UNSPEC address as to AF_INET: decided as that.
  sockaddr_in sin{};
  sin.sin_family = AF_UNSPEC;
  sin.sin_port = htons(7101);
  REQUIRE(inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr) == 1);
  std::string bytes = BytesOf(sin);
  auto out = Run(ctx, "sendto", {3, 0, 1, 0, ctx.mem.Put(bytes), bytes.size()});
  REQUIRE(out.request.net);
  REQUIRE(out.request.net->addr);
  CHECK(out.request.net->addr->family == AF_INET);
  CHECK(out.request.net->addr->port == 7101);
  CHECK(Text(*out.request.net->addr) == "127.0.0.1");
  // connect with AF_UNSPEC dissolves an association: not an address.
  auto disconnect = Run(ctx, "connect", {3, ctx.mem.Put(bytes), bytes.size()});
  REQUIRE(disconnect.request.net);
  CHECK((!disconnect.request.net->addr || disconnect.request.net->addr->family == AF_UNSPEC));
}

TEST_CASE("Kernel surface: basic refuses what the host runs as root later",
          "[policy][kernel_surface]") {
  policy::Policy p = Preset("basic");
  for (const char* path :
       {"/etc/cron.d/job", "/etc/ld.so.preload", "/etc/systemd/system/x.service", "/root/.bashrc",
        "/home/alice/.ssh/authorized_keys", "/dev/userfaultfd"}) {
    CAPTURE(path);
    policy::Request r;
    r.path_count = 1;
    r.paths[0] = {path, Access::kWrite | Access::kCreate, true};
    CHECK(p.Evaluate(r).action == policy::Action::kDeny);
  }
  policy::Request ok;
  ok.path_count = 1;
  ok.paths[0] = {"/srv/data/file", Access::kWrite | Access::kCreate, true};
  CHECK(p.Evaluate(ok).action == policy::Action::kAllow);
  CHECK(p.isolation.Has(policy::Namespace::kIpc));
}

TEST_CASE("Kernel surface: a TCP fast open send is a connect too", "[decode][kernel_surface]") {
  FakeContext ctx;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(80);
  REQUIRE(inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr) == 1);
  std::string bytes = BytesOf(sin);
  auto fast = Run(ctx, "sendto", {3, 0, 1, MSG_FASTOPEN, ctx.mem.Put(bytes), bytes.size()});
  REQUIRE(fast.request.more_net.size() == 1);
  CHECK(fast.request.more_net[0].verb == policy::NetVerb::kConnect);
  auto plain = Run(ctx, "sendto", {3, 0, 1, 0, ctx.mem.Put(bytes), bytes.size()});
  CHECK(plain.request.more_net.empty());
}
