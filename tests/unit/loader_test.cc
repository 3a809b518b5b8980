// policy/loader.h: good policies load with every key honoured; bad ones throw policy::PolicyError
// with a location, never anything else; a mutation corpus of the default policy never crashes.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/path.h"
#include "policy/explain.h"
#include "policy/loader.h"
#include "policy/names.h"
#include "policy/presets.h"

namespace {

using policy::Access;
using policy::Action;
using policy::LoadPolicyText;
using policy::Policy;
using policy::PolicyError;

const policy::Variables kVars{{"CWD", "/home/alice/project"},
                              {"WORKDIR", "/home/alice/project"},
                              {"HOME", "/home/alice"},
                              {"TMPDIR", "/var/tmp/alice"},
                              {"COMMAND", "/usr/bin/tool"}};

Policy Load(const std::string& text) { return LoadPolicyText(text, "t.json", kVars); }

const policy::PathRule* FindPathRule(const Policy& p, std::string_view pattern) {
  for (const auto& r : p.path_rules) {
    if (r.pattern.text() == pattern) return &r;
  }
  return nullptr;
}

// Rules of `section` in a policy text and in the presets it extends.
std::size_t CountRules(std::string_view text, const char* section) {
  nlohmann::json doc = nlohmann::json::parse(text);
  std::size_t n =
      doc.contains(section) && doc[section].contains("rules") ? doc[section]["rules"].size() : 0;
  if (doc.contains("extends")) {
    auto base = policy::PresetText(doc["extends"].get<std::string>());
    REQUIRE(base);
    n += CountRules(*base, section);
  }
  return n;
}

const policy::PrimitiveRule& Prim(const Policy& p, policy::Primitive prim) {
  return p.primitives.at(static_cast<std::size_t>(prim));
}

// The message of the PolicyError `text` throws; fails the test when it loads or throws another
// type.
std::string ErrorOf(const std::string& text, const policy::Variables& vars = kVars) {
  try {
    LoadPolicyText(text, "t.json", vars);
  } catch (const PolicyError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("threw something other than PolicyError: " << e.what());
  }
  FAIL("loaded a policy that should have been rejected");
  return {};
}

}  // namespace

TEST_CASE("Loader: the default policy loads with variables expanded", "[loader]") {
  Policy p = LoadPolicyText(policy::DefaultPolicyText(), "default", kVars);
  nlohmann::json doc = nlohmann::json::parse(policy::DefaultPolicyText());

  CHECK(p.name == doc["name"].get<std::string>());
  CHECK(p.source == policy::DefaultPolicyText());
  CHECK(policy::LoadDefaultPolicy(kVars).path_rules.size() == p.path_rules.size());
  // Rules written through a symlink (/lib on a merged-/usr system) get their resolved twin.
  REQUIRE(p.path_rules.size() >= CountRules(policy::DefaultPolicyText(), "files"));
  REQUIRE(p.net_rules.size() == CountRules(policy::DefaultPolicyText(), "network"));
  REQUIRE_FALSE(p.chain.empty());
  CHECK(p.chain.back() == "default");
  for (std::size_t i = 0; i < p.path_rules.size(); ++i) {
    const auto& r = p.path_rules[i];
    const std::string& text = r.pattern.text();
    CAPTURE(i, text, r.id);
    CHECK_THAT(r.id, Catch::Contains("#/files/rules/"));
    CHECK(text.find("${") == std::string::npos);
    CHECK(text[0] == '/');
    if (r.pattern.is_literal()) CHECK(text == base::NormalizePath(text));
    CHECK(Any(r.access));
  }
  CHECK(FindPathRule(p, "/home/alice/.ssh") != nullptr);
  CHECK(FindPathRule(p, "/home/alice/project") != nullptr);
  CHECK(FindPathRule(p, "/var/tmp/alice") != nullptr);

  // Families from the document.
  std::vector<int> families;
  for (const auto& f : doc["network"]["families"]) {
    families.push_back(policy::FamilyFromName(f.get<std::string>()).value());
  }
  CHECK(p.families == families);

  // Every escape primitive is denied; a few are critical.
  for (std::size_t i = 1; i < policy::kPrimitiveCount; ++i) {
    auto prim = static_cast<policy::Primitive>(i);
    CAPTURE(policy::Name(prim));
    const auto& v = p.primitives.at(i).verdict;
    CHECK(v.action == Action::kDeny);
    if (prim == policy::Primitive::kUnknownSyscall) {
      // An unknown syscall fails as on a kernel without it (issue 14).
      CHECK(v.error == ENOSYS);
      CHECK(v.event == policy::EventType::kSyscallBlocked);
      continue;
    }
    CHECK(v.event == policy::EventType::kEscapeAttempt);
    bool critical = prim == policy::Primitive::kForeignAbi || prim == policy::Primitive::kModule ||
                    prim == policy::Primitive::kKexec;
    CHECK(v.severity == (critical ? policy::Severity::kCritical : policy::Severity::kHigh));
    CHECK(v.error == (prim == policy::Primitive::kForeignAbi ? ENOSYS : EPERM));
  }
}

