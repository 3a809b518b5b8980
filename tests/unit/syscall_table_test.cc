// syscalls/table.h: the table's internal consistency, and SyscallIndex against libseccomp
// and the x86_64 numbers from <sys/syscall.h>.
#include <seccomp.h>
#include <sys/syscall.h>

#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "policy/loader.h"
#include "policy/policy.h"
#include "policy/presets.h"
#include "syscalls/classes.h"
#include "syscalls/numbers.h"
#include "syscalls/table.h"
#include "tracer/seccomp_filter.h"

namespace {

using syscalls::Kind;
using syscalls::Role;
using syscalls::SyscallRow;

int CountRole(const SyscallRow& row, Role role) {
  int n = 0;
  for (const auto& a : row.args) n += a.role == role ? 1 : 0;
  return n;
}

bool IsPathKind(Kind k) { return k == Kind::kOpen || k == Kind::kPaths || k == Kind::kExec; }

}  // namespace

TEST_CASE("Syscall table: names are unique and FindRow finds each row", "[syscall_table]") {
  auto table = syscalls::SyscallTable();
  REQUIRE(table.size() > 50);
  std::set<std::string_view> names;
  for (const SyscallRow& row : table) {
    CAPTURE(row.name);
    CHECK_FALSE(row.name.empty());
    CHECK(names.insert(row.name).second);
    CHECK(syscalls::FindRow(row.name) == &row);
  }
  CHECK(syscalls::FindRow("no_such_syscall") == nullptr);
  CHECK(syscalls::FindRow("") == nullptr);
  CHECK(syscalls::FindRow("OPENAT") == nullptr);
}

TEST_CASE("Syscall table: argument roles are consistent", "[syscall_table]") {
  for (const SyscallRow& row : syscalls::SyscallTable()) {
    CAPTURE(row.name);
    // Arguments are contiguous and named.
    bool ended = false;
    std::set<std::string_view> arg_names;
    for (std::size_t i = 0; i < row.args.size(); ++i) {
      const auto& a = row.args[i];
      if (a.role == Role::kNone) {
        ended = true;
        continue;
      }
      CAPTURE(i, a.name);
      CHECK_FALSE(ended);
      CHECK_FALSE(a.name.empty());
      CHECK(arg_names.insert(a.name).second);
      // Pairs: a length or count follows its pointer.
      if (a.role == Role::kSockAddr) {
        REQUIRE(i + 1 < row.args.size());
        CHECK(row.args[i + 1].role == Role::kSockLen);
      }
      if (a.role == Role::kMMsgHdr || a.role == Role::kOpenHow) {
        REQUIRE(i + 1 < row.args.size());
        CHECK(row.args[i + 1].role == Role::kInt);
      }
    }
    if (IsPathKind(row.kind)) {
      int paths = CountRole(row, Role::kPath);
      CHECK(paths + CountRole(row, Role::kFdPath) >= 1);
      CHECK(paths <= 2);
      // Each dirfd is followed by the path it anchors before any other dirfd.
      for (std::size_t i = 0; i < row.args.size(); ++i) {
        if (row.args[i].role != Role::kDirFd) continue;
        bool found = false;
        for (std::size_t k = i + 1; k < row.args.size() && !found; ++k) {
          if (row.args[k].role == Role::kDirFd) break;
          found = row.args[k].role == Role::kPath;
        }
        CHECK(found);
      }
      if (row.kind != Kind::kOpen) CHECK(Any(row.access));
      if (paths == 2) CHECK(Any(row.access2));
    }
    if (row.kind == Kind::kExec) {
      CHECK(CountRole(row, Role::kArgv) == 1);
      CHECK(CountRole(row, Role::kEnvp) == 1);
    }
    if (row.kind == Kind::kOpen) {
      CHECK(CountRole(row, Role::kOpenFlags) + CountRole(row, Role::kOpenHow) == 1);
    }
    if (row.kind == Kind::kNet && row.verb != policy::NetVerb::kSocket) {
      CHECK(CountRole(row, Role::kFd) >= 1);
    }
    if (row.kind == Kind::kSignalTarget) CHECK(CountRole(row, Role::kPid) >= 1);
  }
}

