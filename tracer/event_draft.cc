#include "tracer/event_draft.h"

#include <linux/audit.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "base/escape.h"
#include "policy/names.h"
#include "syscalls/pin_layout.h"
#include "syscalls/xlat.h"

namespace tracer {

using syscalls::Kind;
using syscalls::kPinBase;
using syscalls::kPinEnd;
using syscalls::kPinSlots;
namespace xlat = syscalls::xlat;

LifecycleDraft LaunchedDraft(pid_t pid, pid_t tracejail_pid) {
  return {policy::EventType::kProcessStart,
          {{"parent_pid", tracejail_pid}, {"thread", false}, {"via", "tracejail"}},
          fmt::format("process {} started by tracejail", pid)};
}

LifecycleDraft ChildDraft(pid_t child, pid_t parent_pid, pid_t parent_tid, bool thread,
                          int ptrace_event) {
  return {policy::EventType::kProcessStart,
          {{"parent_pid", parent_pid},
           {"parent_tid", parent_tid},
           {"thread", thread},
           {"via", ptrace_event == PTRACE_EVENT_FORK    ? "fork"
                   : ptrace_event == PTRACE_EVENT_VFORK ? "vfork"
                                                        : "clone"}},
          fmt::format("{} {} started by {}", thread ? "thread" : "process", child, parent_tid)};
}

LifecycleDraft AttachedDraft(pid_t pid, pid_t parent_pid, std::size_t threads,
                             const std::string& exe, const std::vector<std::string>& argv) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : argv) list.push_back(a);
  return {policy::EventType::kProcessStart,
          {{"parent_pid", parent_pid},
           {"thread", false},
           {"via", "attach"},
           {"threads", threads},
           {"exe", exe},
           {"argv", std::move(list)}},
          fmt::format("process {} ({}) attached while running, with {} thread{}: what it did "
                      "before is not seen",
                      pid, exe, threads, threads == 1 ? "" : "s")};
}

LifecycleDraft ExecDraft(const std::string& exe, const std::vector<std::string>& argv) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : argv) list.push_back(a);
  return {policy::EventType::kProcessExec,
          {{"exe", exe}, {"argv", std::move(list)}},
          fmt::format("exec {}", exe)};
}

LifecycleDraft ExitDraft(pid_t tid, int wait_status, bool thread) {
  nlohmann::json args = {{"thread", thread}};
  std::string how;
  if (WIFEXITED(wait_status)) {
    args["exit_code"] = WEXITSTATUS(wait_status);
    how = fmt::format("exited with {}", WEXITSTATUS(wait_status));
  } else {
    args["signal"] = xlat::Signal(static_cast<std::uint64_t>(WTERMSIG(wait_status)));
    how = "killed by " + args["signal"].get<std::string>();
  }
  return {policy::EventType::kProcessExit, std::move(args), fmt::format("{} {}", tid, how)};
}

report::Event DroppedEvent(const report::Artifact& a) {
  report::Event e;
  e.type = policy::EventType::kFileDropped;
  e.severity = policy::Severity::kInfo;
  e.args = report::ToJson(a);
  e.rule = "artifact";
  e.race_free = true;
  std::string what = a.removed   ? (a.created ? "created and removed" : "removed")
                     : a.created ? "created"
                                 : "changed";
  e.message = fmt::format("{} {} {}", a.kind, a.path, what);
  if (!a.sha256.empty())
    e.message += fmt::format(" (sha256 {}, {} bytes)", a.sha256, a.size.value_or(0));
  return e;
}

report::Event LifecycleEvent(LifecycleDraft draft) {
  report::Event e;
  e.type = draft.type;
  e.severity = policy::Severity::kInfo;
  e.args = std::move(draft.args);
  e.rule = "lifecycle";
  e.race_free = true;
  e.message = std::move(draft.message);
  return e;
}

report::Event LimitEvent(LimitReport report, const policy::Limits& limits) {
  const auto& info = policy::InfoOf(report.kind);
  auto configured = limits.Get(report.kind);
  std::string conf = configured ? policy::FormatLimit(info.unit, *configured) : "off";
  report::Event e;
  e.type = report.type;
  e.severity = policy::Severity::kMedium;
  nlohmann::json& details = report.details;
  details["limit"] = info.key;
  details["configured"] = conf;
  details["observed"] = report.observed;
  details["enforced_by"] = info.enforced;
  e.args = std::move(details);
  e.action = report.kind == policy::LimitKind::kCpu || report.kind == policy::LimitKind::kMemory ||
                     report.kind == policy::LimitKind::kTimeout
                 ? policy::Action::kKill
                 : policy::Action::kDeny;
  e.rule = fmt::format("limits.{}", info.key);
  e.race_free = true;  // the kernel (or the timer) measured it, nothing was read from the tracee
  e.message = fmt::format("{} limit ({}) reached: {}", info.what, conf, report.observed);
  return e;
}

