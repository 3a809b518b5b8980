// The live view: one strace-like line per decision, as it happens, for a terminal
// (`tracejail run --live`, `tracejail watch`). Pure formatting; the caller writes the lines.
//
//   [1234] openat(dirfd=AT_FDCWD, pathname="/etc/shadow", flags=O_RDONLY) = DENIED EACCES  <-
//   standard:16#/files/rules/0 (secrets) [1234] +++ exec /usr/bin/ls ["ls", "-l"] [1234] !!! memory
//   limit (256MiB): OOM kill in the process tree at a peak of 256MiB
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "report/record.h"

namespace report {

enum class LiveFilter { kAll, kDenied };

struct LiveStyle {
  bool color = false;  // ANSI colours: denials red, escapes magenta, limits yellow, allows dim
};

// Whether `record` belongs in the view under `filter`.
bool LiveWants(const Record& record, LiveFilter filter);

// One line (no newline) for an event record; empty for records the view does not show
// (log_end). Tracee strings in records are already escaped; control characters are escaped
// again here, so a hostile record cannot drive the terminal.
std::string FormatLive(const Record& record, const LiveStyle& style);
// The same for a record as parsed JSON (read with ToRecord first: nothing for one that is not
// a record).
bool LiveWants(const nlohmann::json& record, LiveFilter filter);
std::string FormatLive(const nlohmann::json& record, const LiveStyle& style);

// What follows "= " for an allowed call whose result was taken (--live, -o): "3", "0x7f2a..."
// for the calls that return an address, "-1 ENOENT (No such file or directory)" for an error,
// "? ERESTARTSYS (To be restarted if SA_RESTART is set)" for a call a signal interrupted, "?"
// when its exit never came (exec, a kill, exit).
std::string FormatReturn(std::string_view syscall, const Event::Returned& returned);

// The compact progress line for long runs: "tracejail: 12345 decisions, 3 denied, 2 processes".
std::string FormatProgress(std::uint64_t decisions, std::uint64_t denied, std::uint64_t processes);

}  // namespace report
