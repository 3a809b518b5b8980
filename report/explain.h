// Teaching: which escape technique an event shows, what the technique is, and what stopped it.
// One catalog entry per technique; the escape suite (samples/escapes/) has one program per
// entry under the same id. `tracejail run --explain`, `tracejail selftest` and the HTML report
// show these next to the events. Pure: works on event records (docs/events.md).
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string_view>

#include "report/event.h"

namespace report {

struct Technique {
  std::string_view id;     // the escape sample's id (samples/escapes/*.c "id:")
  std::string_view title;  // one line
  std::string_view technique;
  std::string_view defence;
};

std::span<const Technique> Techniques();

// The technique an event record shows, or nullptr (ordinary denials of ordinary calls still
// get the general entry for their kind: path rules, network rules).
const Technique* TechniqueOf(const Event& event);
// The same for a record as parsed JSON (read with ToRecord first; nullptr when it is not an
// event).
const Technique* TechniqueOf(const nlohmann::json& record);

// "technique: ...\ndefence: ..." wrapped at `width` columns with `indent` before each line.
std::string FormatTechnique(const Technique& t, std::string_view indent, std::size_t width = 96);

}  // namespace report
