#include "tracer/lanes.h"

#include <charconv>
#include <string_view>

#include <fmt/format.h>

#include "base/escape.h"

namespace tracer {

std::optional<LaneConfig> ParseLaneConfig(const char* lanes, const char* handover,
                                          std::string& error) {
  LaneConfig config;
  std::string_view l = lanes != nullptr ? lanes : "";
  if (l.empty() || l == "auto") {
    config.lanes = kMaxLanes;
  } else if (l == "off") {
    config.lanes = 0;
  } else {
    int n = 0;
    auto [end, err] = std::from_chars(l.data(), l.data() + l.size(), n);
    if (err != std::errc() || end != l.data() + l.size() || n < 2 || n > kMaxLanes) {
      error = fmt::format(
          "TRACEJAIL_LANES=\"{}\": expected \"off\", \"auto\" (one lane per CPU) or a number of "
          "lanes from 2 to {}",
          base::EscapeBytes(l), kMaxLanes);
      return std::nullopt;
    }
    config.lanes = n;
  }
  std::string_view h = handover != nullptr ? handover : "";
  if (h == "every") {
    config.every_stop = true;
  } else if (!h.empty() && h != "balance") {
    error = fmt::format(
        "TRACEJAIL_LANES_HANDOVER=\"{}\": expected \"balance\" (move tasks to even out the lanes) "
        "or \"every\" (move them at every stop they may move at: for testing)",
        base::EscapeBytes(h));
    return std::nullopt;
  }
  return config;
}

std::optional<std::size_t> PickLane(const std::vector<int>& busy, std::size_t from) {
  if (from >= busy.size() || busy[from] < 2) return std::nullopt;
  std::size_t best = from;
  for (std::size_t i = 0; i < busy.size(); ++i) {
    if (busy[i] < busy[best]) best = i;
  }
  if (best == from || busy[best] + 1 >= busy[from]) return std::nullopt;
  return best;
}

}  // namespace tracer
