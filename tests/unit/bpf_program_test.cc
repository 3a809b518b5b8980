// The compiled BPF program itself, for every level: a small classic-BPF interpreter (the
// instruction subset seccomp accepts, with the kernel's semantics) runs the program libseccomp
// built on sample seccomp_data, and the action must be what the plan says. This checks the
// compiler and our use of it, not only the plan: a flagged call that the program lets through,
// an unknown number that reaches the kernel, or a foreign ABI that runs would fail here.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "policy/loader.h"
#include "policy/presets.h"
#include "syscalls/table.h"
#include "tracer/seccomp_filter.h"

namespace {

struct Data {  // struct seccomp_data
  std::int32_t nr;
  std::uint32_t arch;
  std::uint64_t ip;
  std::array<std::uint64_t, 6> args;
};
static_assert(sizeof(Data) == sizeof(seccomp_data));

// Runs `prog` on `d` as the kernel would (kernel/bpf/core.c, classic BPF); fails the test on an
// instruction seccomp would have refused.
std::uint32_t Run(const std::vector<sock_filter>& prog, const Data& d) {
  std::uint32_t a = 0, x = 0;
  std::array<std::uint32_t, BPF_MEMWORDS> mem{};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&d);
  for (std::size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    const std::uint32_t src = BPF_SRC(f.code) == BPF_X ? x : f.k;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS && BPF_SIZE(f.code) == BPF_W && f.k + 4 <= sizeof d &&
            f.k % 4 == 0) {
          std::memcpy(&a, bytes + f.k, 4);
        } else if (BPF_MODE(f.code) == BPF_MEM && f.k < BPF_MEMWORDS) {
          a = mem[f.k];
        } else if (BPF_MODE(f.code) == BPF_IMM) {
          a = f.k;
        } else {
          FAIL("unsupported load at " << pc);
        }
        break;
      case BPF_LDX:
        if (BPF_MODE(f.code) == BPF_MEM && f.k < BPF_MEMWORDS) {
          x = mem[f.k];
        } else if (BPF_MODE(f.code) == BPF_IMM) {
          x = f.k;
        } else {
          FAIL("unsupported ldx at " << pc);
        }
        break;
      case BPF_ST:
        REQUIRE(f.k < BPF_MEMWORDS);
        mem[f.k] = a;
        break;
      case BPF_STX:
        REQUIRE(f.k < BPF_MEMWORDS);
        mem[f.k] = x;
        break;
      case BPF_ALU:
        switch (BPF_OP(f.code)) {
          case BPF_ADD:
            a += src;
            break;
          case BPF_SUB:
            a -= src;
            break;
          case BPF_AND:
            a &= src;
            break;
          case BPF_OR:
            a |= src;
            break;
          case BPF_XOR:
            a ^= src;
            break;
          case BPF_LSH:
            a = src < 32 ? a << src : 0;
            break;
          case BPF_RSH:
            a = src < 32 ? a >> src : 0;
            break;
          case BPF_NEG:
            a = 0 - a;
            break;
          default:
            FAIL("unsupported alu op at " << pc);
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(f.code) == BPF_JA) {
          pc += f.k;
          break;
        }
        bool taken = false;
        switch (BPF_OP(f.code)) {
          case BPF_JEQ:
            taken = a == src;
            break;
          case BPF_JGT:
            taken = a > src;
            break;
          case BPF_JGE:
            taken = a >= src;
            break;
          case BPF_JSET:
            taken = (a & src) != 0;
            break;
          default:
            FAIL("unsupported jump at " << pc);
        }
        pc += taken ? f.jt : f.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(f.code) == BPF_A ? a : f.k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
      default:
        FAIL("unknown instruction class at " << pc);
    }
  }
  FAIL("the program ran off its end");
  return 0;
}

