// The live view on a terminal (`run --live`, `learn --live`) and `tracejail watch`, which
// renders the same view from a stream started elsewhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "report/live_view.h"
#include "report/output_file.h"
#include "report/record.h"
#include "report/trace_set.h"

namespace cli {

// An EventLog sink that prints the live view to stderr, or with -o FILE to that file (mode 600,
// no colours, no progress line). Shows what `filter` and the -e trace= set let through.
class LiveTerminal {
 public:
  // Throws std::runtime_error ("cannot write FILE: ...") when `file` cannot be created.
  explicit LiveTerminal(report::LiveFilter filter, report::TraceSet trace = {},
                        const std::string& file = "");
  void operator()(const std::string& line, const nlohmann::json& record, bool in_file);
  void Show(const report::Record& record);  // the typed form of the same
  // Clears the progress line, or closes the file: what failed writing it, if anything did.
  std::optional<std::string> Finish();

 private:
  void Put(const std::string& text);

  report::LiveFilter filter_;
  report::TraceSet trace_;
  report::OutputFile file_;
  bool to_file_;
  bool closed_ = false;
  report::LiveStyle style_;
  bool tty_;
  std::uint64_t decisions_ = 0, denied_ = 0, processes_ = 0;
  std::chrono::steady_clock::time_point last_progress_{};
  bool progress_shown_ = false;
};

// "all" or "denied"; false for anything else.
bool ParseLiveFilter(const std::string& text, report::LiveFilter& out);

// `tracejail watch ENDPOINT [--denied] [--token-file FILE]`: exit status 0 when the stream ended
// normally, 1 when it could not be reached or refused this subscriber (a wrong token), 120 for a
// bad command line (a tcp endpoint without --token-file, a token file that is not mode 600).
int WatchCommand(const std::string& endpoint, bool denied_only, const std::string& token_file);

}  // namespace cli
