// The events the supervisor records, drafted by pure functions: the fields and the message of a
// lifecycle, limit or call event, and the message of each of tracejail's own verdicts (a race
// caught, a region that could not be mapped). The supervisor adds what only the live side knows
// (seq, time, the task's ids and executable, the rendered arguments) and emits it through its
// EventSink. Unit-tested (tests/unit/event_draft_test.cc).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/limits.h"
#include "policy/policy.h"
#include "report/artifacts.h"
#include "report/event.h"
#include "tracer/decode.h"
#include "tracer/stop_decision.h"

namespace tracer {

// A lifecycle event (process_start, process_exec, process_exit): its type, arguments, message.
struct LifecycleDraft {
  policy::EventType type = policy::EventType::kNone;
  nlohmann::json args;
  std::string message;
};
// The process tracejail started (its parent is tracejail, `tracejail_pid`).
LifecycleDraft LaunchedDraft(pid_t pid, pid_t tracejail_pid);
// A task a fork, vfork or clone event (`ptrace_event`) showed.
LifecycleDraft ChildDraft(pid_t child, pid_t parent_pid, pid_t parent_tid, bool thread,
                          int ptrace_event);
// A running process `tracejail observe` attached to, with `threads` threads, its parent, its
// executable (escaped) and argv (escaped).
LifecycleDraft AttachedDraft(pid_t pid, pid_t parent_pid, std::size_t threads,
                             const std::string& exe, const std::vector<std::string>& argv);
LifecycleDraft ExecDraft(const std::string& exe, const std::vector<std::string>& argv);
LifecycleDraft ExitDraft(pid_t tid, int wait_status, bool thread);
report::Event LifecycleEvent(LifecycleDraft draft);

// A file the program created, changed or removed, at the end of the run (file_dropped, rule
// "artifact", no task: report/artifacts.h).
report::Event DroppedEvent(const report::Artifact& a);

// A limit the supervisor saw reached.
struct LimitReport {
  policy::EventType type = policy::EventType::kResourceLimitExceeded;
  policy::LimitKind kind = policy::LimitKind::kTimeout;
  std::string observed;
  nlohmann::json details;
};
report::Event LimitEvent(LimitReport report, const policy::Limits& limits);
std::string OomObserved(std::uint64_t new_kills, std::optional<std::uint64_t> peak_bytes);
std::string ForksRefusedObserved(std::uint64_t tasks);
std::string DiskFullObserved(std::uint64_t used_bytes);
std::string TimeoutObserved(double elapsed_s, std::size_t tasks);
std::string CpuSignalObserved(double cpu_s);
inline constexpr std::string_view kFileSizeSignalObserved =
    "SIGXFSZ: a write went past the file size limit (EFBIG if handled)";

// A decided call (or one of tracejail's own verdicts on a call).
struct CallRecord {
  const policy::Decision& decision;
  const DecodedCall* call;  // nullptr: decided on the architecture and number alone
  long nr;
  std::uint32_t arch;
  const std::uint64_t* raw;  // the six argument registers
  Mode mode;
  bool landlock;  // Landlock enforces the path rules too
  // `tracejail observe` without --enforce: nothing is enforced, so every verdict (tracejail's
  // self-protection included) is recorded as what enforce would do.
  bool passive = false;
};
// Audit mode records what enforce would do, except for what is enforced in every mode.
bool RecordsAsAudit(Mode mode, const policy::Decision& d);
// `args`: the call's rendered arguments (when there is a call); `tip`: kept for denials only.
report::Event CallEvent(const CallRecord& r, nlohmann::json args, nlohmann::json tip,
                        std::string message, bool live_only);

std::string AllowedMessage(std::string_view syscall);
std::string LoaderRefusedMessage(const std::string& program, const std::string& path);
// `expected_opened`: the checked file could be opened at the check.
std::string ExecRaceMessage(const std::string& exe, const std::string& expected,
                            bool expected_opened);
std::string BindRaceMessage(const std::string& path, bool removed);
std::string ConnectRaceMessage(const std::string& path, bool expected_opened);
std::string PinRegionMessage(const std::string& why);
std::string AnchorSymlinkMessage(std::string_view call, std::string_view checked,
                                 const std::string& opened);
std::string AnchorLostMessage(std::string_view call, std::string_view checked,
                              std::string_view why);

// Notes and walk guards a call's event carries (DecodedCall::note, walk_guard).
std::string PinSlotsNote();
std::string BindDirLostNote(const std::string& checked_dir, int err);
// A call on a descriptor (`cwd`: on the working directory) that no other task shares.
std::string FdUnsharedGuard(bool cwd);
// ... that others share, held stopped to the call's exit.
std::string FdHeldGuard(bool cwd);
// What the descriptor named at the check (`decided`) and once the sharers were held (`now`,
// nullopt: nothing).
std::string FdRaceNote(bool cwd, int fd, const std::string& decided,
                       std::optional<std::string_view> now);

}  // namespace tracer
