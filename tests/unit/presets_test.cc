// policy/presets.cc against what the documentation claims about the levels: each preset is a
// well-formed document that loads; the level tables of docs/isolation.md (limits, capabilities)
// are read from the file and must match the presets; and each level is at least as strict as the
// one before it, for a corpus of file, network and escape requests and for every isolation layer.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "policy/capabilities.h"
#include "policy/loader.h"
#include "policy/names.h"
#include "policy/presets.h"

namespace {

using policy::Access;
using policy::Action;

const policy::Variables kVars{{"CWD", "/w"},
                              {"WORKDIR", "/w"},
                              {"HOME", "/home/u"},
                              {"TMPDIR", "/tmp"},
                              {"COMMAND", "/usr/bin/tool"}};

const std::vector<std::string> kOrder{"none", "basic", "standard", "strict", "maximum"};

policy::Policy Load(const std::string& level) {
  std::optional<policy::Policy> p = policy::LoadPreset(level, kVars);
  REQUIRE(p);
  return *p;
}

int Rank(Action a) { return a == Action::kAllow ? 0 : a == Action::kDeny ? 1 : 2; }

// The doc's markdown table rows that start with "| " + `first` and its cells, trimmed.
std::vector<std::vector<std::string>> TableRows(const std::string& doc, const std::string& after) {
  std::vector<std::vector<std::string>> rows;
  std::size_t at = doc.find(after);
  REQUIRE(at != std::string::npos);
  std::istringstream in(doc.substr(at));
  std::string line;
  std::getline(in, line);  // the heading or sentence itself
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.starts_with("|")) {
      in_table = true;
      std::vector<std::string> cells;
      std::size_t start = 1;
      for (std::size_t bar; (bar = line.find('|', start)) != std::string::npos; start = bar + 1) {
        std::string cell = line.substr(start, bar - start);
        cell.erase(0, cell.find_first_not_of(' '));
        cell.erase(cell.find_last_not_of(' ') + 1);
        cells.push_back(cell);
      }
      rows.push_back(cells);
    } else if (in_table) {
      break;
    }
  }
  REQUIRE(rows.size() > 2);
  rows.erase(rows.begin() + 1);  // the |---| line
  return rows;
}

// The names between backquotes in `cell`.
std::vector<std::string> Quoted(const std::string& cell) {
  std::vector<std::string> out;
  for (std::size_t a = cell.find('`'); a != std::string::npos; a = cell.find('`', a + 1)) {
    std::size_t b = cell.find('`', a + 1);
    if (b == std::string::npos) break;
    out.push_back(cell.substr(a + 1, b - a - 1));
    a = b;
  }
  return out;
}

