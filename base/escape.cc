#include "base/escape.h"

#include <array>
#include <cstdint>

namespace base {
namespace {

constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7',
                                    '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

void Hex(std::string& out, unsigned char c) {
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

// Length of a well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates), or 0.
std::size_t Utf8Length(std::string_view s, char32_t& cp) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  std::size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (len == 0 || c > 0xf4 || s.size() < len) return 0;
  cp = c & (0xff >> (len + 1));
  for (std::size_t i = 1; i < len; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
  if (cp >= 0xd800 && cp <= 0xdfff) return 0;
  return len;
}

bool Dangerous(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) ||      // C1 controls (CSI and friends)
         (cp >= 0x202a && cp <= 0x202e) ||  // bidi embeddings and overrides
         (cp >= 0x2066 && cp <= 0x2069) ||  // bidi isolates
         cp == 0x200e || cp == 0x200f ||    // direction marks
         cp == 0x2028 || cp == 0x2029 ||    // line and paragraph separators
         cp == 0xfeff;                      // byte order mark
}

}  // namespace

namespace {

std::string Escape(std::string_view bytes, bool keep_lines);

}  // namespace

std::string JsonForDisplay(const nlohmann::json& value) {
  // Control characters below 0x20 are escaped by the JSON writer itself; DEL, C1 controls and
  // the bidi and line-breaking characters are not, and are written as \uXXXX: the same JSON
  // value, so the text still pastes into a policy, but nothing a terminal or a browser acts on.
  const std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    char32_t cp = c;
    std::size_t len = c < 0x80 ? 1 : Utf8Length(std::string_view(text).substr(i), cp);
    if (len == 0) len = 1;  // not produced by the writer; kept byte for byte
    if (c == 0x7f || (len > 1 && Dangerous(cp))) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xf];
    } else {
      out.append(text, i, len);
    }
    i += len;
  }
  return out;
}

std::string DisplayText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    char32_t cp = c;
    std::size_t len = c < 0x80 ? 0 : Utf8Length(text.substr(i), cp);
    if (len == 0) {
      Hex(out, c);
      ++i;
    } else if (Dangerous(cp)) {
      out += "\\u{";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xf];
      out += '}';
      i += len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string EscapeBytes(std::string_view bytes) { return Escape(bytes, false); }
std::string EscapeText(std::string_view bytes) { return Escape(bytes, true); }

namespace {

std::string Escape(std::string_view bytes, bool keep_lines) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if ((c >= 0x20 && c < 0x7f) || (keep_lines && (c == '\n' || c == '\t'))) {
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x80) {
      Hex(out, c);
      ++i;
    } else {
      char32_t cp = 0;
      std::size_t len = Utf8Length(bytes.substr(i), cp);
      if (len == 0 || Dangerous(cp)) {
        Hex(out, c);
        ++i;
      } else {
        out.append(bytes.substr(i, len));
        i += len;
      }
    }
  }
  return out;
}

}  // namespace

}  // namespace base
