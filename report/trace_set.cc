#include "report/trace_set.h"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "base/escape.h"
#include "syscalls/classes.h"
#include "syscalls/table.h"

namespace report {
namespace {

// strace's other spellings of a class: %net, and the names from before the "%" prefix.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kAliases{{
    {"%net", "%network"},
    {"file", "%file"},
    {"network", "%network"},
    {"process", "%process"},
    {"signal", "%signal"},
    {"ipc", "%ipc"},
    {"desc", "%desc"},
    {"memory", "%memory"},
}};

const syscalls::SyscallClass* ClassNamed(std::string_view word) {
  for (const auto& [alias, name] : kAliases) {
    if (word == alias) return syscalls::FindSyscallClass(name);
  }
  return syscalls::FindSyscallClass(word);
}

constexpr std::string_view kForms =
    "expected trace=NAME[,NAME...]: syscall names, classes (%file, %network, %process, "
    "%signal, %ipc, %desc, %memory, %creds, %clock, %escape), all or none, optionally after "
    "\"!\" (every call but these)";

}  // namespace

// Adds one expression to a set; the error says what is wrong with it.
struct TraceSetParser {
  static bool Add(std::string_view text, TraceSet& set, ParsedTraceSet& out) {
    std::string shown = base::DisplayText(text);
    std::string_view body = text;
    if (std::size_t eq = text.find('='); eq != std::string_view::npos) {
      std::string_view qualifier = text.substr(0, eq);
      if (qualifier != "trace") {
        out.error = fmt::format(
            "-e {}: tracejail takes only trace= (which calls the live view shows), not {}=", shown,
            base::DisplayText(qualifier));
        return false;
      }
      body = text.substr(eq + 1);
    }
    TraceSet::Expr expr;
    if (body.starts_with('!')) {
      expr.negated = true;
      body.remove_prefix(1);
    }
    if (body.empty()) {
      out.error = fmt::format("-e {}: an empty set ({})", shown, kForms);
      return false;
    }
    bool all = false;
    for (std::size_t start = 0; start <= body.size();) {
      std::size_t comma = std::min(body.find(',', start), body.size());
      std::string_view word = body.substr(start, comma - start);
      start = comma + 1;
      if (word.empty()) {
        out.error = fmt::format("-e {}: an empty name between commas ({})", shown, kForms);
        return false;
      }
      if (word == "all") {
        all = true;
      } else if (word == "none") {
        // adds nothing
      } else if (const syscalls::SyscallClass* c = ClassNamed(word)) {
        for (std::string_view member : c->members) expr.names.emplace(member);
      } else if (syscalls::FindRow(word) != nullptr) {
        expr.names.emplace(word);
      } else {
        out.unknown = std::string(word);
        out.error =
            fmt::format("-e {}: unknown syscall or class \"{}\"", shown, base::DisplayText(word));
        return false;
      }
    }
    if (all) {  // all (with anything): everything; !all: nothing
      expr.names.clear();
      expr.negated = !expr.negated;
    }
    set.exprs_.push_back(std::move(expr));
    return true;
  }
};

bool TraceSet::Shows(std::string_view syscall) const {
  if (exprs_.empty()) return true;
  return std::any_of(exprs_.begin(), exprs_.end(),
                     [syscall](const Expr& e) { return e.names.contains(syscall) != e.negated; });
}

bool TraceSet::Shows(const Record& record) const {
  const Event* e = AsEvent(record);
  if (e == nullptr || !e->syscall) return true;
  return Shows(e->syscall->name);
}

bool TraceSet::ShowsAll() const {
  return exprs_.empty() || std::any_of(exprs_.begin(), exprs_.end(),
                                       [](const Expr& e) { return e.negated && e.names.empty(); });
}

ParsedTraceSet ParseTraceSet(const std::vector<std::string>& expressions) {
  ParsedTraceSet out;
  for (const std::string& text : expressions) {
    if (!TraceSetParser::Add(text, out.set, out)) {
      out.set = TraceSet();
      return out;
    }
  }
  return out;
}

std::vector<std::string> TraceSetWords() {
  std::vector<std::string> out{"all", "none"};
  for (const syscalls::SyscallClass& c : syscalls::SyscallClasses()) out.emplace_back(c.name);
  for (const auto& [alias, name] : kAliases) out.emplace_back(alias);
  for (const syscalls::SyscallRow& row : syscalls::SyscallTable()) out.emplace_back(row.name);
  return out;
}

}  // namespace report
