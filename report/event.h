// One security or lifecycle event, as written to the JSON Lines file (docs/events.md).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "policy/decision.h"

namespace report {

struct SyscallRef {
  std::string name;
  long number = -1;
  std::string arch;  // "x86_64", "i386", "x32"
};

struct Event {
  policy::EventType type = policy::EventType::kNone;
  policy::Severity severity = policy::Severity::kInfo;
  std::uint64_t seq = 0;
  double time = 0;  // seconds since the Unix epoch
  int pid = 0;
  int tid = 0;
  std::string exe;  // already escaped
  std::optional<SyscallRef> syscall;
  std::array<std::uint64_t, 6> raw_args{};
  nlohmann::json args;  // decoded arguments; tracee strings already escaped
  policy::Action action = policy::Action::kAllow;  // what was done
  std::optional<policy::Action> would;             // audit mode: what enforce would have done
  int error = 0;                                   // errno returned on deny
  std::string rule;
  std::string primitive;   // the escape primitive the call was judged as (policy `escapes` key)
  std::string capability;  // the capability the kernel asks for such a call ("CAP_SYSLOG")
  nlohmann::json tip;      // policy fragment that would allow the call (deny/kill), or null
  bool race_free = false;  // whether the kernel acted on exactly what was checked
  nlohmann::json race;     // why (or why not): {"arguments": ..., "filesystem": ...}
  std::string message;
  // For the live view only (an allowed decision in enforce mode): never written to the events
  // file or the stream, never chained.
  bool live_only = false;
};

nlohmann::json ToJson(const Event& e);

}  // namespace report
