#include "policy/decision.h"

#include <array>

namespace policy {
namespace {
constexpr std::array<std::string_view, 3> kActionNames{"allow", "deny", "kill"};
constexpr std::array<std::string_view, 12> kEventNames{"none",
                                                       "syscall_blocked",
                                                       "escape_attempt",
                                                       "permission_denied",
                                                       "resource_limit_exceeded",
                                                       "timeout_exceeded",
                                                       "suspicious_behavior",
                                                       "syscall_allowed",
                                                       "process_start",
                                                       "process_exec",
                                                       "process_exit",
                                                       "file_dropped"};
constexpr std::array<std::string_view, 5> kSeverityNames{"info", "low", "medium", "high",
                                                         "critical"};
}  // namespace

std::string_view Name(Action a) { return kActionNames.at(static_cast<std::size_t>(a)); }
std::string_view Name(EventType t) { return kEventNames.at(static_cast<std::size_t>(t)); }
std::string_view Name(Severity s) { return kSeverityNames.at(static_cast<std::size_t>(s)); }

std::optional<EventType> RecordedEventType(std::string_view name) {
  // "none" is never recorded: it names the absence of an event.
  for (std::size_t i = 1; i < kEventNames.size(); ++i) {
    if (kEventNames[i] == name) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

}  // namespace policy
