// tracer/stop_decision.h: the decision for one seccomp stop as a pure function of the stop, the
// decoded call (through the fake tracee of fakes.h), the policy and the live-side facts. One
// example per row kind at a real level, the register-only stages, and tracejail's own guards.
#include <linux/audit.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "fakes.h"
#include "policy/loader.h"
#include "syscalls/pin_layout.h"
#include "tracer/stop_decision.h"

namespace {

using policy::Action;
using tjtest::FakeContext;
using Args = std::array<std::uint64_t, 6>;

constexpr std::uint64_t R(long long v) { return static_cast<std::uint64_t>(v); }
constexpr std::uint64_t kFdCwd = R(AT_FDCWD);

const policy::Variables kVars{{"CWD", "/home/user/work"},
                              {"WORKDIR", "/home/user/work"},
                              {"HOME", "/home/user"},
                              {"TMPDIR", "/tmp"},
                              {"COMMAND", "/usr/bin/tool"}};

policy::Policy Level(const std::string& name, const std::string& extra = "") {
  return policy::LoadPolicyText(R"({"version": 1, "extends": ")" + name + "\"" + extra + "}",
                                "test.json", kVars);
}

tracer::DecodedCall DecodeCall(FakeContext& ctx, std::string_view name, const Args& args) {
  const syscalls::SyscallRow* row = syscalls::FindRow(name);
  REQUIRE(row != nullptr);
  tracer::DecodedCall call;
  tracer::Decode(*row, args, ctx, call);
  return call;
}

struct Example {
  const char* what;
  const char* syscall;
  Args args;
  Action expect;
  int error = 0;  // when denied
};

}  // namespace

TEST_CASE("DecideCall: one example of every row kind at standard", "[stop_decision]") {
  const policy::Policy standard = Level("standard");
  FakeContext ctx;
  const std::uint64_t shadow = ctx.mem.PutCString("/etc/shadow");
  const std::uint64_t tmp_file = ctx.mem.PutCString("/tmp/out.txt");
  const std::uint64_t sh = ctx.mem.PutCString("/bin/sh");
  const std::uint64_t argv = ctx.mem.PutValue(std::array<std::uint64_t, 2>{sh, 0});
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(80);
  sin.sin_addr.s_addr = htonl(0x5db8d822);  // 93.184.216.34
  const std::uint64_t remote = ctx.mem.PutValue(sin);
  const std::uint64_t outside = 999999;  // no such process in the fake tree
  const Example examples[] = {
      {"kOpen: a secret is denied", "openat", {kFdCwd, shadow, R(O_RDONLY)}, Action::kDeny, EACCES},
      {"kOpen: the temp dir is writable",
       "openat",
       {kFdCwd, tmp_file, R(O_WRONLY | O_CREAT), 0644},
       Action::kAllow},
      {"kExec: a shell may run", "execve", {sh, argv, 0}, Action::kAllow},
      {"kPaths: a secret cannot be chmodded", "chmod", {shadow, 0777}, Action::kDeny, EACCES},
      {"kNet: the network is closed", "connect", {3, remote, sizeof sin}, Action::kDeny},
      {"kPrimitive: ptrace", "ptrace", {R(PTRACE_ATTACH), 1}, Action::kDeny},
      {"kSignalTarget: a signal outside the tree", "kill", {outside, R(SIGKILL)}, Action::kDeny},
      {"kSignalTarget: a signal inside the tree", "kill", {4300, R(SIGTERM)}, Action::kAllow},
      {"kClone: a new user namespace", "clone", {R(CLONE_NEWUSER | SIGCHLD)}, Action::kDeny},
      {"kProcessVm: writing another process", "process_vm_writev", {4300}, Action::kDeny},
      {"kPersonality: changing the personality", "personality", {0x0040000}, Action::kDeny},
      {"kPidTarget: scheduling another process",
       "sched_setaffinity",
       {outside, 8, 0},
       Action::kDeny},
      {"kPriority: renicing another process",
       "setpriority",
       {R(PRIO_PROCESS), outside, 5},
       Action::kDeny},
      {"kSetpgid: joining a group outside", "setpgid", {0, outside}, Action::kDeny},
      {"kPinGuard: unmapping the pinned region",
       "munmap",
       {syscalls::kPinBase, 4096},
       Action::kDeny},
      {"kPinGuard: ordinary memory", "munmap", {0x7f0000000000, 4096}, Action::kAllow},
      {"kPrctl: PR_SET_SECCOMP is allowed", "prctl", {R(PR_SET_SECCOMP), 2, 0}, Action::kAllow},
  };
  std::set<syscalls::Kind> covered;
  for (const Example& ex : examples) {
    CAPTURE(ex.what);
    tracer::DecodedCall call = DecodeCall(ctx, ex.syscall, ex.args);
    covered.insert(call.row->kind);
    tracer::CallVerdict v = tracer::DecideCall(call, standard, {});
    CHECK_FALSE(v.kernel_fails);
    CHECK_FALSE(v.self_hit);
    CHECK(v.decision.action == ex.expect);
    if (ex.error != 0) CHECK(v.decision.error == ex.error);
    // A denial names the rule that made it.
    if (v.decision.action != Action::kAllow) CHECK_FALSE(v.decision.rule.empty());
    // The pure function is the policy's decision when no guard speaks.
    CHECK(v.decision.action == standard.Evaluate(call.request).action);
    const std::string message = tracer::CallMessage(*call.row, call, v.decision);
    CHECK(message.starts_with(std::string(ex.syscall) + " " +
                              std::string(policy::Name(v.decision.action))));
  }
  CHECK(covered.size() >= 13);
}