TEST_CASE("Loader: decisions of the default policy", "[loader][evaluate]") {
  Policy p = policy::LoadDefaultPolicy(kVars);
  struct Case {
    const char* path;
    Access access;
    Action action;
  };
  const Case cases[] = {
      {"/etc/shadow", Access::kRead, Action::kDeny},
      {"/etc/passwd", Access::kRead, Action::kAllow},
      {"/etc/passwd", Access::kWrite, Action::kDeny},
      {"/home/alice/.ssh/id_ed25519", Access::kRead, Action::kDeny},
      {"/home/alice/.sshrc", Access::kRead, Action::kAllow},
      {"/home/alice/notes.txt", Access::kRead, Action::kAllow},
      {"/home/bob", Access::kRead, Action::kDeny},  // other users' homes
      {"/home/alice/project/out.txt", Access::kWrite | Access::kCreate, Action::kAllow},
      {"/home/alice/other.txt", Access::kWrite, Action::kDeny},
      {"/var/tmp/alice/x", Access::kCreate, Action::kAllow},
      {"/tmp/x", Access::kWrite | Access::kCreate, Action::kAllow},
      {"/usr/bin/ls", Access::kRead | Access::kExec, Action::kAllow},
      {"/usr/bin/ls", Access::kWrite, Action::kDeny},
      {"/root/.bashrc", Access::kRead, Action::kDeny},
      {"/rootfs/file", Access::kRead, Action::kAllow},
      {"/dev/null", Access::kWrite, Action::kAllow},
      {"/dev/sda", Access::kWrite, Action::kDeny},
      {"/proc/kcore", Access::kRead, Action::kDeny},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path, policy::AccessNames(c.access));
    policy::Request r;
    r.paths[0] = {c.path, c.access, true};
    r.path_count = 1;
    policy::Decision d = p.Evaluate(r);
    CHECK(d.action == c.action);
    if (d.action == Action::kDeny) CHECK(d.error == EACCES);
  }
  SECTION("/proc/kcore is reported as an escape attempt") {
    policy::Request r;
    r.paths[0] = {"/proc/kcore", Access::kRead, true};
    r.path_count = 1;
    CHECK(p.Evaluate(r).event == policy::EventType::kEscapeAttempt);
  }
  SECTION("network") {
    auto connect = [&](policy::SocketAddress a) {
      policy::Request r;
      policy::NetAccess n;
      n.verb = policy::NetVerb::kConnect;
      n.family = a.family;
      n.addr = std::move(a);
      r.net = n;
      return p.Evaluate(r);
    };
    policy::SocketAddress inet;
    inet.family = AF_INET;
    inet.ip = {1, 1, 1, 1};
    inet.port = 443;
    policy::Decision d = connect(inet);
    CHECK(d.action == Action::kDeny);
    CHECK(d.error == EACCES);

    policy::SocketAddress docker;
    docker.family = AF_UNIX;
    docker.unix_path = "/run/docker.sock";
    d = connect(docker);
    CHECK(d.action == Action::kDeny);
    CHECK(d.event == policy::EventType::kEscapeAttempt);

    // Another process's socket is a daemon's outside the sandbox (tmux, systemd, D-Bus): denied;
    // the same socket bound by the traced tree itself is its own, and so are a few services.
    docker.unix_path = "/tmp/app.sock";
    d = connect(docker);
    CHECK(d.action == Action::kDeny);
    CHECK(d.event == policy::EventType::kEscapeAttempt);
    {
      policy::Request own;
      own.net = policy::NetAccess{policy::NetVerb::kConnect, AF_UNIX, -1, -1, docker};
      own.net->own_socket = true;
      CHECK(p.Evaluate(own).action == Action::kAllow);
    }
    docker.unix_path = "/dev/log";
    CHECK(connect(docker).action == Action::kAllow);

    policy::Request sock;
    policy::NetAccess n;
    n.verb = policy::NetVerb::kSocket;
    n.family = AF_PACKET;
    sock.net = n;
    d = p.Evaluate(sock);
    CHECK(d.action == Action::kDeny);
    CHECK(d.error == EAFNOSUPPORT);
  }
}

TEST_CASE("Loader: a minimal policy fails closed", "[loader]") {
  Policy p = Load(R"({"version": 1})");
  CHECK(p.name == "t.json");
  CHECK(p.path_rules.empty());
  CHECK(p.net_rules.empty());
  CHECK(p.path_default.verdict.action == Action::kAllow);
  CHECK(p.net_default.verdict.action == Action::kDeny);
  CHECK(p.family_default.verdict.action == Action::kDeny);
  CHECK(p.family_default.verdict.error == EAFNOSUPPORT);
  CHECK(p.families == std::vector<int>{AF_UNIX, AF_INET, AF_INET6, AF_NETLINK});
  for (std::size_t i = 1; i < policy::kPrimitiveCount; ++i) {
    CAPTURE(i);
    CHECK(p.primitives.at(i).verdict.action == Action::kDeny);
    bool unknown = i == static_cast<std::size_t>(policy::Primitive::kUnknownSyscall);
    CHECK(p.primitives.at(i).verdict.error == (unknown ? ENOSYS : EPERM));
  }
}

TEST_CASE("Loader: verdict defaults and overrides", "[loader]") {
  Policy p = Load(R"({
    "version": 1,
    "name": "custom",
    "files": {
      "default": {"action": "deny"},
      "rules": [
        {"path": "/a", "access": ["read"], "action": "deny"},
        {"path": "/b", "access": ["read"], "action": "deny", "errno": "EPERM",
         "event": "suspicious_behavior", "severity": "critical", "id": "my-rule"},
        {"path": "/c", "access": ["write"], "action": "allow"},
        {"path": "/d", "access": ["exec"], "action": "kill"}
      ]
    },
    "network": {
      "family_default": {"action": "deny"},
      "default": {"action": "allow"}
    },
    "escapes": {"default": {"action": "kill"}, "personality": {"action": "allow"},
                "ptrace": {"action": "deny", "errno": "EACCES"}}
  })");
  CHECK(p.name == "custom");
  CHECK(p.path_default.verdict.action == Action::kDeny);
  CHECK(p.path_default.verdict.error == EACCES);
  CHECK_THAT(p.path_default.id, Catch::StartsWith("t.json:") && Catch::EndsWith("#/files/default"));

  REQUIRE(p.path_rules.size() == 4);
  const auto& a = p.path_rules[0];
  CHECK_THAT(a.id, Catch::StartsWith("t.json:") && Catch::EndsWith("#/files/rules/0"));
  CHECK(a.verdict.error == EACCES);
  CHECK(a.verdict.event == policy::EventType::kPermissionDenied);
  CHECK(a.verdict.severity == policy::Severity::kMedium);
  const auto& b = p.path_rules[1];
  CHECK_THAT(b.id, Catch::Contains("#/files/rules/1") && Catch::EndsWith("(my-rule)"));
  CHECK(b.verdict.error == EPERM);
  CHECK(b.verdict.event == policy::EventType::kSuspiciousBehavior);
  CHECK(b.verdict.severity == policy::Severity::kCritical);
  const auto& c = p.path_rules[2];
  CHECK(c.verdict.action == Action::kAllow);
  CHECK(c.verdict.error == 0);
  CHECK(c.verdict.event == policy::EventType::kNone);
  CHECK(p.path_rules[3].verdict.action == Action::kKill);

  CHECK(p.family_default.verdict.error == EAFNOSUPPORT);
  CHECK(p.net_default.verdict.action == Action::kAllow);

  CHECK(Prim(p, policy::Primitive::kPersonality).verdict.action == Action::kAllow);
  CHECK(Prim(p, policy::Primitive::kPtrace).verdict.action == Action::kDeny);
  CHECK(Prim(p, policy::Primitive::kPtrace).verdict.error == EACCES);
  CHECK_THAT(Prim(p, policy::Primitive::kPtrace).id, Catch::EndsWith("#/escapes/ptrace"));
  CHECK(Prim(p, policy::Primitive::kBpf).verdict.action == Action::kKill);
  CHECK_THAT(Prim(p, policy::Primitive::kBpf).id, Catch::EndsWith("#/escapes/default"));
}

