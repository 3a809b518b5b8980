// What ran and what was left behind, as the events record it (docs/forensics.md, "What ran and
// what was left behind"): the image (and script) of every process_exec, and every file_dropped
// written at the end of a run. One model for the tracer's records and the reports that read
// them back.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "report/event.h"

namespace report {

struct Artifact {
  std::string path;    // tracee data, escaped
  std::string kind;    // executed: "image", "script"; dropped: "file", "directory", "symlink",
                       // "fifo", "socket", "device"
  std::string sha256;  // hex; "" when not hashed (see note)
  std::optional<std::uint64_t> size;
  std::string mode;         // permission bits, "0755"
  bool created = false;     // dropped: the name did not exist before the program made it
  bool removed = false;     // dropped: the program removed it (it is gone at the end)
  std::string target;       // a symlink's target, escaped
  std::string collected;    // the copy's name in the --collect directory, or ""
  std::string note;         // why something is missing (not hashed, not collected)
  std::uint64_t count = 1;  // executed: how many execs ran this same file
};

// The object tracejail writes into an event's args (only the fields that are set).
nlohmann::json ToJson(const Artifact& a);
// Back from such an object; fields of the wrong type are left empty. `kind` when it has none.
Artifact ArtifactFromJson(const nlohmann::json& j, std::string kind);

// A process_exec's "image" and "script" (none for other events or older records).
std::vector<Artifact> ExecutedOf(const Event& e);
// A file_dropped event's file, or nullopt for any other event.
std::optional<Artifact> DroppedOf(const Event& e);

// For a table: the kind with what happened ("file, created", "image, ×3"), and the rest ("→
// target; collected; note").
std::string ArtifactKindText(const Artifact& a);
std::string ArtifactNoteText(const Artifact& a);

// A short human line: "sha256 1234 bytes 0755 /path" with what is known.
std::string ArtifactLine(const Artifact& a);

}  // namespace report
