// The CPython pieces that need no process (base/python_layout.h, base/python_code.h): the
// version table against the interpreters' own headers, the location table decoder against a
// table CPython 3.11 wrote, the str decoder, and both on garbage.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/python_code.h"
#include "base/python_layout.h"

namespace {

std::vector<std::uint8_t> FromHex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// What a probe binary prints, "name value" per line.
std::map<std::string, std::uint32_t> RunProbe(const std::string& path) {
  std::map<std::string, std::uint32_t> out;
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(path.c_str(), "r"), &pclose);
  if (pipe == nullptr) return out;
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0;) text.append(buf, n);
  std::istringstream in(text);
  std::string name;
  unsigned long value = 0;
  while (in >> name >> value) out[name] = static_cast<std::uint32_t>(value);
  return out;
}

}  // namespace

TEST_CASE("the CPython layout table matches the installed headers", "[python]") {
  const std::string probes = TJ_PYTHON_LAYOUT_PROBES;
  if (probes.empty()) {
    std::puts(
        "TRACEJAIL-SKIP: no CPython 3.11 or 3.12 internal headers were found at configure time "
        "(Debian: apt install python3.11-dev), so tests/probes/python_layout_probe.c was not "
        "built");
    return;
  }
  std::istringstream list(probes);
  for (std::string probe; std::getline(list, probe, ':');) {
    CAPTURE(probe);
    const auto fields = RunProbe(probe);
    REQUIRE(fields.count("version") == 1);
    const std::uint32_t version = fields.at("version");
    CAPTURE(base::PythonVersionText(version));
    const base::PythonLayout* layout = base::PythonLayoutFor(version);
    REQUIRE(layout != nullptr);
    for (const auto& [name, value] : fields) {
      if (name == "version") continue;
      CAPTURE(name);
      auto ours = base::PythonLayoutField(*layout, name);
      REQUIRE(ours.has_value());
      CHECK(*ours == value);
    }
    // Every offset of the row came from the probe (none is left unchecked).
    CHECK(fields.size() >= 30);
    CHECK((layout->owner_cstack < 0) == (fields.count("owner_cstack") == 0));
  }
}

TEST_CASE("CPython versions are found by major and minor and named for notes", "[python]") {
  REQUIRE(base::PythonLayoutFor(0x030B02F0) != nullptr);  // 3.11.2
  CHECK(base::PythonLayoutFor(0x030B07F0) == base::PythonLayoutFor(0x030B02F0));
  CHECK(base::PythonLayoutFor(0x030B02F0)->name == "3.11");
  CHECK(base::PythonLayoutFor(0x030A0DF0) == nullptr);  // 3.10
  CHECK(base::PythonLayoutFor(0x030D00F0) == nullptr);  // 3.13
  CHECK(base::PythonLayoutFor(0) == nullptr);
  CHECK(base::PythonVersionText(0x030B02F0) == "3.11.2");
  CHECK(base::PythonVersionText(0x030D00A1) == "3.13.0a1");
  CHECK(base::PythonVersionText(0x030C00C2) == "3.12.0rc2");
  CHECK(base::PythonLayoutVersions().find("3.11") != std::string::npos);
}

TEST_CASE("the location table gives each instruction the line CPython gives it", "[python]") {
  // f.__code__ of this function, written by /usr/bin/python3 (3.11.2): co_firstlineno 1,
  // co_linetable, and co_lines() per code unit (0: no line), covering the short, one-line,
  // no-column, long and no-location entries.
  //   def f(x):
  //       y = x + 1
  //
  //       if y > 2:
  //           return [i
  //                   for i in range(y)]
  //       try:
  //           z = 1 / x
  //       except ZeroDivisionError:
  //           z = 0
  //       return y + z
  const auto table = FromHex(
      "8000d80809884189058041e00708883182758075f002011023f000011023dd191e987199189c18f003011023f1"
      "00011023f400011023f000010923f00403050ed80c0d9001894588018801f8dd0b1cf00001050ef00001050ef0"
      "0001050ed80c0d880188018801f00301050ef8f8f8e00b0c88718935804c");
  const int expected[] = {1, 2, 2, 2,  2,  2,  4,  4, 4, 4, 4, 4,  5,  5,  6,  6, 6,
                          6, 6, 6, 6,  6,  6,  6,  6, 6, 6, 6, 5,  5,  5,  5,  5, 5,
                          5, 5, 5, 7,  8,  8,  8,  8, 8, 8, 0, 9,  9,  9,  9,  9, 9,
                          9, 9, 9, 10, 10, 10, 10, 9, 0, 0, 0, 11, 11, 11, 11, 11};
  REQUIRE(std::size(expected) == 134 / 2);  // len(co_code)
  for (std::size_t unit = 0; unit < std::size(expected); ++unit) {
    CAPTURE(unit);
    auto line = base::PythonLineFor(table, 1, static_cast<std::int64_t>(unit * 2));
    if (expected[unit] == 0) {
      CHECK_FALSE(line.has_value());
    } else {
      REQUIRE(line.has_value());
      CHECK(*line == expected[unit]);
    }
  }
  // Past the end: no line; before the start (a frame not yet started): the first line.
  CHECK_FALSE(base::PythonLineFor(table, 1, 134).has_value());
  CHECK(base::PythonLineFor(table, 1, -2) == 1);
  // The same table for a function starting at line 100 moves every line by 99.
  CHECK(base::PythonLineFor(table, 100, 2 * 38) == 107);
}

