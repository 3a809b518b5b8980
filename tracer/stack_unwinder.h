// The calling thread's native stack at a stop, for the events that matter (a denied call, an
// escape attempt, a kill by policy): unwound with elfutils' libdwfl from the stopped thread's
// registers and memory, symbolised with module, function and offset, and file:line where the
// module has debug information.
//
// Tracee data is hostile, and here that means the ELF and DWARF of every module the program has
// mapped, which it may have written itself. So the unwinding never runs in the supervisor: a
// forked child of tracejail does it (it reads the stopped thread's memory with
// process_vm_readv, and is given the registers), under a time limit and a memory limit, and
// writes the frames to a pipe; a crash or a hang of libdw costs that child, and the event gets
// a note instead of a stack. The child never asks debuginfod (no network).
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tracer {

// Which recorded call events carry a stack (`--stack`): none, the denials (a denied call, an
// escape attempt, a kill by policy; in audit mode what enforce would deny), or all of them.
enum class StackMode : std::uint8_t { kOff, kDenials, kAll };
// "off", "denials", "all"; false for anything else.
bool ParseStackMode(std::string_view text, StackMode& out);
// At most this many stacks per run (each forks an unwinder): later events say so instead.
inline constexpr std::size_t kStackBudget = 256;

struct UnwindLimits {
  std::size_t max_frames = 32;
  std::chrono::milliseconds time{2000};
};

// The stack of thread `tid` of process `pid`, stopped under ptrace with registers `regs`:
// {"frames": [{"pc": "0x...", "module": ..., "function": ..., "offset": N, "file": ...,
// "line": N}, ...]} with tracee strings escaped, innermost frame first, and "note" when the
// stack is cut short or could not be taken (why). When the process is CPython, also "python":
// [{"file", "line", "function"}, ...] innermost first and "python_note"
// (tracer/python_frames.h); `creator` is the thread that made the process (0: unknown), whose
// Python stack a vfork'd child that has not exec'd yet gets. Never throws.
nlohmann::json UnwindStopped(pid_t pid, pid_t tid, pid_t creator, const user_regs_struct& regs,
                             const UnwindLimits& limits = {});

}  // namespace tracer
