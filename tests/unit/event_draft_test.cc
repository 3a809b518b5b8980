// tracer/event_draft.h: the events the supervisor records, drafted without a tracee.
#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <catch2/catch.hpp>

#include "syscalls/table.h"
#include "tracer/event_draft.h"

namespace {

using policy::Action;
using policy::EventType;
using tracer::CallRecord;
using tracer::Mode;

constexpr std::uint64_t kRaw[6] = {1, 2, 3, 4, 5, 6};

tracer::DecodedCall OpenCall(const char* path) {
  tracer::DecodedCall call;
  call.row = syscalls::FindRow("openat");
  call.request.syscall = "openat";
  call.request.path_count = 1;
  call.request.paths[0] = {path, policy::Access::kRead, true};
  return call;
}

}  // namespace

TEST_CASE("Lifecycle drafts: start, child, exec and exit", "[event-draft]") {
  auto launched = tracer::LaunchedDraft(42, 7);
  CHECK(launched.type == EventType::kProcessStart);
  CHECK(launched.message == "process 42 started by tracejail");
  CHECK(launched.args["parent_pid"] == 7);
  CHECK(launched.args["via"] == "tracejail");

  auto thread = tracer::ChildDraft(44, 42, 43, true, PTRACE_EVENT_CLONE);
  CHECK(thread.message == "thread 44 started by 43");
  CHECK(thread.args["via"] == "clone");
  CHECK(thread.args["parent_tid"] == 43);
  CHECK(tracer::ChildDraft(45, 42, 42, false, PTRACE_EVENT_VFORK).args["via"] == "vfork");
  CHECK(tracer::ChildDraft(45, 42, 42, false, PTRACE_EVENT_FORK).message ==
        "process 45 started by 42");

  auto exec = tracer::ExecDraft("/bin/ls", {"ls", "-l"});
  CHECK(exec.type == EventType::kProcessExec);
  CHECK(exec.message == "exec /bin/ls");
  CHECK(exec.args["argv"] == nlohmann::json::array({"ls", "-l"}));

  auto exited = tracer::ExitDraft(42, 3 << 8, false);  // exited with 3
  CHECK(exited.message == "42 exited with 3");
  CHECK(exited.args["exit_code"] == 3);
  auto killed = tracer::ExitDraft(44, SIGKILL, true);
  CHECK(killed.message == "44 killed by SIGKILL");
  CHECK(killed.args["thread"] == true);

  report::Event e = tracer::LifecycleEvent(std::move(exited));
  CHECK(e.type == EventType::kProcessExit);
  CHECK(e.rule == "lifecycle");
  CHECK(e.race_free);
  CHECK(e.severity == policy::Severity::kInfo);
}

TEST_CASE("Limit events name the limit and what enforced it", "[event-draft]") {
  policy::Limits limits;
  limits.Set(policy::LimitKind::kTimeout, 2000);
  report::Event e = tracer::LimitEvent(
      {EventType::kTimeoutExceeded, policy::LimitKind::kTimeout, "late", {{"tasks", 1}}}, limits);
  CHECK(e.type == EventType::kTimeoutExceeded);
  CHECK(e.action == Action::kKill);
  CHECK(e.rule == "limits.timeout");
  CHECK(e.args["configured"] == "2s");
  CHECK(e.args["observed"] == "late");
  CHECK(e.args["tasks"] == 1);
  CHECK(e.message.ends_with("limit (2s) reached: late"));
  report::Event disk = tracer::LimitEvent(
      {EventType::kResourceLimitExceeded, policy::LimitKind::kDisk, "full", {}}, limits);
  CHECK(disk.action == Action::kDeny);
  CHECK(disk.args["configured"] == "off");

  CHECK(tracer::OomObserved(1, 1 << 20) == "OOM kill in the process tree at a peak of 1MiB");
  CHECK(tracer::OomObserved(2, std::nullopt) == "OOM kills (2) in the process tree at a peak of ?");
  CHECK(tracer::ForksRefusedObserved(64) ==
        "fork/clone failed with EAGAIN at 64 processes and threads");
  CHECK(tracer::DiskFullObserved(1 << 20) ==
        "the work dir is full (1MiB used): writes fail with ENOSPC");
  CHECK(tracer::CpuSignalObserved(1.5) == "SIGXCPU after 1.50s of CPU time");
}

TEST_CASE("Call events: a denial is race-free, its tip kept", "[event-draft]") {
  tracer::DecodedCall call = OpenCall("/etc/shadow");
  policy::Decision d{Action::kDeny, 13, EventType::kNone, policy::Severity::kMedium, "r1"};
  report::Event e =
      tracer::CallEvent({d, &call, SYS_openat, AUDIT_ARCH_X86_64, kRaw, Mode::kEnforce, false},
                        {{"path", "/etc/shadow"}}, {{"allow", 1}}, "msg", false);
  CHECK(e.type == EventType::kSyscallBlocked);
  CHECK(e.action == Action::kDeny);
  CHECK(e.error == 13);
  CHECK(e.race_free);
  CHECK(e.race["arguments"] == "the call was not run");
  CHECK(e.tip["allow"] == 1);
  CHECK(e.args["path"] == "/etc/shadow");
  CHECK(e.syscall->name == "openat");
  CHECK(e.raw_args[5] == 6);
  CHECK(e.rule == "r1");
  CHECK(e.message == "msg");
}

