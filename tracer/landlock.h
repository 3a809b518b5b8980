// Landlock as a race-free backstop for the filesystem rules (strict and maximum). Landlock only
// grants: an access kind it handles is denied everywhere except beneath the granted paths. The
// planner turns the policy into grants that cover at least everything the policy allows, and
// carves out the denials it can express exactly:
//   - for each access kind (read, write, create, delete, exec), the roots the policy allows it
//     at ("/" when allowed by default, else each allow rule's anchor);
//   - inside a root, a literal denied path, or the entries of a wildcard rule's anchor directory
//     that the rule denies, are left out by granting their siblings one by one instead of the
//     parent (recursively, at most kMaxGrants grants);
//   - exec grants include the ELF interpreter (or #! interpreter) of each granted file, which
//     the kernel opens for execution too.
// What stays tracer-only (a deny deeper than a wildcard, rules inside /proc, /sys and /dev, a
// chmod/chown/metadata rule, an allowed path that does not exist yet) is listed in
// docs/isolation.md. The tracer's decision always comes first; Landlock catches what a race or
// an alias would sneak past it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace tracer {

// Landlock filesystem rights (linux/landlock.h), ABI 1 to 3.
namespace landlock {
inline constexpr std::uint64_t kExecute = 1ULL << 0;
inline constexpr std::uint64_t kWriteFile = 1ULL << 1;
inline constexpr std::uint64_t kReadFile = 1ULL << 2;
inline constexpr std::uint64_t kReadDir = 1ULL << 3;
inline constexpr std::uint64_t kRemoveDir = 1ULL << 4;
inline constexpr std::uint64_t kRemoveFile = 1ULL << 5;
inline constexpr std::uint64_t kMakeChar = 1ULL << 6;
inline constexpr std::uint64_t kMakeDir = 1ULL << 7;
inline constexpr std::uint64_t kMakeReg = 1ULL << 8;
inline constexpr std::uint64_t kMakeSock = 1ULL << 9;
inline constexpr std::uint64_t kMakeFifo = 1ULL << 10;
inline constexpr std::uint64_t kMakeBlock = 1ULL << 11;
inline constexpr std::uint64_t kMakeSym = 1ULL << 12;
inline constexpr std::uint64_t kRefer = 1ULL << 13;     // ABI 2
inline constexpr std::uint64_t kTruncate = 1ULL << 14;  // ABI 3
// Rights that may be granted on a file (not a directory).
inline constexpr std::uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate;
}  // namespace landlock

struct LandlockGrant {
  std::string path;
  std::uint64_t rights = 0;
};

struct LandlockPlan {
  std::uint64_t handled = 0;  // rights the ruleset handles (denied unless granted)
  std::vector<LandlockGrant> grants;
  std::vector<std::string> notes;  // what could not be expressed
};

inline constexpr std::size_t kMaxGrants = 4096;

struct FsView {
  // Entries of a directory (names only); nullopt when it cannot be listed or is not one.
  std::function<std::optional<std::vector<std::string>>(const std::string&)> list;
  std::function<bool(const std::string&)> exists;
  // The interpreter the kernel opens to run `path` (PT_INTERP or #!), or empty.
  std::function<std::string(const std::string&)> interpreter;
};
FsView RealFsView();

// `abi`: the kernel's Landlock ABI version (rights beyond it are not handled).
LandlockPlan PlanLandlock(const policy::Policy& policy, int abi, const FsView& fs);

// The running kernel's Landlock ABI version, or 0 with `why_not` set.
int LandlockAbi(std::string& why_not);

}  // namespace tracer