TEST_CASE("Loader: paths, variables and access lists", "[loader]") {
  Policy p = Load(R"({
    "version": 1,
    "files": {"rules": [
      {"path": "${CWD}/out", "access": ["write", "create"], "action": "allow"},
      {"path": "${HOME}/.config/../.cache//", "access": ["read"], "action": "deny"},
      {"path": "${TMPDIR}", "access": ["delete", "metadata", "chmod", "chown"], "action": "deny"},
      {"path": "${HOME}${TMPDIR}", "access": ["exec"], "action": "deny"},
      {"path": "/literal/$HOME/x", "access": ["read"], "action": "deny"},
      {"path": "${HOME}/**/*.key", "access": ["read"], "action": "deny", "notes": "keys"}
    ]}
  })");
  REQUIRE(p.path_rules.size() == 6);
  CHECK(p.path_rules[0].pattern.text() == "/home/alice/project/out");
  CHECK(p.path_rules[0].access == (Access::kWrite | Access::kCreate));
  CHECK(p.path_rules[1].pattern.text() == "/home/alice/.cache");
  CHECK(p.path_rules[2].pattern.text() == "/var/tmp/alice");
  CHECK(p.path_rules[2].access ==
        (Access::kDelete | Access::kMetadata | Access::kChmod | Access::kChown));
  CHECK(p.path_rules[3].pattern.text() == "/home/alice/var/tmp/alice");
  CHECK(p.path_rules[4].pattern.text() == "/literal/$HOME/x");
  CHECK_FALSE(p.path_rules[5].pattern.is_literal());
  CHECK(p.path_rules[5].pattern.Matches("/home/alice/a/b/id.key"));
  CHECK_FALSE(p.path_rules[5].pattern.Matches("/home/bob/id.key"));

  SECTION("custom variables are used, not the process environment") {
    policy::Variables vars{{"CWD", "/w"}, {"HOME", "/h"}, {"TMPDIR", "/t"}, {"EXTRA", "/e"}};
    Policy q = LoadPolicyText(
        R"({"version": 1, "files": {"rules": [
             {"path": "${EXTRA}/${CWD}", "access": ["read"], "action": "deny"}]}})",
        "v.json", vars);
    REQUIRE(q.path_rules.size() == 1);
    CHECK(q.path_rules[0].pattern.text() == "/e/w");
  }
}

TEST_CASE("Loader: DefaultVariables are absolute and normalised", "[loader]") {
  policy::Variables vars = policy::DefaultVariables();
  for (const char* name : {"CWD", "WORKDIR", "HOME", "TMPDIR"}) {
    CAPTURE(name);
    REQUIRE(vars.count(name) == 1);
    const std::string& v = vars.at(name);
    REQUIRE_FALSE(v.empty());
    CHECK(v[0] == '/');
    CHECK(v == base::NormalizePath(v));
  }
}

TEST_CASE("Loader: network rules", "[loader]") {
  Policy p = Load(R"({
    "version": 1,
    "network": {
      "families": ["inet", "unix"],
      "rules": [
        {"cidr": "127.0.0.0/8", "ports": "8000-8100", "verbs": ["connect"], "action": "allow"},
        {"cidr": "::1", "ports": "22", "action": "allow"},
        {"unix": "/run//docker.sock/", "action": "deny", "event": "escape_attempt"},
        {"unix": "@abstract-prefix*", "verbs": ["bind", "listen", "accept"], "action": "allow"},
        {"family": "inet6", "cidr": "2001:db8::/32", "ports": "0", "action": "kill"},
        {"cidr": "10.0.0.1", "ports": "0-65535", "verbs": ["send"], "action": "allow"}
      ]
    }
  })");
  auto bit = [](policy::NetVerb v) { return 1u << static_cast<unsigned>(v); };
  CHECK(p.families == std::vector<int>{AF_INET, AF_UNIX});
  REQUIRE(p.net_rules.size() == 6);

  const auto& lo = p.net_rules[0];
  REQUIRE(lo.cidr);
  CHECK(lo.cidr->family == AF_INET);
  CHECK(lo.cidr->prefix_len == 8);
  CHECK(lo.cidr->ip[0] == 127);
  CHECK(lo.port_lo == 8000);
  CHECK(lo.port_hi == 8100);
  CHECK(lo.verbs == bit(policy::NetVerb::kConnect));
  CHECK_FALSE(lo.family);

  const auto& ssh = p.net_rules[1];
  REQUIRE(ssh.cidr);
  CHECK(ssh.cidr->family == AF_INET6);
  CHECK(ssh.cidr->prefix_len == 128);
  CHECK(ssh.cidr->ip[15] == 1);
  CHECK(ssh.port_lo == 22);
  CHECK(ssh.port_hi == 22);
  // Default verbs: connect and send.
  CHECK(ssh.verbs == (bit(policy::NetVerb::kConnect) | bit(policy::NetVerb::kSend)));

  const auto& docker = p.net_rules[2];
  REQUIRE(docker.unix_path);
  CHECK(docker.unix_path->text() == "/run/docker.sock");
  CHECK_FALSE(docker.abstract);
  CHECK(docker.family == AF_UNIX);
  CHECK(docker.verdict.event == policy::EventType::kEscapeAttempt);

  const auto& abs = p.net_rules[3];
  REQUIRE(abs.abstract);
  CHECK(*abs.abstract == "abstract-prefix*");
  CHECK_FALSE(abs.unix_path);
  CHECK(abs.family == AF_UNIX);
  CHECK(abs.verbs == (bit(policy::NetVerb::kBind) | bit(policy::NetVerb::kListen) |
                      bit(policy::NetVerb::kAccept)));

  const auto& v6 = p.net_rules[4];
  CHECK(v6.family == AF_INET6);
  CHECK(v6.cidr->prefix_len == 32);
  CHECK(v6.port_lo == 0);
  CHECK(v6.port_hi == 0);
  CHECK(v6.verdict.action == Action::kKill);

  CHECK(p.net_rules[5].cidr->prefix_len == 32);
  CHECK(p.net_rules[5].port_lo == 0);
  CHECK(p.net_rules[5].port_hi == 65535);
}

TEST_CASE("Loader: extends default adds rules and replaces defaults", "[loader]") {
  Policy base = policy::LoadDefaultPolicy(kVars);
  Policy p = Load(R"({
    "version": 1,
    "name": "mine",
    "extends": "default",
    "files": {
      "default": {"action": "deny"},
      "rules": [{"path": "/data/out", "access": ["write", "create"], "action": "allow"}]
    },
    "network": {"families": ["unix"]},
    "escapes": {"personality": {"action": "allow"}}
  })");
  CHECK(p.name == "mine");
  REQUIRE(p.path_rules.size() == base.path_rules.size() + 1);
  for (std::size_t i = 0; i < base.path_rules.size(); ++i) {
    CHECK(p.path_rules[i].pattern.text() == base.path_rules[i].pattern.text());
    CHECK(p.path_rules[i].access == base.path_rules[i].access);
  }
  CHECK(p.path_rules.back().pattern.text() == "/data/out");
  CHECK_THAT(p.path_rules.back().id,
             Catch::StartsWith("t.json:") && Catch::EndsWith("#/files/rules/0"));
  REQUIRE_FALSE(p.chain.empty());
  CHECK(p.chain.back() == "t.json");
  CHECK(p.path_default.verdict.action == Action::kDeny);
  CHECK(p.net_rules.size() == base.net_rules.size());
  CHECK(p.families == std::vector<int>{AF_UNIX});
  CHECK(Prim(p, policy::Primitive::kPersonality).verdict.action == Action::kAllow);
  CHECK(Prim(p, policy::Primitive::kKexec).verdict.severity == policy::Severity::kCritical);
  CHECK(p.source.find("\"extends\"") != std::string::npos);
}