std::string IsolationDoc() {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/../../docs/isolation.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

policy::Request PathRequest(const std::string& path, Access access) {
  policy::Request r;
  r.syscall = "openat";
  r.paths[0] = {path, access, true};
  r.path_count = 1;
  return r;
}

policy::Request NetRequest(policy::NetVerb verb, int family, const std::string& where,
                           std::uint16_t port = 0) {
  policy::Request r;
  r.syscall = "connect";
  policy::NetAccess n;
  n.verb = verb;
  n.family = family;
  n.type = SOCK_STREAM;
  if (!where.empty()) {
    policy::SocketAddress a;
    a.family = family;
    if (family == AF_UNIX) {
      a.unix_path = where;
    } else {
      int b[4];
      REQUIRE(std::sscanf(where.c_str(), "%d.%d.%d.%d", &b[0], &b[1], &b[2], &b[3]) == 4);
      for (int i = 0; i < 4; ++i)
        a.ip[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(b[i]);
      a.port = port;
    }
    n.addr = a;
  }
  r.net = n;
  return r;
}

struct Probe {
  std::string what;
  policy::Request request;
};

std::vector<Probe> Corpus() {
  std::vector<Probe> out;
  struct P {
    const char* path;
    Access access;
  };
  for (const P& p : std::vector<P>{{"/etc/shadow", Access::kRead},
                                   {"/etc/shadow", Access::kMetadata},
                                   {"/home/bob/notes.txt", Access::kRead},
                                   {"/root/.bashrc", Access::kRead},
                                   {"/home/u/.ssh/id_rsa", Access::kRead},
                                   {"/home/u/src/main.c", Access::kRead},
                                   {"/etc/passwd", Access::kWrite},
                                   {"/etc/passwd", Access::kRead},
                                   {"/usr/bin/ls", Access::kWrite},
                                   {"/usr/lib/libc.so.6", Access::kRead},
                                   {"/usr/bin/ls", Access::kExec},
                                   {"/usr/bin/tool", Access::kExec},
                                   {"/tmp/x", Access::kWrite},
                                   {"/tmp/x", Access::kCreate | Access::kChmod},
                                   {"/w/out.txt", Access::kWrite | Access::kCreate},
                                   {"/w/in.txt", Access::kRead},
                                   {"/var/lib/dpkg/status", Access::kDelete},
                                   {"/proc/kcore", Access::kRead},
                                   {"/proc/sys/kernel/core_pattern", Access::kWrite},
                                   {"/dev/sda", Access::kRead},
                                   {"/dev/null", Access::kWrite},
                                   {"/etc/cron.d/evil", Access::kCreate},
                                   {"/opt/app/bin", Access::kChown}}) {
    out.push_back({std::string(p.path), PathRequest(p.path, p.access)});
  }
  using policy::NetVerb;
  out.push_back({"socket inet", NetRequest(NetVerb::kSocket, AF_INET, "")});
  out.push_back({"socket inet6", NetRequest(NetVerb::kSocket, AF_INET6, "")});
  out.push_back({"socket unix", NetRequest(NetVerb::kSocket, AF_UNIX, "")});
  out.push_back({"socket packet", NetRequest(NetVerb::kSocket, AF_PACKET, "")});
  out.push_back(
      {"connect 93.184.216.34:443", NetRequest(NetVerb::kConnect, AF_INET, "93.184.216.34", 443)});
  out.push_back(
      {"connect 127.0.0.1:8080", NetRequest(NetVerb::kConnect, AF_INET, "127.0.0.1", 8080)});
  out.push_back(
      {"connect docker.sock", NetRequest(NetVerb::kConnect, AF_UNIX, "/var/run/docker.sock")});
  out.push_back(
      {"connect dbus", NetRequest(NetVerb::kConnect, AF_UNIX, "/run/dbus/system_bus_socket")});
  out.push_back({"bind unix /w/s", NetRequest(NetVerb::kBind, AF_UNIX, "/w/s")});
  for (std::size_t i = 1; i < policy::kPrimitiveCount; ++i) {
    policy::Request r;
    r.syscall = "ptrace";
    r.primitive = static_cast<policy::Primitive>(i);
    out.push_back({"escape " + std::string(policy::Name(r.primitive)), r});
  }
  return out;
}

}  // namespace

TEST_CASE("presets: every preset is a well-formed document that loads under its name",
          "[presets]") {
  std::set<std::string> names;
  for (const auto& preset : policy::Presets()) {
    std::string name(preset.name);
    CAPTURE(name);
    CHECK(names.insert(name).second);
    CHECK_FALSE(preset.summary.empty());
    nlohmann::json doc = nlohmann::json::parse(preset.text);
    CHECK(doc["version"] == 1);
    CHECK(doc["name"] == name);
    CHECK_FALSE(doc.value("description", "").empty());
    // A preset extends only a preset that comes before it.
    if (doc.contains("extends")) {
      std::string base = doc["extends"];
      CHECK(names.count(base) == 1);
    }
    policy::Policy p = Load(name);
    CHECK(p.name == name);
    CHECK(p.chain.back() == name);
  }
  CHECK(std::vector<std::string>(names.begin(), names.end()).size() == kOrder.size());
  for (const auto& level : kOrder) CHECK(names.count(level) == 1);
  CHECK(policy::PresetText("default") == policy::PresetText(policy::kDefaultPreset));
  CHECK_FALSE(policy::PresetText("Standard"));
  CHECK_FALSE(policy::PresetText(""));
}

TEST_CASE("presets: the limits of each level are those the isolation document lists",
          "[presets][docs]") {
  auto rows = TableRows(IsolationDoc(), "Default limits per level");
  // | limit | none | basic, standard | strict | maximum |
  REQUIRE(rows[0].size() == 5);
  const std::vector<std::vector<std::string>> columns{
      {"none"}, {"basic", "standard"}, {"strict"}, {"maximum"}};
  std::set<std::string> seen;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    std::vector<std::string> key = Quoted(rows[r][0]);
    REQUIRE(key.size() == 1);
    auto kind = policy::LimitFromKey(key[0]);
    REQUIRE(kind);
    seen.insert(key[0]);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string& cell = rows[r][c + 1];
      policy::ParsedLimit want = policy::ParseLimitText(policy::InfoOf(*kind).unit, cell);
      REQUIRE(want.error == "");
      for (const auto& level : columns[c]) {
        CAPTURE(key[0], level, cell);
        CHECK(Load(level).limits.Get(*kind) == want.value);
      }
    }
  }
  CHECK(seen.size() == policy::kLimitCount);  // every limit is in the table
}

