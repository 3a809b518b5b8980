// base/escape.h: EscapeBytes keeps printable ASCII and well-formed UTF-8, escapes everything
// else as \xHH, doubles backslashes; the output is valid UTF-8 without terminal controls, and
// distinct inputs give distinct outputs.
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/escape.h"

namespace {

using base::EscapeBytes;

std::string B(const char* s, std::size_t n) { return std::string(s, n); }

// Strict RFC 3629 decoder, written independently of the code under test. Returns false on any
// ill-formed sequence; collects the code points.
bool DecodeUtf8(std::string_view s, std::vector<char32_t>& cps) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1fu;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0fu;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07u;
      min = 0x10000;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    cps.push_back(cp);
    i += len;
  }
  return true;
}

// What the escaped text must never contain: C0/C1 controls, DEL, bidi controls, separators, BOM.
bool Safe(char32_t cp) {
  if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) return false;
  if (cp >= 0x202a && cp <= 0x202e) return false;
  if (cp >= 0x2066 && cp <= 0x2069) return false;
  if (cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff) return false;
  return true;
}

// The inverse of the escaping: "\\" -> '\', "\xHH" -> byte, anything else as is; nullopt when
// a backslash starts neither form.
std::optional<std::string> Unescape(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
    } else if (i + 1 < s.size() && s[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (i + 3 < s.size() && s[i + 1] == 'x' && hex(s[i + 2]) >= 0 && hex(s[i + 3]) >= 0) {
      out += static_cast<char>(hex(s[i + 2]) * 16 + hex(s[i + 3]));
      i += 3;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

void CheckWellFormed(const std::string& input) {
  std::string out = base::EscapeBytes(input);
  std::vector<char32_t> cps;
  CAPTURE(out);
  REQUIRE(DecodeUtf8(out, cps));
  for (char32_t cp : cps) CHECK(Safe(cp));
  CHECK(Unescape(out) == input);
  // nlohmann's strict dump also accepts it as UTF-8.
  CHECK_NOTHROW(nlohmann::json(out).dump());
}

}  // namespace

TEST_CASE("EscapeBytes: known inputs", "[escape]") {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"", ""},
      {"/usr/bin/ls -la ~!@#$%^&*()_+{}|:<>?[];',./\"",
       "/usr/bin/ls -la ~!@#$%^&*()_+{}|:<>?[];',./\""},
      {"a\\b", "a\\\\b"},
      {"\\", "\\\\"},
      {"\\x41", "\\\\x41"},
      {"\n", "\\x0a"},
      {"\t\r", "\\x09\\x0d"},
      {B("\0", 1), "\\x00"},
      {B("a\0b", 3), "a\\x00b"},
      {"\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"},
      {"\x7f", "\\x7f"},
      {"\x01\x1f", "\\x01\\x1f"},
      // Well-formed UTF-8 is kept.
      {"\xc3\xa9", "\xc3\xa9"},                                  // é
      {"caf\xc3\xa9", "caf\xc3\xa9"},                            // café
      {"\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"},  // 日本
      {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},                  // U+1F600
      {"\xc2\xa0", "\xc2\xa0"},                                  // U+00A0 no-break space
      {"\xe2\x80\xaf", "\xe2\x80\xaf"},                          // U+202F, just past the bidi range
      {"\xef\xbf\xbd", "\xef\xbf\xbd"},                          // U+FFFD
      {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},                  // U+10FFFF, the last code point
      // Invalid bytes and sequences become \xHH, byte by byte.
      {"\xff", "\\xff"},
      {"\xfe\xff", "\\xfe\\xff"},
      {"\x80", "\\x80"},    // lone continuation byte
      {"\xc3", "\\xc3"},    // truncated at the end
      {"\xc3(", "\\xc3("},  // truncated by ASCII
      {"\xe6\x97", "\\xe6\\x97"},
      {"\xc0\xaf", "\\xc0\\xaf"},                    // overlong '/'
      {"\xc1\xbf", "\\xc1\\xbf"},                    // overlong
      {"\xe0\x80\xaf", "\\xe0\\x80\\xaf"},           // overlong '/'
      {"\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf"},  // overlong '/'
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},           // surrogate U+D800
      {"\xed\xbf\xbf", "\\xed\\xbf\\xbf"},           // surrogate U+DFFF
      {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},  // U+110000
      {"\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80"},
      // C1 controls, bidi controls, separators and the BOM are escaped.
      {"\xc2\x9b", "\\xc2\\x9b"},           // U+009B CSI
      {"\xc2\x80", "\\xc2\\x80"},           // U+0080
      {"\xc2\x85", "\\xc2\\x85"},           // U+0085 NEL
      {"\xc2\x9f", "\\xc2\\x9f"},           // U+009F
      {"\xe2\x80\xae", "\\xe2\\x80\\xae"},  // U+202E RLO
      {"\xe2\x80\xaa", "\\xe2\\x80\\xaa"},  // U+202A LRE
      {"\xe2\x81\xa6", "\\xe2\\x81\\xa6"},  // U+2066 LRI
      {"\xe2\x81\xa9", "\\xe2\\x81\\xa9"},  // U+2069 PDI
      {"\xe2\x80\x8e", "\\xe2\\x80\\x8e"},  // U+200E LRM
      {"\xe2\x80\x8f", "\\xe2\\x80\\x8f"},  // U+200F RLM
      {"\xe2\x80\xa8", "\\xe2\\x80\\xa8"},  // U+2028
      {"\xe2\x80\xa9", "\\xe2\\x80\\xa9"},  // U+2029
      {"\xef\xbb\xbf", "\\xef\\xbb\\xbf"},  // U+FEFF BOM
      {"evil\xe2\x80\xaetxt.exe", "evil\\xe2\\x80\\xaetxt.exe"},
      // Mixed: valid UTF-8 next to broken bytes is kept.
      {"\xc3\xa9\xff\xc3\xa9", "\xc3\xa9\\xff\xc3\xa9"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    CHECK(base::EscapeBytes(c.in) == c.out);
    CheckWellFormed(c.in);
  }
}

