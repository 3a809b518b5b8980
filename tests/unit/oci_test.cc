// policy/oci.cc: a Docker-style seccomp profile becomes a tracejail policy that loads and decides
// its syscalls as the profile did, with everything it could not carry over in the notes; a
// malformed profile is refused with PolicyError naming the file and the entry, never another
// exception; and a policy exported to OCI form says what it could not express.
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "policy/loader.h"
#include "policy/oci.h"
#include "syscalls/classes.h"

namespace {

using nlohmann::json;

const policy::Variables kVars{{"CWD", "/w"},
                              {"WORKDIR", "/w"},
                              {"HOME", "/home/u"},
                              {"TMPDIR", "/tmp"},
                              {"COMMAND", "/usr/bin/x"}};

// A trimmed profile in the shape of Docker's default: deny by default with EPERM, allow a list,
// conditional rules, an entry for other architectures and capabilities, and a trap.
constexpr const char* kProfile = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {"names": ["read", "write", "openat", "close", "exit_group", "not_a_syscall"],
     "action": "SCMP_ACT_ALLOW"},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}],
     "comment": "query only"},
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
     "args": [{"index": 0, "value": 40, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}},
    {"names": ["kexec_load"], "action": "SCMP_ACT_TRAP"},
    {"names": ["syslog"], "action": "SCMP_ACT_LOG"}
  ]
})";

std::optional<policy::Decision> Decide(const policy::Policy& p, const char* syscall,
                                       std::uint64_t arg0 = 0) {
  std::uint64_t args[6] = {arg0, 0, 0, 0, 0, 0};
  return p.DecideSyscall(syscall, args);
}