std::string OomObserved(std::uint64_t new_kills, std::optional<std::uint64_t> peak_bytes) {
  return fmt::format(
      "OOM kill{} in the process tree at a peak of {}",
      new_kills > 1 ? fmt::format("s ({})", new_kills) : "",
      peak_bytes ? policy::FormatLimit(policy::LimitUnit::kBytes, *peak_bytes) : "?");
}

std::string ForksRefusedObserved(std::uint64_t tasks) {
  return fmt::format("fork/clone failed with EAGAIN at {} processes and threads", tasks);
}

std::string DiskFullObserved(std::uint64_t used_bytes) {
  return fmt::format("the work dir is full ({} used): writes fail with ENOSPC",
                     policy::FormatLimit(policy::LimitUnit::kBytes, used_bytes));
}

std::string TimeoutObserved(double elapsed_s, std::size_t tasks) {
  return fmt::format("still running after {:.1f}s: the whole tree ({} tasks) was killed", elapsed_s,
                     tasks);
}

std::string CpuSignalObserved(double cpu_s) {
  return fmt::format("SIGXCPU after {:.2f}s of CPU time", cpu_s);
}

bool RecordsAsAudit(Mode mode, const policy::Decision& d) {
  return mode == Mode::kAudit && d.rule != kSelfRule;
}

namespace {

// The event's "race" and race_free for a call whose arguments were read from the tracee.
void DescribeRace(const CallRecord& r, bool audit, report::Event& e) {
  const policy::Decision& d = r.decision;
  const DecodedCall& call = *r.call;
  bool in_memory =
      call.request.path_count > 0 || !call.addr_bytes.empty() || !call.msghdr_bytes.empty();
  if (d.action != policy::Action::kAllow && !audit) {
    e.race_free = true;
    e.race = {{"arguments", "the call was not run"}};
    return;
  }
  if (!in_memory) {
    e.race_free = true;
    e.race = {{"arguments", "registers only"}};
    return;
  }
  std::string args = call.pinned ? "pinned"
                     : r.mode == Mode::kAudit
                         ? "not pinned: audit mode runs every call as the tracee wrote it"
                         : "not pinned: " + call.unpinned;
  e.race = {{"arguments", std::move(args)}};
  const bool unix_path =
      call.addr && call.addr->family == AF_UNIX && !call.addr->abstract && !call.addr->unnamed;
  if (call.request.path_count > 0 || unix_path) {
    e.race["filesystem"] =
        !call.walk_guard.empty()
            ? call.walk_guard +
                  (r.landlock ? "; Landlock enforces the path rules in the kernel too" : "")
        : r.landlock ? "Landlock enforces the path rules in the kernel"
        : !call.walk_gap.empty()
            ? "not covered: " + call.walk_gap
            : "not covered: a symlink swapped or a directory renamed after the check "
              "changes what the path names";
  }
  // A unix socket path is walked by the kernel like any path; Landlock does not check
  // connect and send to one, but it does check the socket file a bind makes (MAKE_SOCK).
  const bool bind = call.row != nullptr && call.row->kind == Kind::kNet &&
                    call.row->verb == policy::NetVerb::kBind;
  e.race_free = call.pinned && (unix_path ? !call.walk_guard.empty() || (bind && r.landlock)
                                          : call.request.path_count == 0 || r.landlock ||
                                                !call.walk_guard.empty());
}

}  // namespace

report::Event CallEvent(const CallRecord& r, nlohmann::json args, nlohmann::json tip,
                        std::string message, bool live_only) {
  const policy::Decision& d = r.decision;
  const DecodedCall* call = r.call;
  const bool audit = r.passive || RecordsAsAudit(r.mode, d);
  const auto nr = static_cast<std::uint64_t>(r.nr);
  report::Event e;
  e.type = d.event != policy::EventType::kNone
               ? d.event
               : (d.action == policy::Action::kAllow ? policy::EventType::kSyscallAllowed
                                                     : policy::EventType::kSyscallBlocked);
  e.severity = d.severity;
  e.syscall =
      report::SyscallRef{call && call->row ? std::string(call->row->name) : SyscallName(r.arch, nr),
                         r.nr, ArchName(r.arch, nr)};
  std::copy(r.raw, r.raw + 6, e.raw_args.begin());
  if (call != nullptr) {
    e.args = std::move(args);
    DescribeRace(r, audit, e);
  } else {
    e.race_free = true;  // decided on the architecture and number alone
  }
  if (d.action != policy::Action::kAllow) e.tip = std::move(tip);
  if (audit) {
    e.action = policy::Action::kAllow;
    e.would = d.action;
  } else {
    e.action = d.action;
  }
  e.error = d.action == policy::Action::kDeny ? d.error : 0;
  e.rule = std::string(d.rule);
  policy::Primitive primitive = call != nullptr ? call->request.primitive
                                : r.arch != AUDIT_ARCH_X86_64 || (nr & kX32Bit) != 0
                                    ? policy::Primitive::kForeignAbi
                                    : policy::Primitive::kNone;
  if (d.rule == "builtin:pin-region-unavailable") primitive = policy::Primitive::kPinnedRegion;
  if (primitive != policy::Primitive::kNone) e.primitive = std::string(policy::Name(primitive));
  if (primitive != policy::Primitive::kNone && call != nullptr) {
    std::string_view cap = !call->capability.empty() ? call->capability
                           : call->row != nullptr    ? call->row->capability
                                                     : std::string_view{};
    e.capability = std::string(cap);
  }
  e.message = std::move(message);
  e.live_only = live_only;
  return e;
}

