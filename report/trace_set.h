// Which calls the live view shows: strace's `-e trace=SET` (`tracejail run -e trace=%file`).
// It filters only what is SHOWN (the live view, `-o FILE`): what is enforced and what the events
// file records never depend on it.
//
//   trace=open,connect      these calls (syscall names of this architecture)
//   trace=%file,%network    strace's classes (syscalls/classes.h: %file %network %process %signal
//                           %ipc %desc %memory %creds %clock, and tracejail's %escape); %net and
//                           the old bare names (file, network, ...) as strace takes them
//   trace=!%memory          every call but these (the "!" negates the whole set)
//   trace=all, trace=none   everything (the default), nothing
//   open,connect            the same as trace=open,connect (trace is strace's default qualifier)
//
// Several expressions show what any of them shows. Records that are not a call (process start,
// exec and exit, limits) are always shown, as strace always shows "+++ exited +++".
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "report/record.h"

namespace report {

class TraceSet {
 public:
  TraceSet() = default;  // everything

  // Whether a call named `syscall` is shown.
  bool Shows(std::string_view syscall) const;
  // Whether `record` is shown: a call by its name; any other record always.
  bool Shows(const Record& record) const;
  bool ShowsAll() const;

 private:
  friend struct TraceSetParser;
  struct Expr {
    std::set<std::string, std::less<>> names;
    bool negated = false;  // shows every call but `names`
  };
  std::vector<Expr> exprs_;  // empty: everything
};

struct ParsedTraceSet {
  TraceSet set;
  std::string error;    // non-empty: the expressions are not valid (what is wrong, and the form)
  std::string unknown;  // the unknown name, when that was the error (for "did you mean")
};

// Parses the expressions of every `-e` given (each "trace=SET" or "SET").
ParsedTraceSet ParseTraceSet(const std::vector<std::string>& expressions);

// Every word a set may name: "all", "none", the classes and the syscall names (for "did you
// mean" suggestions).
std::vector<std::string> TraceSetWords();

}  // namespace report