TEST_CASE("the location table decoder survives garbage and endless varints", "[python]") {
  std::mt19937 rng(19);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::uint8_t> table(static_cast<std::size_t>(byte(rng)) * 4);
    for (auto& b : table) b = static_cast<std::uint8_t>(byte(rng));
    (void)base::PythonLineFor(table, byte(rng) - 128, 0);
    (void)base::PythonLineFor(table, byte(rng) - 128, 6);
    // Each entry covers at most 8 code units: nothing lies past 16 bytes per byte of table.
    CHECK_FALSE(base::PythonLineFor(table, 1, std::int64_t{1} << 40).has_value());
  }
  // A long-form entry whose varint never ends, and line deltas that would overflow an int.
  std::vector<std::uint8_t> endless{0xF0};
  endless.insert(endless.end(), 1000, 0x7F);
  // (30 bits of it are kept: 2^30 - 1, odd, so a delta of -(2^29 - 1))
  CHECK(base::PythonLineFor(endless, 1, 0) == 1 - ((1 << 29) - 1));
  std::vector<std::uint8_t> huge;
  for (int i = 0; i < 3000; ++i) huge.insert(huge.end(), {0xE8, 0x7E, 0x7F, 0x7F, 0x7F, 0x0F});
  CHECK_FALSE(base::PythonLineFor(huge, 2'000'000'000, 2 * 2999).has_value());
  CHECK_FALSE(base::PythonLineFor({}, 1, 0).has_value());
}

TEST_CASE("compact str objects decode in all three kinds and garbage shapes are refused",
          "[python]") {
  const base::PythonLayout& layout = *base::PythonLayoutFor(0x030B02F0);
  auto state = [&](unsigned kind, bool compact, bool ascii) {
    return (kind << layout.unicode_kind_shift) |
           (static_cast<std::uint32_t>(compact) << layout.unicode_compact_shift) |
           (static_cast<std::uint32_t>(ascii) << layout.unicode_ascii_shift);
  };
  auto ascii = base::PythonStrShapeOf(layout, state(1, true, true), 5, 4096);
  REQUIRE(ascii.has_value());
  CHECK(ascii->data_offset == layout.unicode_ascii_data);
  CHECK(ascii->chars == 5);
  CHECK_FALSE(ascii->cut);
  auto wide = base::PythonStrShapeOf(layout, state(2, true, false), 10'000, 4096);
  REQUIRE(wide.has_value());
  CHECK(wide->data_offset == layout.unicode_compact_data);
  CHECK(wide->chars == 4096);
  CHECK(wide->cut);
  CHECK_FALSE(base::PythonStrShapeOf(layout, state(1, false, false), 5, 4096));  // not compact
  CHECK_FALSE(base::PythonStrShapeOf(layout, state(3, true, false), 5, 4096));   // no kind 3
  CHECK_FALSE(base::PythonStrShapeOf(layout, state(0, true, false), 5, 4096));
  CHECK_FALSE(base::PythonStrShapeOf(layout, state(2, true, true), 5, 4096));  // ascii, wide
  CHECK_FALSE(base::PythonStrShapeOf(layout, state(1, true, true), -1, 4096));

  const std::vector<std::uint8_t> latin{'c', 0xE9, '!'};
  CHECK(base::PythonStrUtf8(latin, 1, 3) == "c\xC3\xA9!");
  const std::vector<std::uint8_t> ucs2{0x3B, 0x04, 0x00, 0xD8, 'a', 0};  // Л, a lone surrogate
  CHECK(base::PythonStrUtf8(ucs2, 2, 3) ==
        "\xD0\xBB\xEF\xBF\xBD"
        "a");
  const std::vector<std::uint8_t> ucs4{0x00, 0xF6, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0x7F};
  CHECK(base::PythonStrUtf8(ucs4, 4, 2) == "\xF0\x9F\x98\x80\xEF\xBF\xBD");  // U+1F600, junk
  CHECK_FALSE(base::PythonStrUtf8(latin, 1, 4));  // fewer bytes than the length says
  CHECK_FALSE(base::PythonStrUtf8(ucs4, 4, 3));
  CHECK_FALSE(base::PythonStrUtf8(latin, 3, 1));
}
