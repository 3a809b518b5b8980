// Reading events files and stream lines, whoever wrote them: the one reader every consumer
// (report, stats, exec, learn, selftest, watch) goes through. An events file is evidence from a
// run of untrusted code and may have been edited by anyone, so each line is bounded
// (kMaxEventLine), its nesting is measured before it is parsed (kMaxEventDepth: the parser
// recurses), and the record is checked against the documented shape (docs/events.md,
// docs/schema/events.schema.json) and read into the typed model (report/record.h): every field
// a consumer reads has its documented type, so consumers never meet a string where they read a
// number. A line that is not such a record (an unknown type or schema version included) is a
// problem with its line number, never a crash.
#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/record.h"

namespace report {

inline constexpr std::size_t kMaxEventLine = std::size_t{4} << 20;  // far above any real record
inline constexpr int kMaxEventDepth = 32;  // a real record nests 6 deep at most

struct LineProblem {
  std::size_t line = 0;
  std::string what;
};

inline constexpr std::size_t kKeptProblems = 100;  // line problems kept for messages

struct EventsScan {
  std::vector<LineProblem> problems;  // the first kKeptProblems lines skipped, and why
  std::size_t skipped = 0;            // all lines skipped
  std::size_t lines = 0;
};

struct EventsRead : EventsScan {
  std::vector<nlohmann::json> records;  // the valid ones, in file order (log_end included)
};

// What is wrong with a record's shape ("field \"time\" must be a number, not a string"), or ""
// when it has the documented one. Unknown keys are allowed (newer writers).
std::string CheckRecord(const nlohmann::json& record);

// The deepest nesting of arrays and objects in `text` (JSON strings skipped), counted without
// parsing, stopping once past `limit`.
int NestingDepth(std::string_view text, int limit);

// A parsed record as the typed model (report/record.h), or nullopt with `why`: its schema
// version, then its shape (CheckRecord, for messages that name the field), then FromJson.
std::optional<Record> ToRecord(const nlohmann::json& j, std::string& why);

// One line as a checked record, or nullopt with `why`: bounded, parsed, then ToRecord. The
// JSON form is for tools and tests that want the record as written; consumers use the typed one.
std::optional<nlohmann::json> ParseRecord(std::string_view line, std::string& why);
std::optional<Record> ParseTypedRecord(std::string_view line, std::string& why);

// Reads one line of at most `max` bytes (without the newline); the rest of a longer line is
// read and dropped, and `too_long` says so. false at the end of the input.
bool ReadBoundedLine(std::istream& in, std::string& line, bool& too_long,
                     std::size_t max = kMaxEventLine);

// Streams the valid records of `in` to `each`, in file order (log_end included), holding one
// line at a time: what report, stats, exec, learn and selftest use, so memory does not grow
// with the file. The typed form is what consumers use; the JSON form gives the same records
// as written.
EventsScan ForEachTypedRecord(std::istream& in, const std::function<void(Record&&)>& each);
EventsScan ForEachRecord(std::istream& in, const std::function<void(nlohmann::json&&)>& each);

// All the valid records at once, for the small files of tests and tools that need them together.
EventsRead ReadEventsFile(std::istream& in);

// "FILE: line 7: ..." for the first few problems and a count of the rest, for stderr.
std::string DescribeProblems(const std::string& file, const EventsScan& scan);

}  // namespace report
