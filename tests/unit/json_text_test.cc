// report/json_text.h writes a document piece by piece; it must be byte for byte what dump(2)
// writes for the same value, nested at any depth, for any value a report holds.
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/json_text.h"

namespace {

using nlohmann::json;

json RandomValue(std::mt19937_64& rng, int depth) {
  switch (depth > 3 ? rng() % 4 : rng() % 6) {
    case 0:
      return static_cast<std::int64_t>(rng() % 2000) - 1000;
    case 1:
      return std::string(rng() % 5, static_cast<char>('a' + rng() % 26)) + "\"\\\n\x01";
    case 2:
      return rng() % 2 == 0;
    case 3:
      return nullptr;
    case 4: {
      json a = json::array();
      for (std::uint64_t i = rng() % 4; i > 0; --i) a.push_back(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (std::uint64_t i = rng() % 4; i > 0; --i) {
        o["k" + std::to_string(rng() % 10)] = RandomValue(rng, depth + 1);
      }
      return o;
    }
  }
}

// Writes `v` the way a renderer does: containers opened and closed, leaves (and, at random,
// whole subtrees) as values.
void Write(report::JsonText& w, const json& v, const std::string& key, std::mt19937_64& rng) {
  if (!v.is_structured() || rng() % 3 == 0) {
    w.Value(v, key);
    return;
  }
  w.Open(v.is_object() ? '{' : '[', key);
  for (const auto& [k, item] : v.items()) Write(w, item, v.is_object() ? k : "", rng);
  w.Close();
}

}  // namespace

TEST_CASE("JsonText: the same text as dump(2) for random documents", "[report][json]") {
  std::mt19937_64 rng(61206);
  for (int i = 0; i < 3000; ++i) {
    json doc = RandomValue(rng, 0);
    std::string out;
    report::JsonText w(out);
    Write(w, doc, "", rng);
    CAPTURE(i, doc.dump());
    CHECK(out == doc.dump(2));
  }
}

TEST_CASE("JsonText: a document nested by depth sits inside another", "[report][json]") {
  json inner = {{"a", {1, 2}}, {"b", {{"c", "d"}}}};
  std::string out = "{\n  \"x\": ";
  report::JsonText w(out, 1);
  w.Open('{');
  w.Value(inner["a"], "a");
  w.Value(inner["b"], "b");
  w.Close();
  out += "\n}";
  CHECK(out == json{{"x", inner}}.dump(2));
}

TEST_CASE("JsonText: strings that are not UTF-8 are replaced and not thrown on", "[report][json]") {
  std::string out;
  report::JsonText w(out);
  w.Open('[');
  w.Value(std::string("ok\xff"));
  w.Close();
  CHECK(json::parse(out)[0] == "ok\xef\xbf\xbd");
}
