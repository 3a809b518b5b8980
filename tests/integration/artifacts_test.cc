// What ran and what was left behind (tracer/artifact_tracker.h, docs/forensics.md): a dropper
// sample's files are recorded at the end of the run with the hashes of the files on disk, the
// script it ran is hashed at its exec, --collect keeps copies the program cannot touch, and the
// report lists both.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <string>

#include "harness.h"

namespace {

// The file's SHA-256 as sha256sum computes it natively: the independent check of tracejail's.
std::string Sha256Of(const std::string& path) {
  harness::Result r = harness::RunNative({"sha256sum", path});
  return r.status == 0 && r.out.size() >= 64 ? r.out.substr(0, 64) : "sha256sum failed";
}

std::string BaseName(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

// file_dropped records by the base name of their path.
std::map<std::string, nlohmann::json> Dropped(const harness::Result& r) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& e : r.lifecycle) {
    if (e.value("type", "") == "file_dropped")
      out[BaseName(e["args"].value("path", ""))] = e["args"];
  }
  return out;
}

// The process_exec records whose script's path ends with `name`.
std::vector<nlohmann::json> ExecsOfScript(const harness::Result& r, const std::string& name) {
  std::vector<nlohmann::json> out;
  for (const auto& e : r.lifecycle) {
    if (e.value("type", "") != "process_exec" || !e["args"].contains("script")) continue;
    if (e["args"]["script"].value("path", "").ends_with("/" + name)) out.push_back(e["args"]);
  }
  return out;
}

harness::Result RunDropper(const harness::TempDir& dir, std::vector<std::string> more = {}) {
  dir.File("existing.txt", "before\n");
  dir.File("untouched.txt", "same\n");
  std::vector<std::string> args = {"--level", "standard"};
  args.insert(args.end(), more.begin(), more.end());
  return harness::Run({harness::Sample("dropper"), dir.path()}, {.tracejail_args = args});
}

}  // namespace

TEST_CASE("a dropper's files are recorded with the hashes of the files it left", "[artifacts]") {
  harness::TempDir dir;
  harness::Result r = RunDropper(dir);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.out == "DROPPED\nPAYLOAD-RAN\n");
  auto dropped = Dropped(r);
  INFO(nlohmann::json(dropped).dump(2));

  REQUIRE(dropped.contains("payload.sh"));
  const nlohmann::json& payload = dropped["payload.sh"];
  CHECK(payload["kind"] == "file");
  CHECK(payload["sha256"] == Sha256Of(dir.path() + "/payload.sh"));
  CHECK(payload["size"] == std::string("#!/bin/sh\necho PAYLOAD-RAN\n").size());
  CHECK(payload["mode"] == "0755");
  CHECK(payload["created"] == true);

  // Changed in place: listed with its new hash, not as created.
  REQUIRE(dropped.contains("existing.txt"));
  CHECK(dropped["existing.txt"]["sha256"] == Sha256Of(dir.path() + "/existing.txt"));
  CHECK_FALSE(dropped["existing.txt"].contains("created"));
  // Opened for writing and left as it was: not listed.
  CHECK_FALSE(dropped.contains("untouched.txt"));

  // Made and removed: listed as such, with nothing to hash.
  REQUIRE(dropped.contains("tmp.bin"));
  CHECK(dropped["tmp.bin"]["removed"] == true);
  CHECK(dropped["tmp.bin"]["created"] == true);
  CHECK_FALSE(dropped["tmp.bin"].contains("sha256"));
  REQUIRE(dropped.contains("stage.bin"));
  CHECK(dropped["stage.bin"]["removed"] == true);
  REQUIRE(dropped.contains("final.bin"));
  CHECK(dropped["final.bin"]["sha256"] == Sha256Of(dir.path() + "/final.bin"));

  // Special files are recorded as what they are, never read or followed.
  REQUIRE(dropped.contains("link"));
  CHECK(dropped["link"]["kind"] == "symlink");
  CHECK(dropped["link"]["target"] == "payload.sh");
  CHECK_FALSE(dropped["link"].contains("sha256"));
  REQUIRE(dropped.contains("fifo"));
  CHECK(dropped["fifo"]["kind"] == "fifo");
  CHECK_FALSE(dropped["fifo"].contains("sha256"));

  // The dropped script ran: its exec names the script and its interpreter, both hashed.
  auto execs = ExecsOfScript(r, "payload.sh");
  REQUIRE(execs.size() == 1);
  CHECK(execs[0]["script"]["sha256"] == Sha256Of(dir.path() + "/payload.sh"));
  const std::string image = execs[0]["image"].value("path", "");
  CHECK(image.find("sh") != std::string::npos);
  CHECK(execs[0]["image"]["sha256"] == Sha256Of(image));
  // And the dropper itself: the command's exec carries its image.
  bool saw_dropper = false;
  for (const auto& e : r.lifecycle) {
    if (e.value("type", "") == "process_exec" &&
        e["args"]["image"].value("path", "") == harness::Sample("dropper")) {
      saw_dropper = true;
      CHECK(e["args"]["image"]["sha256"] == Sha256Of(harness::Sample("dropper")));
      CHECK_FALSE(e["args"].contains("script"));
    }
  }
  CHECK(saw_dropper);
  // The summary counts them.
  harness::Result summary = RunDropper(dir, {"--summary"});
  INFO(summary.err);
  CHECK(summary.err.find("file(s) left behind") != std::string::npos);
}