std::uint32_t Expected(policy::SyscallAction action, int error, std::uint16_t tag) {
  switch (action) {
    case policy::SyscallAction::kAllow:
      return SECCOMP_RET_ALLOW;
    case policy::SyscallAction::kDeny:
      return SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(error);
    case policy::SyscallAction::kKill:
      return SECCOMP_RET_KILL_PROCESS;
    case policy::SyscallAction::kTrace:
      return SECCOMP_RET_TRACE | tag;
  }
  return SECCOMP_RET_KILL_PROCESS;
}

bool Holds(const std::vector<policy::ArgCondition>& conds, const std::array<std::uint64_t, 6>& a) {
  for (const auto& c : conds) {
    if (!policy::ConditionHolds(c, a.data())) return false;
  }
  return true;
}

// Arguments that satisfy `c` (and, for the others, whatever `a` held).
void Satisfy(const policy::ArgCondition& c, std::array<std::uint64_t, 6>& a) {
  using Op = policy::ArgCondition::Op;
  std::uint64_t& v = a[c.index];
  switch (c.op) {
    case Op::kEq:
    case Op::kLe:
    case Op::kGe:
      v = c.value;
      break;
    case Op::kNe:
      v = c.value + 1;
      break;
    case Op::kLt:
      v = c.value - 1;
      break;
    case Op::kGt:
      v = c.value + 1;
      break;
    case Op::kMaskedEq:
      v = (v & ~c.mask) | (c.value & c.mask);
      break;
  }
}

