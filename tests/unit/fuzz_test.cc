// Seeded mutation fuzzing: hostile events files and policy texts never crash a tool. Each case
// starts from real input (tests/data/events-fixture.jsonl, the presets), mutates it a few
// thousand times with a fixed seed (a failure names its round, so it reproduces), and runs every
// consumer on the result: the reader, the analysis and all five renderers, stats, verify, learn
// and the live view for events; the loader for policies, where PolicyError is the only way out.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "policy/learn.h"
#include "policy/loader.h"
#include "policy/presets.h"
#include "report/analysis.h"
#include "report/event_reader.h"
#include "report/hash_chain.h"
#include "report/live_view.h"

namespace {

using nlohmann::json;

std::vector<std::string> FixtureLines() {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/events-fixture.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() > 5);
  return lines;
}

// A value of a random kind, often not the kind the field had.
json RandomValue(std::mt19937_64& rng) {
  switch (rng() % 12) {
    case 0:
      return nullptr;
    case 1:
      return static_cast<bool>(rng() % 2);
    case 2:
      return -static_cast<std::int64_t>(rng() % 100000) - 1;
    case 3:
      return rng();
    case 4:
      return 1e308 * static_cast<double>(rng() % 3);
    case 5:
      return std::string("now");
    case 6:
      return std::string(static_cast<std::size_t>(rng() % 5000), '\xff');
    case 7:
      return json::array({1, "x", nullptr});
    case 8:
      return json::object({{"x", json::array()}});
    case 9:
      return json::array();
    case 10:
      return json::object();
    default:
      return std::string("\xe2\x80\xae\x1b[31m");  // bidi override and an escape sequence
  }
}

// Replaces one value somewhere in `j` (any depth) with a random one, or removes a key.
void MutateValue(json& j, std::mt19937_64& rng) {
  json* at = &j;
  for (int depth = 0; depth < 6; ++depth) {
    if (!(at->is_object() || at->is_array()) || at->empty() || rng() % 3 == 0) break;
    auto it = at->begin();
    std::advance(it, static_cast<long>(rng() % at->size()));
    if (at->is_object() && rng() % 8 == 0) {
      at->erase(it.key());
      return;
    }
    at = &*it;
  }
  *at = RandomValue(rng);
}

std::string MutateLine(const std::string& line, std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0: {  // bytes flipped
      std::string s = line;
      for (int i = 0; i < 3 && !s.empty(); ++i) {
        s[rng() % s.size()] = static_cast<char>(rng() % 256);
      }
      return s;
    }
    case 1:  // cut
      return line.substr(0, rng() % (line.size() + 1));
    case 2:  // deep nesting
      return std::string(static_cast<std::size_t>(rng() % 200000), '[') + "1";
    default: {
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) return line;
      for (int i = 0; i < 1 + static_cast<int>(rng() % 3); ++i) MutateValue(j, rng);
      return j.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
}

void RunEveryConsumer(const std::string& text) {
  std::istringstream in(text);
  report::EventsRead read = report::ReadEventsFile(in);
  report::Analysis a = report::Analyze(read.records);
  // Text for people carries no control byte from the file (a newline is layout).
  for (const std::string& shown :
       {report::RenderText(a), report::RenderMarkdown(a), report::RenderHtml(a, "fuzz")}) {
    CHECK(std::none_of(shown.begin(), shown.end(), [](char c) {
      return (static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f;
    }));
  }
  // The JSON written piece by piece is one valid document.
  CHECK_FALSE(json::parse(report::RenderJson(a), nullptr, false).is_discarded());
  CHECK_FALSE(json::parse(report::RenderSarif(a, "intact"), nullptr, false).is_discarded());
  (void)report::RenderStatsText(report::AggregateRuns({{"fuzz", a}}));
  std::istringstream again(text);
  (void)report::VerifyChain(again);
  policy::Learner learner;
  learner.AddRun(read.records, policy::DefaultVariables());
  (void)learner.Draft({});
  for (const json& r : read.records) {
    if (report::LiveWants(r, report::LiveFilter::kAll)) (void)report::FormatLive(r, {});
  }
}

}  // namespace

TEST_CASE("fuzz: mutated events files never crash a consumer", "[fuzz]") {
  const std::vector<std::string> lines = FixtureLines();
  constexpr int kRounds = 1500;
  for (int round = 0; round < kRounds; ++round) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(round) * 7919 + 1);
    std::string text;
    std::size_t victim = rng() % lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      text += (i == victim || rng() % 10 == 0 ? MutateLine(lines[i], rng) : lines[i]) + "\n";
    }
    CAPTURE(round);
    REQUIRE_NOTHROW(RunEveryConsumer(text));
  }
}

TEST_CASE("fuzz: the reader bounds a huge line and deep nesting", "[fuzz]") {
  std::string text = std::string(report::kMaxEventLine + 10, 'x') + "\n" +
                     std::string(1000000, '{') + "\n" + R"({"type":"x","time":"now"})" + "\n";
  std::istringstream in(text);
  report::EventsRead read = report::ReadEventsFile(in);
  CHECK(read.records.empty());
  REQUIRE(read.problems.size() == 3);
  CHECK(read.problems[0].line == 1);
  CHECK_THAT(read.problems[0].what, Catch::Contains("longer than"));
  CHECK_THAT(read.problems[1].what, Catch::Contains("nested deeper"));
  CHECK_THAT(read.problems[2].what, Catch::Contains("\"time\" must be a number"));
  std::istringstream chain(text);
  report::VerifyResult v = report::VerifyChain(chain);
  CHECK_FALSE(v.ok());
}

TEST_CASE("fuzz: mutated policies are loaded or refused with a PolicyError", "[fuzz]") {
  std::vector<std::string> texts;
  for (const char* name : {"basic", "standard", "strict", "maximum"}) {
    std::optional<std::string_view> text = policy::PresetText(name);
    REQUIRE(text.has_value());
    texts.emplace_back(*text);
  }
  const policy::Variables vars = policy::DefaultVariables();
  constexpr int kRounds = 800;
  for (int round = 0; round < kRounds; ++round) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(round) * 104729 + 3);
    std::string text = texts[rng() % texts.size()];
    switch (rng() % 4) {
      case 0:
        for (int i = 0; i < 4; ++i) text[rng() % text.size()] = static_cast<char>(rng() % 256);
        break;
      case 1:
        text = text.substr(0, rng() % text.size());
        break;
      default: {
        json j = json::parse(text, nullptr, false);
        if (j.is_discarded()) break;
        for (int i = 0; i < 1 + static_cast<int>(rng() % 3); ++i) MutateValue(j, rng);
        text = j.dump(-1, ' ', false, json::error_handler_t::replace);
      }
    }
    CAPTURE(round);
    try {
      (void)policy::LoadPolicyText(text, "fuzz.json", vars);
    } catch (const policy::PolicyError&) {
      // refused, with a location: the documented way out
    }
  }
  SUCCEED("every mutated policy was loaded or refused with a PolicyError");
}
