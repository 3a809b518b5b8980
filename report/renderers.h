// The report formats, one table: `tracejail report --format`, `--list-formats`, the golden test
// and tests/data/regen-golden.sh all read it, so a new format is one row (and its golden file).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "report/analysis.h"
#include "report/output_file.h"

namespace report {

// What a report shows besides the analysis: which file, and whether its chain verified.
struct ReportInput {
  const Analysis& analysis;
  std::string title;  // the events file's name
  bool chain_ok = true;
  std::string integrity;  // "hash chain intact (N records)" or why it is not
  std::vector<std::string> chain_problems;
};

struct Renderer {
  std::string_view name;  // "text"
  std::string_view summary;
  // Appends the report to `out`, handing it to `spill` as it grows.
  void (*render)(const ReportInput& in, std::string& out, const Spill& spill);
};

std::span<const Renderer> Renderers();

// `raw` as HTML text or a quoted attribute's value: &, <, >, quotes escaped, and controls and
// bidi overrides shown as escapes (base::DisplayText), so a page shows what the bytes were.
std::string Html(std::string_view raw);
const Renderer* FindRenderer(std::string_view name);
std::vector<std::string> RendererNames();

}  // namespace report