TEST_CASE("presets: the capabilities of each level are those the isolation document lists",
          "[presets][docs]") {
  auto rows = TableRows(IsolationDoc(), "## Capabilities");
  int checked = 0;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    std::vector<std::string> levels = Quoted(rows[r][0]);
    const std::string& cell = rows[r][1];
    std::optional<policy::CapSet> want;
    if (cell.starts_with("none")) {
      want = 0;
    } else if (cell.starts_with("`")) {
      want = 0;
      std::istringstream names(Quoted(cell)[0]);
      for (std::string n; names >> n;) {
        auto cap = policy::CapFromName(n);
        REQUIRE(cap);
        *want |= policy::CapBit(*cap);
      }
    } else {
      REQUIRE(cell.starts_with("the caller's"));  // inherit
    }
    for (const auto& level : levels) {
      CAPTURE(level, cell);
      CHECK(Load(level).isolation.capabilities == want);
      ++checked;
    }
  }
  CHECK(checked == 5);
}

TEST_CASE("presets: each level decides every probe at least as strictly as the level before",
          "[presets]") {
  std::vector<policy::Policy> levels;
  for (const auto& name : kOrder) levels.push_back(Load(name));
  int stricter = 0;
  for (const Probe& probe : Corpus()) {
    for (std::size_t i = 1; i < levels.size(); ++i) {
      Action before = levels[i - 1].Evaluate(probe.request).action;
      Action now = levels[i].Evaluate(probe.request).action;
      CAPTURE(probe.what, kOrder[i - 1], kOrder[i], policy::Name(before), policy::Name(now));
      CHECK(Rank(now) >= Rank(before));
      stricter += Rank(now) > Rank(before);
    }
  }
  CHECK(stricter > 0);
}

TEST_CASE("presets: each level turns on at least the isolation layers of the level before",
          "[presets]") {
  for (std::size_t i = 1; i < kOrder.size(); ++i) {
    CAPTURE(kOrder[i - 1], kOrder[i]);
    policy::Policy a = Load(kOrder[i - 1]), b = Load(kOrder[i]);
    CHECK((a.isolation.namespaces & ~b.isolation.namespaces) == 0);
    CHECK((!a.isolation.landlock || b.isolation.landlock));
    CHECK((!a.isolation.read_only_root || b.isolation.read_only_root));
    CHECK((!a.isolation.cgroups_required || b.isolation.cgroups_required));
    CHECK((!a.isolation.clean_environment || b.isolation.clean_environment));
    CHECK((!a.isolation.private_workdir || b.isolation.private_workdir));
    // Capabilities: a subset (inherit is every capability).
    policy::CapSet ca = a.isolation.capabilities.value_or(policy::kAllCaps);
    policy::CapSet cb = b.isolation.capabilities.value_or(policy::kAllCaps);
    CHECK((cb & ~ca) == 0);
    // Limits: set where the level before set them, and no larger (output aside: it is a
    // capture size, set at every level).
    for (std::size_t k = 0; k < policy::kLimitCount; ++k) {
      auto kind = static_cast<policy::LimitKind>(k);
      CAPTURE(policy::InfoOf(kind).key);
      auto la = a.limits.Get(kind), lb = b.limits.Get(kind);
      if (la) {
        REQUIRE(lb);
        CHECK(*lb <= *la);
      }
    }
  }
}