TEST_CASE("Loader: a document of exactly the size limit loads", "[loader]") {
  std::string text = R"({"version": 1})";
  text.resize(policy::kMaxPolicyBytes, ' ');
  CHECK_NOTHROW(Load(text));
  text += ' ';
  CHECK_THAT(ErrorOf(text), Catch::Contains("limit"));
}

TEST_CASE("Loader: nesting of 32 levels is parsed, 33 is refused", "[loader]") {
  auto nested = [](int levels) {  // the top-level object is level 1
    std::string s = R"({"version": 1, "name": )";
    s += std::string(static_cast<std::size_t>(levels - 1), '[') + "1" +
         std::string(static_cast<std::size_t>(levels - 1), ']') + "}";
    return s;
  };
  // 32 levels parse, then fail on meaning ("name" is not a string).
  std::string at_limit = ErrorOf(nested(32));
  CHECK_THAT(at_limit, Catch::Contains("#/name"));
  CHECK_THAT(at_limit, !Catch::Contains("nesting"));
  CHECK_THAT(ErrorOf(nested(33)), Catch::Contains("nesting deeper than 32"));
  CHECK_THAT(ErrorOf(nested(100000)), Catch::Contains("nesting deeper than 32"));
  CHECK_THAT(ErrorOf(std::string(1000000, '[')), Catch::Contains("nesting deeper than 32"));
}