bool NotesMention(const policy::Conversion& c, const std::string& what) {
  for (const auto& n : c.notes) {
    if (n.find(what) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("oci: a Docker-style profile converts into a policy that decides the same", "[oci]") {
  policy::Conversion c = policy::ImportOci(kProfile, "docker.json");
  const json& doc = c.document;
  CHECK(doc["extends"] == "basic");
  CHECK(doc["name"] == "imported from docker.json");
  CHECK(doc["syscalls"]["default"] == json{{"action", "deny"}, {"errno", "EPERM"}});
  // What was not carried over is said, one note each.
  CHECK(NotesMention(c, "architecture \"SCMP_ARCH_X86\" not imported"));
  CHECK(NotesMention(c, "architecture \"SCMP_ARCH_X32\" not imported"));
  CHECK_FALSE(NotesMention(c, "SCMP_ARCH_X86_64"));
  CHECK(NotesMention(c, "syscall \"not_a_syscall\" skipped"));
  CHECK(NotesMention(c, "syscalls[4] skipped"));
  CHECK(NotesMention(c, "SCMP_ACT_TRAP became kill"));

  // The document is an ordinary policy.
  policy::Policy p = policy::LoadPolicyText(doc.dump(), "imported.json", kVars);
  CHECK(p.syscall_default.action == policy::SyscallAction::kDeny);
  CHECK(p.syscall_default.error == EPERM);
  for (const char* allowed : {"read", "write", "openat", "close", "exit_group"}) {
    CAPTURE(allowed);
    auto d = Decide(p, allowed);
    REQUIRE(d);
    CHECK(d->action == policy::Action::kAllow);
  }
  // Conditions survive: personality(0) allowed, anything else left to the denying default.
  REQUIRE(Decide(p, "personality", 0));
  CHECK(Decide(p, "personality", 0)->action == policy::Action::kAllow);
  CHECK_FALSE(Decide(p, "personality", 8));
  // socket(AF_VSOCK) denied with the profile's errno, socket(AF_INET) not matched.
  auto vsock = Decide(p, "socket", 40);
  REQUIRE(vsock);
  CHECK(vsock->action == policy::Action::kDeny);
  CHECK(vsock->error == EAFNOSUPPORT);
  CHECK_FALSE(Decide(p, "socket", 2));
  // clone with none of the namespace bits: allowed; with CLONE_NEWUSER: not matched.
  REQUIRE(Decide(p, "clone", 0x11));
  CHECK(Decide(p, "clone", 0x11)->action == policy::Action::kAllow);
  CHECK_FALSE(Decide(p, "clone", 0x10000000));
  // The trap kills; the log allows and records.
  REQUIRE(Decide(p, "kexec_load"));
  CHECK(Decide(p, "kexec_load")->action == policy::Action::kKill);
  REQUIRE(Decide(p, "syslog"));
  CHECK(Decide(p, "syslog")->action == policy::Action::kAllow);
  // The entry that applies only with CAP_SYS_BOOT was not imported.
  CHECK_FALSE(Decide(p, "reboot"));
}

TEST_CASE("oci: under an allowing default only the rules that change something are kept", "[oci]") {
  policy::Conversion c = policy::ImportOci(
      R"({"syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["write"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
            {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"},
            {"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4095}]})",
      "p.json");
  const json& sys = c.document["syscalls"];
  CHECK(sys["default"] == json{{"action", "allow"}});
  REQUIRE(sys["rules"].size() == 2);
  CHECK(sys["rules"][0] == json{{"names", {"ptrace"}}, {"action", "kill"}});
  // An errno without a name becomes EPERM, and says so.
  CHECK(sys["rules"][1] == json{{"names", {"bpf"}}, {"action", "deny"}, {"errno", "EPERM"}});
  CHECK(NotesMention(c, "errno 4095 has no name"));
  CHECK(NotesMention(c, "syscalls[1]: a conditional allow under an allowing default"));
  policy::Policy p = policy::LoadPolicyText(c.document.dump(), "p.json", kVars);
  CHECK(p.syscall_default.action == policy::SyscallAction::kAllow);
}

TEST_CASE("oci: malformed profiles are refused with PolicyError naming the file and entry",
          "[oci][hostile]") {
  struct Bad {
    const char* text;
    const char* says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"", "invalid JSON"},
           {"{\"syscalls\": [", "invalid JSON"},
           {"[]", "an OCI seccomp profile is a JSON object"},
           {"\"SCMP_ACT_ALLOW\"", "an OCI seccomp profile is a JSON object"},
           {R"({"defaultAction": 1})", "an action must be a string"},
           {R"({"defaultAction": "SCMP_ACT_NOTIFY"})", "SCMP_ACT_NOTIFY cannot be imported"},
           {R"({"defaultAction": "SCMP_ACT_NONSENSE"})",
            "unsupported action \"SCMP_ACT_NONSENSE\""},
           {R"({"syscalls": {"names": ["read"]}})", "\"syscalls\" must be an array"},
           {R"({"syscalls": [7]})", "syscalls[0] must be an object"},
           {R"({"syscalls": [{"names": ["read", 3], "action": "SCMP_ACT_ERRNO"}]})",
            "syscalls[0].names must hold strings"},
           {R"({"syscalls": [{"names": ["read"]}]})", "unsupported action \"\""},
           {R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                              "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]})",
            "syscalls[0]: unknown op \"SCMP_CMP_LIKE\""},
           // Arguments of the wrong shape: each one named, not a JSON library's exception.
           {R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [5]}]})",
            "syscalls[0].args[0] must be an object"},
           {R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                              "args": [{"index": "zero", "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
            "syscalls[0].args[0].index must be an argument index, 0 to 5"},
           {R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                              "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
            "syscalls[0].args[0].index must be an argument index, 0 to 5"},
           {R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                              "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]})",
            "syscalls[0].args[0].value must be an unsigned 64-bit integer"},
           {R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                              "args": [{"index": 0, "value": "1", "op": "SCMP_CMP_EQ"}]}]})",
            "syscalls[0].args[0].value must be an unsigned 64-bit integer"},
           {R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                              "args": [{"index": 0, "value": 1, "valueTwo": 1.5,
                                        "op": "SCMP_CMP_MASKED_EQ"}]}]})",
            "syscalls[0].args[0].valueTwo must be an unsigned 64-bit integer"},
           {R"({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                              "args": [{"index": 0, "value": 1, "op": 3}]}]})",
            "syscalls[0]: unknown op"},
       }) {
    CAPTURE(bad.text);
    try {
      policy::ImportOci(bad.text, "bad.json");
      FAIL("accepted");
    } catch (const policy::PolicyError& e) {
      CHECK_THAT(e.what(), Catch::StartsWith("bad.json: ") && Catch::Contains(bad.says));
    }
  }
}

TEST_CASE("oci: mutated profiles convert or throw PolicyError and nothing else", "[oci][hostile]") {
  // Every member of every entry replaced by values of every JSON type.
  const json base = json::parse(kProfile);
  const std::vector<json> values{nullptr,
                                 true,
                                 -1,
                                 0,
                                 7,
                                 1.5,
                                 "x",
                                 "SCMP_ACT_ALLOW",
                                 json::array(),
                                 json::array({1, "a"}),
                                 json::object(),
                                 json{{"index", 0}}};
  int converted = 0, refused = 0;
  auto attempt = [&](const json& profile) {
    try {
      policy::Conversion c = policy::ImportOci(profile.dump(), "m.json");
      (void)c.document.dump();
      ++converted;
    } catch (const policy::PolicyError&) {
      ++refused;
    }
  };
  for (const auto& [key, unused] : base.items()) {
    for (const json& v : values) {
      json m = base;
      m[key] = v;
      CAPTURE(m.dump());
      REQUIRE_NOTHROW(attempt(m));
    }
  }
  for (std::size_t i = 0; i < base["syscalls"].size(); ++i) {
    for (const auto& [key, unused] : base["syscalls"][i].items()) {
      for (const json& v : values) {
        json m = base;
        m["syscalls"][i][key] = v;
        CAPTURE(m.dump());
        REQUIRE_NOTHROW(attempt(m));
      }
    }
    if (!base["syscalls"][i].contains("args")) continue;
    for (const char* key : {"index", "value", "valueTwo", "op"}) {
      for (const json& v : values) {
        json m = base;
        m["syscalls"][i]["args"][0][key] = v;
        CAPTURE(m.dump());
        REQUIRE_NOTHROW(attempt(m));
      }
    }
  }
  CHECK(converted > 0);
  CHECK(refused > 0);
}

