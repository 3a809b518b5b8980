// report/hash_chain.h: a real EventLog file verifies; editing, dropping, inserting, swapping,
// appending or cutting lines is detected and located.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "report/event_log.h"
#include "report/hash_chain.h"

namespace {

std::vector<std::string> WrittenLog(int events) {
  char tmpl[] = "/tmp/tj-chain-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  close(fd);
  {
    report::EventLog log(tmpl);
    for (int i = 1; i <= events; ++i) {
      report::Event e;
      e.type = policy::EventType::kPermissionDenied;
      e.seq = static_cast<std::uint64_t>(i);
      e.message = "event " + std::to_string(i);
      log.Push(std::move(e));
    }
  }
  std::ifstream in(tmpl);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  unlink(tmpl);
  return lines;
}

report::VerifyResult Verify(const std::vector<std::string>& lines) {
  std::stringstream ss;
  for (const auto& l : lines) ss << l << '\n';
  return report::VerifyChain(ss);
}

bool Mentions(const report::VerifyResult& r, const std::string& needle) {
  for (const auto& p : r.problems) {
    if (p.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("hash chain: an untouched log verifies", "[hash_chain]") {
  auto lines = WrittenLog(5);
  REQUIRE(lines.size() == 6);
  auto r = Verify(lines);
  CHECK(r.ok());
  CHECK(r.lines == 6);
  CHECK(report::Sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("hash chain: an edited line is found", "[hash_chain]") {
  auto lines = WrittenLog(5);
  auto pos = lines[2].find("event 3");
  REQUIRE(pos != std::string::npos);
  lines[2].replace(pos, 7, "event X");
  auto r = Verify(lines);
  CHECK_FALSE(r.ok());
  CHECK(Mentions(r, "line 4: chain broken: line 3 was edited"));
}

TEST_CASE("hash chain: a removed line is found", "[hash_chain]") {
  auto lines = WrittenLog(5);
  lines.erase(lines.begin() + 1);
  auto r = Verify(lines);
  CHECK_FALSE(r.ok());
  CHECK(Mentions(r, "seq jumps from 1 to 3"));
  CHECK(Mentions(r, "log_end counts 5 records"));
}

TEST_CASE("hash chain: an inserted line is found", "[hash_chain]") {
  auto lines = WrittenLog(3);
  lines.insert(lines.begin() + 1, lines[0]);
  auto r = Verify(lines);
  CHECK_FALSE(r.ok());
  CHECK(Mentions(r, "line 2: chain broken"));
  CHECK(Mentions(r, "repeats or goes back"));
}

TEST_CASE("hash chain: swapped lines are found", "[hash_chain]") {
  auto lines = WrittenLog(4);
  std::swap(lines[1], lines[2]);
  auto r = Verify(lines);
  CHECK_FALSE(r.ok());
  CHECK(Mentions(r, "line 2: chain broken"));
  CHECK(Mentions(r, "line 3: seq 2 repeats or goes back"));
}

TEST_CASE("hash chain: a cut or extended file is found", "[hash_chain]") {
  auto lines = WrittenLog(3);
  auto cut = lines;
  cut.pop_back();
  CHECK(Mentions(Verify(cut), "without its log_end record"));
  auto appended = lines;
  appended.push_back(lines[0]);
  CHECK(Mentions(Verify(appended), "after the closing log_end record"));
  auto garbage = lines;
  garbage[1] = "not json";
  CHECK(Mentions(Verify(garbage), "line 2: not a JSON object"));
}

TEST_CASE("HmacSha256Hex: RFC 4231 test case 2", "[hash_chain]") {
  CHECK(report::HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
