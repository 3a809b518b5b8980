// Decoding what a CPython code object holds, from bytes read out of a (hostile) interpreter's
// memory: the line of an instruction from the location table (3.11 and 3.12, PEP 657's format,
// CPython's Objects/locations.md), and the text of a compact str object. Pure; every length is
// checked against the bytes at hand, so garbage gives a wrong answer or none, never a fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/python_layout.h"

namespace base {

// The source line of the instruction at byte offset `addr` of a code object whose location
// table is `table` and whose first line is `first_line` (PyCode_Addr2Line): nullopt when the
// table gives the instruction no line, or ends before it. A negative `addr` (a frame that has
// not started) is the first line.
std::optional<int> PythonLineFor(std::span<const std::uint8_t> table, int first_line,
                                 std::int64_t addr);

// Where a str object's characters are and how they are stored, from its header's length and
// state word: only compact strings (every str CPython makes for code objects is one).
struct PythonStrShape {
  std::uint32_t data_offset;  // from the object's start
  unsigned kind;              // bytes per character: 1, 2 or 4
  std::size_t chars;          // characters to read: the length, cut at max_chars
  bool cut;                   // the length was more than max_chars
};
std::optional<PythonStrShape> PythonStrShapeOf(const PythonLayout& layout, std::uint32_t state,
                                               std::int64_t length, std::size_t max_chars);

// UTF-8 of `chars` characters of `kind` bytes each (little-endian); a surrogate or a value past
// U+10FFFF becomes U+FFFD. nullopt when `data` is shorter than chars * kind or kind is not
// 1, 2 or 4. The result still needs escaping for display (EscapeBytes).
std::optional<std::string> PythonStrUtf8(std::span<const std::uint8_t> data, unsigned kind,
                                         std::size_t chars);

}  // namespace base
