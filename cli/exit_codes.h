// tracejail's own exit statuses (README.md, "Exit status"). Otherwise a run exits with the
// command's status, or 128+N when the command died of signal N.
#pragma once

namespace cli {

inline constexpr int kExitBadInput = 118;     // an events file has lines that are not records
inline constexpr int kExitUnavailable = 119;  // a required isolation layer is missing here
inline constexpr int kExitUsage = 120;        // bad command line: unknown command, option or level
inline constexpr int kExitPolicy = 121;       // policy file missing, unreadable or invalid
inline constexpr int kExitKilledByPolicy = 122;  // a rule with action "kill" ended the run
inline constexpr int kExitVerifyFailed = 123;    // `verify`: the events file was tampered with
inline constexpr int kExitTimedOut = 124;        // the wall-clock timeout killed the tree
inline constexpr int kExitInternal = 125;        // tracejail itself failed (fork, ptrace, seccomp)
inline constexpr int kExitNotExecutable = 126;   // the command exists but cannot be executed
inline constexpr int kExitNotFound = 127;  // the command is not on PATH, or its path does not exist

}  // namespace cli