TEST_CASE("DecideCall: tracejail's own guards override the policy", "[stop_decision]") {
  const policy::Policy none = Level("none");
  FakeContext ctx;
  const std::uint64_t path = ctx.mem.PutCString("/tmp/run/events.jsonl");
  tracer::DecodedCall call = DecodeCall(ctx, "unlink", {path});
  REQUIRE(tracer::DecideCall(call, none, {}).decision.action == Action::kAllow);

  tracer::CallVerdict out = tracer::DecideCall(call, none, {"/tmp/run/events.jsonl", ""});
  CHECK(out.decision.action == Action::kDeny);
  CHECK(out.decision.error == EACCES);
  CHECK(out.decision.rule == tracer::kOutputRule);
  CHECK(out.decision.event == policy::EventType::kEscapeAttempt);
  CHECK_FALSE(out.self_hit);
  CHECK(call.note.find("tracejail's own output") != std::string::npos);

  tracer::CallVerdict self = tracer::DecideCall(call, none, {"", "pid 1 is tracejail"});
  CHECK(self.decision.action == Action::kDeny);
  CHECK(self.decision.error == EPERM);
  CHECK(self.decision.rule == tracer::kSelfRule);
  CHECK(self.self_hit);
  CHECK(call.note == "pid 1 is tracejail");
  CHECK(tracer::CallMessage(*call.row, call, self.decision).ends_with(": pid 1 is tracejail"));
}

TEST_CASE("DecideCall: a call the kernel would fail is denied with its errno", "[stop_decision]") {
  FakeContext ctx;
  // An unreadable path: the kernel would return EFAULT.
  tracer::DecodedCall call = DecodeCall(ctx, "openat", {kFdCwd, 0xdead0000, R(O_RDONLY)});
  REQUIRE(call.early_errno == EFAULT);
  tracer::CallVerdict v = tracer::DecideCall(call, Level("none"), {});
  CHECK(v.kernel_fails);
  CHECK(v.decision.action == Action::kDeny);
  CHECK(v.decision.error == EFAULT);
  CHECK(v.decision.rule == tracer::kKernelWouldFailRule);
}

