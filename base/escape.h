// Escaping of tracee-controlled bytes. Everything that came from a tracee (paths, argv, unix
// socket names) passes through EscapeBytes before it reaches JSON, a terminal or a report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace base {

// Keeps printable ASCII and well-formed UTF-8 except control and bidi-override characters;
// writes every other byte as \xHH and a backslash as "\\". The result is valid UTF-8 with no
// terminal control sequences, and distinct inputs give distinct outputs.
std::string EscapeBytes(std::string_view bytes);

// EscapeBytes for multi-line text (captured output): also keeps "\n" and "\t".
std::string EscapeText(std::string_view bytes);

// Text read back from an events file or a stream, for a terminal or a report: printable text is
// kept as it is (a backslash too: the writer's own \xHH escapes show unchanged), while control
// bytes, DEL, C1 controls, bidi and line-separator characters and bytes that are not UTF-8 are
// written as \xHH or \u{XXXX}. Not reversible: for showing, never for storing.
std::string DisplayText(std::string_view text);

// Compact JSON for a terminal or a report (a tip): the same value as dump(), with DEL, C1 controls
// and bidi and line-separator characters written as \uXXXX, so it shows what it is and still
// pastes as the same JSON.
std::string JsonForDisplay(const nlohmann::json& value);

}  // namespace base