TEST_CASE("Syscall table: groups, kinds and primitives agree", "[syscall_table]") {
  using syscalls::Group;
  for (const SyscallRow& row : syscalls::SyscallTable()) {
    CAPTURE(row.name);
    switch (row.kind) {
      case Kind::kOpen:
        CHECK(row.group == Group::kOpen);
        break;
      case Kind::kExec:
        CHECK(row.group == Group::kExec);
        break;
      case Kind::kPaths:
        CHECK((row.group == Group::kOpen || row.group == Group::kStat ||
               row.group == Group::kMutate));
        break;
      case Kind::kNet:
        CHECK(row.group == Group::kNet);
        break;
      case Kind::kPlain:
        CHECK(row.group == Group::kPlain);
        CHECK(row.cond_count == 0);
        CHECK(row.primitive == policy::Primitive::kNone);
        break;
      default:
        CHECK(row.group == Group::kProcess);
        break;
    }
    if (row.kind == Kind::kPrimitive && row.kernel_errno == 0) {
      CHECK(row.primitive != policy::Primitive::kNone);
    }
    if (row.group == Group::kStat) CHECK(row.access == policy::Access::kMetadata);
  }
}

TEST_CASE("Syscall table: in-kernel conditions", "[syscall_table]") {
  int conditional = 0;
  for (const SyscallRow& row : syscalls::SyscallTable()) {
    CAPTURE(row.name);
    CHECK(row.cond_count <= row.conds.size());
    for (std::size_t i = 0; i < row.conds.size(); ++i) {
      const auto& c = row.conds[i];
      if (i < row.cond_count) {
        CHECK(c.arg < 6);
        if (c.op == syscalls::KernelCond::Op::kMaskedEq) {
          CHECK(c.mask != 0);
          CHECK((c.value & ~c.mask) == 0);  // a value outside the mask can never match
        } else if (c.op == syscalls::KernelCond::Op::kLess) {
          CHECK(c.value != 0);  // "below 0" can never hold
        }
        CHECK((i > 0 || !c.and_prev));  // the first condition has nothing to join
        CHECK(row.args.at(c.arg).role != Role::kNone);
      } else {
        CHECK(c.mask == 0);
        CHECK(c.value == 0);
      }
    }
    if (row.cond_count > 0) ++conditional;
  }
  CHECK(conditional >= 2);  // clone and prctl at least
  const SyscallRow* clone = syscalls::FindRow("clone");
  REQUIRE(clone != nullptr);
  CHECK(clone->cond_count == 8);
}

TEST_CASE("Syscall table: kernel_errno only on clone3 and unimplemented numbers",
          "[syscall_table]") {
  const std::set<std::string_view> unimplemented = {
      "create_module", "get_kernel_syms", "query_module", "nfsservctl", "getpmsg",
      "putpmsg",       "afs_syscall",     "tuxcall",      "security",   "vserver",
      "epoll_ctl_old", "epoll_wait_old",  "_sysctl"};
  for (const SyscallRow& row : syscalls::SyscallTable()) {
    CAPTURE(row.name);
    if (row.name == "clone3" || unimplemented.contains(row.name)) {
      CHECK(row.kernel_errno == ENOSYS);
    } else {
      CHECK(row.kernel_errno == 0);
    }
  }
}

TEST_CASE("SyscallIndex: numbers come from libseccomp and map back to rows", "[syscall_table]") {
  syscalls::SyscallIndex index;
  std::vector<std::string> absent;
  std::set<int> numbers;
  for (const SyscallRow& row : syscalls::SyscallTable()) {
    CAPTURE(row.name);
    int expected = syscalls::SyscallNumber(row.name).value_or(-1);
    int nr = index.Number(row);
    if (expected < 0 || expected >= 1024) {
      CHECK(nr == -1);
      absent.emplace_back(row.name);
      continue;
    }
    CHECK(nr == expected);
    CHECK(index.Lookup(nr) == &row);
    CHECK(numbers.insert(nr).second);  // no two rows share a number
  }
  INFO("rows absent on this architecture: " << absent.size());
  CHECK(absent.size() < 5);

  struct Known {
    const char* name;
    long nr;
  };
  for (const Known& k :
       {Known{"openat", SYS_openat}, Known{"execve", SYS_execve}, Known{"connect", SYS_connect},
        Known{"ptrace", SYS_ptrace}, Known{"clone", SYS_clone},
        Known{"io_uring_setup", SYS_io_uring_setup}, Known{"clone3", SYS_clone3},
        Known{"kill", SYS_kill}, Known{"sendmmsg", SYS_sendmmsg}}) {
    CAPTURE(k.name);
    const SyscallRow* row = syscalls::FindRow(k.name);
    REQUIRE(row != nullptr);
    CHECK(index.Number(*row) == k.nr);
    CHECK(index.Lookup(k.nr) == row);
  }
  // Out-of-range numbers have no row.
  CHECK(index.Lookup(-1) == nullptr);
  CHECK(index.Lookup(1024) == nullptr);
  CHECK(index.Lookup(1L << 40) == nullptr);
}