TEST_CASE("an interpreter's script argument is hashed and inline code is not", "[artifacts]") {
  harness::TempDir dir;
  const std::string script = dir.File("job.py", "print('JOB')\n");
  harness::Result r = harness::Run({"/usr/bin/python3", "-u", script});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto execs = ExecsOfScript(r, "job.py");
  REQUIRE(execs.size() == 1);
  CHECK(execs[0]["script"]["sha256"] == Sha256Of(script));
  CHECK(execs[0]["script"]["kind"] == "script");

  harness::Result inline_code = harness::Run({"/bin/sh", "-c", "echo INLINE"});
  REQUIRE(inline_code.status == 0);
  for (const auto& e : inline_code.lifecycle) {
    if (e.value("type", "") == "process_exec") CHECK_FALSE(e["args"].contains("script"));
  }
}

TEST_CASE("copies of the dropped files are kept by hash with --collect and listed", "[artifacts]") {
  harness::TempDir dir, out;
  const std::string collect = out.path() + "/copies";
  harness::Result r = RunDropper(dir, {"--collect", collect});
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto dropped = Dropped(r);
  for (const char* name : {"payload.sh", "existing.txt", "final.bin"}) {
    CAPTURE(name);
    REQUIRE(dropped.contains(name));
    const std::string sha = dropped[name].value("sha256", "");
    CHECK(dropped[name].value("collected", "") == sha);
    CHECK(harness::Slurp(collect + "/" + sha) == harness::Slurp(dir.path() + "/" + name));
  }
  for (const char* name : {"link", "fifo", "tmp.bin"}) {
    CAPTURE(name);
    CHECK_FALSE(dropped[name].contains("collected"));
  }
  struct stat st {};
  REQUIRE(stat(collect.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  nlohmann::json index = nlohmann::json::parse(harness::Slurp(collect + "/index.json"));
  CHECK(index["schema_version"] == 1);
  CHECK(index["files"].size() == 3);

  // Past --collect-max: hashed and listed, not copied.
  harness::TempDir dir2, out2;
  harness::Result small =
      RunDropper(dir2, {"--collect", out2.path() + "/c", "--collect-max", "4B"});
  REQUIRE(small.status == 0);
  auto listed = Dropped(small);
  REQUIRE(listed.contains("payload.sh"));
  CHECK(listed["payload.sh"].contains("sha256"));
  CHECK_FALSE(listed["payload.sh"].contains("collected"));
  CHECK(listed["payload.sh"].value("note", "").find("--collect-max") != std::string::npos);
}

TEST_CASE("the program cannot plant or read anything in the --collect directory", "[artifacts]") {
  harness::TempDir dir;
  const std::string collect = dir.path() + "/copies";
  harness::Result r =
      harness::Run({"/bin/sh", "-c",
                    "echo x > " + collect + "/planted; ln -s /etc/passwd " + collect +
                        "/index.json; "
                        "ls " +
                        collect + "; echo END"},
                   {.tracejail_args = {"--level", "standard", "--collect", collect}});
  INFO(r.out << r.err);
  CHECK(r.out.ends_with("END\n"));
  CHECK(harness::Slurp(collect + "/planted").empty());
  struct stat st {};
  CHECK(lstat((collect + "/planted").c_str(), &st) != 0);
  // The index is tracejail's own file, not the program's symlink.
  REQUIRE(lstat((collect + "/index.json").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK_FALSE(r.events.empty());  // the denials of the protected directory
}

TEST_CASE("reports list what ran and what was dropped with hashes", "[artifacts][report]") {
  harness::TempDir dir, logs;
  const std::string events = logs.path() + "/run.jsonl";
  dir.File("existing.txt", "before\n");
  dir.File("untouched.txt", "same\n");
  harness::Result r = harness::Run(
      {harness::Sample("dropper"), dir.path()},
      {.tracejail_args = {"--level", "standard", "--events", events}, .events = false});
  REQUIRE(r.status == 0);
  const std::string payload = Sha256Of(dir.path() + "/payload.sh");
  harness::Result text = harness::Tool({"report", events});
  INFO(text.out << text.err);
  REQUIRE(text.status == 0);
  CHECK(text.out.find("Executed") != std::string::npos);
  CHECK(text.out.find("Dropped") != std::string::npos);
  CHECK(text.out.find(payload) != std::string::npos);
  harness::Result json = harness::Tool({"report", events, "--format", "json"});
  REQUIRE(json.status == 0);
  nlohmann::json j = nlohmann::json::parse(json.out);
  bool listed = false;
  for (const auto& f : j["dropped"]) listed |= f.value("sha256", "") == payload;
  CHECK(listed);
  bool ran = false;
  for (const auto& f : j["executed"])
    ran |= f.value("kind", "") == "script" && f.value("sha256", "") == payload;
  CHECK(ran);
  harness::Result html = harness::Tool({"report", events, "--format", "html"});
  REQUIRE(html.status == 0);
  CHECK(html.out.find("<h2>Dropped</h2>") != std::string::npos);
}
