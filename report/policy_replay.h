// `tracejail policy test POLICY EVENTS.jsonl`: replays the calls an events file recorded through
// another policy, without running anything, and says what that policy would allow, deny and
// kill, with the tip (Policy::Tip, the fragment the end-of-run summary shows) for each denial.
// The calls are rebuilt from the events' decoded arguments (resolved paths with their access
// kinds, socket addresses, escape primitives, raw registers for syscall rules). An audit-mode
// recording (`run --mode audit`, `learn`) holds every call the tracer stopped for; an
// enforce-mode one only what its own policy denied. Pure. docs/policy-test.md.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "report/record.h"

namespace report {

// The policy request an event's call made, rebuilt from its decoded arguments; nullopt (with
// `why`) for records that are not calls (lifecycle, limits) or whose arguments do not say
// enough. The request's syscall name views `e`, which must outlive it.
std::optional<policy::Request> RequestOf(const Event& e, std::string& why);

struct ReplayVerdict {
  policy::Action action = policy::Action::kAllow;
  std::string rule;     // the candidate policy's rule (or tracejail's guard) that decided
  std::string syscall;  // "openat"
  std::string target;   // "/etc/passwd (read)", "127.0.0.1:80 (connect)", "[ptrace]"
  policy::Action recorded = policy::Action::kAllow;  // what the recording's run did (or would)
  nlohmann::json tip;       // the fragment that would allow it (null when allowed)
  std::uint64_t count = 0;  // calls it stands for
  bool guard = false;  // decided by tracejail itself (self-protection, its outputs, races): the
                       // same under every policy
};

struct ReplayResult {
  std::vector<ReplayVerdict> verdicts;  // one per distinct (syscall, target, verdict), in order
  std::uint64_t calls = 0, allowed = 0, denied = 0, killed = 0;
  std::uint64_t not_replayed = 0;  // decision records with no call to rebuild
  bool audit_recording = false;    // the file holds audit-mode records (would, syscall_allowed)
  bool would_deny() const { return denied + killed > 0; }
};

// Folds records, one at a time in file order, into a ReplayResult under `policy`.
class PolicyReplay {
 public:
  explicit PolicyReplay(const policy::Policy& policy) : policy_(policy) {}
  void Add(const Record& record);
  ReplayResult Finish() { return std::move(r_); }

 private:
  const policy::Policy& policy_;
  ReplayResult r_;
  std::map<std::string, std::size_t> index_;  // key -> verdicts[i]
};

// A summary line, the notes that matter (an enforce-mode recording), then each denied or killed
// call with its rule and tip, then the allowed ones (with -v style `all`, every one; otherwise
// their count). Tracee text passes DisplayText.
std::string RenderReplayText(const ReplayResult& r, std::string_view policy_name,
                             std::string_view events_file, bool list_allowed);
nlohmann::json ReplayJson(const ReplayResult& r, std::string_view policy_name,
                          std::string_view events_file);

}  // namespace report