// Default deny for the unknown (issue 14): every number is either a row or stops as unknown.
TEST_CASE("Syscall table: every x86-64 syscall has a row and every other number is unknown",
          "[syscall_table]") {
  syscalls::SyscallIndex index;
  // Every name libseccomp knows for x86-64 (and the newer ones it does not) has a row.
  for (const std::string& name : syscalls::KnownSyscallNames()) {
    CAPTURE(name);
    const SyscallRow* row = syscalls::FindRow(name);
    REQUIRE(row != nullptr);
    CHECK(index.Number(*row) == syscalls::SyscallNumber(name).value_or(-2));
  }
  // Syscalls of Linux 6.1 to 6.18 that tracejail must know by name.
  for (const char* name : {"fchmodat2",
                           "quotactl_fd",
                           "cachestat",
                           "map_shadow_stack",
                           "futex_waitv",
                           "futex_wake",
                           "futex_wait",
                           "futex_requeue",
                           "mseal",
                           "listmount",
                           "statmount",
                           "lsm_get_self_attr",
                           "lsm_set_self_attr",
                           "lsm_list_modules",
                           "setxattrat",
                           "getxattrat",
                           "listxattrat",
                           "removexattrat",
                           "open_tree_attr",
                           "file_getattr",
                           "file_setattr",
                           "uretprobe",
                           "uprobe"}) {
    CAPTURE(name);
    const SyscallRow* row = syscalls::FindRow(name);
    REQUIRE(row != nullptr);
    CHECK(index.Number(*row) >= 0);
  }
  // Each number up to 1023 is classified by a row or stopped as unknown by every plan, the
  // plan of `none` included; numbers from 1024 up are stopped by the filter's prelude.
  for (const char* level : {"none", "basic", "standard", "maximum"}) {
    CAPTURE(level);
    policy::Policy p =
        policy::LoadPolicyText(*policy::PresetText(level), level, policy::DefaultVariables());
    tracer::FilterPlan plan = tracer::MakePlan(p, index);
    for (std::uint32_t nr = 0; nr < tracer::kSyscallNumberLimit; ++nr) {
      CAPTURE(nr);
      bool row = index.Lookup(nr) != nullptr;
      CHECK(row != plan.IsUnknown(nr));
      if (row) CHECK(syscalls::SyscallNameOf(static_cast<int>(nr)).has_value());
    }
    for (std::uint32_t nr : {1024u, 5000u, 0x3fffffffu}) CHECK(plan.IsUnknown(nr));
    CHECK_FALSE(plan.IsUnknown(tracer::kX32SyscallBit));
    // The prelude: ld arch, jeq x86-64, ld nr, two comparisons per run, ja, ret TRACE.
    auto prog = tracer::BuildFilter(plan, index);
    std::size_t ret = 3 + 2 * plan.unknown.size() + 1;
    REQUIRE(prog.size() > ret + 1);
    CHECK(prog[ret].k == (0x7ff00000U | tracer::kUnknownTag));  // SECCOMP_RET_TRACE | tag
    CHECK(prog[3 + 2 * plan.unknown.size() - 1].k == tracer::kX32SyscallBit);
  }
  // The policy's verdict on an unknown number: ENOSYS and an event at every level but none.
  for (const char* level : {"basic", "standard", "strict", "maximum"}) {
    CAPTURE(level);
    policy::Policy p =
        policy::LoadPolicyText(*policy::PresetText(level), level, policy::DefaultVariables());
    policy::Request req;
    req.syscall = "unknown_syscall";
    req.primitive = policy::Primitive::kUnknownSyscall;
    auto d = p.Evaluate(req);
    CHECK(d.action == policy::Action::kDeny);
    CHECK(d.error == ENOSYS);
    CHECK(d.event == policy::EventType::kSyscallBlocked);
  }
  policy::Policy none =
      policy::LoadPolicyText(*policy::PresetText("none"), "none", policy::DefaultVariables());
  policy::Request req;
  req.primitive = policy::Primitive::kUnknownSyscall;
  CHECK(none.Evaluate(req).action == policy::Action::kAllow);
  CHECK(none.Evaluate(req).event != policy::EventType::kNone);
}

