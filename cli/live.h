// The live view on a terminal (`run --live`, `learn --live`) and `tracejail watch`, which
// renders the same view from a stream started elsewhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "report/live_view.h"
#include "report/record.h"

namespace cli {

// An EventLog sink that prints the live view to stderr.
class LiveTerminal {
 public:
  explicit LiveTerminal(report::LiveFilter filter);
  void operator()(const std::string& line, const nlohmann::json& record, bool in_file);
  void Show(const report::Record& record);  // the typed form of the same
  void Finish();                            // clears the progress line

 private:
  report::LiveFilter filter_;
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