TEST_CASE("DecideOnRegisters: the stages before decoding", "[stop_decision]") {
  using Next = tracer::RegisterVerdict::Next;
  const policy::Policy standard = Level("standard");
  const syscalls::SyscallRow* openat = syscalls::FindRow("openat");
  const syscalls::SyscallRow* ptrace_row = syscalls::FindRow("ptrace");
  REQUIRE(openat != nullptr);

  SECTION("a foreign ABI is decided as one") {
    for (auto [arch, nr] :
         {std::pair<std::uint32_t, std::uint64_t>{AUDIT_ARCH_I386, 20},
          std::pair<std::uint32_t, std::uint64_t>{AUDIT_ARCH_X86_64, tracer::kX32Bit | 39}}) {
      tracer::RawStop stop{arch, nr, {}, nullptr, false};
      tracer::RegisterVerdict v = tracer::DecideOnRegisters(stop, standard);
      CHECK(v.next == Next::kEnforce);
      CHECK(v.record);
      CHECK(v.request.primitive == policy::Primitive::kForeignAbi);
      CHECK(v.decision.action != Action::kAllow);
      CHECK(v.message.find("from a 64-bit sandbox") != std::string::npos);
    }
  }
  SECTION("a number the table does not know is refused") {
    tracer::RawStop stop{AUDIT_ARCH_X86_64, 1000, {}, nullptr, true};
    tracer::RegisterVerdict v = tracer::DecideOnRegisters(stop, standard);
    CHECK(v.next == Next::kEnforce);
    CHECK(v.request.primitive == policy::Primitive::kUnknownSyscall);
    CHECK(v.decision.action == Action::kDeny);
    CHECK(v.decision.error == ENOSYS);
  }
  SECTION("a stop of a filter the tracee stacked is let run") {
    tracer::RawStop stop{AUDIT_ARCH_X86_64, 39, {}, nullptr, false};
    CHECK(tracer::DecideOnRegisters(stop, standard).next == Next::kLetRun);
  }
  SECTION("a row of the table without syscall rules is decoded and decided") {
    tracer::RawStop stop{AUDIT_ARCH_X86_64, 257, {}, openat, false};
    tracer::RegisterVerdict v = tracer::DecideOnRegisters(stop, standard);
    CHECK(v.next == Next::kDecodeAndDecide);
    CHECK_FALSE(v.record);
  }
  SECTION("a syscall rule decides on the registers and shows the decoded call") {
    policy::Policy p =
        Level("standard", R"(, "syscalls": {"rules": [{"names": ["openat"], "action": "deny"}]})");
    tracer::RawStop stop{AUDIT_ARCH_X86_64, 257, {}, openat, false};
    tracer::RegisterVerdict v = tracer::DecideOnRegisters(stop, p);
    CHECK(v.next == Next::kEnforce);
    CHECK(v.record);
    CHECK(v.decode_for_event);
    CHECK(v.decision.action == Action::kDeny);
    CHECK(v.message == "openat deny by a syscall rule");
    CHECK(v.tip["syscalls"]["rules"][0]["names"][0] == "openat");
  }
  SECTION("a syscall default does not pre-empt escape primitives and tree checks") {
    policy::Policy p =
        Level("standard", R"(, "syscalls": {"default": {"action": "deny", "errno": "EPERM"}})");
    REQUIRE(ptrace_row != nullptr);
    tracer::RawStop stop{AUDIT_ARCH_X86_64, 101, {}, ptrace_row, false};
    CHECK(tracer::DecideOnRegisters(stop, p).next == Next::kDecodeAndDecide);
    tracer::RawStop open_stop{AUDIT_ARCH_X86_64, 257, {}, openat, false};
    tracer::RegisterVerdict v = tracer::DecideOnRegisters(open_stop, p);
    CHECK(v.next == Next::kEnforce);
    CHECK(v.decision.error == EPERM);
  }
}

TEST_CASE("ArchName and SyscallName: names for events", "[stop_decision]") {
  CHECK(tracer::ArchName(AUDIT_ARCH_X86_64, 0) == "x86_64");
  CHECK(tracer::ArchName(AUDIT_ARCH_X86_64, tracer::kX32Bit) == "x32");
  CHECK(tracer::ArchName(AUDIT_ARCH_I386, 0) == "i386");
  CHECK(tracer::SyscallName(AUDIT_ARCH_X86_64, 257) == "openat");
  CHECK(tracer::SyscallName(AUDIT_ARCH_I386, 20) == "getpid");
  CHECK(tracer::SyscallName(AUDIT_ARCH_X86_64, 100000) == "syscall_100000");
}