// The classes come from the table's columns (syscalls/classes.h): a class lists exactly the rows
// that belong to it, in table order; the memberships implied by other columns hold for every
// row; and the calls a hand-kept %escape once missed are in it.
TEST_CASE("Syscall classes come from the table", "[syscall_table][classes]") {
  auto members = [](std::string_view name) {
    const syscalls::SyscallClass* c = syscalls::FindSyscallClass(name);
    REQUIRE(c != nullptr);
    return std::set<std::string_view>(c->members.begin(), c->members.end());
  };
  for (const syscalls::SyscallClass& c : syscalls::SyscallClasses()) {
    CAPTURE(c.name);
    CHECK_FALSE(c.members.empty());
    std::set<std::string_view> expected;
    for (const syscalls::SyscallRow& row : syscalls::SyscallTable()) {
      if (syscalls::Has(syscalls::ClassesOf(row), c.bit)) expected.insert(row.name);
    }
    CHECK(members(c.name) == expected);
    CHECK(expected.size() == c.members.size());  // no name twice
  }
  std::set<std::string_view> escape = members("%escape");
  std::set<std::string_view> network = members("%network");
  std::set<std::string_view> file = members("%file");
  for (const syscalls::SyscallRow& row : syscalls::SyscallTable()) {
    CAPTURE(row.name);
    // An unconditional escape primitive is in %escape (not the numbers the kernel always fails,
    // kernel_errno, which name no primitive); what else %escape holds names one too.
    if (row.kind == syscalls::Kind::kPrimitive && row.primitive != policy::Primitive::kNone) {
      CHECK(escape.contains(row.name));
    }
    if (escape.contains(row.name)) CHECK(row.primitive != policy::Primitive::kNone);
    if (row.group == syscalls::Group::kNet) CHECK(network.contains(row.name));
    if (syscalls::ArgOf(row, syscalls::Role::kPath) >= 0) CHECK(file.contains(row.name));
  }
  for (std::string_view name : {"fsopen", "fsmount", "fspick", "open_tree", "move_mount",
                                "mount_setattr", "reboot", "swapon", "syslog", "sethostname"}) {
    CAPTURE(name);
    CHECK(escape.contains(name));
  }
  // strace's memberships that no other column implies, spot-checked per class.
  CHECK(file.contains("getcwd"));
  CHECK(network.contains("recvmsg"));
  CHECK(members("%ipc").contains("shmget"));
  CHECK(members("%memory").contains("mmap"));
  CHECK(members("%creds").contains("setresuid"));
  CHECK(members("%clock").contains("clock_gettime"));
  CHECK(members("%signal").contains("rt_sigaction"));
  CHECK(members("%process").contains("clone"));
  // %desc: a descriptor taken (read, openat's dirfd, mmap's fd, poll's behind a pointer) or made
  // (open, pipe2), as strace's TD flag; strace counts socket calls as %network only.
  std::set<std::string_view> desc = members("%desc");
  for (std::string_view name : {"read", "close", "openat", "mmap", "fstat", "open", "pipe2", "dup",
                                "poll", "select", "pselect6", "ppoll", "pidfd_open"}) {
    CAPTURE(name);
    CHECK(desc.contains(name));
  }
  CHECK_FALSE(desc.contains("connect"));
  CHECK_FALSE(desc.contains("getpid"));
  CHECK(syscalls::FindSyscallClass("%nonexistent") == nullptr);
}