TEST_CASE("Loader: syntax errors name origin:line:column", "[loader]") {
  struct Case {
    const char* text;
    const char* location;
  };
  const Case cases[] = {
      {"", "t.json:1:1:"},
      {"{\"version\": 1,\n  \"name\": x}", "t.json:2:11:"},
      {"{\"version\": 1,\n  \"files\": {", "t.json:2:13:"},  // end of input, one past the end
      {"{\"version\": 1", "t.json:1:14:"},
      {"{\"version\": 1,}", "t.json:1:15:"},
      {"{\n\n\n   \"version\" 1}", "t.json:4:14:"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    std::string msg = ErrorOf(c.text);
    CHECK_THAT(msg, Catch::StartsWith(c.location));
    CHECK_THAT(msg, Catch::Contains("invalid JSON"));
  }
}

TEST_CASE("Loader: errors of meaning name line:column and the JSON pointer", "[loader]") {
  struct Case {
    const char* text;
    const char* location;
    const char* pointer;
  };
  const Case cases[] = {
      {"{\"version\": 1,\n  \"name\": 5}", "t.json:2:11:", "#/name"},
      {"{\"version\": 2}", "t.json:1:13:", "#/version"},
      {"{\n \"version\": 1,\n \"files\": {\"rules\": [\n  {\"path\": \"/x\", \"access\": "
       "[\"sniff\"],"
       " \"action\": \"deny\"}]}}",
       "t.json:4:29:", "#/files/rules/0/access/0"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    std::string msg = ErrorOf(c.text);
    CHECK_THAT(msg, Catch::StartsWith(c.location));
    CHECK_THAT(msg, Catch::Contains(c.pointer));
  }
}

TEST_CASE("Loader: every bad policy throws PolicyError with a useful message", "[loader]") {
  struct Case {
    const char* what;
    std::string text;
    std::vector<std::string> needles;
  };
  auto files = [](const std::string& rule) {
    return R"({"version": 1, "files": {"rules": [)" + rule + "]}}";
  };
  auto net = [](const std::string& rule) {
    return R"({"version": 1, "network": {"rules": [)" + rule + "]}}";
  };
  const std::string big(policy::kMaxPolicyBytes + 1, ' ');
  const Case cases[] = {
      {"truncated", R"({"version": 1, "files": {"rules": [{"path": "/x")", {"t.json:1:", "JSON"}},
      {"top level array", "[]", {"expected an object"}},
      {"top level string", "\"x\"", {"expected an object"}},
      {"missing version", R"({"name": "x"})", {"missing \"version\""}},
      {"version 2", R"({"version": 2})", {"#/version", "unsupported version"}},
      {"version as string", R"({"version": "1"})", {"#/version", "unsupported version"}},
      {"version as float", R"({"version": 1.5})", {"#/version"}},
      {"unknown root key",
       R"({"version": 1, "filez": {}})",
       {"#/filez", "unknown key \"filez\"", "allowed here:", "version", "name", "extends", "files",
        "network", "escapes"}},
      {"unknown rule key",
       files(R"({"path": "/x", "acess": ["read"], "action": "deny"})"),
       {"#/files/rules/0/acess", "unknown key \"acess\"", "allowed here:", "path", "access",
        "action", "errno", "event", "severity", "id"}},
      {"unknown network key",
       R"({"version": 1, "network": {"rulez": []}})",
       {"#/network/rulez", "unknown key \"rulez\"", "families", "family_default", "rules"}},
      {"unknown verdict key",
       R"({"version": 1, "files": {"default": {"action": "allow", "why": 1}}})",
       {"#/files/default/why", "unknown key \"why\"", "action", "errno", "event", "severity"}},
      {"name not a string", R"({"version": 1, "name": 5})", {"#/name", "expected a string"}},
      {"files not an object", R"({"version": 1, "files": []})", {"#/files", "expected an object"}},
      {"rules not an array",
       R"({"version": 1, "files": {"rules": {}}})",
       {"#/files/rules", "expected an array"}},
      {"rule not an object", files("42"), {"#/files/rules/0", "expected an object"}},
      {"access not an array",
       files(R"({"path": "/x", "access": "read", "action": "deny"})"),
       {"#/files/rules/0/access", "non-empty array"}},
      {"access empty",
       files(R"({"path": "/x", "access": [], "action": "deny"})"),
       {"#/files/rules/0/access"}},
      {"access missing", files(R"({"path": "/x", "action": "deny"})"), {"#/files/rules/0/access"}},
      {"access item not a string",
       files(R"({"path": "/x", "access": [1], "action": "deny"})"),
       {"#/files/rules/0/access/0", "expected a string"}},
      {"unknown access",
       files(R"({"path": "/x", "access": ["read", "sniff"], "action": "deny"})"),
       {"#/files/rules/0/access/1", "unknown access kind \"sniff\""}},
      {"path missing",
       files(R"({"access": ["read"], "action": "deny"})"),
       {"#/files/rules/0", "missing \"path\""}},
      {"path not a string",
       files(R"({"path": ["/x"], "access": ["read"], "action": "deny"})"),
       {"#/files/rules/0/path", "expected a string"}},
      {"relative path",
       files(R"({"path": "etc/passwd", "access": ["read"], "action": "deny"})"),
       {"#/files/rules/0/path", "absolute"}},
      {"empty path",
       files(R"({"path": "", "access": ["read"], "action": "deny"})"),
       {"#/files/rules/0/path", "absolute"}},
      {"unterminated class",
       files(R"({"path": "/a/[bc", "access": ["read"], "action": "deny"})"),
       {"#/files/rules/0/path", "unterminated"}},
      {"** inside a component",
       files(R"({"path": "/a**b", "access": ["read"], "action": "deny"})"),
       {"#/files/rules/0/path", "**"}},
      {"dot-dot in a pattern",
       files(R"({"path": "/a/*/../b", "access": ["read"], "action": "deny"})"),
       {"#/files/rules/0/path", ".."}},
      {"unknown variable",
       files(R"({"path": "${NOPE}/x", "access": ["read"], "action": "deny"})"),
       {"#/files/rules/0/path", "unknown variable ${NOPE}", "CWD", "HOME", "TMPDIR"}},
      {"unterminated variable",
       files(R"({"path": "${HOME/x", "access": ["read"], "action": "deny"})"),
       {"#/files/rules/0/path", "unterminated variable"}},
      {"action missing",
       files(R"({"path": "/x", "access": ["read"]})"),
       {"#/files/rules/0", "missing \"action\""}},
      {"unknown action",
       files(R"({"path": "/x", "access": ["read"], "action": "maybe"})"),
       {"#/files/rules/0/action", "unknown action \"maybe\""}},
      {"action not a string",
       files(R"({"path": "/x", "access": ["read"], "action": true})"),
       {"#/files/rules/0/action", "expected a string"}},
      {"unknown errno",
       files(R"({"path": "/x", "access": ["read"], "action": "deny", "errno": "EWHAT"})"),
       {"#/files/rules/0/errno", "unknown errno \"EWHAT\""}},
      {"errno as number",
       files(R"({"path": "/x", "access": ["read"], "action": "deny", "errno": 13})"),
       {"#/files/rules/0/errno", "expected a string"}},
      {"errno with allow",
       files(R"({"path": "/x", "access": ["read"], "action": "allow", "errno": "EPERM"})"),
       {"#/files/rules/0/errno", "only applies to action deny"}},
      {"unknown event",
       files(R"({"path": "/x", "access": ["read"], "action": "deny", "event": "oops"})"),
       {"#/files/rules/0/event", "unknown event type \"oops\""}},
      {"unknown severity",
       files(R"({"path": "/x", "access": ["read"], "action": "deny", "severity": "severe"})"),
       {"#/files/rules/0/severity", "unknown severity \"severe\""}},
      {"unknown family in list",
       R"({"version": 1, "network": {"families": ["inet", "inet7"]}})",
       {"#/network/families/1", "unknown socket family \"inet7\""}},
      {"families not an array",
       R"({"version": 1, "network": {"families": "inet"}})",
       {"#/network/families", "expected an array"}},
      {"unknown rule family",
       net(R"({"family": "ipx", "action": "deny"})"),
       {"#/network/rules/0/family", "unknown socket family \"ipx\""}},
      {"unknown verb",
       net(R"({"verbs": ["connect", "teleport"], "action": "deny"})"),
       {"#/network/rules/0/verbs/1", "unknown verb \"teleport\""}},
      {"socket is not a rule verb",
       net(R"({"verbs": ["socket"], "action": "deny"})"),
       {"#/network/rules/0/verbs/0", "unknown verb \"socket\""}},
      {"verbs not an array",
       net(R"({"verbs": "connect", "action": "deny"})"),
       {"#/network/rules/0/verbs"}},
      {"bad CIDR address",
       net(R"({"cidr": "300.0.0.0/8", "action": "deny"})"),
       {"#/network/rules/0/cidr", "bad address \"300.0.0.0/8\""}},
      {"CIDR is a name",
       net(R"({"cidr": "localhost", "action": "deny"})"),
       {"#/network/rules/0/cidr", "bad address"}},
      {"CIDR without address",
       net(R"({"cidr": "/8", "action": "deny"})"),
       {"#/network/rules/0/cidr", "bad address"}},
      {"IPv4 prefix too long",
       net(R"({"cidr": "10.0.0.0/33", "action": "deny"})"),
       {"#/network/rules/0/cidr", "bad prefix length", "0-32"}},
      {"IPv6 prefix too long",
       net(R"({"cidr": "::1/129", "action": "deny"})"),
       {"#/network/rules/0/cidr", "bad prefix length", "0-128"}},
      {"empty prefix", net(R"({"cidr": "10.0.0.0/", "action": "deny"})"), {"bad prefix length"}},
      {"negative prefix",
       net(R"({"cidr": "10.0.0.0/-1", "action": "deny"})"),
       {"bad prefix length"}},
      {"prefix with junk",
       net(R"({"cidr": "10.0.0.0/8x", "action": "deny"})"),
       {"bad prefix length"}},
      {"CIDR family mismatch",
       net(R"({"family": "inet6", "cidr": "10.0.0.0/8", "action": "deny"})"),
       {"#/network/rules/0/cidr", "does not match"}},
      {"port too big",
       net(R"({"ports": "70000", "action": "deny"})"),
       {"#/network/rules/0/ports", "bad port \"70000\""}},
      {"port not a number", net(R"({"ports": "http", "action": "deny"})"), {"bad port \"http\""}},
      {"empty port", net(R"({"ports": "", "action": "deny"})"), {"bad port"}},
      {"open range", net(R"({"ports": "80-", "action": "deny"})"), {"bad port"}},
      {"range without start", net(R"({"ports": "-80", "action": "deny"})"), {"bad port"}},
      {"three-part range", net(R"({"ports": "1-2-3", "action": "deny"})"), {"bad port"}},
      {"port as number",
       net(R"({"ports": 80, "action": "deny"})"),
       {"#/network/rules/0/ports", "expected a string"}},
      {"reversed range",
       net(R"({"ports": "9000-8000", "action": "deny"})"),
       {"#/network/rules/0/ports", "reversed"}},
      {"relative unix path",
       net(R"({"unix": "run/x.sock", "action": "deny"})"),
       {"#/network/rules/0/unix", "@abstract-name"}},
      {"bad unix pattern",
       net(R"({"unix": "/run/[x", "action": "deny"})"),
       {"#/network/rules/0/unix", "unterminated"}},
      {"unknown primitive",
       R"({"version": 1, "escapes": {"teleport": {"action": "deny"}}})",
       {"#/escapes/teleport", "unknown escape primitive \"teleport\"", "ptrace", "system_admin"}},
      {"none is not a primitive",
       R"({"version": 1, "escapes": {"none": {"action": "allow"}}})",
       {"unknown escape primitive \"none\""}},
      {"escapes not an object",
       R"({"version": 1, "escapes": ["ptrace"]})",
       {"#/escapes", "expected an object"}},
      {"escape verdict not an object",
       R"({"version": 1, "escapes": {"ptrace": "deny"}})",
       {"#/escapes/ptrace", "expected an object"}},
      {"unknown base",
       R"({"version": 1, "extends": "nonsense"})",
       {"#/extends", "unknown preset \"nonsense\""}},
      {"missing base file",
       R"({"version": 1, "extends": "/nonexistent/base.json"})",
       {"#/extends", "/nonexistent/base.json"}},
      {"base not a string", R"({"version": 1, "extends": 1})", {"#/extends"}},
      {"too big", big, {"t.json:", "limit"}},
      {"nesting",
       R"({"version": 1, "name": )" + std::string(40, '[') + std::string(40, ']') + "}",
       {"nesting deeper than 32 levels"}},
      {"invalid UTF-8 in a string",
       "{\"version\": 1, \"name\": \"ab\xff\xfe\"}",
       {"t.json:1:", "invalid JSON"}},
      {"overlong UTF-8 in a key", "{\"version\": 1, \"\xc0\xaf\": 1}", {"t.json:1:"}},
      {"NUL byte", std::string("{\"version\": 1,\0 \"name\": \"x\"}", 28), {"t.json:1:"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    std::string msg = ErrorOf(c.text);
    CHECK_THAT(msg, Catch::StartsWith("t.json"));
    for (const auto& needle : c.needles) CHECK_THAT(msg, Catch::Contains(needle));
  }
}

TEST_CASE("Loader: a variable that expands to a relative path is refused", "[loader]") {
  policy::Variables vars = kVars;
  vars["HOME"] = "relative/home";
  std::string msg = ErrorOf(
      R"({"version": 1, "files": {"rules": [
           {"path": "${HOME}/.ssh", "access": ["read"], "action": "deny"}]}})",
      vars);
  CHECK_THAT(msg, Catch::Contains("absolute"));
  // The built-in policy uses ${HOME} too: extending it fails the same way, with an error.
  CHECK_THAT(ErrorOf(R"({"version": 1, "extends": "default"})", vars), Catch::Contains("absolute"));
}

TEST_CASE("Loader: mutated default policies load or throw PolicyError, nothing else",
          "[loader][fuzz]") {
  const std::string seed_text(policy::DefaultPolicyText());
  std::mt19937 rng(20240601u);
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n == 0 ? 0 : n - 1)(rng);
  };
  static constexpr char kInteresting[] = "{}[]\",:\\$/0123456789-.e@ \n\x00\xff\xc3";
  const std::string interesting(kInteresting, sizeof kInteresting - 1);
  int loaded = 0;
  int rejected = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string text = seed_text;
    int mutations = 1 + static_cast<int>(pick(4));
    for (int m = 0; m < mutations; ++m) {
      switch (pick(6)) {
        case 0:  // delete a byte
          if (!text.empty()) text.erase(pick(text.size()), 1);
          break;
        case 1:  // insert an interesting byte
          text.insert(pick(text.size() + 1), 1, interesting[pick(interesting.size())]);
          break;
        case 2:  // insert a random byte
          text.insert(pick(text.size() + 1), 1, static_cast<char>(pick(256)));
          break;
        case 3:  // flip a bit
          if (!text.empty()) text[pick(text.size())] ^= static_cast<char>(1u << pick(8));
          break;
        case 4:  // truncate
          text.resize(pick(text.size() + 1));
          break;
        case 5: {  // duplicate a slice
          std::size_t from = pick(text.size() + 1);
          std::size_t len = std::min<std::size_t>(pick(64), text.size() - from);
          text.insert(pick(text.size() + 1), text.substr(from, len));
          break;
        }
      }
    }
    try {
      Policy p = LoadPolicyText(text, "fuzz.json", kVars);
      ++loaded;
      CHECK(p.source == text);
    } catch (const PolicyError&) {
      ++rejected;
    } catch (const std::exception& e) {
      FAIL("iteration " << iteration << ": unexpected exception " << e.what());
    }
  }
  // Both outcomes occur, or the mutations did not exercise the loader.
  CHECK(loaded > 0);
  CHECK(rejected > 0);
  CHECK(loaded + rejected == 3000);
}

// Fixed regression (policy/loader.cc, Parse): only json::parse_error is translated into
// PolicyError, but nlohmann reports a number too large for a double ("1e999") as json::out_of_range
// (406), which escapes LoadPolicyText. Expected: PolicyError "t.json:1:13: invalid JSON ...".
// Actual: nlohmann::json::out_of_range "[json.exception.out_of_range.406] number overflow parsing
// '1e999'". A policy file can thus crash `tracejail run --policy` with an uncaught exception.
TEST_CASE("regression: loader: a number overflow must throw PolicyError", "[loader]") {
  for (const char* text : {R"({"version": 1e999})", R"({"version": 1, "name": -1e400})",
                           R"({"version": 1, "files": {"rules": [1e309]}})"}) {
    CAPTURE(text);
    CHECK_THROWS_AS(LoadPolicyText(text, "t.json", kVars), PolicyError);
  }
}

// Fixed regression (policy/loader.cc ParseCidr, inet_pton(addr.c_str())): a CIDR string with an
// embedded NUL (JSON "\u0000") is cut at the NUL by c_str(), so "10.0.0.0\u0000junk/8" is accepted
// as 10.0.0.0/8 instead of being refused as a bad address.
TEST_CASE("regression: loader: a CIDR with an embedded NUL is refused", "[loader]") {
  std::string text =
      R"({"version": 1, "network": {"rules": [{"cidr": "10.0.0.0\u0000junk/8", "action": "deny"}]}})";
  CHECK_THROWS_AS(Load(text), PolicyError);
}

TEST_CASE("Loader: every preset loads and names itself", "[loader]") {
  REQUIRE_FALSE(policy::Presets().empty());
  for (const auto& preset : policy::Presets()) {
    CAPTURE(preset.name);
    std::optional<Policy> p = policy::LoadPreset(preset.name, kVars);
    REQUIRE(p);
    CHECK(p->name == preset.name);
    CHECK(p->source == preset.text);
    CHECK(policy::PresetText(preset.name) == preset.text);
  }
  CHECK_FALSE(policy::LoadPreset("nope", kVars));
  std::optional<Policy> by_alias = policy::LoadPreset("default", kVars);
  REQUIRE(by_alias);
  CHECK(by_alias->name == policy::kDefaultPreset);
  CHECK(policy::DefaultPolicyText() == *policy::PresetText(policy::kDefaultPreset));
}

// Fixed regression (policy/presets.cc, "standard" preset, rule "other-users" {"path": "/home/*"}):
// a pattern with a wildcard matches whole paths only (policy/glob.h), so "/home/*" denies reading
// the directories /home/bob themselves but not any file inside them: /home/bob/.ssh/id_rsa and
// /home/bob/notes.txt fall through to the files default (allow). The preset's description
// promises "other users' files ... are denied". "/home/*/**" (or a literal-prefix form) was
// probably meant.
TEST_CASE("regression: presets: the default policy denies reading files in other users' homes",
          "[loader]") {
  Policy p = policy::LoadDefaultPolicy(kVars);  // HOME=/home/alice
  for (const char* path : {"/home/bob/.ssh/id_rsa", "/home/bob/notes.txt"}) {
    CAPTURE(path);
    policy::Request r;
    r.paths[0] = {path, Access::kRead, true};
    r.path_count = 1;
    CHECK(p.Evaluate(r).action == Action::kDeny);
  }
}

TEST_CASE("Loader: a rule written through a symlink also applies to what it resolves to",
          "[loader]") {
  char tmpl[] = "/tmp/tj-loader-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  REQUIRE(mkdir((dir + "/real").c_str(), 0755) == 0);
  REQUIRE(symlink("real", (dir + "/link").c_str()) == 0);
  Policy p = LoadPolicyText(R"({"version": 1, "files": {"default": {"action": "allow"},
      "rules": [{"path": ")" + dir +
                                R"(/link/secret", "access": ["read"], "action": "deny"},
                {"path": ")" + dir +
                                R"(/link/*.key", "access": ["read"], "action": "deny"}]}})",
                            "test", kVars);
  auto read = [&](const std::string& path) {
    policy::Request r;
    r.path_count = 1;
    r.paths[0] = {path, Access::kRead, true};
    return p.Evaluate(r).action;
  };
  CHECK(read(dir + "/real/secret") == Action::kDeny);
  CHECK(read(dir + "/real/secret/x") == Action::kDeny);
  CHECK(read(dir + "/real/a.key") == Action::kDeny);
  CHECK(read(dir + "/link/secret") == Action::kDeny);
  CHECK(read(dir + "/real/other") == Action::kAllow);
  std::remove((dir + "/link").c_str());
  rmdir((dir + "/real").c_str());
  rmdir(dir.c_str());
}

// docs/policy.md, Escapes: a backslash makes the next character literal; a variable's value is a
// name, never a pattern.
TEST_CASE("Loader: escaped paths and escaped variable values", "[loader][escape]") {
  policy::Variables vars = kVars;
  vars["HOME"] = "/h/a*b[1]{x}$y\\z";
  Policy p = LoadPolicyText(R"({"version": 1, "files": {"rules": [
      {"path": "/x/\\${HOME}/y", "access": ["read"], "action": "deny"},
      {"path": "${HOME}/.ssh", "access": ["read"], "action": "deny"},
      {"path": "${HOME}/**/*.key", "access": ["read"], "action": "deny"},
      {"path": "/x/\\\\${HOME}", "access": ["read"], "action": "deny"},
      {"path": "/home/\\*\\*", "access": ["read"], "action": "allow"}
    ]}})",
                            "t.json", vars);
  REQUIRE(p.path_rules.size() == 5);
  // "\${HOME}" is the name "${HOME}".
  CHECK(p.path_rules[0].pattern.is_literal());
  CHECK(p.path_rules[0].pattern.text() == "/x/${HOME}/y");
  // HOME's "*", "[", "{", "$" and "\" are characters of its name.
  const auto& ssh = p.path_rules[1].pattern;
  CHECK(ssh.is_literal());
  CHECK(ssh.text() == "/h/a*b[1]{x}$y\\z/.ssh");
  CHECK(ssh.Matches("/h/a*b[1]{x}$y\\z/.ssh/id_rsa"));
  CHECK_FALSE(ssh.Matches("/h/aXXb1{x}$y\\z/.ssh"));
  const auto& keys = p.path_rules[2].pattern;
  CHECK_FALSE(keys.is_literal());
  CHECK(keys.anchor() == "/h/a*b[1]{x}$y\\z");
  CHECK(keys.Matches("/h/a*b[1]{x}$y\\z/d/id.key"));
  CHECK_FALSE(keys.Matches("/h/ab1{x}$y\\z/d/id.key"));
  CHECK_FALSE(keys.Matches("/h/aqb1{x}$y\\z/id.key"));
  // "\\${HOME}": a backslash, then the variable.
  CHECK(p.path_rules[3].pattern.text() == "/x/\\/h/a*b[1]{x}$y\\z");
  CHECK(p.path_rules[4].pattern.text() == "/home/**");
  CHECK(p.DecidePathAccess("/home/**", Access::kRead).action == Action::kAllow);

  SECTION("a unix socket path and an abstract name take escapes too") {
    Policy q = LoadPolicyText(R"({"version": 1, "network": {"rules": [
        {"unix": "/x${HOME}/s\\*.sock", "action": "deny"},
        {"unix": "@name\\*[0-9]", "action": "deny"}]}})",
                              "t.json", vars);
    REQUIRE(q.net_rules.size() == 2);
    REQUIRE(q.net_rules[0].unix_path);
    CHECK(q.net_rules[0].unix_path->Matches("/x/h/a*b[1]{x}$y\\z/s*.sock"));
    CHECK_FALSE(q.net_rules[0].unix_path->Matches("/x/h/a*b[1]{x}$y\\z/sX.sock"));
    CHECK_FALSE(q.net_rules[0].unix_path->Matches("/x/h/ab1{x}$y\\z/s*.sock"));
    REQUIRE(q.net_rules[1].abstract);
    CHECK(policy::MatchComponent(*q.net_rules[1].abstract, "name*7"));
    CHECK_FALSE(policy::MatchComponent(*q.net_rules[1].abstract, "nameX7"));
  }
  SECTION("explain writes a literal back escaped") {
    std::string text = policy::DescribePolicy(p);
    CHECK_THAT(text, Catch::Contains(R"(/home/\*\* and everything below it)"));
    CHECK_THAT(text, Catch::Contains(R"(/x/\$\{HOME\}/y and everything below it)"));
  }
}

