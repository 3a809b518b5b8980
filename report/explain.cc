#include "report/explain.h"

#include "report/event_reader.h"

#include <algorithm>
#include <array>
#include <string>

namespace report {
namespace {

using nlohmann::json;

// The catalog. Keep each text short: a newcomer reads it next to the event.
constexpr std::array kTechniques = {
    Technique{"path-symlink", "a symlink that leads to a denied file",
              "The program makes a symbolic link in a directory it may write, pointing at a file "
              "it may not read, and opens the link instead of the file. A check on the name it "
              "passed sees an innocent path.",
              "tracejail resolves every path as the kernel will (each symlink followed, in the "
              "tracee's own view of the filesystem) and matches its rules against the file the "
              "path really names. The event shows both: `raw` and `resolved`."},
    Technique{
        "path-dotdot", "\"..\" and dirfd-relative paths",
        "The program walks to a denied file through \"..\" steps, from its working "
        "directory or from a directory descriptor, so the name it passes never spells the "
        "denied path.",
        "Paths are made absolute from the thread's own cwd or dirfd (read from /proc) and "
        "\"..\" is taken physically, after symlinks, like the kernel. The allowed call is then "
        "handed to the kernel in that absolute form, so a later chdir or dup2 cannot change "
        "what it opens."},
    Technique{"path-proc-aliases", "/proc/self/root, /proc/self/cwd and /proc/self/fd/N",
              "Every process has magic links in /proc that lead back into the filesystem: its "
              "root, its cwd, each open descriptor. Opening /proc/self/root/etc/shadow names "
              "/etc/shadow without saying so.",
              "The resolver follows /proc/self and the magic links as the tracee would (not as "
              "tracejail would) and checks the file they lead to. Magic links of processes "
              "outside the traced tree are escape attempts."},
    Technique{"path-hardlink-rename", "hard links and renames of a denied file",
              "A hard link is a second name for the same file; a rename moves it. Either can put "
              "a denied file under a name the rules allow.",
              "A hard link needs read access to the file it names again; a rename needs read and "
              "delete access to what it moves, and a directory may not be renamed while a file "
              "beneath it is denied: the new name would carry the secret out."},
    Technique{"path-cwd-race", "changing the working directory during the check",
              "Threads share one working directory. While one thread opens a relative name, "
              "another flips the cwd between an allowed and a denied directory, hoping the kernel "
              "resolves the name in the other one than the check did.",
              "The allowed call reaches the kernel as the absolute path that was checked, written "
              "into read-only memory the tracee cannot change (argument pinning): the cwd no "
              "longer matters."},
    Technique{"path-long", "paths near PATH_MAX",
              "Very long paths (padding with \"/./\", deep directory chains) try to make the "
              "tracer give up reading or resolving them and let the call through.",
              "A path the tracer cannot read or resolve is denied with the errno the kernel would "
              "have returned (ENAMETOOLONG, ENOENT); nothing unchecked reaches the kernel."},
    Technique{"race-pointer", "rewriting a checked argument after the check",
              "The path or address is in the program's memory. Another thread, a CLONE_VM child or "
              "a shared mapping rewrites it between the tracer reading it and the kernel reading "
              "it, so the kernel acts on something nobody checked.",
              "Argument pinning: the tracer copies what it checked into a read-only region it "
              "maps in every tracee and points the call at the copy. The event's `race` field "
              "says what was pinned; `race_free` is true when nothing was left to chance."},
    Technique{"race-sockaddr", "rewriting a socket address after the check",
              "Like the path race, for connect() and sendto(): the port or address is flipped "
              "between an allowed and a denied destination while the call is in flight.",
              "The checked sockaddr (and for sendmsg the msghdr pointing to it) is pinned in the "
              "read-only region before the call continues."},
    Technique{"threads-storm", "hundreds of threads racing at once",
              "Many threads and processes race and open at the same time, hoping to overload the "
              "tracer, deadlock it, or slip through while it is busy.",
              "Every flagged call waits in its own stop until the tracer decides it; each thread "
              "has its own pin slot, and when no slot is free the call fails (EAGAIN) rather than "
              "run unpinned."},
    Technique{"alias-open", "other ways to open: open, creat, openat2, open_by_handle_at",
              "A rule written for openat misses open, creat and openat2, and open_by_handle_at "
              "opens a file by inode handle with no path at all.",
              "Rules belong to operations, not syscall names: every open-like call is decoded to "
              "the same path and access. open_by_handle_at is an escape primitive, denied."},
    Technique{"alias-net", "other ways to reach an address: sendto, sendmsg, sendmmsg, IPv6",
              "connect is not the only call that names a destination: UDP sendto, sendmsg and "
              "sendmmsg do too, and ::ffff:127.0.0.1 is 127.0.0.1 spelled as IPv6.",
              "Every address-carrying socket call is decided like connect, each sendmmsg message "
              "on its own, and IPv4-mapped IPv6 addresses match IPv4 rules."},
    Technique{"interp-loader", "running a forbidden program another way",
              "execveat on a directory fd, on an O_PATH fd or a memfd, a shell or the dynamic "
              "loader (ld.so) told to run the file: each runs the program without calling execve "
              "on its name.",
              "The exec rule applies to the file the kernel opens, whatever the call; when ld.so "
              "itself is executed, the program it is told to load must be allowed to execute, or "
              "the process is killed before it runs. A shell or Python reads a script as data, "
              "so a script that may not run must not be readable either (at strict nothing but "
              "the command may be executed at all)."},
    Technique{"abi-foreign", "32-bit and x32 system calls",
              "x86-64 Linux also accepts i386 calls (int $0x80) and x32 calls (numbers with bit 30 "
              "set). A filter written for 64-bit numbers can misread them.",
              "The BPF filter checks the architecture first: every call from a foreign ABI stops "
              "for the tracer, which denies it (ENOSYS) as an escape attempt."},
    Technique{"kernel-io-uring", "io_uring",
              "io_uring runs file and socket operations in kernel "
              "workers that neither seccomp nor ptrace see.",
              "io_uring_setup, io_uring_enter and io_uring_register are escape primitives, "
              "denied with EPERM (SQPOLL included)."},
    Technique{"clone-flags", "untraced children and new namespaces",
              "CLONE_UNTRACED makes a child the tracer never sees; clone3 hides its flags behind a "
              "pointer BPF cannot read; new user or mount namespaces change what paths mean.",
              "clone3 fails with ENOSYS (libc falls back to clone, whose flags BPF can read); "
              "clone with CLONE_UNTRACED or namespace flags, unshare, setns and PTRACE_TRACEME are "
              "denied."},
    Technique{
        "filter-stacking", "a seccomp filter of the program's own",
        "A program may add seccomp filters. One with a user-notification listener can "
        "answer \"continue\" for calls tracejail's filter would have stopped.",
        "Filters with NEW_LISTENER are denied. Other filters are allowed: the kernel runs "
        "every filter and the most restrictive answer wins, so they cannot loosen tracejail's."},
    Technique{"tracer-attack", "attacking the supervisor",
              "Kill tracejail, attach to it with ptrace, read or write its memory through "
              "/proc/PID/mem, or write to its descriptors through /proc/PID/fd.",
              "Signals, ptrace, process_vm_* and /proc/PID entries aimed outside the traced tree "
              "are denied; if tracejail died anyway, PTRACE_O_EXITKILL kills the whole tree."},
    Technique{"tracer-output", "forging tracejail's own records",
              "The events and result files are written by tracejail, often somewhere the program "
              "may write. Overwriting them, or planting a symlink where the result will be "
              "written, forges the evidence or turns tracejail's write against another file.",
              "tracejail's output paths (and the directories above them) are off limits to the "
              "tracee whatever the policy says."},
    Technique{"tree-leave", "leaving the process tree",
              "Double fork and setsid orphan a grandchild, hoping it outlives the supervised run "
              "and acts after the report is written.",
              "tracejail is a child subreaper, so orphans stay in its tree; every task is traced "
              "from its first instruction, and when the command exits everything left is killed."},
    Technique{"setuid-nnp", "a setuid program",
              "Executing a setuid-root binary would give the program root's privileges.",
              "The child sets no_new_privs before exec (seccomp requires it): the kernel then "
              "ignores setuid and file capabilities."},
    Technique{"pin-region", "tampering with the pinned-argument region",
              "Argument pinning relies on a read-only region at [0x10000, 0x400000). Making it "
              "writable, unmapping, moving or replacing it would bring the race back.",
              "Every memory call whose range starts below 0x400000 stops for the tracer and is "
              "denied when it touches the region; a program that cannot be given its region "
              "after exec is killed."},
    Technique{"filesystem-race", "swapping a symlink or directory between the check and the use",
              "The tracer checks a path, then the kernel walks it again. A symlink swapped in "
              "meanwhile (renameat2 RENAME_EXCHANGE, from inside the tree or outside it) would "
              "make the kernel reach a file, program or socket nobody checked.",
              "Opens reach the kernel as openat2 on the checked path with symlinks forbidden (a "
              "swap fails with ELOOP); an exec's image and a unix connect's peer are compared "
              "with what was checked before the program can use them: a swapped exec is "
              "killed, a swapped connect disconnected (docs/security.md)."},
    Technique{"kernel-interfaces", "privileged kernel interfaces",
              "mount, module loading, kexec, bpf, perf_event_open, userfaultfd, keyrings, raw "
              "sockets and similar calls reach deep into the kernel or the machine.",
              "Each is an escape primitive in the policy's `escapes` section, denied with EPERM "
              "and reported as escape_attempt."},
    Technique{"path-rule", "a file the policy does not allow",
              "The program asked for a file (or an access to it) that the policy denies.",
              "The path was resolved as the kernel sees it and matched against the rules; an "
              "allowed call is handed to the kernel in its checked, pinned form."},
    Technique{"net-rule", "a network destination the policy does not allow",
              "The program tried to reach an address, port or socket family the policy denies.",
              "Socket calls are decided on the decoded address and family; the allowed address is "
              "pinned before the call continues."},
};

// The first path argument of an event ({"raw", "resolved", "access"}), or an empty one.
PathArg FirstPathArg(const Event& e) {
  if (!e.args.is_object()) return {};
  for (const char* key : {"pathname", "oldpath", "path", "filename", "target"}) {
    auto it = e.args.find(key);
    if (it == e.args.end()) continue;
    if (std::optional<PathArg> p = AsPathArg(*it)) return *p;
  }
  return {};
}

bool IsOneOf(std::string_view s, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// Primitive (the policy's escapes key) -> technique.
constexpr std::array<std::pair<std::string_view, std::string_view>, 27> kByPrimitive = {{
    {"ptrace", "tracer-attack"},
    {"process_vm_write", "tracer-attack"},
    {"process_vm_read", "tracer-attack"},
    {"signal_outside_tree", "tracer-attack"},
    {"setpgid_outside_tree", "tracer-attack"},
    {"io_uring", "kernel-io-uring"},
    {"namespace", "clone-flags"},
    {"clone_untraced", "clone-flags"},
    {"seccomp_listener", "filter-stacking"},
    {"foreign_abi", "abi-foreign"},
    {"pinned_region", "pin-region"},
    {"open_by_handle", "alias-open"},
    {"mount", "kernel-interfaces"},
    {"module", "kernel-interfaces"},
    {"kexec", "kernel-interfaces"},
    {"bpf", "kernel-interfaces"},
    {"perf_event", "kernel-interfaces"},
    {"userfaultfd", "kernel-interfaces"},
    {"keyring", "kernel-interfaces"},
    {"personality", "kernel-interfaces"},
    {"raw_socket", "kernel-interfaces"},
    {"system_admin", "kernel-interfaces"},
    {"unknown_syscall", "kernel-interfaces"},
    {"terminal", "kernel-interfaces"},
    {"fanotify", "kernel-interfaces"},
    {"process_outside_tree", "tracer-attack"},
    {"privileged_file", "kernel-interfaces"},
}};

// Escape attempts recorded without a primitive: the syscall -> technique.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kBySyscall = {{
    {"ptrace", "tracer-attack"},
    {"process_vm_writev", "tracer-attack"},
    {"kill", "tracer-attack"},
    {"io_uring_setup", "kernel-io-uring"},
    {"clone", "clone-flags"},
    {"unshare", "clone-flags"},
    {"seccomp", "filter-stacking"},
    {"open_by_handle_at", "alias-open"},
}};

// Rule ids of tracejail's built-in decisions -> technique.
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kByRule = {{
    {"builtin:tracejail-output", "tracer-output"},
    {"builtin:pin-region-unavailable", "pin-region"},
    {"builtin:pin-slots-exhausted", "threads-storm"},
    {"builtin:exec-race", "filesystem-race"},
    {"builtin:connect-race", "filesystem-race"},
    {"builtin:path-race", "filesystem-race"},
}};

const Technique* Find(std::string_view id) {
  for (const auto& t : kTechniques) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::string_view PathTechnique(std::string_view syscall, const std::string& raw,
                               const std::string& resolved) {
  if (IsOneOf(syscall, {"execve", "execveat"})) return "interp-loader";
  if (IsOneOf(syscall, {"link", "linkat", "rename", "renameat", "renameat2"})) {
    return "path-hardlink-rename";
  }
  if (raw.starts_with("/proc/") &&
      (raw.find("/root") != std::string::npos || raw.find("/cwd") != std::string::npos ||
       raw.find("/fd/") != std::string::npos)) {
    return "path-proc-aliases";
  }
  if (raw.size() > 1024) return "path-long";
  if (raw == ".." || raw.starts_with("../") || raw.find("/../") != std::string::npos ||
      raw.ends_with("/..")) {
    return "path-dotdot";
  }
  if (IsOneOf(syscall, {"open", "creat", "openat2"})) return "alias-open";
  if (!raw.empty() && raw[0] != '/') return "path-dotdot";  // relative to a cwd or dirfd
  if (!raw.empty() && raw != resolved) return "path-symlink";
  return "path-rule";
}

}  // namespace

std::span<const Technique> Techniques() { return kTechniques; }

const Technique* TechniqueOf(const json& record) {
  std::string why;
  std::optional<Record> r = ToRecord(record, why);
  const Event* e = r ? AsEvent(*r) : nullptr;
  return e == nullptr ? nullptr : TechniqueOf(*e);
}

const Technique* TechniqueOf(const Event& e) {
  for (const auto& [r, id] : kByRule) {
    if (e.rule == r) return Find(id);
  }
  for (const auto& [p, id] : kByPrimitive) {
    if (e.primitive == p) return Find(id);
  }
  if (Effective(e) == policy::Action::kAllow) return nullptr;
  const std::string syscall = e.syscall ? e.syscall->name : "";
  if (e.type == policy::EventType::kEscapeAttempt && e.primitive.empty()) {
    // Records written before events named their primitive.
    for (const auto& [name, id] : kBySyscall) {
      if (syscall == name) return Find(id);
    }
  }
  if (IsOneOf(syscall, {"socket", "connect", "bind", "sendto", "sendmsg", "sendmmsg", "listen",
                        "accept", "accept4"})) {
    std::string text = e.args.is_null() ? std::string("{}") : e.args.dump();
    if (IsOneOf(syscall, {"sendto", "sendmsg", "sendmmsg"}) ||
        text.find("::ffff:") != std::string::npos) {
      return Find("alias-net");
    }
    return Find("net-rule");
  }
  const PathArg path = FirstPathArg(e);
  const std::string raw = path.raw.value_or("");
  const std::string resolved = path.resolved.value_or("");
  if (raw.empty() && resolved.empty() && !IsOneOf(syscall, {"execve", "execveat"})) {
    return nullptr;
  }
  return Find(PathTechnique(syscall, raw, resolved));
}

std::string FormatTechnique(const Technique& t, std::string_view indent, std::size_t width) {
  std::string out;
  auto wrap = [&](std::string_view label, std::string_view text) {
    std::string line = std::string(indent) + std::string(label);
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find(' ', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view word = text.substr(start, end - start);
      if (line.size() + word.size() + 1 > width && line.size() > indent.size() + label.size()) {
        out += line + "\n";
        line = std::string(indent) + std::string(label.size(), ' ');
      }
      if (line.back() != ' ') line += ' ';
      line += word;
      start = end + 1;
    }
    out += line + "\n";
  };
  wrap("technique:", t.technique);
  wrap("defence:  ", t.defence);
  return out;
}

}  // namespace report
