// policy/limits.h and the loader's "limits" and "isolation" sections: every unit parses, every
// bad value is rejected with a message naming the accepted forms, formatted values read back as
// the same value, and an extends chain overrides only the keys a document names.
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "policy/limits.h"
#include "policy/loader.h"

namespace {

using Catch::Matchers::Contains;
using policy::LimitKind;
using policy::LimitUnit;
using policy::Namespace;
using policy::ParsedLimit;
using policy::ParseLimitText;
using policy::ParseLimitValue;
using policy::Policy;
using policy::PolicyError;

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr std::uint64_t kGiB = 1024 * kMiB;
constexpr std::uint64_t kTiB = 1024 * kGiB;

const char* UnitName(LimitUnit unit) {
  switch (unit) {
    case LimitUnit::kMilliseconds:
      return "milliseconds";
    case LimitUnit::kBytes:
      return "bytes";
    case LimitUnit::kCount:
      return "count";
  }
  return "?";
}

// The value `text` parses to; fails the test when it is rejected or "off".
std::uint64_t ValueOf(LimitUnit unit, const std::string& text) {
  ParsedLimit p = ParseLimitText(unit, text);
  INFO(UnitName(unit) << " \"" << text << "\": " << p.error);
  REQUIRE(p.error.empty());
  REQUIRE(p.value.has_value());
  return *p.value;
}

std::uint64_t JsonValueOf(LimitUnit unit, const nlohmann::json& v) {
  ParsedLimit p = ParseLimitValue(unit, v);
  INFO(UnitName(unit) << " " << v.dump() << ": " << p.error);
  REQUIRE(p.error.empty());
  REQUIRE(p.value.has_value());
  return *p.value;
}

Policy Load(const std::string& text) {
  return policy::LoadPolicyText(text, "t.json", policy::DefaultVariables());
}

// The message of the PolicyError `text` throws; fails the test when it loads or throws another
// type.
std::string ErrorOf(const std::string& text) {
  try {
    Load(text);
  } catch (const PolicyError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("threw something other than PolicyError: " << e.what());
  }
  FAIL("loaded a policy that should have been rejected: " << text);
  return {};
}

std::optional<std::uint64_t> Get(const Policy& p, LimitKind k) { return p.limits.Get(k); }

}  // namespace

TEST_CASE("Limits: the table names each limit once, in enum order", "[limits]") {
  REQUIRE(policy::kLimitInfo.size() == policy::kLimitCount);
  for (std::size_t i = 0; i < policy::kLimitInfo.size(); ++i) {
    const auto& info = policy::kLimitInfo[i];
    INFO(info.key);
    CHECK(static_cast<std::size_t>(info.kind) == i);
    CHECK(&policy::InfoOf(info.kind) == &info);
    CHECK(policy::LimitFromKey(info.key) == info.kind);
    CHECK_FALSE(info.what.empty());
    CHECK_FALSE(info.enforced.empty());
  }
  CHECK(policy::InfoOf(LimitKind::kCpu).unit == LimitUnit::kMilliseconds);
  CHECK(policy::InfoOf(LimitKind::kMemory).unit == LimitUnit::kBytes);
  CHECK(policy::InfoOf(LimitKind::kProcesses).unit == LimitUnit::kCount);
  CHECK(policy::InfoOf(LimitKind::kTimeout).unit == LimitUnit::kMilliseconds);
  CHECK(policy::InfoOf(LimitKind::kOpenFiles).unit == LimitUnit::kCount);
  CHECK_FALSE(policy::LimitFromKey("memroy"));
  CHECK_FALSE(policy::LimitFromKey(""));
  CHECK_FALSE(policy::LimitFromKey("Memory"));

  CHECK(policy::NamespaceFromName("pid") == Namespace::kPid);
  CHECK(policy::NamespaceFromName("user") == Namespace::kUser);
  CHECK(policy::NamespaceFromName("mount") == Namespace::kMount);
  CHECK_FALSE(policy::NamespaceFromName("mnt"));
  CHECK_FALSE(policy::NamespaceFromName("netns"));
}

TEST_CASE("Limits: sizes in bytes with binary units", "[limits]") {
  struct Case {
    const char* text;
    std::uint64_t bytes;
  };
  const Case cases[] = {
      {"256MiB", 256 * kMiB}, {"64M", 64 * kMiB},
      {"1G", kGiB},           {"1.5G", kGiB + 512 * kMiB},
      {"4096", 4096},         {"4096b", 4096},
      {"4096B", 4096},        {"1k", kKiB},   // K is KiB, not 1000
      {"1K", kKiB},           {"1KB", 1000},  // KB is decimal, KiB and K binary
      {"2KiB", 2 * kKiB},     {"1gib", kGiB},
      {"3GiB", 3 * kGiB},     {"2T", 2 * kTiB},
      {"1TiB", kTiB},         {"1 G", kGiB},  // a space between number and unit
      {"0.5M", 512 * kKiB},   {"1", 1},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(ValueOf(LimitUnit::kBytes, c.text) == c.bytes);
  }
}