// Every action the plan allows for (nr, args); empty: the default.
std::set<std::uint32_t> Candidates(const tracer::FilterPlan& plan,
                                   const syscalls::SyscallIndex& index, int nr,
                                   const std::array<std::uint64_t, 6>& args) {
  std::set<std::uint32_t> out;
  const auto table = syscalls::SyscallTable();
  for (const auto& t : plan.trace_rules) {
    if (index.Number(*t.row) == nr && Holds(t.conds, args)) {
      out.insert(SECCOMP_RET_TRACE | static_cast<std::uint16_t>(t.row - table.data()));
    }
  }
  for (const auto& k : plan.kernel_rules) {
    if (k.nr == nr && Holds(k.args, args)) {
      out.insert(Expected(k.action, k.error, tracer::kSyscallRuleTag));
    }
  }
  for (const auto* row : plan.kernel_errno) {
    if (index.Number(*row) == nr) {
      out.insert(SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(row->kernel_errno));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("BPF program: every level's compiled filter does what its plan says", "[bpf]") {
  const syscalls::SyscallIndex index;
  const policy::Variables vars{{"CWD", "/w"},
                               {"WORKDIR", "/w"},
                               {"HOME", "/home/u"},
                               {"TMPDIR", "/tmp"},
                               {"COMMAND", "/bin/true"}};
  std::mt19937_64 rng(1207);
  for (const policy::Preset& preset : policy::Presets()) {
    for (bool audit : {false, true}) {
      CAPTURE(preset.name, audit);
      policy::Policy p = policy::LoadPolicyText(
          R"({"version": 1, "extends": ")" + std::string(preset.name) + "\"}", "t.json", vars);
      const tracer::FilterPlan plan = tracer::MakePlan(p, index, audit);
      const std::vector<sock_filter> prog = tracer::BuildFilter(plan, index);
      REQUIRE_FALSE(prog.empty());
      const std::uint32_t fallback = Expected(plan.default_action, plan.default_error, 0);
      // Every number up to the limit, then samples up to the x32 bit.
      std::vector<std::uint32_t> numbers;
      for (std::uint32_t nr = 0; nr < tracer::kSyscallNumberLimit + 64; ++nr) numbers.push_back(nr);
      for (std::uint32_t nr : {5000u, 65535u, 1u << 20, tracer::kX32SyscallBit - 1}) {
        numbers.push_back(nr);
      }
      for (std::uint32_t nr : numbers) {
        CAPTURE(nr);
        std::array<std::uint64_t, 6> zero{};
        std::vector<std::array<std::uint64_t, 6>> arg_sets{zero};
        for (int i = 0; i < 2; ++i) {
          std::array<std::uint64_t, 6> random{};
          for (auto& v : random) v = rng() >> (rng() % 64);
          arg_sets.push_back(random);
        }
        // Arguments that meet each trace rule's conditions, so conditional stops are reached.
        for (const auto& t : plan.trace_rules) {
          if (index.Number(*t.row) != static_cast<int>(nr) || t.conds.empty()) continue;
          std::array<std::uint64_t, 6> meet{};
          for (const auto& c : t.conds) Satisfy(c, meet);
          arg_sets.push_back(meet);
        }
        for (const auto& args : arg_sets) {
          Data d{static_cast<std::int32_t>(nr), AUDIT_ARCH_X86_64, 0x401000, args};
          const std::uint32_t got = Run(prog, d);
          if (plan.IsUnknown(nr)) {
            // A number the table does not classify never reaches the kernel undecided.
            CHECK(got == (SECCOMP_RET_TRACE | tracer::kUnknownTag));
            continue;
          }
          std::set<std::uint32_t> want = Candidates(plan, index, static_cast<int>(nr), args);
          if (want.empty()) {
            CHECK(got == fallback);
          } else {
            CAPTURE(got);
            CHECK(want.contains(got));
          }
        }
      }
      // Foreign ABIs: i386 (int 0x80) and x32 never run undecided.
      for (std::uint32_t nr : {0u, 1u, 11u, 102u, 120u, 400u}) {
        Data i386{static_cast<std::int32_t>(nr), AUDIT_ARCH_I386, 0, {}};
        CHECK(Run(prog, i386) == (SECCOMP_RET_TRACE | tracer::kForeignAbiTag));
        Data x32{static_cast<std::int32_t>(nr | tracer::kX32SyscallBit), AUDIT_ARCH_X86_64, 0, {}};
        const std::uint32_t got = Run(prog, x32);
        CHECK((got == (SECCOMP_RET_TRACE | tracer::kForeignAbiTag) ||
               got == SECCOMP_RET_KILL_PROCESS));
      }
      Data other{0, AUDIT_ARCH_AARCH64, 0, {}};
      CHECK(Run(prog, other) != SECCOMP_RET_ALLOW);
    }
  }
}

TEST_CASE("BPF program: the interpreter sees what matters", "[bpf]") {
  const syscalls::SyscallIndex index;
  const policy::Variables vars{{"CWD", "/w"},
                               {"WORKDIR", "/w"},
                               {"HOME", "/home/u"},
                               {"TMPDIR", "/tmp"},
                               {"COMMAND", "/bin/true"}};
  policy::Policy p =
      policy::LoadPolicyText(R"({"version": 1, "extends": "standard"})", "t.json", vars);
  std::vector<sock_filter> prog = tracer::BuildFilter(tracer::MakePlan(p, index), index);
  auto action = [&](const char* name, std::array<std::uint64_t, 6> args = {}) {
    const syscalls::SyscallRow* row = syscalls::FindRow(name);
    REQUIRE(row != nullptr);
    return Run(prog, Data{index.Number(*row), AUDIT_ARCH_X86_64, 0, args}) &
           SECCOMP_RET_ACTION_FULL;
  };
  // Known answers at standard: opens and escapes stop for the tracer, getpid runs.
  CHECK(action("openat") == SECCOMP_RET_TRACE);
  CHECK(action("ptrace") == SECCOMP_RET_TRACE);
  CHECK(action("execve") == SECCOMP_RET_TRACE);
  CHECK(action("getpid") == SECCOMP_RET_ALLOW);
  CHECK(action("clone", {SIGCHLD}) == SECCOMP_RET_ALLOW);
  CHECK(action("clone", {CLONE_NEWUSER | SIGCHLD}) == SECCOMP_RET_TRACE);
  // A program whose stops were turned into allows is told apart.
  for (sock_filter& f : prog) {
    if (BPF_CLASS(f.code) == BPF_RET && (f.k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_TRACE) {
      f.k = SECCOMP_RET_ALLOW;
    }
  }
  CHECK(action("openat") == SECCOMP_RET_ALLOW);
}
