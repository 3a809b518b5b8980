// cli/batch_manifest.cc: a manifest's lines become tasks or say exactly why they cannot, one bad
// line never hides the others, shards are disjoint and cover every line, and a task's argv is
// the run or exec it describes.
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "cli/batch_manifest.h"

namespace {

std::vector<cli::BatchTask> Parse(const std::string& text) {
  std::istringstream in(text);
  return cli::ParseManifest(in, "/m");
}

}  // namespace

TEST_CASE("batch manifest: tasks of every kind parse, relative paths from the manifest's dir",
          "[batch]") {
  auto tasks = Parse(
      R"J({"id": "t1", "command": ["python3", "x.py"], "level": "strict", "limits": {"timeout": "30s", "memory": "256MiB", "processes": 10}, "files": {"x.py": "print(1)", "data": {"path": "in/data.csv"}}, "env": {"A": "b"}})J"
      "\n\n   \n"
      R"J({"id": "t-2.b_c", "lang": "python", "code": "print(2)", "policy": "p/course.json", "mode": "audit"})J"
      "\n"
      R"({"id": "t3", "lang": "sh", "code_file": "/abs/t3.sh"})"
      "\n");
  REQUIRE(tasks.size() == 3);
  const auto& t1 = tasks[0];
  CHECK(t1.error.empty());
  CHECK(t1.index == 0);
  CHECK(t1.line == 1);
  CHECK(t1.command == std::vector<std::string>{"python3", "x.py"});
  CHECK(t1.level == "strict");
  CHECK(t1.limits == std::vector<std::pair<std::string, std::string>>{
                         {"memory", "256MiB"}, {"processes", "10"}, {"timeout", "30s"}});
  REQUIRE(t1.files.size() == 2);
  CHECK(t1.files[0].name == "data");
  CHECK(t1.files[0].path == "/m/in/data.csv");
  CHECK(t1.files[1].name == "x.py");
  CHECK(t1.files[1].content == "print(1)");
  CHECK(t1.env == std::vector<std::pair<std::string, std::string>>{{"A", "b"}});
  const auto& t2 = tasks[1];
  CHECK(t2.error.empty());
  CHECK(t2.index == 1);
  CHECK(t2.line == 4);  // blank lines are skipped but counted for the line number
  CHECK(t2.id == "t-2.b_c");
  CHECK(t2.policy_file == "/m/p/course.json");
  CHECK(t2.mode == "audit");
  CHECK(tasks[2].code_file == "/abs/t3.sh");
}

TEST_CASE("batch manifest: each bad line is a task that fails with its reason", "[batch]") {
  struct Case {
    std::string line;
    std::string why;
  };
  const std::vector<Case> cases = {
      {R"(not json)", "not JSON"},
      {R"(["a"])", "a task needs an \"id\""},
      {R"({"command": ["x"]})", "a task needs an \"id\""},
      {R"({"id": 7, "command": ["x"]})", "\"id\" must be a string"},
      {R"({"id": "../up", "command": ["x"]})", "may not start with '.'"},
      {R"({"id": "a/b", "command": ["x"]})", "only letters, digits"},
      {R"({"id": "x.partial", "command": ["x"]})", "\".partial\""},
      {R"({"id": "a"})", "needs \"command\""},
      {R"({"id": "a", "command": []})", "non-empty array"},
      {R"({"id": "a", "command": ["x", 1]})", "non-string"},
      {R"({"id": "a", "command": ["x"], "lang": "python", "code": "1"})", "not both"},
      {R"({"id": "a", "lang": "ruby", "code": "1"})", "unknown lang \"ruby\""},
      {R"({"id": "a", "lang": "sh"})", "\"code\" or \"code_file\""},
      {R"({"id": "a", "lang": "sh", "code": "x", "code_file": "y"})", "one of them"},
      {R"({"id": "a", "command": ["x"], "code": "1"})", "go with \"lang\""},
      {R"({"id": "a", "command": ["x"], "level": "strict", "policy": "p"})", "not both"},
      {R"({"id": "a", "command": ["x"], "mode": "loud"})", "unknown mode"},
      {R"({"id": "a", "command": ["x"], "limits": {"ram": "1G"}})", "unknown limit \"ram\""},
      {R"({"id": "a", "command": ["x"], "limits": {"memory": "lots"}})", "limit memory:"},
      {R"({"id": "a", "command": ["x"], "files": {"../x": "y"}})", "one name in the work dir"},
      {R"({"id": "a", "command": ["x"], "files": {"x": 1}})", "{\"path\": FILE}"},
      {R"({"id": "a", "command": ["x"], "env": {"A=B": "c"}})", "without '='"},
      {R"({"id": "a", "command": ["x"], "colour": "red"})", "unknown key \"colour\""},
  };
  for (const auto& c : cases) {
    auto tasks = Parse(R"({"id": "good", "command": ["true"]})"
                       "\n" +
                       c.line + "\n" + R"({"id": "after", "command": ["true"]})");
    INFO(c.line);
    REQUIRE(tasks.size() == 3);
    CHECK(tasks[0].error.empty());
    CHECK(tasks[2].error.empty());  // the bad line hides nothing after it
    CHECK(tasks[1].id == "line-2");
    CHECK_THAT(tasks[1].error, Catch::Contains(c.why));
  }
}

