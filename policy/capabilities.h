// Linux capabilities by name, and the sets tracejail's levels keep (docs/isolation.md). Pure:
// names and bit masks only; the launcher applies them (tracer/launcher.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

using CapSet = std::uint64_t;  // bit (1 << CAP_*)

inline constexpr int kCapCount = 41;  // CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40)

// "CAP_SYS_ADMIN", "sys_admin" or "SYS_ADMIN" -> 21; nullopt for anything else.
std::optional<int> CapFromName(std::string_view name);
// 21 -> "CAP_SYS_ADMIN"; "CAP_41" beyond the table.
std::string CapName(int cap);
// Every capability in `set`, in number order, as CAP_* names.
std::vector<std::string> CapNames(CapSet set);
// Every known name (for suggestions).
std::vector<std::string> AllCapNames();

constexpr CapSet CapBit(int cap) { return CapSet{1} << cap; }
inline constexpr CapSet kAllCaps = (CapSet{1} << kCapCount) - 1;

}  // namespace policy
