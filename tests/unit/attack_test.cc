// The MITRE ATT&CK table (report/attack.h): it covers everything tracejail names, and events
// get the ids their content shows.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "policy/names.h"
#include "report/attack.h"
#include "report/explain.h"
#include "report/record.h"

using nlohmann::json;
using report::AttackKey;

namespace {

bool HasRow(AttackKey key, std::string_view match) {
  for (const auto& row : report::AttackTable()) {
    if (row.key == key && row.match == match) return true;
  }
  return false;
}

const report::AttackRow* RowOf(AttackKey key, std::string_view match) {
  for (const auto& row : report::AttackTable()) {
    if (row.key == key && row.match == match) return &row;
  }
  return nullptr;
}

std::vector<std::string> IdsOf(const json& record) {
  report::Event e;
  REQUIRE(report::FromJson(record, e).empty());
  return report::AttackIdsFor(e);
}

bool Has(const std::vector<std::string>& ids, std::string_view id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

json Denied(std::string syscall, json args, std::string rule = "p.json:3#/files/rules/0") {
  return {{"type", "permission_denied"},
          {"syscall", {{"name", syscall}}},
          {"args", std::move(args)},
          {"decision", {{"action", "deny"}, {"errno", "EACCES"}, {"rule", rule}}}};
}

json Path(std::string path, std::string access = "read") {
  return {{"raw", path}, {"resolved", path}, {"access", access}};
}

json Escape(std::string primitive, std::string syscall) {
  return {
      {"type", "escape_attempt"},
      {"syscall", {{"name", syscall}}},
      {"decision", {{"action", "deny"}, {"rule", "builtin:escapes"}, {"primitive", primitive}}}};
}

// Every "builtin:NAME" string in the sources of the folders that decide.
std::set<std::string> BuiltinRulesInSources() {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(TEST_DATA_DIR) / ".." / "..";
  const std::regex builtin(R"re("builtin:([a-z0-9-]+)")re");
  std::set<std::string> out;
  for (const char* dir : {"policy", "tracer", "report", "cli"}) {
    for (const auto& entry : fs::directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (ext != ".cc" && ext != ".h") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      const std::string s = text.str();
      for (std::sregex_iterator it(s.begin(), s.end(), builtin), end; it != end; ++it) {
        out.insert("builtin:" + (*it)[1].str());
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("ATT&CK: every escape technique of the catalog has a row with ids", "[attack]") {
  for (const auto& t : report::Techniques()) {
    INFO(t.id);
    const report::AttackRow* row = RowOf(AttackKey::kTechnique, t.id);
    REQUIRE(row != nullptr);
    // path-rule is mapped by the access asked for (the kAccess rows).
    if (t.id != "path-rule") CHECK(!row->ids.empty());
  }
}

TEST_CASE("ATT&CK: every escape primitive has a row with ids", "[attack]") {
  const auto primitives = policy::KnownPrimitives();
  REQUIRE(primitives.size() == syscalls::kPrimitiveCount - 1);
  for (const auto& p : primitives) {
    INFO(p);
    const report::AttackRow* row = RowOf(AttackKey::kPrimitive, p);
    REQUIRE(row != nullptr);
    CHECK(!row->ids.empty());
  }
}

TEST_CASE("ATT&CK: every access kind has a row with ids", "[attack]") {
  for (const auto& [bit, name] : syscalls::kAccessNames) {
    INFO(name);
    const report::AttackRow* row = RowOf(AttackKey::kAccess, name);
    REQUIRE(row != nullptr);
    CHECK(!row->ids.empty());
  }
}

TEST_CASE("ATT&CK: every built-in rule in the sources has a row", "[attack]") {
  const std::set<std::string> rules = BuiltinRulesInSources();
  REQUIRE(rules.size() > 10);  // the scan found the sources
  for (const auto& rule : rules) {
    INFO(rule << " has no row in report/attack.cc: map it (or list it as generic)");
    CHECK(HasRow(AttackKey::kRule, rule));
  }
}

TEST_CASE("ATT&CK: every id is well formed and named, every name used", "[attack]") {
  std::set<std::string_view> used;
  for (const auto& row : report::AttackTable()) {
    for (std::string_view id : report::IdsOf(row)) {
      INFO(row.match << " -> " << id);
      CHECK(report::IsAttackId(id));
      CHECK(!report::AttackName(id).empty());
      used.insert(id);
    }
  }
  std::string previous;
  for (const auto& t : report::AttackNames()) {
    CHECK(used.contains(t.id));
    CHECK(std::string(t.id) > previous);  // sorted, unique
    previous = t.id;
  }
  CHECK(report::AttackUrl("T1552.001") == "https://attack.mitre.org/techniques/T1552/001/");
  CHECK_FALSE(report::IsAttackId("T155"));
  CHECK_FALSE(report::IsAttackId("T1552.01"));
  CHECK_FALSE(report::IsAttackId("<b>T1611"));
}

TEST_CASE("ATT&CK: credential files, escapes and shells", "[attack]") {
  const auto shadow = IdsOf(Denied("openat", {{"pathname", Path("/etc/shadow")}}));
  CHECK(Has(shadow, "T1003.008"));
  CHECK(Has(shadow, "T1552.001"));
  CHECK(Has(shadow, "T1005"));  // a read the file rules deny
  CHECK(Has(IdsOf(Denied("openat", {{"pathname", Path("/home/u/.ssh/id_ed25519")}})), "T1552.004"));
  CHECK(IdsOf(Denied("chmod", {{"pathname", Path("/tmp/x", "chmod")}})) ==
        std::vector<std::string>{"T1222.002"});
  CHECK(IdsOf(Escape("namespace", "unshare")) == std::vector<std::string>{"T1611"});
  CHECK(IdsOf(Escape("mount", "mount")) == std::vector<std::string>{"T1611"});
  CHECK(IdsOf(Escape("ptrace", "ptrace")) == std::vector<std::string>{"T1055.008"});
  CHECK(Has(IdsOf(Escape("raw_socket", "socket")), "T1040"));
  json exec = {{"type", "process_exec"},
               {"args", {{"exe", "/usr/bin/dash"}, {"argv", {"sh", "-c", "id"}}}},
               {"decision", {{"action", "allow"}, {"rule", "lifecycle"}}}};
  CHECK(IdsOf(exec) == std::vector<std::string>{"T1059.004"});
  exec["args"]["exe"] = "/usr/bin/python3.11";
  CHECK(IdsOf(exec) == std::vector<std::string>{"T1059.006"});
  exec["args"]["exe"] = "/usr/bin/true";
  CHECK(IdsOf(exec).empty());
  json self = Denied("kill", json::object(), "builtin:tracejail-self");
  self["type"] = "escape_attempt";
  CHECK(IdsOf(self) == std::vector<std::string>{"T1562.001"});
}

TEST_CASE("ATT&CK: allowed ordinary calls show nothing", "[attack]") {
  json allowed = Denied("openat", {{"pathname", Path("/etc/shadow")}});
  allowed["type"] = "syscall_allowed";
  allowed["decision"] = {{"action", "allow"}, {"rule", "p.json:3#/files/rules/0"}};
  CHECK(IdsOf(allowed).empty());
  // In audit mode what enforce would have denied counts.
  allowed["decision"]["would"] = "deny";
  CHECK(Has(IdsOf(allowed), "T1003.008"));
}

TEST_CASE("ATT&CK: events carry attack and the reader checks it", "[attack]") {
  json rec = Escape("namespace", "unshare");
  rec["attack"] = {"T1611"};
  report::Event e;
  REQUIRE(report::FromJson(rec, e).empty());
  CHECK(e.attack == std::vector<std::string>{"T1611"});
  CHECK(report::ToJson(e)["attack"] == json{"T1611"});
  CHECK(report::AttackOf(e) == std::vector<std::string>{"T1611"});
  rec["attack"] = {"<script>"};
  CHECK(report::FromJson(rec, e).find("attack") != std::string::npos);
  rec["attack"] = "T1611";
  CHECK(report::FromJson(rec, e).find("attack") != std::string::npos);
  rec.erase("attack");
  report::Event plain;
  REQUIRE(report::FromJson(rec, plain).empty());
  CHECK(!report::ToJson(plain).contains("attack"));
  CHECK(report::AttackOf(plain) == std::vector<std::string>{"T1611"});  // computed
}

TEST_CASE("ATT&CK: docs/attack.md lists every row and every id", "[attack]") {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/../../docs/attack.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  for (const auto& row : report::AttackTable()) {
    std::string ids;
    for (std::string_view id : report::IdsOf(row)) {
      ids += (ids.empty() ? "" : ", ") + std::string(id);
    }
    const std::string line = "| " + std::string(report::Name(row.key)) + " | `" +
                             std::string(row.match) + "` | " + (ids.empty() ? "-" : ids) + " |";
    INFO(line);
    CHECK(doc.find(line) != std::string::npos);
  }
  for (const auto& t : report::AttackNames()) {
    const std::string line = "| [" + std::string(t.id) + "](" + report::AttackUrl(t.id) + ") | " +
                             std::string(t.name) + " |";
    INFO(line);
    CHECK(doc.find(line) != std::string::npos);
  }
}