std::string AllowedMessage(std::string_view syscall) { return fmt::format("{} allowed", syscall); }

std::string LoaderRefusedMessage(const std::string& program, const std::string& path) {
  return fmt::format(
      "the dynamic loader was asked to run {} ({}), which the policy does not let "
      "execute; its process is killed before it runs",
      base::EscapeBytes(program), base::EscapeBytes(path));
}

std::string ExecRaceMessage(const std::string& exe, const std::string& expected,
                            bool expected_opened) {
  return fmt::format(
      "the kernel executed {} instead of {}, the file tracejail checked{}: a "
      "symlink or directory changed between the check and the exec; the process "
      "is killed before its first instruction",
      exe, base::EscapeBytes(expected), expected_opened ? "" : " (which could not be opened then)");
}

std::string BindRaceMessage(const std::string& path, bool removed) {
  return fmt::format(
      "bind made the socket file of {} somewhere other than the directory "
      "tracejail checked: a symlink or directory changed between the check and "
      "the bind; the process is killed, and the socket file {}",
      base::EscapeBytes(path), removed ? "was removed" : "could not be found again to remove");
}

std::string ConnectRaceMessage(const std::string& path, bool expected_opened) {
  return fmt::format(
      "connect reached another unix socket than {}, the one tracejail "
      "checked{}: a symlink or directory changed between the check and the "
      "connect; disconnected, the call fails with ECONNREFUSED",
      base::EscapeBytes(path), expected_opened ? "" : " (which could not be opened then)");
}

std::string PinRegionMessage(const std::string& why) {
  return fmt::format(
      "the program cannot have its pinned-argument region at [{:#x}, {:#x}): {}; "
      "killed, because its calls could not be checked without a race",
      kPinBase, kPinEnd, why);
}

std::string AnchorSymlinkMessage(std::string_view call, std::string_view checked,
                                 const std::string& opened) {
  return fmt::format(
      "{} on {}: a symlink appeared in {} between tracejail's check and "
      "the call; the call fails with ELOOP",
      call, checked, base::EscapeBytes(opened));
}

std::string AnchorLostMessage(std::string_view call, std::string_view checked,
                              std::string_view why) {
  return fmt::format(
      "{} on {}: {}; the process is killed, because the call could not be kept to "
      "the object tracejail checked",
      call, checked, why);
}

std::string PinSlotsNote() {
  return fmt::format("more than {} tasks of one address space hold pinned arguments", kPinSlots);
}

std::string BindDirLostNote(const std::string& checked_dir, int err) {
  return fmt::format(
      "{} cannot be opened again without following a symlink ({}): the "
      "bind would not be made where it was checked",
      base::EscapeBytes(checked_dir), policy::ErrnoName(err));
}

std::string FdUnsharedGuard(bool cwd) {
  return fmt::format(
      "decided on the file its {} names, and no other task shares {}: only this thread, "
      "stopped in the call, could change it",
      cwd ? "working directory" : "descriptor",
      cwd ? "the working directory or the descriptor table" : "the descriptor table");
}

std::string FdHeldGuard(bool cwd) {
  return fmt::format(
      "decided on the file its {} names; every task sharing {} is held stopped from the check "
      "to the call's exit, and {} still named that file once they were",
      cwd ? "working directory" : "descriptor",
      cwd ? "the working directory or the descriptor table" : "the descriptor table",
      cwd ? "the working directory" : "the descriptor");
}

std::string FdRaceNote(bool cwd, int fd, const std::string& decided,
                       std::optional<std::string_view> now) {
  return fmt::format(
      "{} named {} when the call was checked and {} once every task sharing the descriptor "
      "table was held: another task changed it between the check and the call",
      cwd ? "the working directory" : fmt::format("descriptor {}", fd), base::EscapeBytes(decided),
      now ? base::EscapeBytes(*now) : std::string("nothing"));
}

}  // namespace tracer
