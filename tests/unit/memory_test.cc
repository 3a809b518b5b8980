// tracer/memory.h: ReadCString reads page by page so that a string ending just before an
// unmapped page is still read; ReadExact reads everything or fails. Uses the fake address space.
#include <cstring>
#include <string>

#include <catch2/catch.hpp>

#include "fakes.h"
#include "tracer/memory.h"

namespace {

using tjtest::FakeMemory;
using tracer::kPageSize;
using tracer::ReadCString;
using tracer::ReadExact;
using tracer::StringStatus;

constexpr std::uint64_t kPage0 = 0x10000;  // mapped pages start here in these tests
constexpr std::uint64_t kPage1 = kPage0 + kPageSize;
constexpr std::uint64_t kPage2 = kPage1 + kPageSize;

const char* ModeName(FakeMemory::Mode m) {
  return m == FakeMemory::Mode::kStrict ? "strict" : "short-reads";
}

}  // namespace

TEST_CASE("ReadCString: strings within and across pages", "[memory]") {
  auto mode = GENERATE(FakeMemory::Mode::kShortReads, FakeMemory::Mode::kStrict);
  CAPTURE(ModeName(mode));
  FakeMemory mem(mode);
  mem.MapPage(kPage0, 'x');
  mem.MapPage(kPage1, 'y');
  // kPage2 is not mapped.
  std::string out;

  SECTION("within a page") {
    mem.Write(kPage0 + 10, std::string("hello\0", 6));
    CHECK(ReadCString(mem, kPage0 + 10, 4096, out) == StringStatus::kOk);
    CHECK(out == "hello");
  }
  SECTION("empty string") {
    mem.Write(kPage0 + 100, std::string(1, '\0'));
    CHECK(ReadCString(mem, kPage0 + 100, 4096, out) == StringStatus::kOk);
    CHECK(out.empty());
  }
  SECTION("crossing a page boundary between two mapped pages") {
    mem.Write(kPage1 - 3, std::string("abcdef\0", 7));
    CHECK(ReadCString(mem, kPage1 - 3, 4096, out) == StringStatus::kOk);
    CHECK(out == "abcdef");
  }
  SECTION("NUL at the last byte of the last mapped page, unmapped page after") {
    std::uint64_t start = kPage1 + kPageSize - 21;
    std::string text(21, 'q');
    text.back() = '\0';  // not std::string(20, 'q') + '\0': GCC 12's -Warray-bounds misfires
    mem.Write(start, text);
    CHECK(ReadCString(mem, start, 4096, out) == StringStatus::kOk);
    CHECK(out == std::string(20, 'q'));
  }
  SECTION("a string filling the whole last mapped page but its NUL") {
    mem.Write(kPage1 + kPageSize - 1, std::string(1, '\0'));  // page is 'y' up to here
    CHECK(ReadCString(mem, kPage1, 8192, out) == StringStatus::kOk);
    CHECK(out == std::string(kPageSize - 1, 'y'));
  }
  SECTION("a string spanning both pages up to the unmapped one") {
    mem.Write(kPage1 + kPageSize - 1, std::string(1, '\0'));
    CHECK(ReadCString(mem, kPage0 + 5, 3 * kPageSize, out) == StringStatus::kOk);
    CHECK(out == std::string(kPageSize - 5, 'x') + std::string(kPageSize - 1, 'y'));
  }
  SECTION("no NUL before the unmapped page") {
    CHECK(ReadCString(mem, kPage1 + 100, 3 * kPageSize, out) == StringStatus::kFault);
  }
  SECTION("no NUL anywhere, starting on the first page") {
    CHECK(ReadCString(mem, kPage0, 3 * kPageSize, out) == StringStatus::kFault);
  }
  SECTION("start address unmapped") {
    CHECK(ReadCString(mem, kPage2 + 8, 4096, out) == StringStatus::kFault);
    CHECK(ReadCString(mem, 0, 4096, out) == StringStatus::kFault);
  }
  SECTION("longer than max: exactly max bytes, kTruncated") {
    for (std::size_t max : {std::size_t{1}, std::size_t{7}, std::size_t{100}, kPageSize - 1,
                            kPageSize, kPageSize + 1, 2 * kPageSize - 10}) {
      CAPTURE(max);
      CHECK(ReadCString(mem, kPage0 + 10, max, out) == StringStatus::kTruncated);
      CHECK(out.size() == max);
      CHECK(out.find_first_not_of("xy") == std::string::npos);
    }
  }
  SECTION("the NUL must lie within max bytes") {
    mem.Write(kPage0, std::string("abc\0", 4));
    CHECK(ReadCString(mem, kPage0, 3, out) == StringStatus::kTruncated);
    CHECK(out == "abc");
    CHECK(ReadCString(mem, kPage0, 4, out) == StringStatus::kOk);
    CHECK(out == "abc");
  }
  SECTION("max 0 reads nothing") {
    CHECK(ReadCString(mem, kPage0, 0, out) == StringStatus::kTruncated);
    CHECK(out.empty());
  }
  SECTION("the output is cleared first") {
    mem.Write(kPage0, std::string("new\0", 4));
    out = "old contents";
    CHECK(ReadCString(mem, kPage0, 100, out) == StringStatus::kOk);
    CHECK(out == "new");
  }
  SECTION("embedded bytes of every value but NUL are kept") {
    std::string s;
    for (int c = 1; c < 256; ++c) s += static_cast<char>(c);
    mem.Write(kPage1 - 100, s + '\0');
    CHECK(ReadCString(mem, kPage1 - 100, 4096, out) == StringStatus::kOk);
    CHECK(out == s);
  }
}

