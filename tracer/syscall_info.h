// PTRACE_GET_SYSCALL_INFO's result, mirrored from linux/ptrace.h (struct ptrace_syscall_info):
// glibc's <sys/ptrace.h> defines the request but not the struct, and the two headers clash.
#pragma once

#include <cstdint>

namespace tracer {

inline constexpr std::uint8_t kSyscallInfoEntry = 1;    // PTRACE_SYSCALL_INFO_ENTRY
inline constexpr std::uint8_t kSyscallInfoExit = 2;     // PTRACE_SYSCALL_INFO_EXIT
inline constexpr std::uint8_t kSyscallInfoSeccomp = 3;  // PTRACE_SYSCALL_INFO_SECCOMP

// A syscall result the kernel turns into a restart or EINTR when a signal is delivered
// (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND, ERESTART_RESTARTBLOCK: never seen by programs).
inline bool IsRestart(long long ret) {
  return ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

struct SyscallInfo {
  std::uint8_t op;
  std::uint8_t pad[3];
  std::uint32_t arch;
  std::uint64_t instruction_pointer;
  std::uint64_t stack_pointer;
  union {
    // A seccomp stop; a syscall-entry stop (kSyscallInfoEntry) fills nr and args alike.
    struct {
      std::uint64_t nr;
      std::uint64_t args[6];
      std::uint32_t ret_data;
    } seccomp;
    struct {  // a syscall-exit stop (kSyscallInfoExit)
      std::int64_t rval;
      std::uint8_t is_error;
    } exit;
  };
};

}  // namespace tracer