TEST_CASE("EscapeBytes: every single byte and every byte pair", "[escape]") {
  std::set<std::string> outputs;
  for (int a = 0; a < 256; ++a) {
    std::string in(1, static_cast<char>(a));
    std::string out = base::EscapeBytes(in);
    if (a >= 0x20 && a < 0x7f && a != '\\') {
      CHECK(out == in);
    } else {
      CHECK(out.size() >= 2);
      CHECK(out[0] == '\\');
    }
    CHECK(Unescape(out) == in);
    outputs.insert(out);
  }
  CHECK(outputs.size() == 256);

  std::size_t pairs = 0;
  std::set<std::string> pair_outputs;
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string in{static_cast<char>(a), static_cast<char>(b)};
      std::string out = base::EscapeBytes(in);
      pair_outputs.insert(out);
      ++pairs;
      if (Unescape(out) != in) FAIL("pair " << a << "," << b << " does not round-trip: " << out);
      std::vector<char32_t> cps;
      if (!DecodeUtf8(out, cps)) FAIL("pair " << a << "," << b << " gives invalid UTF-8");
    }
  }
  CHECK(pair_outputs.size() == pairs);  // injective on all 65536 pairs
}

TEST_CASE("EscapeBytes: injective on tricky inputs", "[escape]") {
  const std::vector<std::string> inputs = {
      "",
      "\\",
      "\\\\",
      "\\x5c",
      "\x5c",
      "\\x41",
      "A",
      "\\\\x41",
      "\x1b",
      "\\x1b",
      "\\\x1b",
      "\xc2\x9b",
      "\\xc2\\x9b",
      "\xc2",
      "\x9b",
      "\xe2\x80\xae",
      "\\xe2\\x80\\xae",
      "\xe2\x80",
      "\xe2",
      "x",
      "\\x",
      "\\xzz",
      B("\0", 1),
      B("\0\0", 2),
      "\\x00",
      "\\x000",
      "\xc3\xa9",
      "\\xc3\\xa9",
      "\xc3",
      "\xa9",
      "\xff\xfe",
      "\\xff\\xfe",
      "\xed\xa0\x80",
      "\xf4\x90\x80\x80",
  };
  std::set<std::string> outputs;
  for (const auto& in : inputs) {
    CAPTURE(in);
    CheckWellFormed(in);
    outputs.insert(base::EscapeBytes(in));
  }
  std::set<std::string> distinct(inputs.begin(), inputs.end());
  CHECK(outputs.size() == distinct.size());
}

