// Resource limits and isolation layers as a policy states them. Pure data and parsing: the
// tracer turns them into rlimits, cgroups, namespaces, mounts and Landlock (tracer/isolation.h).
//
// Limits are table-driven (kLimitInfo): one row per limit names its policy key, its command-line
// flag, its unit and how the kernel enforces it. A limit that is not set is off.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace policy {

enum class LimitKind : std::uint8_t {
  kCpu,        // CPU time of each process (RLIMIT_CPU), milliseconds
  kMemory,     // memory of the whole tree (cgroup), bytes
  kProcesses,  // processes and threads of the whole tree (cgroup pids), count
  kFileSize,   // largest file a process may write (RLIMIT_FSIZE), bytes
  kOpenFiles,  // open file descriptors per process (RLIMIT_NOFILE), count
  kDisk,       // size of the private work dir (tmpfs), bytes
  kTimeout,    // wall-clock time of the whole run, milliseconds
  kOutput,     // captured stdout and stderr, bytes each
  kCount,      // not a limit: how many there are (limits.cc checks kLimitInfo against it)
};
inline constexpr std::size_t kLimitCount = static_cast<std::size_t>(LimitKind::kCount);

enum class LimitUnit : std::uint8_t { kMilliseconds, kBytes, kCount };

struct LimitInfo {
  LimitKind kind;
  std::string_view key;  // policy key under "limits" and the --flag name
  LimitUnit unit;
  std::string_view what;      // "CPU time per process"
  std::string_view enforced;  // "RLIMIT_CPU: SIGXCPU at the limit, SIGKILL one second later"
};

extern const std::array<LimitInfo, kLimitCount> kLimitInfo;

const LimitInfo& InfoOf(LimitKind kind);
std::optional<LimitKind> LimitFromKey(std::string_view key);

struct Limits {
  std::array<std::optional<std::uint64_t>, kLimitCount> values{};  // nullopt: off

  std::optional<std::uint64_t> Get(LimitKind k) const { return values[static_cast<int>(k)]; }
  void Set(LimitKind k, std::optional<std::uint64_t> v) { values[static_cast<int>(k)] = v; }
};

// Sizes: "256MiB", "256M", "1.5G", "4096" (bytes): binary units (KiB, MiB, GiB, TiB, and K, M,
// G, T alike, = 1024^n); "100MB", "1GB", "512kB": decimal units (= 1000^n). Durations: "2s",
// "500ms", "3m", "1h", "1m30s", "1h30m", "10" (seconds). Units are case-insensitive. "off",
// "none", "unlimited": no limit. Zero, negative numbers and values past 2^63-1 are errors, and
// errors name the accepted forms.
struct ParsedLimit {
  std::optional<std::uint64_t> value;  // nullopt: "off"
  std::string error;                   // non-empty: invalid
};
ParsedLimit ParseLimitValue(LimitUnit unit, const nlohmann::json& v);
ParsedLimit ParseLimitText(LimitUnit unit, std::string_view text);

// The shortest exact text: "2s", "1500ms", "3m", "1h"; "256MiB", "1048577B"; "20".
std::string FormatLimit(LimitUnit unit, std::uint64_t value);
nlohmann::json LimitsToJson(const Limits& limits);

// Isolation layers the policy asks for. Each one, when the machine cannot provide it, fails the
// run unless degrading was allowed.
enum class Namespace : std::uint8_t { kPid, kIpc, kUts, kMount, kNet, kUser };
inline constexpr std::size_t kNamespaceCount = 6;
struct NamespaceInfo {
  Namespace ns;
  std::string_view name;  // "pid"
  int clone_flag;
  std::string_view flag_name;  // "CLONE_NEWPID"
};
extern const std::array<NamespaceInfo, kNamespaceCount> kNamespaceInfo;
std::optional<Namespace> NamespaceFromName(std::string_view name);

struct IsolationWanted {
  bool clean_environment = true;  // scrubbed environment, or the caller's
  bool private_workdir = false;   // a fresh work dir (tmpfs when a disk limit is set), removed
  std::uint8_t namespaces = 0;    // bit (1 << Namespace)
  bool landlock = false;          // the filesystem rules, enforced again by the kernel
  bool read_only_root = false;    // every mount read-only except the work dir
  bool cgroups_required = false;  // memory/process limits must come from a cgroup
  // The capabilities the command may hold (bounding, permitted, effective, inheritable and
  // ambient sets are cut to these); nullopt: the caller's, less CAP_SYS_PTRACE ("inherit").
  std::optional<std::uint64_t> capabilities;

  bool Has(Namespace n) const { return (namespaces >> static_cast<int>(n)) & 1; }
  void Add(Namespace n) {
    namespaces = static_cast<std::uint8_t>(namespaces | (1 << static_cast<int>(n)));
  }
};
nlohmann::json IsolationToJson(const IsolationWanted& iso);

}  // namespace policy
