#include "policy/oci.h"

#include <array>
#include <cerrno>

#include <fmt/format.h>

#include "policy/loader.h"
#include "policy/names.h"
#include "syscalls/classes.h"
#include "syscalls/numbers.h"

namespace policy {
namespace {

using nlohmann::json;

struct ActionMap {
  std::string_view oci;
  std::string_view ours;
};
// SCMP_ACT_TRAP has no tracejail form: a SIGSYS the program may catch becomes a kill, the
// stricter of the two; SCMP_ACT_LOG becomes trace (allowed and recorded).
constexpr std::array<ActionMap, 8> kActions{{
    {"SCMP_ACT_ALLOW", "allow"},
    {"SCMP_ACT_ERRNO", "deny"},
    {"SCMP_ACT_KILL", "kill"},
    {"SCMP_ACT_KILL_PROCESS", "kill"},
    {"SCMP_ACT_KILL_THREAD", "kill"},
    {"SCMP_ACT_TRAP", "kill"},
    {"SCMP_ACT_LOG", "trace"},
    {"SCMP_ACT_TRACE", "trace"},
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kOps{{
    {"SCMP_CMP_EQ", "eq"},
    {"SCMP_CMP_NE", "ne"},
    {"SCMP_CMP_LT", "lt"},
    {"SCMP_CMP_LE", "le"},
    {"SCMP_CMP_GT", "gt"},
    {"SCMP_CMP_GE", "ge"},
    {"SCMP_CMP_MASKED_EQ", "masked_eq"},
}};

[[noreturn]] void Fail(std::string_view origin, const std::string& what) {
  throw PolicyError(fmt::format("{}: {}", origin, what));
}

std::string OurAction(const json& v, std::string_view origin, std::vector<std::string>& notes) {
  if (!v.is_string()) Fail(origin, "an action must be a string like \"SCMP_ACT_ERRNO\"");
  std::string a = v.get<std::string>();
  for (const auto& m : kActions) {
    if (m.oci == a) {
      if (a == "SCMP_ACT_TRAP")
        notes.push_back("SCMP_ACT_TRAP became kill (tracejail has no trap)");
      return std::string(m.ours);
    }
  }
  Fail(origin, fmt::format("unsupported action \"{}\" (SCMP_ACT_NOTIFY cannot be imported: its "
                           "listener would decide instead of tracejail)",
                           a));
}

std::string ErrnoText(const json& v, std::vector<std::string>& notes) {
  int e = v.is_number_integer() ? v.get<int>() : EPERM;
  std::string name = ErrnoName(e);
  if (!ErrnoFromName(name)) {
    notes.push_back(fmt::format("errno {} has no name tracejail knows; EPERM used", e));
    return "EPERM";
  }
  return name;
}

}  // namespace

Conversion ImportOci(std::string_view text, std::string_view origin) {
  Conversion out;
  json profile;
  try {
    profile = json::parse(text);
  } catch (const json::parse_error& e) {
    Fail(origin, fmt::format("invalid JSON: {}", e.what()));
  }
  if (!profile.is_object()) Fail(origin, "an OCI seccomp profile is a JSON object");
  json doc = {
      {"version", 1},
      {"name", fmt::format("imported from {}", origin)},
      {"description",
       "Imported from an OCI seccomp profile: its syscall rules, on top of the basic preset "
       "(files and network open, escape primitives denied by tracejail)."},
      {"extends", "basic"}};
  json sys = json::object();
  std::string def =
      OurAction(profile.value("defaultAction", json("SCMP_ACT_ALLOW")), origin, out.notes);
  if (def == "trace") def = "allow";
  sys["default"] = {{"action", def}};
  if (def == "deny") {
    sys["default"]["errno"] = ErrnoText(profile.value("defaultErrnoRet", json(EPERM)), out.notes);
  }
  if (profile.contains("architectures") && profile["architectures"].is_array()) {
    for (const auto& a : profile["architectures"]) {
      if (a != "SCMP_ARCH_X86_64") {
        out.notes.push_back(fmt::format(
            "architecture {} not imported: tracejail denies every foreign ABI", a.dump()));
      }
    }
  }
  json rules = json::array();
  const json syscalls = profile.value("syscalls", json::array());
  if (!syscalls.is_array()) Fail(origin, "\"syscalls\" must be an array");
  for (std::size_t i = 0; i < syscalls.size(); ++i) {
    const json& entry = syscalls[i];
    if (!entry.is_object()) Fail(origin, fmt::format("syscalls[{}] must be an object", i));
    if (entry.contains("includes") && !entry["includes"].empty()) {
      out.notes.push_back(fmt::format(
          "syscalls[{}] skipped: it applies only with {} (capabilities, kernel versions or "
          "architectures tracejail does not select on)",
          i, entry["includes"].dump()));
      continue;
    }
    json names = json::array();
    const json list =
        entry.contains("names") ? entry["names"] : json::array({entry.value("name", json(""))});
    for (const auto& n : list) {
      if (!n.is_string()) Fail(origin, fmt::format("syscalls[{}].names must hold strings", i));
      if (syscalls::SyscallNumber(n.get<std::string>())) {
        names.push_back(n);
      } else {
        out.notes.push_back(
            fmt::format("syscall {} skipped: not a syscall of this architecture", n.dump()));
      }
    }
    if (names.empty()) continue;
    json rule = {{"names", names},
                 {"action", OurAction(entry.value("action", json("")), origin, out.notes)}};
    if (rule["action"] == "deny") {
      rule["errno"] = ErrnoText(entry.value("errnoRet", json(EPERM)), out.notes);
    }
    if (entry.contains("args") && entry["args"].is_array() && !entry["args"].empty()) {
      json args = json::array();
      for (std::size_t k = 0; k < entry["args"].size(); ++k) {
        const json& a = entry["args"][k];
        // Checked before anything is read: a member of the wrong type must be refused as a
        // malformed profile, not escape as the JSON library's exception.
        if (!a.is_object())
          Fail(origin, fmt::format("syscalls[{}].args[{}] must be an object", i, k));
        const json index = a.value("index", json(0));
        if (!index.is_number_unsigned() || index.get<std::uint64_t>() > 5) {
          Fail(origin,
               fmt::format("syscalls[{}].args[{}].index must be an argument index, 0 to 5", i, k));
        }
        for (const char* key : {"value", "valueTwo"}) {
          if (a.contains(key) && !a[key].is_number_unsigned()) {
            Fail(origin, fmt::format("syscalls[{}].args[{}].{} must be an unsigned 64-bit integer",
                                     i, k, key));
          }
        }
        const json op_value = a.value("op", json(""));
        std::string op = op_value.is_string() ? op_value.get<std::string>() : op_value.dump();
        auto it =
            std::find_if(kOps.begin(), kOps.end(), [&](const auto& o) { return o.first == op; });
        if (it == kOps.end()) Fail(origin, fmt::format("syscalls[{}]: unknown op \"{}\"", i, op));
        json cond = {{"index", index}, {"op", it->second}};
        if (it->second == "masked_eq") {
          cond["mask"] = a.value("value", std::uint64_t{0});
          cond["value"] = a.value("valueTwo", std::uint64_t{0});
        } else {
          cond["value"] = a.value("value", std::uint64_t{0});
        }
        args.push_back(cond);
      }
      if (rule["action"] == "allow" && def == "allow") {
        out.notes.push_back(fmt::format(
            "syscalls[{}]: a conditional allow under an allowing default changes nothing; dropped",
            i));
        continue;
      }
      rule["args"] = args;
    } else if (rule["action"] == "allow" && def == "allow") {
      continue;  // allowing under an allowing default is a no-op
    }
    if (entry.contains("comment") && entry["comment"].is_string()) rule["notes"] = entry["comment"];
    rules.push_back(rule);
  }
  sys["rules"] = rules;
  doc["syscalls"] = sys;
  out.document = doc;
  return out;
}

Conversion ExportOci(const Policy& p) {
  Conversion out;
  static constexpr std::array<std::string_view, 4> kOciActions{
      "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_LOG"};
  static constexpr std::array<std::string_view, 7> kOciOps{
      "SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT",       "SCMP_CMP_LE",
      "SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_MASKED_EQ"};
  json profile;
  profile["defaultAction"] = kOciActions.at(static_cast<std::size_t>(p.syscall_default.action));
  if (p.syscall_default.action == SyscallAction::kDeny) {
    profile["defaultErrnoRet"] = p.syscall_default.error;
  }
  profile["architectures"] = {"SCMP_ARCH_X86_64"};
  json syscalls = json::array();
  for (const auto& r : p.syscall_rules) {
    json names = json::array();
    for (const auto& [n, spec] : r.names) names.push_back(n);
    json entry = {{"names", names}, {"action", kOciActions.at(static_cast<std::size_t>(r.action))}};
    if (r.action == SyscallAction::kDeny) entry["errnoRet"] = r.error;
    if (!r.args.empty()) {
      json args = json::array();
      for (const auto& c : r.args) {
        json a = {{"index", c.index}, {"op", kOciOps.at(static_cast<std::size_t>(c.op))}};
        if (c.op == ArgCondition::Op::kMaskedEq) {
          a["value"] = c.mask;
          a["valueTwo"] = c.value;
        } else {
          a["value"] = c.value;
          a["valueTwo"] = 0;
        }
        args.push_back(a);
      }
      entry["args"] = args;
    }
    entry["comment"] = r.id;
    syscalls.push_back(entry);
  }
  // Escape primitives that this policy denies become kernel denials of their syscalls.
  const Verdict& esc = p.primitives.at(static_cast<std::size_t>(Primitive::kPtrace)).verdict;
  if (esc.action != Action::kAllow) {
    json names = json::array();
    for (std::string_view n : syscalls::FindSyscallClass("%escape")->members) names.push_back(n);
    json entry = {{"names", names}, {"comment", "tracejail escape primitives"}};
    entry["action"] = esc.action == Action::kKill ? "SCMP_ACT_KILL_PROCESS" : "SCMP_ACT_ERRNO";
    if (esc.action == Action::kDeny) entry["errnoRet"] = esc.error;
    syscalls.push_back(entry);
    out.notes.push_back(
        "escape primitives became unconditional denials: tree-relative checks (signals, "
        "process_vm_readv inside the tree) and clone flag checks have no OCI form");
  }
  profile["syscalls"] = syscalls;
  if (!p.path_rules.empty()) {
    out.notes.push_back(fmt::format("{} file rules not exported: OCI profiles have no path rules",
                                    p.path_rules.size()));
  }
  if (!p.net_rules.empty() || p.net_default.verdict.action != Action::kAllow) {
    out.notes.push_back(fmt::format(
        "{} network rules and the network default not exported: OCI profiles have no address rules",
        p.net_rules.size()));
  }
  out.notes.push_back(
      "foreign ABIs: the profile lists only SCMP_ARCH_X86_64, so runtimes reject other ABIs");
  out.document = profile;
  return out;
}

}  // namespace policy