TEST_CASE("Loader: a backslash that escapes nothing it may is refused with the fix",
          "[loader][escape]") {
  auto files = [](const std::string& path) {
    return R"({"version": 1, "files": {"rules": [{"path": ")" + path +
           R"(", "access": ["read"], "action": "deny"}]}})";
  };
  struct Case {
    const char* what;
    std::string text;
    std::vector<std::string> needles;
  };
  const Case cases[] = {
      {"an ordinary character",
       files(R"(/a/\\d)"),
       {"t.json:1:", "#/files/rules/0/path", R"("\d" is not an escape)", R"(write "d" alone)"}},
      {"a trailing backslash", files(R"(/a/b\\)"), {"#/files/rules/0/path", "trailing"}},
      {"a slash", files(R"(/a\\/b)"), {"#/files/rules/0/path", "cannot contain"}},
      {"an escaped bracket does not close a set", files(R"(/a/[x\\])"), {"unterminated"}},
      {"an unknown variable", files("${NOPE}/x"), {"unknown variable ${NOPE}", R"(\${)"}},
      {"an unterminated variable", files("/x/${HOME"), {"unterminated variable", R"(\${)"}},
      {"an abstract name",
       R"({"version": 1, "network": {"rules": [{"unix": "@a\\b", "action": "deny"}]}})",
       {"#/network/rules/0/unix", "not an escape"}},
      {"an abstract name ending in a backslash",
       R"({"version": 1, "network": {"rules": [{"unix": "@ab\\", "action": "deny"}]}})",
       {"#/network/rules/0/unix", "trailing"}},
      {"an unterminated set in an abstract name",
       R"({"version": 1, "network": {"rules": [{"unix": "@a[b", "action": "deny"}]}})",
       {"#/network/rules/0/unix", "unterminated"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what, c.text);
    std::string msg = ErrorOf(c.text);
    for (const auto& needle : c.needles) CHECK_THAT(msg, Catch::Contains(needle));
  }
}

TEST_CASE("Loader: a symlink's target with metacharacters is escaped in the resolved twin",
          "[loader][escape]") {
  char tmpl[] = "/tmp/tj-loader-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  REQUIRE(mkdir((dir + "/t*[1]").c_str(), 0755) == 0);
  REQUIRE(symlink("t*[1]", (dir + "/l[1]").c_str()) == 0);
  Policy p = LoadPolicyText(R"({"version": 1, "files": {"default": {"action": "allow"},
      "rules": [{"path": ")" + dir +
                                R"(/l\\[1\\]/secret", "access": ["read"], "action": "deny"},
                {"path": ")" + dir +
                                R"(/l\\[1\\]/*.key", "access": ["read"], "action": "deny"}]}})",
                            "test", kVars);
  auto read = [&](const std::string& path) {
    policy::Request r;
    r.path_count = 1;
    r.paths[0] = {path, Access::kRead, true};
    return p.Evaluate(r).action;
  };
  CHECK(read(dir + "/l[1]/secret") == Action::kDeny);
  CHECK(read(dir + "/t*[1]/secret") == Action::kDeny);
  CHECK(read(dir + "/t*[1]/a.key") == Action::kDeny);
  // The target's "*" and "[1]" are its name: its neighbours are not covered.
  CHECK(read(dir + "/tx1/secret") == Action::kAllow);
  CHECK(read(dir + "/t/secret") == Action::kAllow);
  CHECK(read(dir + "/tab1/a.key") == Action::kAllow);
  CHECK(read(dir + "/l1/secret") == Action::kAllow);
  std::remove((dir + "/l[1]").c_str());
  rmdir((dir + "/t*[1]").c_str());
  rmdir(dir.c_str());
}