TEST_CASE("EscapeBytes: random byte strings give valid, reversible output", "[escape][fuzz]") {
  std::mt19937 rng(7u);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 40);
  // Bias towards UTF-8 lead and continuation bytes so that multi-byte paths are exercised.
  const unsigned char kBiased[] = {0xc2, 0xc3, 0xe2, 0xe6, 0xed, 0xef, 0xf0, 0xf4,
                                   0x80, 0x9b, 0xa0, 0xae, 0xbf, 0x5c, 0x1b, 0x41};
  std::uniform_int_distribution<std::size_t> biased(0, sizeof kBiased - 1);
  for (int i = 0; i < 5000; ++i) {
    std::string in;
    int n = length(rng);
    for (int k = 0; k < n; ++k) {
      in += static_cast<char>(i % 2 == 0 ? byte(rng) : kBiased[biased(rng)]);
    }
    std::string out = base::EscapeBytes(in);
    std::vector<char32_t> cps;
    if (!DecodeUtf8(out, cps)) FAIL("invalid UTF-8 for input #" << i);
    for (char32_t cp : cps) {
      if (!Safe(cp)) FAIL("unsafe code point " << static_cast<unsigned>(cp) << " in #" << i);
    }
    if (Unescape(out) != in) FAIL("input #" << i << " does not round-trip");
  }
  SUCCEED("5000 random inputs checked");
}

TEST_CASE("JsonForDisplay: bidi and C1 and DEL become u-escapes of the same JSON value",
          "[escape]") {
  nlohmann::json tip = {{"files",
                         {{"rules",
                           {{{"path",
                              "/tmp/a\xe2\x80\xae"
                              "b\xc2\x9b"
                              "c\x7f"
                              "d\x1b"},
                             {"access", {"read"}}}}}}}};
  std::string shown = base::JsonForDisplay(tip);
  CHECK(shown.find("\xe2\x80\xae") == std::string::npos);
  CHECK(shown.find("\xc2\x9b") == std::string::npos);
  CHECK(shown.find('\x7f') == std::string::npos);
  CHECK(shown.find('\x1b') == std::string::npos);
  CHECK(shown.find("\\u202e") != std::string::npos);
  CHECK(nlohmann::json::parse(shown) == tip);  // pastes as the same value
  // Ordinary UTF-8 stays readable.
  CHECK(base::JsonForDisplay(nlohmann::json("/home/jos\xc3\xa9")) == "\"/home/jos\xc3\xa9\"");
}

TEST_CASE("DisplayText: keeps text and backslashes and shows controls", "[escape]") {
  CHECK(base::DisplayText("plain /path with spaces") == "plain /path with spaces");
  // The writer's own escapes pass through unchanged (no doubled backslashes).
  CHECK(base::DisplayText("a\\x1bb\\\\c") == "a\\x1bb\\\\c");
  CHECK(base::DisplayText("caf\xc3\xa9 \xe6\x97\xa5") == "caf\xc3\xa9 \xe6\x97\xa5");
  CHECK(base::DisplayText("a\x1b[31mb") == "a\\x1b[31mb");
  CHECK(base::DisplayText("line\nbreak\ttab\x7f") == "line\\x0abreak\\x09tab\\x7f");
  CHECK(base::DisplayText("\xe2\x80\xae"
                          "evil") == "\\u{202e}evil");  // bidi override
  CHECK(base::DisplayText("\xc2\x9b"
                          "2J") == "\\u{009b}2J");       // C1 CSI
  CHECK(base::DisplayText("\xff\xc3") == "\\xff\\xc3");  // not UTF-8
}

TEST_CASE("DisplayText: random bytes give valid UTF-8 with no control character",
          "[escape][fuzz]") {
  std::mt19937_64 rng(20261206);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string shown = base::DisplayText(bytes);
    CAPTURE(base::EscapeBytes(bytes));
    CHECK(base::EscapeBytes(shown) ==
          [&] {  // valid UTF-8 without controls: EscapeBytes changes only backslashes
            std::string doubled;
            for (char c : shown) doubled += c == '\\' ? std::string("\\\\") : std::string(1, c);
            return doubled;
          }());
  }
}
