#include "report/live_view.h"

#include <fmt/format.h>

#include "report/escape.h"

namespace report {
namespace {

constexpr const char* kRed = "\x1b[1;31m";
constexpr const char* kMagenta = "\x1b[1;35m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kCyan = "\x1b[36m";
constexpr const char* kReset = "\x1b[0m";

// No control byte, C1 control or bidi override from the record reaches the terminal.
std::string Safe(std::string_view s) { return DisplayText(s); }

std::string Value(const nlohmann::json& v) {
  if (v.is_string()) return "\"" + Safe(v.get<std::string>()) + "\"";
  if (v.is_object() && v.contains("resolved")) {
    std::string raw = v.value("raw", "");
    std::string resolved = v.value("resolved", "");
    std::string shown = "\"" + Safe(raw) + "\"";
    if (resolved != raw) shown += " -> " + Safe(resolved);
    return shown;
  }
  if (v.is_object() && v.contains("family")) {
    std::string addr = v.value("address", v.value("path", ""));
    std::string text = Safe(v.value("family", "")) + " " + Safe(addr);
    if (v.contains("port")) text += ":" + v["port"].dump();
    return "{" + text + "}";
  }
  return Safe(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string Paint(const LiveStyle& style, const char* color, const std::string& text) {
  return style.color ? color + text + kReset : text;
}

}  // namespace

bool LiveWants(const nlohmann::json& record, LiveFilter filter) {
  std::string type = record.value("type", "");
  if (type == "log_end" || type == "events_dropped") return type == "events_dropped";
  if (filter == LiveFilter::kAll) return true;
  if (type == "escape_attempt" || type == "resource_limit_exceeded" || type == "timeout_exceeded") {
    return true;
  }
  const nlohmann::json& d = record.value("decision", nlohmann::json::object());
  std::string effective = d.value("would", d.value("action", ""));
  return effective == "deny" || effective == "kill";
}

std::string FormatLive(const nlohmann::json& record, const LiveStyle& style) {
  if (!record.is_object()) return {};
  std::string type = record.value("type", "");
  if (type == "log_end") return {};
  if (type == "events_dropped") {
    return Paint(style, kYellow,
                 fmt::format("tracejail: {} event(s) dropped: this subscriber was too slow",
                             record.value("count", 0)));
  }
  std::string who = fmt::format("[{}]", record.value("pid", 0));
  const nlohmann::json& args = record.value("args", nlohmann::json::object());
  if (type == "process_start" || type == "process_exec" || type == "process_exit") {
    std::string what;
    if (type == "process_exec") {
      what = "exec " + Safe(args.value("exe", "")) + " " +
             Safe(args.value("argv", nlohmann::json::array()).dump());
    } else if (type == "process_start") {
      what = fmt::format("{} started by {}", args.value("thread", false) ? "thread" : "process",
                         args.value("parent_pid", 0));
    } else {
      what = args.contains("signal") ? "killed by " + Safe(args.value("signal", ""))
                                     : fmt::format("exited with {}", args.value("exit_code", 0));
    }
    return Paint(style, kCyan, who + " +++ " + what);
  }
  if (type == "resource_limit_exceeded" || type == "timeout_exceeded") {
    return Paint(style, kYellow,
                 who + " !!! " + Safe(args.value("limit", "")) + " limit (" +
                     Safe(args.value("configured", "")) + "): " + Safe(args.value("observed", "")));
  }
  std::string call = record.contains("syscall") ? record["syscall"].value("name", "?") : "?";
  std::string list;
  for (const auto& [key, value] : args.items()) {
    if (key == "envp") continue;  // long and rarely what one watches for
    list += (list.empty() ? "" : ", ") + key + "=" + Value(value);
  }
  const nlohmann::json& d = record.value("decision", nlohmann::json::object());
  std::string action = d.value("action", "");
  std::string would = d.value("would", "");
  std::string verdict = action == "allow" && (would.empty() || would == "allow") ? "allowed"
                        : action == "kill" || would == "kill"                    ? "KILLED"
                                                                                 : "DENIED";
  if (d.contains("errno") && verdict.starts_with("DENIED")) {
    verdict += " " + Safe(d.value("errno", ""));
  }
  if (!would.empty() && would != "allow") verdict += " (audit: allowed)";
  std::string line = fmt::format("{} {}({}) = {}", who, Safe(call), list, verdict);
  std::string rule = d.value("rule", "");
  if (!rule.empty()) line += "  <- " + Safe(rule);
  const char* color = type == "escape_attempt"                                    ? kMagenta
                      : verdict.starts_with("DEN") || verdict.starts_with("KILL") ? kRed
                                                                                  : kDim;
  return Paint(style, color, line);
}

std::string FormatProgress(std::uint64_t decisions, std::uint64_t denied, std::uint64_t processes) {
  return fmt::format("tracejail: {} decisions, {} denied, {} processes", decisions, denied,
                     processes);
}

}  // namespace report
