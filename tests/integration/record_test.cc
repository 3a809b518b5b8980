// The record fails closed and stays bounded (report/event_log.h): a write that fails ends the
// run as an internal error with the loss counted, repeats are folded into counted records that
// every tool reads as the events they stand for, and what tracejail writes is the owner's.
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "harness.h"

namespace {

nlohmann::json ReadJson(const std::string& path) {
  return nlohmann::json::parse(harness::Slurp(path), nullptr, false);
}

std::uint64_t Weight(const nlohmann::json& e) {
  return e.contains("repeat") ? e["repeat"]["count"].get<std::uint64_t>() : 1;
}

// A shell loop of `n` denied reads of /etc/shadow (denied by every enforcing level).
std::vector<std::string> DeniedReads(int n) {
  return {"/bin/sh", "-c",
          "i=0; while [ $i -lt " + std::to_string(n) +
              " ]; do read x 2>/dev/null </etc/shadow; i=$((i+1)); done; exit 0"};
}

}  // namespace

TEST_CASE("record: an events file that cannot be written ends the run as an internal error",
          "[record]") {
  harness::TempDir dir;
  std::string result = dir.path() + "/result.json";
  harness::Options o;
  o.events = false;
  o.summary = true;
  o.tracejail_args = {"--events", "/dev/full", "--result", result};
  auto r = harness::Run(DeniedReads(50), o);
  INFO(r.err);
  CHECK(r.status == 125);
  CHECK(r.err.find("events could not be recorded") != std::string::npos);
  CHECK(r.err.find("No space left on device") != std::string::npos);
  CHECK(r.err.find("LOST") != std::string::npos);
  nlohmann::json j = ReadJson(result);
  REQUIRE(j.is_object());
  CHECK(j["status"] == "internal_error");
  CHECK(j["success"] == false);
  CHECK(j["events_lost"].get<std::uint64_t>() > 0);
}