TEST_CASE("oci: a preset exports its syscall rules and says what it could not", "[oci]") {
  std::optional<policy::Policy> standard = policy::LoadPreset("standard", kVars);
  REQUIRE(standard);
  policy::Conversion c = policy::ExportOci(*standard);
  const json& profile = c.document;
  CHECK(profile["defaultAction"] == "SCMP_ACT_ALLOW");
  CHECK(profile["architectures"] == json::array({"SCMP_ARCH_X86_64"}));
  // The denied escape primitives become one unconditional denial of every %escape syscall.
  const json* escapes = nullptr;
  for (const auto& e : profile["syscalls"]) {
    if (e.value("comment", "") == "tracejail escape primitives") escapes = &e;
  }
  REQUIRE(escapes != nullptr);
  CHECK((*escapes)["action"] == "SCMP_ACT_ERRNO");
  CHECK((*escapes)["errnoRet"] == EPERM);
  const auto* cls = syscalls::FindSyscallClass("%escape");
  REQUIRE(cls != nullptr);
  CHECK((*escapes)["names"].size() == cls->members.size());
  for (const char* name : {"ptrace", "mount", "kexec_load", "bpf"}) {
    CAPTURE(name);
    CHECK(std::find((*escapes)["names"].begin(), (*escapes)["names"].end(), name) !=
          (*escapes)["names"].end());
  }
  CHECK(NotesMention(c, "file rules not exported"));
  CHECK(NotesMention(c, "network rules and the network default not exported"));
  CHECK(NotesMention(c, "escape primitives became unconditional denials"));

  // At maximum the escapes kill; at none nothing is denied and nothing needs saying.
  std::optional<policy::Policy> maximum = policy::LoadPreset("maximum", kVars);
  REQUIRE(maximum);
  bool kills = false;
  const json max_profile = policy::ExportOci(*maximum).document;
  INFO(max_profile.dump());
  for (const auto& e : max_profile["syscalls"]) {
    kills = kills || (e.value("comment", "") == "tracejail escape primitives" &&
                      e["action"] == "SCMP_ACT_KILL_PROCESS" && !e.contains("errnoRet"));
  }
  CHECK(kills);
  std::optional<policy::Policy> none = policy::LoadPreset("none", kVars);
  REQUIRE(none);
  policy::Conversion nc = policy::ExportOci(*none);
  CHECK(nc.document["syscalls"] == json::array());
  CHECK_FALSE(NotesMention(nc, "file rules"));
  CHECK_FALSE(NotesMention(nc, "escape primitives"));
}

TEST_CASE("oci: syscall rules survive export and import back", "[oci]") {
  policy::Policy p = policy::LoadPolicyText(
      R"({"version": 1, "extends": "basic",
          "syscalls": {"default": {"action": "deny", "errno": "ENOSYS"},
                       "rules": [
            {"names": ["read", "write"], "action": "allow"},
            {"names": ["ioctl"], "action": "allow",
             "args": [{"index": 1, "op": "masked_eq", "mask": 4294967040, "value": 21504}]},
            {"names": ["socket"], "action": "deny", "errno": "EACCES",
             "args": [{"index": 0, "op": "gt", "value": 10}]}]}})",
      "mine.json", kVars);
  policy::Conversion out = policy::ExportOci(p);
  CHECK(out.document["defaultAction"] == "SCMP_ACT_ERRNO");
  CHECK(out.document["defaultErrnoRet"] == ENOSYS);
  policy::Conversion back = policy::ImportOci(out.document.dump(), "exported.json");
  policy::Policy q = policy::LoadPolicyText(back.document.dump(), "back.json", kVars);
  CHECK(q.syscall_default.action == policy::SyscallAction::kDeny);
  CHECK(q.syscall_default.error == ENOSYS);
  for (auto [name, arg1, arg0] :
       std::vector<std::tuple<const char*, std::uint64_t, std::uint64_t>>{{"read", 0, 0},
                                                                          {"ioctl", 0x5401, 0},
                                                                          {"ioctl", 0x5413, 0},
                                                                          {"ioctl", 0x8901, 0},
                                                                          {"socket", 0, 2},
                                                                          {"socket", 0, 16}}) {
    CAPTURE(name, arg1, arg0);
    std::uint64_t args[6] = {arg0, arg1, 0, 0, 0, 0};
    auto before = p.DecideSyscall(name, args);
    auto after = q.DecideSyscall(name, args);
    REQUIRE(before.has_value() == after.has_value());
    if (before) {
      CHECK(before->action == after->action);
      CHECK(before->error == after->error);
    }
  }
}
