// The live view on a terminal (`run --live`, `learn --live`) and `tracejail watch`, which
// renders the same view from a stream started elsewhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "report/live_view.h"

namespace cli {

// An EventLog sink that prints the live view to stderr.
class LiveTerminal {
 public:
  explicit LiveTerminal(report::LiveFilter filter);
  void operator()(const std::string& line, const nlohmann::json& record, bool in_file);
  void Finish();  // clears the progress line

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

// `tracejail watch ENDPOINT [--denied]`: exit status 0 when the stream ended normally.
int Watch(const std::string& endpoint, bool denied_only);

}  // namespace cli