// Issue 18: five typos took five runs of `policy check`. Every error is reported at once, in the
// order of the document, each with its own location.
TEST_CASE("Loader: every error of a document is reported in one load in document order",
          "[loader]") {
  const std::string text = R"({
  "version": 1,
  "extends": "standrd",
  "files": {"rules": [
    {"path": "/srv/a", "acess": ["read"], "action": "allow"},
    {"path": "/srv/b", "access": ["reed", "wirte"], "action": "alow"}
  ]},
  "network": {"rules": [{"verbs": ["conect"], "cidr": "10.0.0.300/8", "action": "deny"}]},
  "syscalls": {"rules": [{"names": ["ptrase"], "action": "deny"}]},
  "limits": {"wall_tim": "10s", "memory": "lots"},
  "isolation": {"namespaces": ["nett"], "landlok": true}
})";
  try {
    Load(text);
    FAIL("a policy with many errors loaded");
  } catch (const PolicyError& e) {
    const std::vector<std::string>& errors = e.errors();
    INFO(std::string(e.what()));
    const std::vector<std::string> expected = {
        "#/extends: unknown preset \"standrd\"",
        "#/files/rules/0/acess: unknown key",
        "#/files/rules/1/access/0: unknown access kind \"reed\"",
        "#/files/rules/1/access/1: unknown access kind \"wirte\"",
        "#/files/rules/1/action: unknown action \"alow\"",
        "#/network/rules/0/verbs/0: unknown verb \"conect\"",
        "#/network/rules/0/cidr: bad address",
        "#/syscalls/rules/0/names/0: unknown syscall \"ptrase\"",
        "#/limits/wall_tim: unknown limit",
        "#/limits/memory:",
        "#/isolation/namespaces/0: unknown namespace \"nett\"",
        "#/isolation/landlok: unknown key",
    };
    // Each expected error appears, after the one before it.
    std::size_t at = 0;
    for (const std::string& want : expected) {
      auto it = std::find_if(
          errors.begin() + static_cast<std::ptrdiff_t>(at), errors.end(),
          [&](const std::string& line) { return line.find(want) != std::string::npos; });
      INFO("looking for " << want);
      REQUIRE(it != errors.end());
      CHECK_THAT(*it, Catch::StartsWith("t.json:"));
      at = static_cast<std::size_t>(it - errors.begin()) + 1;
    }
    // The rule that misspelt "access" is also missing it.
    CHECK(std::any_of(errors.begin(), errors.end(), [](const std::string& line) {
      return line.find("#/files/rules/0/access") != std::string::npos;
    }));
    // what() is every error, one per line.
    const std::string what = e.what();
    CHECK(std::count(what.begin(), what.end(), '\n') + 1 == static_cast<long>(errors.size()));
  }
}

TEST_CASE("Loader: a document with thousands of errors reports the first hundred and a count",
          "[loader]") {
  std::string rules;
  for (int i = 0; i < 2000; ++i) {
    rules += std::string(i ? "," : "") + R"({"path": "/x", "access": ["bogus"], "action": "deny"})";
  }
  try {
    Load(R"({"version": 1, "files": {"rules": [)" + rules + "]}}");
    FAIL("loaded");
  } catch (const PolicyError& e) {
    REQUIRE(e.errors().size() == 101);
    CHECK_THAT(e.errors().back(), Catch::Contains("1900 more errors"));
    CHECK_THAT(e.errors().front(), Catch::Contains("#/files/rules/0/access/0"));
  }
}
