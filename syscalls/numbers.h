// Syscall names and numbers on the native architecture: libseccomp's tables, completed on x86-64
// by the syscalls newer than the libseccomp Debian 12 ships.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syscalls {

// The number of `name` on the native architecture, or nullopt.
std::optional<int> SyscallNumber(std::string_view name);
// The reverse: the name of native syscall `nr`, or nullopt.
std::optional<std::string> SyscallNameOf(int nr);

// Every syscall name known for the native architecture (for suggestions).
const std::vector<std::string>& KnownSyscallNames();

}  // namespace syscalls