TEST_CASE("record: a full file system mid-run kills the tree and never says ok", "[record]") {
  harness::TempDir dir;
  std::string small = dir.path() + "/small";
  std::filesystem::create_directories(small);
  if (mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k") != 0) {
    WARN("skipped: cannot mount a small tmpfs here (" << std::strerror(errno) << ")");
    return;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{small};
  std::string result = dir.path() + "/result.json";
  harness::Options o;
  o.events = false;
  // Raw: every denial a record of its own, so the 64 KiB fill up long before the loop ends.
  o.tracejail_args = {"--raw-events", "--events", small + "/ev.jsonl", "--result", result};
  auto r = harness::Run(DeniedReads(100000), o);
  INFO(r.err);
  CHECK(r.status == 125);
  nlohmann::json j = ReadJson(result);
  REQUIRE(j.is_object());
  CHECK(j["status"] == "internal_error");
  CHECK(j["events_lost"].get<std::uint64_t>() > 0);
  // The tree was killed: the loop did not run to its end.
  CHECK(j["syscalls"]["denied"].get<std::uint64_t>() < 100000);
  auto verify = harness::Tool({"verify", small + "/ev.jsonl"});
  CHECK(verify.status != 0);  // cut short, and says so
}

TEST_CASE("record: repeated denials are folded into counted records every tool reads", "[record]") {
  constexpr int kReads = 2000;
  harness::Options o;
  o.raw_events = false;
  o.summary = true;
  auto r = harness::Run(DeniedReads(kReads), o);
  INFO(r.err);
  REQUIRE(r.status == 0);
  std::uint64_t denials = 0, records = 0;
  for (const auto& e : r.Events("permission_denied")) {
    ++records;
    denials += Weight(e);
    if (e.contains("repeat")) {
      CHECK(e["repeat"]["first_time"].get<double>() <= e["time"].get<double>());
      CHECK(e["repeat"]["first_seq"].get<std::uint64_t>() < e["seq"].get<std::uint64_t>());
    }
  }
  CHECK(denials == kReads);
  CHECK(records < 50);  // one in full, then a counted record per second at most
  CHECK(r.err.find("repeats folded") != std::string::npos);
}

TEST_CASE("record: report and verify read a folded file as the events it stands for", "[record]") {
  constexpr int kReads = 1500;
  harness::TempDir dir;
  std::string events = dir.path() + "/ev.jsonl";
  std::string result = dir.path() + "/result.json";
  harness::Options o;
  o.events = false;
  o.tracejail_args = {"--events", events, "--result", result};
  auto r = harness::Run(DeniedReads(kReads), o);
  REQUIRE(r.status == 0);
  auto verify = harness::Tool({"verify", events});
  INFO(verify.out << verify.err);
  CHECK(verify.status == 0);
  auto report = harness::Tool({"report", events, "--format", "json"});
  REQUIRE(report.status == 0);
  nlohmann::json j = nlohmann::json::parse(report.out, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["by_type"]["permission_denied"] == kReads);
  nlohmann::json res = ReadJson(result);
  CHECK(res["events_lost"] == 0);
  CHECK(res["event_records"].get<std::uint64_t>() < res["events"].get<std::uint64_t>());
  CHECK(j["events"] == res["events"]);
}

TEST_CASE("record: the events and result files are the owner's alone", "[record]") {
  harness::TempDir dir;
  std::string events = dir.path() + "/ev.jsonl";
  std::string result = dir.path() + "/result.json";
  // Even where they existed before with wider permissions.
  dir.File("ev.jsonl", "old\n");
  dir.File("result.json", "old\n");
  chmod(events.c_str(), 0644);
  chmod(result.c_str(), 0666);
  harness::Options o;
  o.events = false;
  o.tracejail_args = {"--events", events, "--result", result};
  auto r = harness::Run({"/bin/true"}, o);
  REQUIRE(r.status == 0);
  for (const auto& path : {events, result}) {
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
  }
}

TEST_CASE("record: --stream unix:PATH never removes a file that is not a socket", "[record]") {
  harness::TempDir dir;
  std::string precious = dir.File("precious", "keep me\n");
  harness::Options o;
  o.events = false;
  o.tracejail_args = {"--stream", "unix:" + precious};
  auto r = harness::Run({"/bin/true"}, o);
  INFO(r.err);
  CHECK(r.status != 0);
  CHECK(r.err.find("not a socket") != std::string::npos);
  CHECK(harness::Slurp(precious) == "keep me\n");
}

TEST_CASE("record: events and result files follow their published schemas", "[record]") {
  const std::string data = TEST_DATA_DIR;
  const std::string schemas = data + "/../../docs/schema";
  harness::TempDir dir;
  std::string events = dir.path() + "/ev.jsonl";
  std::string result = dir.path() + "/result.json";
  harness::Options o;
  o.events = false;
  // Denials folded and not, a process tree, a connect, an escape primitive and a limit.
  o.tracejail_args = {"--events", events, "--result", result, "--processes", "20"};
  auto r = harness::Run({"/usr/bin/python3", "-c",
                         "import os, socket, subprocess\n"
                         "for i in range(300):\n"
                         "    try: open('/etc/shadow')\n"
                         "    except OSError: pass\n"
                         "subprocess.run(['/bin/true'])\n"
                         "try: socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
                         "except OSError: pass\n"
                         "try: os.unshare(os.CLONE_NEWUSER)\n"
                         "except (OSError, AttributeError): pass\n"
                         "import ctypes\n"
                         "ctypes.CDLL(None).syscall(56, 0x00800000 | 17, 0, 0, 0, 0)\n"},
                        o);
  INFO(r.err);
  // Every record a real run writes is one the reader accepts (clone's "parent_tid" above is a
  // pointer, not the lifecycle event's parent thread).
  auto report = harness::Tool({"report", events});
  INFO(report.err);
  CHECK(report.status == 0);
  for (const auto& [schema, file, lines] :
       {std::tuple{std::string("events.schema.json"), events, true},
        std::tuple{std::string("result.schema.json"), result, false}}) {
    std::vector<std::string> args{"/usr/bin/python3", data + "/check_schema.py",
                                  schemas + "/" + schema, file};
    if (lines) args.push_back("--lines");
    auto check = harness::RunNative(args);
    INFO(schema << ": " << check.out << check.err);
    CHECK(check.status == 0);
  }
}

TEST_CASE("record: a keyed chain and the result's final hash catch a file forged whole",
          "[record]") {
  harness::TempDir dir;
  std::string key = dir.File("key", "a secret only the analyst holds\n");
  chmod(key.c_str(), 0600);
  std::string events = dir.path() + "/ev.jsonl";
  std::string result = dir.path() + "/result.json";
  harness::Options o;
  o.events = false;
  o.tracejail_args = {"--events", events, "--events-key", key, "--result", result};
  auto r = harness::Run(DeniedReads(5), o);
  INFO(r.err);
  REQUIRE(r.status == 0);
  nlohmann::json res = ReadJson(result);
  REQUIRE(res["events_chain"].is_object());
  CHECK(res["events_chain"]["algorithm"] == "hmac-sha256");
  std::string final_hash = res["events_chain"]["final_hash"];
  CHECK(harness::Tool({"verify", events, "--key", key, "--expect", final_hash}).status == 0);
  auto unkeyed = harness::Tool({"verify", events});
  CHECK(unkeyed.status == 123);
  CHECK(unkeyed.out.find("--key") != std::string::npos);
  // A forger without the key rewrites the file whole with a plain SHA-256 chain: the plain
  // chain is intact, and only the key and the recorded final hash tell.
  std::string forged = dir.path() + "/forged.jsonl";
  auto forge = harness::RunNative(
      {"/usr/bin/python3", "-c",
       "import hashlib, json, sys\n"
       "prev = '0' * 64\n"
       "out = open(sys.argv[2], 'w')\n"
       "for line in open(sys.argv[1]):\n"
       "    r = json.loads(line)\n"
       "    r['prev_hash'] = prev\n"
       "    if r.get('type') == 'permission_denied': r['message'] = 'nothing to see'\n"
       "    if r.get('type') == 'log_end': r['chain'] = 'sha256'\n"
       "    text = json.dumps(r, sort_keys=True, separators=(',', ':'), ensure_ascii=False)\n"
       "    out.write(text + '\\n')\n"
       "    prev = hashlib.sha256(text.encode()).hexdigest()\n",
       events, forged});
  REQUIRE(forge.status == 0);
  CHECK(harness::Tool({"verify", forged}).status == 0);  // what a plain chain cannot prove
  CHECK(harness::Tool({"verify", forged, "--expect", final_hash}).status == 123);
  CHECK(harness::Tool({"verify", forged, "--key", key}).status == 123);
}

TEST_CASE("record: an events key others can read is refused", "[record]") {
  harness::TempDir dir;
  std::string key = dir.File("key", "k\n");
  chmod(key.c_str(), 0644);
  harness::Options o;
  o.events = false;
  o.tracejail_args = {"--events", dir.path() + "/ev.jsonl", "--events-key", key};
  auto r = harness::Run({"/bin/true"}, o);
  CHECK(r.status == 120);
  CHECK(r.err.find("chmod 600") != std::string::npos);
}

TEST_CASE("record: with output captured a closed stdout reaches the program as natively",
          "[record]") {
  harness::TempDir dir;
  // `yes | head -1`: natively yes dies of SIGPIPE once head is gone. With --result the output
  // is captured and echoed by tracejail; a reader that went away must end yes the same way,
  // not let it write into tracejail forever (the timeout is the net if it does).
  std::string script = "'" + harness::Tracejail() + "' run --no-summary --timeout 60s --result '" +
                       dir.path() + "/r.json' -- yes | head -1; echo \"status ${PIPESTATUS[0]}\"";
  auto r = harness::RunNative({"/bin/bash", "-c", script});
  INFO(r.out << r.err);
  CHECK(r.out == "y\nstatus 141\n");
  nlohmann::json res = ReadJson(dir.path() + "/r.json");
  REQUIRE(res.is_object());
  CHECK(res["signal"] == "SIGPIPE");
}

TEST_CASE("record: a FIFO named as the policy is refused, never waited on", "[record]") {
  harness::TempDir dir;
  std::string fifo = dir.path() + "/policy.json";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  harness::Options o;
  o.events = false;
  o.tracejail_args = {"--policy", fifo};
  auto r = harness::Run({"/bin/true"}, o);
  CHECK(r.status == 121);
  CHECK(r.err.find("not a regular file") != std::string::npos);
}

TEST_CASE("record: a hard open-files limit below the policy's is kept, not a failure", "[record]") {
  // standard's open-files limit is 4096: a caller that is already stricter keeps its own.
  std::string script = "ulimit -Sn 1024 && ulimit -Hn 1024 && exec '" + harness::Tracejail() +
                       "' run --no-summary --level standard -- /bin/sh -c 'ulimit -n'";
  auto r = harness::RunNative({"/bin/bash", "-c", script});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.out == "1024\n");
}
