// A cgroup for one run: memory and process limits for the whole tree, its peak memory, OOM
// kills and refused forks read back from the kernel, and removal afterwards. cgroup v2 when
// tracejail's own cgroup can delegate the memory and pids controllers, cgroup v1 (memory, pids
// hierarchies) otherwise. Create() says why neither is usable instead of failing silently.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracer {

// Pure parsing, unit-tested: where a controller's hierarchy is mounted and where this process
// sits in it.
struct CgroupMount {
  std::string mount_point;  // /sys/fs/cgroup/memory
  std::string root;         // the hierarchy path mounted there (usually "/")
  bool v2 = false;
  std::vector<std::string> controllers;  // v1: from the super options
};
std::vector<CgroupMount> ParseCgroupMounts(std::string_view mountinfo);
// "/proc/self/cgroup" lines: controller list (empty for v2) -> path.
std::optional<std::string> CgroupPathOf(std::string_view proc_cgroup, std::string_view controller);
// The directory of `path` (a path in the hierarchy) under `mount`, or nullopt when the mount
// does not show it.
std::optional<std::string> CgroupDir(const CgroupMount& mount, const std::string& path);
// The value of `key` in a flat-keyed file such as memory.events ("oom_kill 3").
std::optional<std::uint64_t> KeyedValue(std::string_view text, std::string_view key);

// True for a name "tracejail-<pid>-..." (a run's cgroup leaf or work dir) whose tracejail
// process is gone: what a run killed with SIGKILL left behind.
bool LeftByDeadRun(std::string_view name);

class Cgroup {
 public:
  struct Limits {
    std::optional<std::uint64_t> memory_bytes;
    std::optional<std::uint64_t> processes;
  };

  // Creates the run's cgroup with `limits`; on failure returns null and sets `why_not` to what
  // was tried and why it failed.
  static std::unique_ptr<Cgroup> Create(const Limits& limits, std::string& why_not);
  ~Cgroup();  // kills what is left inside and removes the directories
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  // Moves `pid` in (before it runs anything). Returns an error message or empty.
  std::string Attach(pid_t pid) const;

  std::string Describe() const;  // "cgroup v1: /sys/fs/cgroup/memory/…, /sys/fs/cgroup/pids/…"
  bool v2() const { return v2_; }

  std::optional<std::uint64_t> PeakMemory() const;
  std::uint64_t OomKills() const;
  std::uint64_t ForksRefused() const;  // times the process limit refused a fork or clone
  std::uint64_t Processes() const;     // tasks inside now
  void KillAll() const;

 private:
  Cgroup() = default;
  std::string memory_dir_;  // v2: both are the same directory
  std::string pids_dir_;
  bool v2_ = false;
};

}  // namespace tracer
