#include "base/python_code.h"

#include <limits>

namespace base {
namespace {

// Location table entries (Objects/locations.md): a first byte with bit 7 set, the entry's code in
// bits 3-6 and its length in code units minus one in bits 0-2, then varints that never have
// bit 7 set.
constexpr unsigned kNoLocation = 15, kLong = 14, kNoColumns = 13;
constexpr unsigned kOneLine0 = 10, kOneLine2 = 12;

// A varint of 6-bit chunks, least significant first, bit 6 set on all but the last; at most
// 5 chunks are taken (the rest of a longer one is skipped as garbage would be).
std::uint32_t Varint(std::span<const std::uint8_t> table, std::size_t& at) {
  std::uint32_t value = 0;
  for (unsigned shift = 0; at < table.size(); shift += 6) {
    const std::uint8_t b = table[at++];
    if (shift < 30) value |= static_cast<std::uint32_t>(b & 63) << shift;
    if ((b & 64) == 0) break;
  }
  return value;
}

std::int64_t SignedVarint(std::span<const std::uint8_t> table, std::size_t& at) {
  const std::uint32_t v = Varint(table, at);
  return (v & 1) != 0 ? -static_cast<std::int64_t>(v >> 1) : static_cast<std::int64_t>(v >> 1);
}

// The line delta of the entry whose first byte is at table[at - 1].
std::int64_t LineDelta(unsigned code, std::span<const std::uint8_t> table, std::size_t at) {
  if (code == kNoColumns || code == kLong) return SignedVarint(table, at);
  if (code >= kOneLine0 && code <= kOneLine2) return code - kOneLine0;
  return 0;
}

void Utf8(std::string& out, std::uint32_t cp) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::optional<int> PythonLineFor(std::span<const std::uint8_t> table, int first_line,
                                 std::int64_t addr) {
  if (addr < 0) return first_line;
  std::int64_t line = first_line, end = 0;
  std::size_t at = 0;
  while (at < table.size()) {
    const std::uint8_t first = table[at++];
    if ((first & 0x80) == 0) continue;  // not an entry's start: garbage, skipped
    const unsigned code = (first >> 3) & 15;
    line += LineDelta(code, table, at);
    // Lines stay within int even when every entry of a 64 KiB table adds the most a varint holds.
    if (line > std::numeric_limits<int>::max() || line < std::numeric_limits<int>::min()) {
      return std::nullopt;
    }
    const std::int64_t start = end;
    end += 2 * ((first & 7) + 1);  // code units of 2 bytes
    if (addr < end && addr >= start) {
      if (code == kNoLocation) return std::nullopt;
      return static_cast<int>(line);
    }
    while (at < table.size() && (table[at] & 0x80) == 0) ++at;
  }
  return std::nullopt;
}

std::optional<PythonStrShape> PythonStrShapeOf(const PythonLayout& layout, std::uint32_t state,
                                               std::int64_t length, std::size_t max_chars) {
  const unsigned kind = (state >> layout.unicode_kind_shift) & 7;
  const bool compact = ((state >> layout.unicode_compact_shift) & 1) != 0;
  const bool ascii = ((state >> layout.unicode_ascii_shift) & 1) != 0;
  if (!compact || length < 0 || (kind != 1 && kind != 2 && kind != 4) || (ascii && kind != 1)) {
    return std::nullopt;
  }
  const bool cut = static_cast<std::uint64_t>(length) > max_chars;
  return PythonStrShape{
      .data_offset = ascii ? layout.unicode_ascii_data : layout.unicode_compact_data,
      .kind = kind,
      .chars = cut ? max_chars : static_cast<std::size_t>(length),
      .cut = cut};
}

std::optional<std::string> PythonStrUtf8(std::span<const std::uint8_t> data, unsigned kind,
                                         std::size_t chars) {
  if ((kind != 1 && kind != 2 && kind != 4) || data.size() / kind < chars) return std::nullopt;
  std::string out;
  out.reserve(chars);
  for (std::size_t i = 0; i < chars; ++i) {
    std::uint32_t cp = 0;
    for (unsigned b = 0; b < kind; ++b) {
      cp |= static_cast<std::uint32_t>(data[i * kind + b]) << (8 * b);
    }
    Utf8(out, cp);
  }
  return out;
}

}  // namespace base
