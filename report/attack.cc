#include "report/attack.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>

#include "report/explain.h"

namespace report {
namespace {

using K = AttackKey;

// THE mapping. Rows of every kind but kPath and kProgram must cover everything tracejail names
// (tests/unit/attack_test.cc walks the techniques, primitives, access kinds and built-in rules);
// a rule row without ids is a generic rule whose events are mapped by what they show.
constexpr std::array kAttackTable = {
    // Escape techniques (report/explain.h).
    AttackRow{K::kTechnique, "path-symlink", "T1211"},
    AttackRow{K::kTechnique, "path-dotdot", "T1211"},
    AttackRow{K::kTechnique, "path-proc-aliases", "T1211 T1611"},
    AttackRow{K::kTechnique, "path-hardlink-rename", "T1211"},
    AttackRow{K::kTechnique, "path-cwd-race", "T1211"},
    AttackRow{K::kTechnique, "path-long", "T1211"},
    AttackRow{K::kTechnique, "race-pointer", "T1211"},
    AttackRow{K::kTechnique, "race-sockaddr", "T1211"},
    AttackRow{K::kTechnique, "threads-storm", "T1499"},
    AttackRow{K::kTechnique, "alias-open", "T1211"},
    AttackRow{K::kTechnique, "alias-net", "T1211 T1071"},
    AttackRow{K::kTechnique, "interp-loader", "T1059 T1218 T1620"},
    AttackRow{K::kTechnique, "abi-foreign", "T1211"},
    AttackRow{K::kTechnique, "kernel-io-uring", "T1211 T1562.006"},
    AttackRow{K::kTechnique, "clone-flags", "T1611"},
    AttackRow{K::kTechnique, "filter-stacking", "T1562.001"},
    AttackRow{K::kTechnique, "tracer-attack", "T1055.008 T1562.001"},
    AttackRow{K::kTechnique, "tracer-output", "T1070 T1565.001"},
    AttackRow{K::kTechnique, "tree-leave", "T1211"},
    AttackRow{K::kTechnique, "setuid-nnp", "T1548.001"},
    AttackRow{K::kTechnique, "pin-region", "T1211"},
    AttackRow{K::kTechnique, "filesystem-race", "T1211"},
    AttackRow{K::kTechnique, "kernel-interfaces", "T1611"},
    // path-rule: by the access asked for (kAccess rows below).
    AttackRow{K::kTechnique, "path-rule", ""},
    AttackRow{K::kTechnique, "net-rule", "T1071"},
    // Escape primitives (syscalls/operation.h; the policy's `escapes` keys).
    AttackRow{K::kPrimitive, "foreign_abi", "T1211"},
    AttackRow{K::kPrimitive, "ptrace", "T1055.008"},
    AttackRow{K::kPrimitive, "process_vm_write", "T1055"},
    AttackRow{K::kPrimitive, "process_vm_read", "T1003.007"},
    AttackRow{K::kPrimitive, "io_uring", "T1211 T1562.006"},
    AttackRow{K::kPrimitive, "namespace", "T1611"},
    AttackRow{K::kPrimitive, "clone_untraced", "T1562.001"},
    AttackRow{K::kPrimitive, "mount", "T1611"},
    AttackRow{K::kPrimitive, "module", "T1547.006 T1611"},
    AttackRow{K::kPrimitive, "kexec", "T1611"},
    AttackRow{K::kPrimitive, "bpf", "T1014"},
    AttackRow{K::kPrimitive, "perf_event", "T1068"},
    AttackRow{K::kPrimitive, "userfaultfd", "T1068"},
    AttackRow{K::kPrimitive, "keyring", "T1555"},
    AttackRow{K::kPrimitive, "personality", "T1211"},
    AttackRow{K::kPrimitive, "seccomp_listener", "T1562.001"},
    AttackRow{K::kPrimitive, "signal_outside_tree", "T1562.001"},
    AttackRow{K::kPrimitive, "setpgid_outside_tree", "T1211"},
    AttackRow{K::kPrimitive, "raw_socket", "T1040 T1095"},
    AttackRow{K::kPrimitive, "open_by_handle", "T1611"},
    AttackRow{K::kPrimitive, "system_admin", "T1529 T1082"},
    AttackRow{K::kPrimitive, "pinned_region", "T1211"},
    AttackRow{K::kPrimitive, "unknown_syscall", "T1211"},
    AttackRow{K::kPrimitive, "terminal", "T1059.004 T1611"},
    AttackRow{K::kPrimitive, "fanotify", "T1005"},
    AttackRow{K::kPrimitive, "process_outside_tree", "T1057"},
    AttackRow{K::kPrimitive, "privileged_file", "T1548.001"},
    // Built-in rules (the decisions tracejail makes itself).
    AttackRow{K::kRule, "builtin:tracejail-self", "T1562.001"},
    AttackRow{K::kRule, "builtin:tracejail-output", "T1070 T1565.001"},
    AttackRow{K::kRule, "builtin:exec-race", "T1211"},
    AttackRow{K::kRule, "builtin:path-race", "T1211"},
    AttackRow{K::kRule, "builtin:connect-race", "T1211"},
    AttackRow{K::kRule, "builtin:bind-race", "T1211"},
    AttackRow{K::kRule, "builtin:fd-race", "T1211"},
    AttackRow{K::kRule, "builtin:pin-region-unavailable", "T1211"},
    AttackRow{K::kRule, "builtin:pin-region-unwritable", "T1211"},
    AttackRow{K::kRule, "builtin:pin-slots-exhausted", "T1499"},
    // Generic rules: defaults and checks whose events are mapped by what they show.
    AttackRow{K::kRule, "builtin:escapes", ""},
    AttackRow{K::kRule, "builtin:unknown-syscall", ""},
    AttackRow{K::kRule, "builtin:files-default", ""},
    AttackRow{K::kRule, "builtin:network-default", ""},
    AttackRow{K::kRule, "builtin:families", ""},
    AttackRow{K::kRule, "builtin:syscalls-default", ""},
    AttackRow{K::kRule, "builtin:anonymous-object-metadata", ""},
    AttackRow{K::kRule, "builtin:unresolvable-path", ""},
    AttackRow{K::kRule, "builtin:kernel-would-fail", ""},
    AttackRow{K::kRule, "builtin:bind-unchecked", ""},
    AttackRow{K::kRule, "builtin:fd-unchecked", ""},
    AttackRow{K::kRule, "builtin:allowed-without-flagged-bits", ""},
    AttackRow{K::kRule, "builtin:layered-syscall-rules", ""},
    // Denied path calls of an ordinary file rule, by the access asked for.
    AttackRow{K::kAccess, "read", "T1005"},
    AttackRow{K::kAccess, "write", "T1565.001"},
    AttackRow{K::kAccess, "create", "T1105"},
    AttackRow{K::kAccess, "delete", "T1070.004"},
    AttackRow{K::kAccess, "exec", "T1106"},
    AttackRow{K::kAccess, "metadata", "T1083"},
    AttackRow{K::kAccess, "chmod", "T1222.002"},
    AttackRow{K::kAccess, "chown", "T1222.002"},
    // Limits.
    AttackRow{K::kEventType, "resource_limit_exceeded", "T1496 T1499"},
    AttackRow{K::kEventType, "timeout_exceeded", "T1499"},
    // What a denied (or escaping) call names: credentials and persistence.
    AttackRow{K::kPath, "/etc/shadow*", "T1003.008 T1552.001"},
    AttackRow{K::kPath, "/etc/gshadow*", "T1003.008 T1552.001"},
    AttackRow{K::kPath, "/etc/passwd*", "T1003.008 T1087.001"},
    AttackRow{K::kPath, "/etc/security/opasswd", "T1003.008"},
    AttackRow{K::kPath, "*/.ssh/*", "T1552.004"},
    AttackRow{K::kPath, "/etc/ssh/*_key", "T1552.004"},
    AttackRow{K::kPath, "*/.gnupg/*", "T1552.004"},
    AttackRow{K::kPath, "*/.ssh/authorized_keys*", "T1098.004"},
    AttackRow{K::kPath, "*/.aws/credentials", "T1552.001"},
    AttackRow{K::kPath, "*/.netrc", "T1552.001"},
    AttackRow{K::kPath, "*/.git-credentials", "T1552.001"},
    AttackRow{K::kPath, "*/.pgpass", "T1552.001"},
    AttackRow{K::kPath, "*/.docker/config.json", "T1552.001"},
    AttackRow{K::kPath, "*/.kube/config", "T1552.001"},
    AttackRow{K::kPath, "*/.config/gcloud/*", "T1552.001"},
    AttackRow{K::kPath, "*_history", "T1552.003"},
    AttackRow{K::kPath, "/proc/*/mem", "T1003.007"},
    AttackRow{K::kPath, "/proc/*/maps", "T1003.007"},
    AttackRow{K::kPath, "/proc/*/environ", "T1003.007"},
    AttackRow{K::kPath, "/etc/crontab", "T1053.003"},
    AttackRow{K::kPath, "/etc/cron.*", "T1053.003"},
    AttackRow{K::kPath, "/var/spool/cron/*", "T1053.003"},
    AttackRow{K::kPath, "*/.bashrc", "T1546.004"},
    AttackRow{K::kPath, "*/.profile", "T1546.004"},
    AttackRow{K::kPath, "*/.bash_profile", "T1546.004"},
    AttackRow{K::kPath, "/etc/profile*", "T1546.004"},
    AttackRow{K::kPath, "/etc/ld.so.preload", "T1574.006"},
    AttackRow{K::kPath, "/etc/sudoers*", "T1548.003"},
    AttackRow{K::kPath, "/etc/systemd/*", "T1543.002"},
    AttackRow{K::kPath, "*/.config/systemd/user/*", "T1543.002"},
    AttackRow{K::kPath, "*/docker.sock", "T1611"},
    AttackRow{K::kPath, "*/containerd.sock", "T1611"},
    // Programs executed (any process_exec) or refused: interpreters and download tools.
    AttackRow{K::kProgram, "sh", "T1059.004"},
    AttackRow{K::kProgram, "bash", "T1059.004"},
    AttackRow{K::kProgram, "dash", "T1059.004"},
    AttackRow{K::kProgram, "zsh", "T1059.004"},
    AttackRow{K::kProgram, "ksh*", "T1059.004"},
    AttackRow{K::kProgram, "*csh", "T1059.004"},
    AttackRow{K::kProgram, "fish", "T1059.004"},
    AttackRow{K::kProgram, "busybox", "T1059.004"},
    AttackRow{K::kProgram, "python*", "T1059.006"},
    AttackRow{K::kProgram, "node*", "T1059.007"},
    AttackRow{K::kProgram, "perl*", "T1059"},
    AttackRow{K::kProgram, "ruby*", "T1059"},
    AttackRow{K::kProgram, "curl", "T1105"},
    AttackRow{K::kProgram, "wget", "T1105"},
    AttackRow{K::kProgram, "nc", "T1095"},
    AttackRow{K::kProgram, "ncat", "T1095"},
    AttackRow{K::kProgram, "netcat", "T1095"},
    AttackRow{K::kProgram, "socat", "T1095"},
};

// The ATT&CK (Enterprise) names of the ids above, in id order.
constexpr std::array kNames = {
    AttackTechnique{"T1003.007", "OS Credential Dumping: Proc Filesystem"},
    AttackTechnique{"T1003.008", "OS Credential Dumping: /etc/passwd and /etc/shadow"},
    AttackTechnique{"T1005", "Data from Local System"},
    AttackTechnique{"T1014", "Rootkit"},
    AttackTechnique{"T1040", "Network Sniffing"},
    AttackTechnique{"T1053.003", "Scheduled Task/Job: Cron"},
    AttackTechnique{"T1055", "Process Injection"},
    AttackTechnique{"T1055.008", "Process Injection: Ptrace System Calls"},
    AttackTechnique{"T1057", "Process Discovery"},
    AttackTechnique{"T1059", "Command and Scripting Interpreter"},
    AttackTechnique{"T1059.004", "Command and Scripting Interpreter: Unix Shell"},
    AttackTechnique{"T1059.006", "Command and Scripting Interpreter: Python"},
    AttackTechnique{"T1059.007", "Command and Scripting Interpreter: JavaScript"},
    AttackTechnique{"T1068", "Exploitation for Privilege Escalation"},
    AttackTechnique{"T1070", "Indicator Removal"},
    AttackTechnique{"T1070.004", "Indicator Removal: File Deletion"},
    AttackTechnique{"T1071", "Application Layer Protocol"},
    AttackTechnique{"T1082", "System Information Discovery"},
    AttackTechnique{"T1083", "File and Directory Discovery"},
    AttackTechnique{"T1087.001", "Account Discovery: Local Account"},
    AttackTechnique{"T1095", "Non-Application Layer Protocol"},
    AttackTechnique{"T1098.004", "Account Manipulation: SSH Authorized Keys"},
    AttackTechnique{"T1105", "Ingress Tool Transfer"},
    AttackTechnique{"T1106", "Native API"},
    AttackTechnique{"T1211", "Exploitation for Defense Evasion"},
    AttackTechnique{"T1218", "System Binary Proxy Execution"},
    AttackTechnique{"T1222.002", "File and Directory Permissions Modification: Linux and Mac"},
    AttackTechnique{"T1496", "Resource Hijacking"},
    AttackTechnique{"T1499", "Endpoint Denial of Service"},
    AttackTechnique{"T1529", "System Shutdown/Reboot"},
    AttackTechnique{"T1543.002", "Create or Modify System Process: Systemd Service"},
    AttackTechnique{"T1546.004",
                    "Event Triggered Execution: Unix Shell Configuration Modification"},
    AttackTechnique{"T1547.006",
                    "Boot or Logon Autostart Execution: Kernel Modules and Extensions"},
    AttackTechnique{"T1548.001", "Abuse Elevation Control Mechanism: Setuid and Setgid"},
    AttackTechnique{"T1548.003", "Abuse Elevation Control Mechanism: Sudo and Sudo Caching"},
    AttackTechnique{"T1552.001", "Unsecured Credentials: Credentials In Files"},
    AttackTechnique{"T1552.003", "Unsecured Credentials: Bash History"},
    AttackTechnique{"T1552.004", "Unsecured Credentials: Private Keys"},
    AttackTechnique{"T1555", "Credentials from Password Stores"},
    AttackTechnique{"T1562.001", "Impair Defenses: Disable or Modify Tools"},
    AttackTechnique{"T1562.006", "Impair Defenses: Indicator Blocking"},
    AttackTechnique{"T1565.001", "Data Manipulation: Stored Data Manipulation"},
    AttackTechnique{"T1574.006", "Hijack Execution Flow: Dynamic Linker Hijacking"},
    AttackTechnique{"T1611", "Escape to Host"},
    AttackTechnique{"T1620", "Reflective Code Loading"},
};

bool Glob(std::string_view pattern, const std::string& s) {
  return fnmatch(std::string(pattern).c_str(), s.c_str(), 0) == 0;
}

std::string BaseName(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsExecCall(const Event& e) {
  return e.syscall && (e.syscall->name == "execve" || e.syscall->name == "execveat");
}

// What one event shows, gathered once for every row.
struct Facts {
  bool relevant = false;              // a denial, escape attempt, suspicious behaviour or limit
  std::string technique;              // report/explain.h id, when relevant
  std::vector<std::string> paths;     // every path the call names (resolved, else raw)
  std::vector<std::string> accesses;  // of those paths
  std::vector<std::string> programs;  // base names executed or refused
};

Facts FactsOf(const Event& e) {
  using policy::EventType;
  Facts f;
  f.relevant = Effective(e) != policy::Action::kAllow || e.type == EventType::kEscapeAttempt ||
               e.type == EventType::kSuspiciousBehavior || IsLimit(e);
  if (e.type == EventType::kProcessExec) {
    const LifecycleArgs a = LifecycleArgsOf(e);
    if (!a.exe.empty()) f.programs.push_back(BaseName(a.exe));
    return f;
  }
  if (!f.relevant) return f;
  if (const Technique* t = TechniqueOf(e)) f.technique = std::string(t->id);
  if (!e.args.is_object()) return f;
  for (const auto& [key, value] : e.args.items()) {
    if (std::optional<PathArg> p = AsPathArg(value); p && (p->resolved || p->raw)) {
      f.paths.push_back(p->resolved.value_or(*p->raw));
      if (!p->access.empty()) f.accesses.push_back(p->access);
    } else if (std::optional<AddressArg> a = AsAddressArg(value); a && a->path) {
      f.paths.push_back(*a->path);
    }
  }
  if (IsExecCall(e) && !f.paths.empty()) f.programs.push_back(BaseName(f.paths.front()));
  return f;
}

bool HasAccess(const std::vector<std::string>& accesses, std::string_view kind) {
  for (const auto& a : accesses) {
    // "read|write"
    std::size_t start = 0;
    while (start <= a.size()) {
      std::size_t end = a.find('|', start);
      if (end == std::string::npos) end = a.size();
      if (std::string_view(a).substr(start, end - start) == kind) return true;
      start = end + 1;
    }
  }
  return false;
}

bool AnyGlob(std::string_view pattern, const std::vector<std::string>& values) {
  return std::any_of(values.begin(), values.end(),
                     [&](const std::string& v) { return Glob(pattern, v); });
}

bool Matches(const AttackRow& row, const Event& e, const Facts& f, bool specific) {
  switch (row.key) {
    case K::kTechnique:
      // A primitive or a built-in rule with ids says more than its general technique.
      return f.relevant && !specific && row.match == f.technique;
    case K::kPrimitive:
      return f.relevant && row.match == e.primitive;
    case K::kRule:
      return f.relevant && row.match == e.rule;
    case K::kAccess:
      return f.relevant && f.technique == "path-rule" && HasAccess(f.accesses, row.match);
    case K::kEventType:
      return f.relevant && row.match == policy::Name(e.type);
    case K::kPath:
      return f.relevant && AnyGlob(row.match, f.paths);
    case K::kProgram:
      return AnyGlob(row.match, f.programs);
  }
  return false;
}

}  // namespace

std::string_view Name(AttackKey k) {
  constexpr std::array<std::string_view, 7> kKeyNames = {
      "technique", "primitive", "rule", "access", "event type", "path", "program"};
  return kKeyNames.at(static_cast<std::size_t>(k));
}

std::vector<std::string_view> IdsOf(const AttackRow& row) {
  std::vector<std::string_view> out;
  std::string_view s = row.ids;
  while (!s.empty()) {
    const auto space = s.find(' ');
    out.push_back(s.substr(0, space));
    if (space == std::string_view::npos) break;
    s.remove_prefix(space + 1);
  }
  return out;
}

std::span<const AttackRow> AttackTable() { return kAttackTable; }
std::span<const AttackTechnique> AttackNames() { return kNames; }

std::string_view AttackName(std::string_view id) {
  for (const auto& t : kNames) {
    if (t.id == id) return t.name;
  }
  return {};
}

std::vector<std::string> AttackIdsFor(const Event& e) {
  const Facts f = FactsOf(e);
  if (!f.relevant && f.programs.empty()) return {};
  bool specific = false;
  for (const auto& row : kAttackTable) {
    if ((row.key == K::kPrimitive || row.key == K::kRule) && !row.ids.empty() &&
        Matches(row, e, f, false)) {
      specific = true;
    }
  }
  std::vector<std::string> out;
  for (const auto& row : kAttackTable) {
    if (row.ids.empty() || !Matches(row, e, f, specific)) continue;
    for (std::string_view id : IdsOf(row)) {
      if (std::find(out.begin(), out.end(), id) == out.end()) out.emplace_back(id);
    }
  }
  return out;
}

std::vector<std::string> AttackOf(const Event& e) {
  return e.attack.empty() ? AttackIdsFor(e) : e.attack;
}

std::string AttackUrl(std::string_view id) {
  std::string path(id);
  std::replace(path.begin(), path.end(), '.', '/');
  return "https://attack.mitre.org/techniques/" + path + "/";
}

}  // namespace report