TEST_CASE("ReadCString: a reader returning short reads", "[memory]") {
  FakeMemory mem;
  mem.max_chunk = 7;
  std::string text(5000, 'z');
  mem.Write(kPage0 + 3, text + '\0');
  std::string out;
  CHECK(ReadCString(mem, kPage0 + 3, 8192, out) == StringStatus::kOk);
  CHECK(out == text);
  CHECK(ReadCString(mem, kPage0 + 3, 4096, out) == StringStatus::kTruncated);
  CHECK(out.size() == 4096);
}

TEST_CASE("ReadExact: reads everything or fails", "[memory]") {
  auto mode = GENERATE(FakeMemory::Mode::kShortReads, FakeMemory::Mode::kStrict);
  CAPTURE(ModeName(mode));
  FakeMemory mem(mode);
  std::string data;
  for (std::size_t i = 0; i < 2 * kPageSize; ++i) data += static_cast<char>('a' + i % 26);
  mem.Write(kPage0, data);  // two mapped pages, the third unmapped
  char buf[3 * kPageSize] = {};

  SECTION("within a page") {
    REQUIRE(ReadExact(mem, kPage0 + 5, buf, 10));
    CHECK(std::string(buf, 10) == data.substr(5, 10));
  }
  SECTION("across two mapped pages") {
    REQUIRE(ReadExact(mem, kPage1 - 8, buf, 16));
    CHECK(std::string(buf, 16) == data.substr(kPageSize - 8, 16));
  }
  SECTION("both pages entirely") {
    REQUIRE(ReadExact(mem, kPage0, buf, 2 * kPageSize));
    CHECK(std::string(buf, 2 * kPageSize) == data);
  }
  SECTION("running into the unmapped page") {
    CHECK_FALSE(ReadExact(mem, kPage1 + kPageSize - 4, buf, 8));
  }
  SECTION("starting in the unmapped page") { CHECK_FALSE(ReadExact(mem, kPage2, buf, 1)); }
  SECTION("zero bytes always succeed") { CHECK(ReadExact(mem, kPage2, buf, 0)); }
  SECTION("short reads are continued") {
    mem.max_chunk = 3;
    REQUIRE(ReadExact(mem, kPage1 - 50, buf, 100));
    CHECK(std::string(buf, 100) == data.substr(kPageSize - 50, 100));
    CHECK(mem.read_calls >= 34);
  }
}
