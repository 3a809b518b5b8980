#include "syscalls/numbers.h"

#include <seccomp.h>

#include <cstdlib>

namespace syscalls {
namespace {

// x86-64 syscalls newer than the libseccomp Debian 12 ships (2.5.4 knows numbers up to 456),
// from the kernel's arch/x86/entry/syscalls/syscall_64.tbl (Linux 6.18). libseccomp's own
// answer wins where it has one.
struct NewerSyscall {
  std::string_view name;
  int nr;
};
constexpr NewerSyscall kNewerX86_64[] = {
    {"uretprobe", 335},         {"uprobe", 336},
    {"statmount", 457},         {"listmount", 458},
    {"lsm_get_self_attr", 459}, {"lsm_set_self_attr", 460},
    {"lsm_list_modules", 461},  {"mseal", 462},
    {"setxattrat", 463},        {"getxattrat", 464},
    {"listxattrat", 465},       {"removexattrat", 466},
    {"open_tree_attr", 467},    {"file_getattr", 468},
    {"file_setattr", 469},
};

bool NativeIsX86_64() { return seccomp_arch_native() == SCMP_ARCH_X86_64; }

}  // namespace

std::optional<int> SyscallNumber(std::string_view name) {
  std::string n(name);
  int nr = seccomp_syscall_resolve_name(n.c_str());
  if (nr >= 0) return nr;
  if (!NativeIsX86_64()) return std::nullopt;
  for (const auto& s : kNewerX86_64) {
    if (s.name == name) return s.nr;
  }
  return std::nullopt;
}

std::optional<std::string> SyscallNameOf(int nr) {
  if (char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr)) {
    std::string out(n);
    std::free(n);
    return out;
  }
  if (!NativeIsX86_64()) return std::nullopt;
  for (const auto& s : kNewerX86_64) {
    if (s.nr == nr) return std::string(s.name);
  }
  return std::nullopt;
}

const std::vector<std::string>& KnownSyscallNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (int nr = 0; nr < 1024; ++nr) {
      if (auto n = SyscallNameOf(nr)) out.push_back(std::move(*n));
    }
    return out;
  }();
  return names;
}

}  // namespace syscalls