TEST_CASE("Call events in audit mode: allowed, with what enforce would do", "[event-draft]") {
  tracer::DecodedCall call = OpenCall("/etc/shadow");
  policy::Decision d{Action::kDeny, 13, EventType::kNone, policy::Severity::kMedium, "r1"};
  CHECK(tracer::RecordsAsAudit(Mode::kAudit, d));
  report::Event e = tracer::CallEvent(
      {d, &call, SYS_openat, AUDIT_ARCH_X86_64, kRaw, Mode::kAudit, false}, {}, {}, "", false);
  CHECK(e.action == Action::kAllow);
  CHECK(e.would == Action::kDeny);
  CHECK_FALSE(e.race_free);
  CHECK(e.race["arguments"] == "not pinned: audit mode runs every call as the tracee wrote it");
  // tracejail's own guards are enforced in every mode.
  policy::Decision self{Action::kDeny, 1, EventType::kEscapeAttempt, policy::Severity::kHigh,
                        tracer::kSelfRule};
  CHECK_FALSE(tracer::RecordsAsAudit(Mode::kAudit, self));
}

TEST_CASE("Call events: an allowed pinned path is race-free with a walk guard or Landlock",
          "[event-draft]") {
  tracer::DecodedCall call = OpenCall("/data/x");
  call.pinned = true;
  policy::Decision d{Action::kAllow, 0, EventType::kNone, policy::Severity::kInfo, ""};
  CallRecord r{d, &call, SYS_openat, AUDIT_ARCH_X86_64, kRaw, Mode::kEnforce, false};
  report::Event bare = tracer::CallEvent(r, {}, {{"ignored", 1}}, "", true);
  CHECK(bare.type == EventType::kSyscallAllowed);
  CHECK(bare.tip.is_null());
  CHECK(bare.live_only);
  CHECK_FALSE(bare.race_free);
  CHECK(bare.race["arguments"] == "pinned");
  CHECK(bare.race["filesystem"].get<std::string>().starts_with("not covered: a symlink"));
  call.walk_guard = "guarded";
  report::Event guarded = tracer::CallEvent(r, {}, {}, "", false);
  CHECK(guarded.race_free);
  CHECK(guarded.race["filesystem"] == "guarded");
  call.walk_guard.clear();
  r.landlock = true;
  report::Event landlock = tracer::CallEvent(r, {}, {}, "", false);
  CHECK(landlock.race_free);
  CHECK(landlock.race["filesystem"] == "Landlock enforces the path rules in the kernel");
}

TEST_CASE("Call events decided on the registers alone", "[event-draft]") {
  policy::Decision d{Action::kDeny, 1, EventType::kEscapeAttempt, policy::Severity::kHigh,
                     "builtin:foreign-abi"};
  report::Event e = tracer::CallEvent({d, nullptr, 5, AUDIT_ARCH_I386, kRaw, Mode::kEnforce, false},
                                      {{"x", 1}}, {}, "", false);
  CHECK(e.race_free);
  CHECK(e.args.is_null());
  CHECK(e.primitive == "foreign_abi");
  CHECK(e.syscall->arch == "i386");
  policy::Decision pin{Action::kKill, 0, EventType::kEscapeAttempt, policy::Severity::kHigh,
                       "builtin:pin-region-unavailable"};
  report::Event p = tracer::CallEvent(
      {pin, nullptr, SYS_mmap, AUDIT_ARCH_X86_64, kRaw, Mode::kEnforce, false}, {}, {}, "", false);
  CHECK(p.primitive == "pinned_region");
}

TEST_CASE("Messages of tracejail's own verdicts", "[event-draft]") {
  CHECK(tracer::AllowedMessage("openat") == "openat allowed");
  CHECK(tracer::PinRegionMessage("why") ==
        "the program cannot have its pinned-argument region at [0x10000, 0x400000): why; "
        "killed, because its calls could not be checked without a race");
  CHECK(
      tracer::ExecRaceMessage("/bin/a", "/bin/b", false)
          .find("instead of /bin/b, the file tracejail checked (which could not be opened then)") !=
      std::string::npos);
  CHECK(
      tracer::ConnectRaceMessage("/s", true)
          .starts_with("connect reached another unix socket than /s, the one tracejail checked:"));
  CHECK(tracer::BindRaceMessage("/s", true).ends_with("the socket file was removed"));
  CHECK(tracer::LoaderRefusedMessage("prog", "/abs/prog")
            .starts_with("the dynamic loader was asked to run prog (/abs/prog)"));
  CHECK(tracer::AnchorSymlinkMessage("mkdir", "/a", "/a/b").ends_with("the call fails with ELOOP"));
  CHECK(tracer::AnchorLostMessage("mkdir", "/a", "lost").starts_with("mkdir on /a: lost;"));
}

TEST_CASE("Notes and walk guards of calls on descriptors", "[event-draft]") {
  CHECK(tracer::PinSlotsNote() == "more than 504 tasks of one address space hold pinned arguments");
  CHECK(tracer::FdUnsharedGuard(false).starts_with("decided on the file its descriptor names"));
  CHECK(tracer::FdUnsharedGuard(true).find("the working directory or the descriptor table") !=
        std::string::npos);
  CHECK(
      tracer::FdHeldGuard(false).ends_with("and the descriptor still named that file once they "
                                           "were"));
  CHECK(tracer::FdRaceNote(false, 3, "/a", std::nullopt)
            .starts_with("descriptor 3 named /a when the call was checked and nothing once"));
  CHECK(tracer::FdRaceNote(true, -100, "/a", "/b")
            .starts_with("the working directory named /a when the call was checked and /b once"));
  CHECK(tracer::BindDirLostNote("/d", 40).starts_with(
      "/d cannot be opened again without following a symlink (ELOOP)"));
}
