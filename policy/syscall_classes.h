// Syscall classes for syscall rules ("%file", "%network", ...), strace's names where strace has
// one, and syscall-name validation against libseccomp's tables for the native architecture.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

struct SyscallClass {
  std::string_view name;  // "%file"
  std::string_view summary;
  std::span<const std::string_view> members;
};

std::span<const SyscallClass> SyscallClasses();
const SyscallClass* FindSyscallClass(std::string_view name);

// The number of `name` on the native architecture (libseccomp's tables, completed on x86-64 by
// the syscalls newer than the libseccomp Debian ships), or nullopt.
std::optional<int> SyscallNumber(std::string_view name);
// The reverse: the name of native syscall `nr`, or nullopt.
std::optional<std::string> SyscallNameOf(int nr);

// Every syscall name known for the native architecture (for suggestions).
const std::vector<std::string>& KnownSyscallNames();

}  // namespace policy