TEST_CASE("batch manifest: a repeated id fails, naming the line that has it", "[batch]") {
  auto tasks = Parse(R"({"id": "a", "command": ["true"]})"
                     "\n"
                     R"({"id": "a", "command": ["false"]})");
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[0].error.empty());
  CHECK(tasks[1].id == "line-2");
  CHECK_THAT(tasks[1].error, Catch::Contains("already the task on line 1"));
  // An id that looks like a bad line's name cannot take its place.
  auto clash = Parse(
      "junk\n"
      R"({"id": "line-1", "command": ["true"]})");
  REQUIRE(clash.size() == 2);
  CHECK(clash[0].id != clash[1].id);
}

TEST_CASE("batch manifest: shards are disjoint and cover every line, bad ones too", "[batch]") {
  std::string text;
  for (int i = 0; i < 23; ++i) {
    text += i == 7 ? std::string("broken\n")
                   : fmt::format(R"({{"id": "t{}", "command": ["true"]}})"
                                 "\n",
                                 i);
  }
  auto tasks = Parse(text);
  REQUIRE(tasks.size() == 23);
  for (std::size_t n : {1u, 2u, 4u, 5u, 23u, 40u}) {
    std::multiset<std::string> seen;
    for (std::size_t k = 0; k < n; ++k) {
      cli::Shard shard{k, n};
      for (const auto& t : tasks) {
        if (shard.Holds(t.index)) seen.insert(t.id);
      }
    }
    CHECK(seen.size() == tasks.size());
    for (const auto& t : tasks) CHECK(seen.count(t.id) == 1);
  }
  std::string error;
  auto s = cli::ParseShard("3/4", error);
  REQUIRE(s);
  CHECK((s->k == 3 && s->n == 4));
  for (const char* bad : {"4/4", "1/0", "-1/4", "a/4", "1", "1/", "/4", "1/4/5", "0/1000001"}) {
    INFO(bad);
    CHECK_FALSE(cli::ParseShard(bad, error));
    CHECK_THAT(error, Catch::Contains("K/N"));
  }
}

TEST_CASE("batch manifest: a task's argv is the run or exec it describes", "[batch]") {
  auto tasks = Parse(
      R"J({"id": "r", "command": ["python3", "-c", "print(1)"], "level": "strict", "limits": {"file_size": "1MiB"}, "files": {"in.txt": "x"}, "env": {"K": "v"}})J"
      "\n"
      R"({"id": "e", "lang": "bash", "code": "echo", "policy": "/p.json", "mode": "audit"})");
  REQUIRE(tasks.size() == 2);
  tasks[0].files[0].path = "/out/r/files/in.txt";
  CHECK(cli::TaskArgv(tasks[0], "/bin/tj", "/out/r", "") ==
        std::vector<std::string>{"/bin/tj",
                                 "run",
                                 "-q",
                                 "--no-summary",
                                 "--hide-output",
                                 "--events",
                                 "/out/r/events.jsonl",
                                 "--result",
                                 "/out/r/result.json",
                                 "--level",
                                 "strict",
                                 "--file-size",
                                 "1MiB",
                                 "--file",
                                 "in.txt=/out/r/files/in.txt",
                                 "--env",
                                 "K=v",
                                 "--",
                                 "python3",
                                 "-c",
                                 "print(1)"});
  CHECK(cli::TaskArgv(tasks[1], "/bin/tj", "/out/e", "/out/e/source.sh") ==
        std::vector<std::string>{"/bin/tj", "exec", "--lang", "bash", "-q", "--no-summary",
                                 "--hide-output", "--events", "/out/e/events.jsonl", "--result",
                                 "/out/e/result.json", "--policy", "/p.json", "--mode", "audit",
                                 "/out/e/source.sh"});
}
