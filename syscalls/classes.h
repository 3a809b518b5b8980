// Syscall classes for syscall rules ("%file", "%network", ...), strace's names where strace has
// one. Members come from the syscall table (syscalls/table.h: ClassesOf), never from a list
// kept beside it.
#pragma once

#include <span>
#include <string_view>

#include "syscalls/table.h"

namespace syscalls {

struct SyscallClass {
  std::string_view name;  // "%file"
  std::string_view summary;
  Class bit = Class::kNone;
  std::span<const std::string_view> members;  // in table order
};

std::span<const SyscallClass> SyscallClasses();
const SyscallClass* FindSyscallClass(std::string_view name);

}  // namespace syscalls