TEST_CASE("presets: the levels do what their descriptions say", "[presets]") {
  using policy::NetVerb;
  auto action = [](const policy::Policy& p, const policy::Request& r) {
    return p.Evaluate(r).action;
  };
  policy::Policy none = Load("none"), basic = Load("basic"), standard = Load("standard"),
                 strict = Load("strict"), maximum = Load("maximum");
  // none: everything allowed, escapes recorded as escape_attempt.
  for (const Probe& probe : Corpus()) {
    CAPTURE(probe.what);
    CHECK(action(none, probe.request) == Action::kAllow);
  }
  policy::Request ptrace;
  ptrace.syscall = "ptrace";
  ptrace.primitive = policy::Primitive::kPtrace;
  CHECK(none.Evaluate(ptrace).event == policy::EventType::kEscapeAttempt);
  // basic and every level above: every escape primitive denied; maximum kills. Unknown
  // syscall numbers are no escape: they fail with ENOSYS at every level but none.
  for (std::size_t i = 1; i < policy::kPrimitiveCount; ++i) {
    policy::Request r = ptrace;
    r.primitive = static_cast<policy::Primitive>(i);
    CAPTURE(policy::Name(r.primitive));
    CHECK(action(basic, r) == Action::kDeny);
    CHECK(action(standard, r) == Action::kDeny);
    CHECK(action(strict, r) == Action::kDeny);
    if (r.primitive == policy::Primitive::kUnknownSyscall) {
      for (const policy::Policy* p : {&basic, &standard, &strict, &maximum}) {
        CAPTURE(p->name);
        CHECK(p->Evaluate(r).action == Action::kDeny);
        CHECK(p->Evaluate(r).error == ENOSYS);
      }
    } else {
      CHECK(action(maximum, r) == Action::kKill);
    }
  }
  // basic: files and network open, the host's configuration protected.
  CHECK(action(basic, PathRequest("/home/bob/notes.txt", Access::kRead)) == Action::kAllow);
  CHECK(action(basic, NetRequest(NetVerb::kConnect, AF_INET, "93.184.216.34", 443)) ==
        Action::kAllow);
  CHECK(action(basic, PathRequest("/etc/passwd", Access::kWrite)) == Action::kDeny);
  CHECK(action(basic, PathRequest("/proc/sys/kernel/core_pattern", Access::kWrite)) ==
        Action::kDeny);
  // standard: secrets and other users' files denied, the work and temporary dirs writable,
  // inet connections denied, local sockets allowed.
  CHECK(action(standard, PathRequest("/etc/shadow", Access::kRead)) == Action::kDeny);
  CHECK(action(standard, PathRequest("/home/bob/notes.txt", Access::kRead)) == Action::kDeny);
  CHECK(action(standard, PathRequest("/home/u/.ssh/id_rsa", Access::kRead)) == Action::kDeny);
  CHECK(action(standard, PathRequest("/home/u/src/main.c", Access::kRead)) == Action::kAllow);
  CHECK(action(standard, PathRequest("/usr/bin/ls", Access::kWrite)) == Action::kDeny);
  CHECK(action(standard, PathRequest("/tmp/x", Access::kWrite | Access::kCreate)) ==
        Action::kAllow);
  CHECK(action(standard, PathRequest("/w/out.txt", Access::kWrite)) == Action::kAllow);
  CHECK(action(standard, NetRequest(NetVerb::kConnect, AF_INET, "93.184.216.34", 443)) ==
        Action::kDeny);
  CHECK(action(standard, NetRequest(NetVerb::kBind, AF_UNIX, "/w/s")) == Action::kAllow);
  CHECK(action(standard, PathRequest("/usr/bin/ls", Access::kExec)) == Action::kAllow);
  // strict: only unix sockets, nothing executed but the command.
  CHECK(strict.families == std::vector<int>{AF_UNIX});
  CHECK(action(strict, NetRequest(NetVerb::kSocket, AF_INET, "")) == Action::kDeny);
  CHECK(action(strict, NetRequest(NetVerb::kSocket, AF_UNIX, "")) == Action::kAllow);
  CHECK(action(strict, PathRequest("/usr/bin/ls", Access::kExec)) == Action::kDeny);
  CHECK(action(strict, PathRequest("/usr/bin/tool", Access::kExec)) == Action::kAllow);
  // maximum: system reads and the work dir; anything else kills.
  CHECK(action(maximum, PathRequest("/usr/lib/libc.so.6", Access::kRead)) == Action::kAllow);
  CHECK(action(maximum, PathRequest("/w/out.txt", Access::kWrite | Access::kCreate)) ==
        Action::kAllow);
  CHECK(action(maximum, PathRequest("/etc/shadow", Access::kMetadata)) == Action::kAllow);
  CHECK(action(maximum, PathRequest("/tmp/x", Access::kWrite)) == Action::kKill);
  CHECK(action(maximum, PathRequest("/home/u/src/main.c", Access::kRead)) == Action::kKill);
  CHECK(action(maximum, NetRequest(NetVerb::kSocket, AF_UNIX, "")) == Action::kKill);
}
