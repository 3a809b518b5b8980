// One security or lifecycle event, as written to the JSON Lines file (docs/events.md): the
// record the tracer builds, the writer writes and every reader reads back (report/record.h has
// the other kinds of record and the schema version).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/decision.h"

namespace report {

struct SyscallRef {
  std::string name;
  long number = -1;
  std::string arch;  // "x86_64", "i386", "x32"
};

// On a folded record only: the N occurrences it stands for (docs/events.md, "Repeats are folded").
struct Repeat {
  std::uint64_t count = 1;
  double first_time = 0;
  std::uint64_t first_seq = 0;
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
  // The calling thread's native stack (--stack): {"frames": [...], "note": ...}, or null.
  nlohmann::json stack;
  std::string message;
  // MITRE ATT&CK technique ids the event shows ("T1611"), set by the writer (report/attack.h).
  std::vector<std::string> attack;
  std::optional<Repeat> repeat;  // set by the writer on a folded record
  std::string prev_hash;         // set by the writer: the link to the previous line
  // For the live view only (an allowed decision in enforce mode): never written to the events
  // file or the stream, never chained.
  bool live_only = false;
  // A live_only call's result, taken at its syscall-exit stop (only while the live view shows
  // allowed calls: --live, -o FILE): `value` as the kernel returned it (-errno for an error),
  // none when its exit never came (an exec, a kill, exit_group), shown "= ?". Unset: not traced.
  // Written as "return" (an integer, or null) on live-only records alone.
  struct Returned {
    std::optional<std::int64_t> value;
  };
  std::optional<Returned> returned;
};

// Whether `id` is spelled like a MITRE ATT&CK technique id: T and four digits, optionally a
// dot and three more ("T1611", "T1552.001"); the reader checks "attack" with it.
bool IsAttackId(std::string_view id);

// The record as the writer writes it (keys sorted by nlohmann::json, so dump() is canonical).
nlohmann::json ToJson(const Event& e);

// Reads an event record (any recorded type) into `out`: "" on success, or what is wrong with it
// (a field of the wrong type, an unknown type, severity, action or errno). Fields the writer
// always writes but older or hand-made records may lack take the defaults of Event
// (docs/events.md, "Reading an events file"); ToJson(FromJson(line)) gives back every line the
// writer wrote, byte for byte.
std::string FromJson(const nlohmann::json& j, Event& out);

// Typed views of a read event's decoded arguments (docs/events.md, "Decoded arguments" and
// "Lifecycle events"); the writer builds `args` as JSON, readers look through these.
struct PathArg {
  std::optional<std::string> raw, resolved;  // both in every record tracejail writes
  std::string access;
  std::optional<bool> exists;  // a name the call makes: whether it existed before the call
};
struct AddressArg {
  std::optional<std::string> family, address, path, abstract;
  std::optional<long> port;
};
// An argument's object read as a decoded path (fields absent or of another type stay empty);
// nullopt when it is not an object.
std::optional<PathArg> AsPathArg(const nlohmann::json& v);
// A decoded socket address: an object that names its family (the other fields are optional);
// nullopt for anything else.
std::optional<AddressArg> AsAddressArg(const nlohmann::json& v);
// A lifecycle or limit event's arguments; absent ones stay empty.
struct LifecycleArgs {
  int parent_pid = 0;
  bool thread = false;
  std::string via;
  std::string exe;                          // process_exec
  std::vector<std::string> argv;            // process_exec
  std::optional<int> exit_code;             // process_exit
  std::optional<std::string> signal;        // process_exit: "SIGKILL"
  std::string limit, configured, observed;  // limit events
};
LifecycleArgs LifecycleArgsOf(const Event& e);
// A deny's tip (a policy fragment, docs/events.md "tip") as learn reads it: the sections it
// may hold, in the order they appear; elements of another type are left out.
struct TipFileRule {
  std::string path;  // the pattern of exactly the denied path (policy::EscapeGlob)
  std::vector<std::string> access;
};
struct Tip {
  std::vector<TipFileRule> files;
  std::vector<nlohmann::json> network_rules;  // policy network rules, whole
  std::vector<std::string> families;
  std::vector<std::string> syscalls;  // names from the syscall rules
  std::vector<std::string> escapes;   // primitives under "escapes"
};
// Empty when the event has no tip (or one that is not an object).
Tip TipOf(const Event& e);

// The effective verdict: what enforce mode would have done in audit mode, else what was done.
policy::Action Effective(const Event& e);
bool IsLifecycle(const Event& e);
bool IsLimit(const Event& e);

}  // namespace report
