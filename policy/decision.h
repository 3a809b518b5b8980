// The verdict on one Request, and the vocabulary events share with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace policy {

enum class Action : std::uint8_t { kAllow, kDeny, kKill };

// What an event says happened (docs/events.md), plus the lifecycle ones a timeline needs.
enum class EventType : std::uint8_t {
  kNone,  // allowed, nothing worth recording in enforce mode
  kSyscallBlocked,
  kEscapeAttempt,
  kPermissionDenied,
  kResourceLimitExceeded,
  kTimeoutExceeded,
  kSuspiciousBehavior,
  kSyscallAllowed,  // audit/learn only
  kProcessStart,
  kProcessExec,
  kProcessExit,
  kFileDropped,  // at the end of a run: a file the program created or changed
};

enum class Severity : std::uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };

std::string_view Name(Action a);
std::string_view Name(EventType t);
std::string_view Name(Severity s);
// Any type an events file records (the policy's event types, syscall_allowed and the lifecycle
// types), by the name Name(EventType) gives; nullopt for anything else, "none" included.
std::optional<EventType> RecordedEventType(std::string_view name);

struct Decision {
  Action action = Action::kAllow;
  int error = 0;  // errno returned when action is kDeny
  EventType event = EventType::kNone;
  Severity severity = Severity::kInfo;
  std::string_view rule;  // stable id of the rule that decided, owned by the Policy
};

}  // namespace policy
