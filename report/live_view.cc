#include "report/live_view.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "base/escape.h"
#include "policy/names.h"
#include "report/artifacts.h"
#include "report/event_reader.h"
#include "syscalls/table.h"

namespace report {
namespace {

constexpr const char* kRed = "\x1b[1;31m";
constexpr const char* kMagenta = "\x1b[1;35m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kCyan = "\x1b[36m";
constexpr const char* kReset = "\x1b[0m";

// No control byte, C1 control or bidi override from the record reaches the terminal.
std::string Safe(std::string_view s) { return base::DisplayText(s); }

std::string Value(const nlohmann::json& v) {
  if (v.is_string()) return "\"" + Safe(v.get<std::string>()) + "\"";
  if (std::optional<PathArg> p = AsPathArg(v); p && p->resolved) {
    const std::string raw = p->raw.value_or("");
    std::string shown = "\"" + Safe(raw) + "\"";
    if (*p->resolved != raw) shown += " -> " + Safe(*p->resolved);
    return shown;
  }
  if (std::optional<AddressArg> a = AsAddressArg(v); a && a->family) {
    std::string addr = a->address.value_or(a->path.value_or(""));
    std::string text = Safe(*a->family) + " " + Safe(addr);
    if (a->port) text += fmt::format(":{}", *a->port);
    return "{" + text + "}";
  }
  return Safe(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The calls whose result is an address, shown in hex as strace does.
constexpr std::array<std::string_view, 4> kAddressResults{"mmap", "mremap", "brk", "shmat"};

// The kernel's restart codes (never seen by a program: a signal interrupted the call), with
// strace's words for them.
struct RestartCode {
  std::int64_t value;
  std::string_view name, meaning;
};
constexpr std::array<RestartCode, 4> kRestartCodes{{
    {-512, "ERESTARTSYS", "To be restarted if SA_RESTART is set"},
    {-513, "ERESTARTNOINTR", "To be restarted"},
    {-514, "ERESTARTNOHAND", "To be restarted if no handler"},
    {-516, "ERESTART_RESTARTBLOCK", "Interrupted by signal"},
}};

constexpr std::int64_t kMaxErrno = 4095;  // the kernel's MAX_ERRNO: -4095..-1 are errors

std::string Paint(const LiveStyle& style, const char* color, const std::string& text) {
  return style.color ? color + text + kReset : text;
}

}  // namespace

bool LiveWants(const Record& record, LiveFilter filter) {
  if (std::holds_alternative<EventsDropped>(record)) return true;
  const Event* e = AsEvent(record);
  if (e == nullptr) return false;  // log_end; a refusal is the watcher's to report
  if (filter == LiveFilter::kAll) return true;
  if (e->type == policy::EventType::kEscapeAttempt || IsLimit(*e)) return true;
  return Effective(*e) != policy::Action::kAllow;
}

bool LiveWants(const nlohmann::json& record, LiveFilter filter) {
  std::string why;
  std::optional<Record> r = ToRecord(record, why);
  return r && LiveWants(*r, filter);
}

std::string FormatLive(const nlohmann::json& record, const LiveStyle& style) {
  std::string why;
  std::optional<Record> r = ToRecord(record, why);
  return r ? FormatLive(*r, style) : std::string();
}

namespace {

std::string LifecycleLine(const Event& e) {
  if (std::optional<Artifact> left = DroppedOf(e)) return "left behind: " + ArtifactLine(*left);
  const LifecycleArgs args = LifecycleArgsOf(e);
  if (e.type == policy::EventType::kProcessExec) {
    return "exec " + Safe(args.exe) + " " +
           Safe(nlohmann::json(args.argv).dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace));
  }
  if (e.type == policy::EventType::kProcessStart) {
    return fmt::format("{} started by {}", args.thread ? "thread" : "process", args.parent_pid);
  }
  return args.signal ? "killed by " + Safe(*args.signal)
                     : fmt::format("exited with {}", args.exit_code.value_or(0));
}

}  // namespace

std::string FormatLive(const Record& record, const LiveStyle& style) {
  if (const auto* dropped = std::get_if<EventsDropped>(&record)) {
    return Paint(style, kYellow,
                 fmt::format("tracejail: {} event(s) dropped: this subscriber was too slow",
                             dropped->count));
  }
  const Event* event = AsEvent(record);
  if (event == nullptr) return {};
  const Event& e = *event;
  std::string who = fmt::format("[{}]", e.pid);
  if (IsLifecycle(e)) return Paint(style, kCyan, who + " +++ " + LifecycleLine(e));
  if (IsLimit(e)) {
    const LifecycleArgs args = LifecycleArgsOf(e);
    return Paint(style, kYellow,
                 who + " !!! " + Safe(args.limit) + " limit (" + Safe(args.configured) +
                     "): " + Safe(args.observed));
  }
  std::string call = e.syscall ? e.syscall->name : "?";
  std::string list;
  if (e.args.is_object()) {
    // In the call's own argument order (the syscall table's), as strace shows them; names the
    // table does not know (a record from elsewhere) follow in the record's order.
    auto add = [&list](const std::string& key, const nlohmann::json& value) {
      if (key == "envp") return;  // long and rarely what one watches for
      list += (list.empty() ? "" : ", ") + Safe(key) + "=" + Value(value);
    };
    std::vector<std::string_view> shown;
    if (const syscalls::SyscallRow* row =
            e.syscall ? syscalls::FindRow(e.syscall->name) : nullptr) {
      for (const syscalls::Arg& arg : row->args) {
        auto it = arg.name.empty() ? e.args.end() : e.args.find(std::string(arg.name));
        if (it == e.args.end()) continue;
        add(it.key(), *it);
        shown.push_back(arg.name);
      }
    }
    for (const auto& [key, value] : e.args.items()) {
      if (std::find(shown.begin(), shown.end(), key) == shown.end()) add(key, value);
    }
  }
  using policy::Action;
  const bool would_allow = !e.would || *e.would == Action::kAllow;
  std::string verdict = e.action == Action::kAllow && would_allow               ? "allowed"
                        : e.action == Action::kKill || e.would == Action::kKill ? "KILLED"
                                                                                : "DENIED";
  if (e.error != 0 && verdict.starts_with("DENIED")) {
    verdict += " " + Safe(policy::ErrnoName(e.error));
  }
  if (!would_allow) verdict += " (audit: allowed)";
  // An allowed call whose exit was waited for: its result, as strace shows it.
  if (verdict == "allowed" && e.returned) verdict = FormatReturn(call, *e.returned);
  std::string line = fmt::format("{} {}({}) = {}", who, Safe(call), list, verdict);
  if (!e.rule.empty()) line += "  <- " + Safe(e.rule);
  const char* color = e.type == policy::EventType::kEscapeAttempt                 ? kMagenta
                      : verdict.starts_with("DEN") || verdict.starts_with("KILL") ? kRed
                                                                                  : kDim;
  return Paint(style, color, line);
}

std::string FormatReturn(std::string_view syscall, const Event::Returned& returned) {
  if (!returned.value) return "?";
  const std::int64_t v = *returned.value;
  for (const RestartCode& code : kRestartCodes) {
    if (v == code.value) return fmt::format("? {} ({})", code.name, code.meaning);
  }
  if (v < 0 && v >= -kMaxErrno) {
    const int err = static_cast<int>(-v);
    return fmt::format("-1 {} ({})", policy::ErrnoName(err), std::strerror(err));
  }
  if (std::find(kAddressResults.begin(), kAddressResults.end(), syscall) != kAddressResults.end()) {
    return fmt::format("{:#x}", static_cast<std::uint64_t>(v));
  }
  return fmt::format("{}", v);
}

std::string FormatProgress(std::uint64_t decisions, std::uint64_t denied, std::uint64_t processes) {
  return fmt::format("tracejail: {} decisions, {} denied, {} processes", decisions, denied,
                     processes);
}

}  // namespace report