TEST_CASE("Limits: decimal size units are 1000^n and binary ones 1024^n", "[limits]") {
  struct Case {
    const char* text;
    std::uint64_t bytes;
  };
  const Case cases[] = {
      {"100MB", 100'000'000},
      {"1GB", 1'000'000'000},
      {"512kb", 512'000},
      {"512kB", 512'000},
      {"512KB", 512'000},
      {"512KiB", 512 * kKiB},
      {"512kib", 512 * kKiB},
      {"100mb", 100'000'000},
      {"100MiB", 100 * kMiB},
      {"1.5GB", 1'500'000'000},
      {"2TB", 2'000'000'000'000},
      {"2tib", 2 * kTiB},
      {"1 GB", 1'000'000'000},
      {"0.5kB", 500},
      {"9223372036854775807", 9'223'372'036'854'775'807ULL},  // 2^63-1, the largest
      {"9223372036854775807b", 9'223'372'036'854'775'807ULL},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(ValueOf(LimitUnit::kBytes, c.text) == c.bytes);
  }
}

TEST_CASE("Limits: compound durations from the largest unit down", "[limits]") {
  struct Case {
    const char* text;
    std::uint64_t ms;
  };
  const Case cases[] = {
      {"1m30s", 90'000},
      {"1h", 3'600'000},
      {"90s", 90'000},
      {"500ms", 500},
      {"1h30m", 5'400'000},
      {"2s500ms", 2500},
      {"1h1m1s1ms", 3'661'001},
      {"1h0m", 3'600'000},
      {"1M30S", 90'000},
      {"2min30s", 150'000},
      {"2m30.5s", 150'500},
      {"1 m30s", 90'000},
      {"2562047788015h", 2'562'047'788'015ULL * 3'600'000},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(ValueOf(LimitUnit::kMilliseconds, c.text) == c.ms);
  }
}

TEST_CASE("Limits: garbage and overflow in units and compounds are rejected", "[limits]") {
  struct Case {
    LimitUnit unit;
    const char* text;
    const char* message;  // part of the error
  };
  const Case cases[] = {
      {LimitUnit::kMilliseconds, "30s1m", "cannot read \"30s1m\""},  // smallest first
      {LimitUnit::kMilliseconds, "1s1s", "cannot read"},             // a unit twice
      {LimitUnit::kMilliseconds, "1m1min", "cannot read"},
      {LimitUnit::kMilliseconds, "1m30", "cannot read"},  // a bare number only alone
      {LimitUnit::kMilliseconds, "30 1m", "cannot read"},
      {LimitUnit::kMilliseconds, "1m 30s", "cannot read"},
      {LimitUnit::kMilliseconds, "1m-30s", "cannot read"},
      {LimitUnit::kMilliseconds, "-1m30s", "cannot read"},
      {LimitUnit::kMilliseconds, "1h30x", "cannot read"},
      {LimitUnit::kMilliseconds, "1.5.2s", "cannot read"},
      {LimitUnit::kMilliseconds, "1m30s ", "cannot read"},
      {LimitUnit::kMilliseconds, "s", "cannot read"},
      {LimitUnit::kMilliseconds, "1MB", "cannot read"},
      {LimitUnit::kMilliseconds, "2562047788016h", "is out of range"},  // past 2^63-1 ms
      {LimitUnit::kMilliseconds, "2562047788015h60m", "is out of range"},
      {LimitUnit::kMilliseconds, "99999999999999999999999s", "is out of range"},
      {LimitUnit::kMilliseconds, "0h0m0s", "is out of range"},
      {LimitUnit::kBytes, "1GB1MB", "cannot read"},  // sizes are not compound
      {LimitUnit::kBytes, "100MBs", "cannot read"},
      {LimitUnit::kBytes, "1Mbit", "cannot read"},
      {LimitUnit::kBytes, "-100MB", "cannot read"},
      {LimitUnit::kBytes, "9223372036854775808", "is out of range"},   // 2^63
      {LimitUnit::kBytes, "18446744073709551616", "is out of range"},  // 2^64
      {LimitUnit::kBytes, "9999999999TB", "is out of range"},
      {LimitUnit::kBytes, "10000000000GiB", "is out of range"},
      {LimitUnit::kCount, "1000000000000000000000", "is out of range"},
      {LimitUnit::kCount, "1e3", "cannot read"},
  };
  for (const auto& c : cases) {
    INFO(UnitName(c.unit) << " \"" << c.text << "\"");
    ParsedLimit p = ParseLimitText(c.unit, c.text);
    CHECK_FALSE(p.value.has_value());
    CHECK_THAT(p.error, Contains(c.message));
    CHECK_THAT(p.error, Contains("off"));
  }
  // The message lists examples of each form.
  std::string size = ParseLimitText(LimitUnit::kBytes, "lots").error;
  for (const char* example : {"256MiB", "100MB", "1GB", "KiB", "kB"}) {
    CHECK_THAT(size, Contains(example));
  }
  std::string time = ParseLimitText(LimitUnit::kMilliseconds, "a while").error;
  for (const char* example : {"2s", "500ms", "1m30s", "1h"}) {
    CHECK_THAT(time, Contains(example));
  }
}

TEST_CASE("Limits: durations in milliseconds", "[limits]") {
  struct Case {
    const char* text;
    std::uint64_t ms;
  };
  const Case cases[] = {
      {"2s", 2000},      {"500ms", 500}, {"3m", 180'000},   {"1h", 3'600'000}, {"1.5s", 1500},
      {"2min", 120'000}, {"10", 10'000},  // a bare number is seconds
      {"0.25", 250},     {"1MS", 1},     {"2H", 7'200'000}, {"90 s", 90'000},  {"0.5m", 30'000},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    CHECK(ValueOf(LimitUnit::kMilliseconds, c.text) == c.ms);
  }
}

TEST_CASE("Limits: counts are whole numbers without a unit", "[limits]") {
  CHECK(ValueOf(LimitUnit::kCount, "1") == 1);
  CHECK(ValueOf(LimitUnit::kCount, "128") == 128);
  CHECK(ValueOf(LimitUnit::kCount, "4096") == 4096);
  CHECK(ValueOf(LimitUnit::kCount, "1000000") == 1'000'000);
}

TEST_CASE("Limits: off, none and unlimited mean no limit, without an error", "[limits]") {
  for (LimitUnit unit : {LimitUnit::kMilliseconds, LimitUnit::kBytes, LimitUnit::kCount}) {
    for (const char* text : {"off", "none", "unlimited"}) {
      INFO(UnitName(unit) << " " << text);
      ParsedLimit p = ParseLimitText(unit, text);
      CHECK(p.error.empty());
      CHECK_FALSE(p.value.has_value());
      ParsedLimit j = ParseLimitValue(unit, nlohmann::json(text));
      CHECK(j.error.empty());
      CHECK_FALSE(j.value.has_value());
    }
  }
}

TEST_CASE("Limits: JSON numbers are bytes, seconds or counts", "[limits]") {
  // Integers.
  CHECK(JsonValueOf(LimitUnit::kBytes, 4096) == 4096);
  CHECK(JsonValueOf(LimitUnit::kBytes, 268435456) == 256 * kMiB);
  CHECK(JsonValueOf(LimitUnit::kMilliseconds, 2) == 2000);
  CHECK(JsonValueOf(LimitUnit::kMilliseconds, 600) == 600'000);
  CHECK(JsonValueOf(LimitUnit::kCount, 128) == 128);
  CHECK(JsonValueOf(LimitUnit::kCount, nlohmann::json(std::uint64_t{64})) == 64);
  // Floats: fractions of a second, or of a byte count.
  CHECK(JsonValueOf(LimitUnit::kMilliseconds, 1.5) == 1500);
  CHECK(JsonValueOf(LimitUnit::kMilliseconds, 0.25) == 250);
  CHECK(JsonValueOf(LimitUnit::kMilliseconds, 2.0) == 2000);
  CHECK(JsonValueOf(LimitUnit::kBytes, 1024.0) == 1024);
  // Strings go through the text parser.
  CHECK(JsonValueOf(LimitUnit::kBytes, "64M") == 64 * kMiB);
  CHECK(JsonValueOf(LimitUnit::kMilliseconds, "500ms") == 500);
  CHECK(JsonValueOf(LimitUnit::kCount, "32") == 32);
  // The same value parsed from JSON text, as the loader sees it.
  CHECK(JsonValueOf(LimitUnit::kMilliseconds, nlohmann::json::parse("1.5")) == 1500);
  CHECK(JsonValueOf(LimitUnit::kCount, nlohmann::json::parse("1024")) == 1024);
}

TEST_CASE("Limits: bad values are rejected with the accepted forms", "[limits]") {
  struct Case {
    LimitUnit unit;
    const char* text;
    const char* message;  // part of the error
  };
  const Case cases[] = {
      {LimitUnit::kBytes, "", "cannot read \"\""},
      {LimitUnit::kBytes, "abc", "cannot read \"abc\""},
      {LimitUnit::kBytes, "-1", "cannot read \"-1\""},
      {LimitUnit::kBytes, "0", "\"0\" is out of range"},
      {LimitUnit::kBytes, "0M", "\"0M\" is out of range"},
      {LimitUnit::kBytes, "12XB", "cannot read \"12XB\""},
      {LimitUnit::kBytes, "12 XB", "cannot read \"12 XB\""},
      {LimitUnit::kBytes, "1.2.3", "cannot read \"1.2.3\""},
      {LimitUnit::kBytes, ".", "cannot read \".\""},
      {LimitUnit::kBytes, "M", "cannot read \"M\""},
      {LimitUnit::kBytes, "1G ", "cannot read \"1G \""},
      {LimitUnit::kBytes, "0.1", "is out of range"},  // rounds to less than one byte
      {LimitUnit::kBytes, "99999999T", "is out of range"},
      {LimitUnit::kBytes, "OFF", "cannot read \"OFF\""},
      {LimitUnit::kBytes, "1s", "cannot read \"1s\""},
      {LimitUnit::kMilliseconds, "", "cannot read \"\""},
      {LimitUnit::kMilliseconds, "abc", "cannot read \"abc\""},
      {LimitUnit::kMilliseconds, "-1", "cannot read \"-1\""},
      {LimitUnit::kMilliseconds, "0", "is out of range"},
      {LimitUnit::kMilliseconds, "0s", "is out of range"},
      {LimitUnit::kMilliseconds, "0.1ms", "is out of range"},
      {LimitUnit::kMilliseconds, "2d", "cannot read \"2d\""},
      {LimitUnit::kMilliseconds, "1G", "cannot read \"1G\""},
      {LimitUnit::kCount, "", "cannot read \"\""},
      {LimitUnit::kCount, "abc", "cannot read \"abc\""},
      {LimitUnit::kCount, "-1", "cannot read \"-1\""},
      {LimitUnit::kCount, "0", "is out of range"},
      {LimitUnit::kCount, "1.5", "\"1.5\" is not a whole number"},
      {LimitUnit::kCount, "2.0", "is not a whole number"},
      {LimitUnit::kCount, "10k", "cannot read \"10k\""},
      {LimitUnit::kCount, "12XB", "cannot read \"12XB\""},
  };
  for (const auto& c : cases) {
    INFO(UnitName(c.unit) << " \"" << c.text << "\"");
    ParsedLimit p = ParseLimitText(c.unit, c.text);
    CHECK_FALSE(p.value.has_value());
    CHECK_THAT(p.error, Contains(c.message));
    // Every message says what would have been accepted.
    CHECK_THAT(p.error, Contains("expected"));
    CHECK_THAT(p.error, Contains("off"));
    // JSON strings take the same path.
    ParsedLimit j = ParseLimitValue(c.unit, nlohmann::json(c.text));
    CHECK(j.error == p.error);
    CHECK_FALSE(j.value.has_value());
  }
  // The accepted forms differ by unit.
  CHECK_THAT(ParseLimitText(LimitUnit::kBytes, "abc").error, Contains("256MiB"));
  CHECK_THAT(ParseLimitText(LimitUnit::kMilliseconds, "abc").error, Contains("500ms"));
  CHECK_THAT(ParseLimitText(LimitUnit::kCount, "abc").error, Contains("positive integer"));
}

TEST_CASE("Limits: JSON values that are neither strings nor numbers are rejected", "[limits]") {
  const nlohmann::json bad[] = {
      true,
      false,
      nullptr,
      nlohmann::json::array({1}),
      nlohmann::json::array(),
      nlohmann::json::object({{"value", 1}}),
  };
  for (LimitUnit unit : {LimitUnit::kMilliseconds, LimitUnit::kBytes, LimitUnit::kCount}) {
    for (const auto& v : bad) {
      INFO(UnitName(unit) << " " << v.dump());
      ParsedLimit p = ParseLimitValue(unit, v);
      CHECK_FALSE(p.value.has_value());
      CHECK_THAT(p.error, Contains("expected"));
    }
  }
  // Numbers that are not acceptable either.
  for (const auto& [unit, v, message] :
       std::vector<std::tuple<LimitUnit, nlohmann::json, const char*>>{
           {LimitUnit::kCount, 1.5, "1.5 is not a whole number"},
           {LimitUnit::kCount, 2.0, "is not a whole number"},
           {LimitUnit::kCount, 0, "out of range"},
           {LimitUnit::kCount, -1, "cannot read \"-1\""},
           {LimitUnit::kBytes, 0, "out of range"},
           {LimitUnit::kBytes, -4096, "cannot read"},
           {LimitUnit::kMilliseconds, 0, "out of range"},
           {LimitUnit::kMilliseconds, -2.5, "cannot read"},
           {LimitUnit::kMilliseconds, 0.0001, "out of range"},
       }) {
    INFO(UnitName(unit) << " " << v.dump());
    ParsedLimit p = ParseLimitValue(unit, v);
    CHECK_FALSE(p.value.has_value());
    CHECK_THAT(p.error, Contains(message));
  }
}

TEST_CASE("Limits: FormatLimit picks the largest exact unit", "[limits]") {
  CHECK(policy::FormatLimit(LimitUnit::kMilliseconds, 2000) == "2s");
  CHECK(policy::FormatLimit(LimitUnit::kMilliseconds, 600'000) == "10m");
  CHECK(policy::FormatLimit(LimitUnit::kMilliseconds, 90'000) == "90s");
  CHECK(policy::FormatLimit(LimitUnit::kMilliseconds, 7'200'000) == "2h");
  CHECK(policy::FormatLimit(LimitUnit::kMilliseconds, 500) == "500ms");
  CHECK(policy::FormatLimit(LimitUnit::kMilliseconds, 1500) == "1500ms");
  CHECK(policy::FormatLimit(LimitUnit::kBytes, 256 * kMiB) == "256MiB");
  CHECK(policy::FormatLimit(LimitUnit::kBytes, kGiB) == "1GiB");
  CHECK(policy::FormatLimit(LimitUnit::kBytes, 2 * kTiB) == "2TiB");
  CHECK(policy::FormatLimit(LimitUnit::kBytes, kKiB) == "1KiB");
  CHECK(policy::FormatLimit(LimitUnit::kBytes, kGiB + 512 * kMiB) == "1536MiB");
  CHECK(policy::FormatLimit(LimitUnit::kBytes, 1536) == "1536B");
  CHECK(policy::FormatLimit(LimitUnit::kBytes, 1) == "1B");
  CHECK(policy::FormatLimit(LimitUnit::kCount, 20) == "20");
  CHECK(policy::FormatLimit(LimitUnit::kCount, 1) == "1");
}

TEST_CASE("Limits: FormatLimit reads back as the same value", "[limits]") {
  struct Case {
    LimitUnit unit;
    std::uint64_t value;
  };
  const Case cases[] = {
      {LimitUnit::kMilliseconds, 1},
      {LimitUnit::kMilliseconds, 500},
      {LimitUnit::kMilliseconds, 999},
      {LimitUnit::kMilliseconds, 1000},
      {LimitUnit::kMilliseconds, 1500},
      {LimitUnit::kMilliseconds, 60'000},
      {LimitUnit::kMilliseconds, 600'000},
      {LimitUnit::kMilliseconds, 3'600'000},
      {LimitUnit::kMilliseconds, 86'400'000},
      {LimitUnit::kMilliseconds, 123'456'789},
      {LimitUnit::kBytes, 1},
      {LimitUnit::kBytes, 1000},
      {LimitUnit::kBytes, 1023},
      {LimitUnit::kBytes, 1024},
      {LimitUnit::kBytes, 1536},
      {LimitUnit::kBytes, 4096},
      {LimitUnit::kBytes, 1000 * kKiB},
      {LimitUnit::kBytes, kMiB - 1},
      {LimitUnit::kBytes, kMiB},
      {LimitUnit::kBytes, kMiB + kKiB},
      {LimitUnit::kBytes, 16 * kMiB},
      {LimitUnit::kBytes, 256 * kMiB},
      {LimitUnit::kBytes, kGiB + 512 * kMiB},
      {LimitUnit::kBytes, 4 * kGiB},
      {LimitUnit::kBytes, kTiB},
      {LimitUnit::kBytes, 3 * kTiB},
      {LimitUnit::kBytes, 1536 * kGiB},
      {LimitUnit::kCount, 1},
      {LimitUnit::kCount, 20},
      {LimitUnit::kCount, 1024},
      {LimitUnit::kCount, 1'000'000},
      {LimitUnit::kCount, 4'294'967'295},
  };
  for (const auto& c : cases) {
    std::string text = policy::FormatLimit(c.unit, c.value);
    INFO(UnitName(c.unit) << " " << c.value << " -> \"" << text << "\"");
    CHECK(ValueOf(c.unit, text) == c.value);
    // And as a JSON string in a policy.
    CHECK(JsonValueOf(c.unit, nlohmann::json(text)) == c.value);
  }
}

// Regression: a byte count that is not a multiple of 1KiB must be printed exactly, not as a
// rounded MiB figure that reads back as another value.
TEST_CASE("Limits: FormatLimit of bytes not a multiple of 1KiB reads back exactly", "[limits]") {
  for (std::uint64_t value : {kMiB + 1, std::uint64_t{1'000'000'000}, 5 * kMiB + 100}) {
    std::string text = policy::FormatLimit(LimitUnit::kBytes, value);
    INFO(value << " -> \"" << text << "\"");
    CHECK(ValueOf(LimitUnit::kBytes, text) == value);
  }
}

// Regression: exactly 2^63 (INT64_MAX rounded up as a double) must be out of range.
TEST_CASE("Limits: 2^63 is out of range", "[limits]") {
  for (const char* text : {"8388608T", "9223372036854775808"}) {
    INFO(text);
    ParsedLimit p = ParseLimitText(LimitUnit::kBytes, text);
    CHECK_FALSE(p.value.has_value());
    CHECK_THAT(p.error, Contains("out of range"));
  }
}

TEST_CASE("Limits: LimitsToJson names every limit and shows unset ones as off", "[limits]") {
  policy::Limits limits;
  nlohmann::json none = policy::LimitsToJson(limits);
  REQUIRE(none.is_object());
  CHECK(none.size() == policy::kLimitCount);
  for (const auto& info : policy::kLimitInfo) {
    INFO(info.key);
    REQUIRE(none.contains(std::string(info.key)));
    CHECK(none[std::string(info.key)] == "off");
  }

  limits.Set(LimitKind::kCpu, 2000);
  limits.Set(LimitKind::kMemory, 256 * kMiB);
  limits.Set(LimitKind::kProcesses, 64);
  limits.Set(LimitKind::kTimeout, 500);
  nlohmann::json some = policy::LimitsToJson(limits);
  CHECK(some.size() == policy::kLimitCount);
  CHECK(some["cpu"] == "2s");
  CHECK(some["memory"] == "256MiB");
  CHECK(some["processes"] == "64");
  CHECK(some["timeout"] == "500ms");
  CHECK(some["file_size"] == "off");
  CHECK(some["open_files"] == "off");
  CHECK(some["disk"] == "off");
  CHECK(some["output"] == "off");

  // Setting a limit back to nullopt turns it off again.
  limits.Set(LimitKind::kMemory, std::nullopt);
  CHECK(policy::LimitsToJson(limits)["memory"] == "off");
  CHECK_FALSE(limits.Get(LimitKind::kMemory));
  CHECK(limits.Get(LimitKind::kCpu) == std::uint64_t{2000});
}

TEST_CASE("Limits: IsolationToJson shows each layer", "[limits]") {
  policy::IsolationWanted iso;
  nlohmann::json d = policy::IsolationToJson(iso);
  CHECK(d["environment"] == "clean");
  CHECK(d["workdir"] == "none");
  CHECK(d["namespaces"] == nlohmann::json::array());
  CHECK(d["landlock"] == false);
  CHECK(d["read_only_root"] == false);
  CHECK(d["cgroups"] == "preferred");

  iso.clean_environment = false;
  iso.private_workdir = true;
  iso.Add(Namespace::kNet);
  iso.Add(Namespace::kPid);
  iso.landlock = true;
  iso.read_only_root = true;
  iso.cgroups_required = true;
  CHECK(iso.Has(Namespace::kPid));
  CHECK(iso.Has(Namespace::kNet));
  CHECK_FALSE(iso.Has(Namespace::kUser));
  nlohmann::json j = policy::IsolationToJson(iso);
  CHECK(j["environment"] == "inherit");
  CHECK(j["workdir"] == "private");
  CHECK(j["namespaces"] == nlohmann::json::array({"pid", "net"}));  // table order
  CHECK(j["landlock"] == true);
  CHECK(j["read_only_root"] == true);
  CHECK(j["cgroups"] == "required");
}

TEST_CASE("Loader: limits and isolation are read into the policy", "[limits][loader]") {
  Policy p = Load(R"({
    "version": 1, "extends": "none",
    "limits": {"cpu": "2s", "memory": "256MiB", "processes": 64, "file_size": 1048576,
               "open_files": "512", "disk": "1G", "timeout": 1.5},
    "isolation": {"environment": "clean", "workdir": "private", "namespaces": ["pid", "net"],
                  "landlock": true, "read_only_root": true, "cgroups": "required"}
  })");
  CHECK(Get(p, LimitKind::kCpu) == std::uint64_t{2000});
  CHECK(Get(p, LimitKind::kMemory) == 256 * kMiB);
  CHECK(Get(p, LimitKind::kProcesses) == std::uint64_t{64});
  CHECK(Get(p, LimitKind::kFileSize) == kMiB);
  CHECK(Get(p, LimitKind::kOpenFiles) == std::uint64_t{512});
  CHECK(Get(p, LimitKind::kDisk) == kGiB);
  CHECK(Get(p, LimitKind::kTimeout) == std::uint64_t{1500});
  CHECK(Get(p, LimitKind::kOutput) == 16 * kMiB);  // not named: the "none" preset's

  const policy::IsolationWanted& iso = p.isolation;
  CHECK(iso.clean_environment);
  CHECK(iso.private_workdir);
  CHECK(iso.Has(Namespace::kPid));
  CHECK(iso.Has(Namespace::kNet));
  CHECK_FALSE(iso.Has(Namespace::kUser));
  CHECK_FALSE(iso.Has(Namespace::kMount));
  CHECK(iso.landlock);
  CHECK(iso.read_only_root);
  CHECK(iso.cgroups_required);

  // "off" clears a limit the base set; the opposite choices clear each layer.
  Policy q = Load(R"({
    "version": 1, "extends": "none",
    "limits": {"output": "off"},
    "isolation": {"environment": "inherit", "workdir": "none", "namespaces": [],
                  "landlock": false, "read_only_root": false, "cgroups": "preferred"}
  })");
  CHECK_FALSE(Get(q, LimitKind::kOutput));
  CHECK(policy::LimitsToJson(q.limits) == nlohmann::json({{"cpu", "off"},
                                                          {"memory", "off"},
                                                          {"processes", "off"},
                                                          {"file_size", "off"},
                                                          {"open_files", "off"},
                                                          {"disk", "off"},
                                                          {"timeout", "off"},
                                                          {"output", "off"}}));
  CHECK_FALSE(q.isolation.clean_environment);
  CHECK_FALSE(q.isolation.private_workdir);
  CHECK(q.isolation.namespaces == 0);
  CHECK_FALSE(q.isolation.landlock);
  CHECK_FALSE(q.isolation.read_only_root);
  CHECK_FALSE(q.isolation.cgroups_required);
}

TEST_CASE("Loader: the presets' limits and isolation", "[limits][loader]") {
  auto vars = policy::DefaultVariables();
  auto strict = policy::LoadPreset("strict", vars);
  REQUIRE(strict);
  CHECK(Get(*strict, LimitKind::kCpu) == std::uint64_t{60'000});
  CHECK(Get(*strict, LimitKind::kMemory) == kGiB);
  CHECK(Get(*strict, LimitKind::kProcesses) == std::uint64_t{128});
  CHECK(Get(*strict, LimitKind::kFileSize) == 256 * kMiB);
  CHECK(Get(*strict, LimitKind::kOpenFiles) == std::uint64_t{1024});
  CHECK(Get(*strict, LimitKind::kDisk) == 256 * kMiB);
  CHECK(Get(*strict, LimitKind::kTimeout) == std::uint64_t{600'000});
  CHECK(Get(*strict, LimitKind::kOutput) == 4 * kMiB);
  // strict names only some isolation keys; the rest come from basic through standard.
  CHECK(strict->isolation.clean_environment);
  CHECK(strict->isolation.private_workdir);
  CHECK(strict->isolation.landlock);
  CHECK_FALSE(strict->isolation.read_only_root);
  CHECK(strict->isolation.cgroups_required);
  for (Namespace ns :
       {Namespace::kPid, Namespace::kIpc, Namespace::kUts, Namespace::kMount, Namespace::kNet}) {
    CHECK(strict->isolation.Has(ns));
  }
  CHECK_FALSE(strict->isolation.Has(Namespace::kUser));

  auto maximum = policy::LoadPreset("maximum", vars);
  REQUIRE(maximum);
  CHECK(Get(*maximum, LimitKind::kCpu) == std::uint64_t{10'000});
  CHECK(Get(*maximum, LimitKind::kMemory) == 256 * kMiB);
  CHECK(Get(*maximum, LimitKind::kProcesses) == std::uint64_t{32});
  CHECK(Get(*maximum, LimitKind::kTimeout) == std::uint64_t{60'000});
  CHECK(Get(*maximum, LimitKind::kOutput) == kMiB);
  CHECK(maximum->isolation.Has(Namespace::kUser));
  CHECK(maximum->isolation.read_only_root);
  CHECK(maximum->isolation.landlock);

  auto none = policy::LoadPreset("none", vars);
  REQUIRE(none);
  for (const auto& info : policy::kLimitInfo) {
    INFO(info.key);
    if (info.kind == LimitKind::kOutput) {
      CHECK(Get(*none, info.kind) == 16 * kMiB);
    } else {
      CHECK_FALSE(Get(*none, info.kind));
    }
  }
  CHECK_FALSE(none->isolation.clean_environment);
  CHECK_FALSE(none->isolation.landlock);
  CHECK(none->isolation.namespaces == 0);
}

TEST_CASE("Loader: an extending policy overrides only the limits and layers it names",
          "[limits][loader]") {
  auto strict = policy::LoadPreset("strict", policy::DefaultVariables());
  REQUIRE(strict);
  Policy p = Load(R"({
    "version": 1, "extends": "strict",
    "limits": {"memory": "2GiB", "cpu": "off", "processes": 256},
    "isolation": {"landlock": false, "namespaces": ["pid"]}
  })");
  // Named keys change.
  CHECK(Get(p, LimitKind::kMemory) == 2 * kGiB);
  CHECK_FALSE(Get(p, LimitKind::kCpu));
  CHECK(Get(p, LimitKind::kProcesses) == std::uint64_t{256});
  CHECK_FALSE(p.isolation.landlock);
  CHECK(p.isolation.Has(Namespace::kPid));
  for (Namespace ns : {Namespace::kIpc, Namespace::kUts, Namespace::kMount, Namespace::kNet}) {
    CHECK_FALSE(p.isolation.Has(ns));  // the list replaces strict's, it does not add to it
  }
  // Keys not named keep strict's values.
  for (LimitKind k : {LimitKind::kFileSize, LimitKind::kOpenFiles, LimitKind::kDisk,
                      LimitKind::kTimeout, LimitKind::kOutput}) {
    INFO(policy::InfoOf(k).key);
    CHECK(Get(p, k) == Get(*strict, k));
    CHECK(Get(p, k).has_value());
  }
  CHECK(Get(p, LimitKind::kTimeout) == std::uint64_t{600'000});
  CHECK(p.isolation.cgroups_required == strict->isolation.cgroups_required);
  CHECK(p.isolation.cgroups_required);
  CHECK(p.isolation.private_workdir);
  CHECK(p.isolation.clean_environment);
  CHECK(p.isolation.read_only_root == strict->isolation.read_only_root);

  // A document without limits or isolation changes none of them.
  Policy same = Load(R"({"version": 1, "extends": "maximum"})");
  auto maximum = policy::LoadPreset("maximum", policy::DefaultVariables());
  REQUIRE(maximum);
  CHECK(same.limits.values == maximum->limits.values);
  CHECK(same.isolation.namespaces == maximum->isolation.namespaces);
  CHECK(same.isolation.read_only_root == maximum->isolation.read_only_root);
  CHECK(policy::IsolationToJson(same.isolation) == policy::IsolationToJson(maximum->isolation));

  // One key over maximum.
  Policy rw = Load(R"({"version": 1, "extends": "maximum",
                      "isolation": {"read_only_root": false}, "limits": {"timeout": "5m"}})");
  CHECK_FALSE(rw.isolation.read_only_root);
  CHECK(rw.isolation.namespaces == maximum->isolation.namespaces);
  CHECK(rw.isolation.landlock);
  CHECK(Get(rw, LimitKind::kTimeout) == std::uint64_t{300'000});
  CHECK(Get(rw, LimitKind::kMemory) == 256 * kMiB);
}

TEST_CASE("Loader: bad limits are rejected with their location", "[limits][loader]") {
  SECTION("an unknown limit suggests the near miss") {
    std::string e = ErrorOf(R"({"version": 1, "limits": {"memroy": "1G"}})");
    CHECK_THAT(e, Contains("t.json:"));
    CHECK_THAT(e, Contains("#/limits/memroy"));
    CHECK_THAT(e, Contains("unknown limit \"memroy\""));
    CHECK_THAT(e, Contains("did you mean \"memory\""));
    CHECK_THAT(e, Contains("processes"));  // lists the limits
  }
  SECTION("an unknown limit far from any name gets no suggestion") {
    std::string e = ErrorOf(R"({"version": 1, "limits": {"bandwidth": "1G"}})");
    CHECK_THAT(e, Contains("unknown limit \"bandwidth\""));
    CHECK_THAT(e, !Contains("did you mean"));
  }
  SECTION("a bad value names the limit's JSON pointer") {
    std::string e = ErrorOf(R"({"version": 1, "limits": {"cpu": "fast"}})");
    CHECK_THAT(e, Contains("#/limits/cpu"));
    CHECK_THAT(e, Contains("cannot read \"fast\""));
    CHECK_THAT(e, Contains("500ms"));
  }
  SECTION("zero") {
    std::string e = ErrorOf(R"({"version": 1, "limits": {"memory": 0}})");
    CHECK_THAT(e, Contains("#/limits/memory"));
    CHECK_THAT(e, Contains("out of range"));
  }
  SECTION("a fraction for a count") {
    std::string e = ErrorOf(R"({"version": 1, "limits": {"processes": 1.5}})");
    CHECK_THAT(e, Contains("#/limits/processes"));
    CHECK_THAT(e, Contains("not a whole number"));
  }
  SECTION("a boolean") {
    std::string e = ErrorOf(R"({"version": 1, "limits": {"open_files": true}})");
    CHECK_THAT(e, Contains("#/limits/open_files"));
    CHECK_THAT(e, Contains("expected"));
  }
  SECTION("limits that are not an object") {
    std::string e = ErrorOf(R"({"version": 1, "limits": ["cpu"]})");
    CHECK_THAT(e, Contains("#/limits"));
    CHECK_THAT(e, Contains("expected an object"));
  }
}

TEST_CASE("Loader: bad isolation is rejected with its location", "[limits][loader]") {
  SECTION("an unknown namespace") {
    std::string e = ErrorOf(R"({"version": 1, "isolation": {"namespaces": ["pid", "netns"]}})");
    CHECK_THAT(e, Contains("#/isolation/namespaces/1"));
    CHECK_THAT(e, Contains("unknown namespace \"netns\""));
    CHECK_THAT(e, Contains("did you mean \"net\""));
    CHECK_THAT(e, Contains("pid, ipc, uts, mount, net, user"));
  }
  SECTION("namespaces that are not a list") {
    std::string e = ErrorOf(R"({"version": 1, "isolation": {"namespaces": "pid"}})");
    CHECK_THAT(e, Contains("#/isolation/namespaces"));
    CHECK_THAT(e, Contains("expected an array"));
  }
  SECTION("a namespace that is not a string") {
    std::string e = ErrorOf(R"({"version": 1, "isolation": {"namespaces": [1]}})");
    CHECK_THAT(e, Contains("#/isolation/namespaces/0"));
    CHECK_THAT(e, Contains("expected a string"));
  }
  SECTION("workdir is private or none") {
    std::string e = ErrorOf(R"({"version": 1, "isolation": {"workdir": "tmpfs"}})");
    CHECK_THAT(e, Contains("#/isolation/workdir"));
    CHECK_THAT(e, Contains("unknown value \"tmpfs\""));
    CHECK_THAT(e, Contains("private, none"));
    std::string near = ErrorOf(R"({"version": 1, "isolation": {"workdir": "privat"}})");
    CHECK_THAT(near, Contains("did you mean \"private\""));
    std::string not_string = ErrorOf(R"({"version": 1, "isolation": {"workdir": true}})");
    CHECK_THAT(not_string, Contains("#/isolation/workdir"));
    CHECK_THAT(not_string, Contains("expected a string"));
  }
  SECTION("landlock is a bool") {
    for (const char* v : {"\"yes\"", "1", "\"true\"", "null"}) {
      INFO(v);
      std::string e =
          ErrorOf(std::string(R"({"version": 1, "isolation": {"landlock": )") + v + "}}");
      CHECK_THAT(e, Contains("#/isolation/landlock"));
      CHECK_THAT(e, Contains("expected true or false"));
    }
    std::string e = ErrorOf(R"({"version": 1, "isolation": {"read_only_root": "yes"}})");
    CHECK_THAT(e, Contains("#/isolation/read_only_root"));
    CHECK_THAT(e, Contains("expected true or false"));
  }
  SECTION("environment and cgroups are choices") {
    std::string env = ErrorOf(R"({"version": 1, "isolation": {"environment": "empty"}})");
    CHECK_THAT(env, Contains("#/isolation/environment"));
    CHECK_THAT(env, Contains("clean, inherit"));
    std::string cg = ErrorOf(R"({"version": 1, "isolation": {"cgroups": "yes"}})");
    CHECK_THAT(cg, Contains("#/isolation/cgroups"));
    CHECK_THAT(cg, Contains("required, preferred"));
  }
  SECTION("an unknown isolation key") {
    std::string e = ErrorOf(R"({"version": 1, "isolation": {"landlok": true}})");
    CHECK_THAT(e, Contains("#/isolation/landlok"));
    CHECK_THAT(e, Contains("did you mean \"landlock\""));
  }
  SECTION("isolation that is not an object") {
    std::string e = ErrorOf(R"({"version": 1, "isolation": true})");
    CHECK_THAT(e, Contains("#/isolation"));
    CHECK_THAT(e, Contains("expected an object"));
  }
}
