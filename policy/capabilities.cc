#include "policy/capabilities.h"

#include <array>
#include <cctype>

namespace policy {
namespace {

// In number order (linux/capability.h).
constexpr std::array<std::string_view, kCapCount> kCapNames = {"CHOWN",
                                                               "DAC_OVERRIDE",
                                                               "DAC_READ_SEARCH",
                                                               "FOWNER",
                                                               "FSETID",
                                                               "KILL",
                                                               "SETGID",
                                                               "SETUID",
                                                               "SETPCAP",
                                                               "LINUX_IMMUTABLE",
                                                               "NET_BIND_SERVICE",
                                                               "NET_BROADCAST",
                                                               "NET_ADMIN",
                                                               "NET_RAW",
                                                               "IPC_LOCK",
                                                               "IPC_OWNER",
                                                               "SYS_MODULE",
                                                               "SYS_RAWIO",
                                                               "SYS_CHROOT",
                                                               "SYS_PTRACE",
                                                               "SYS_PACCT",
                                                               "SYS_ADMIN",
                                                               "SYS_BOOT",
                                                               "SYS_NICE",
                                                               "SYS_RESOURCE",
                                                               "SYS_TIME",
                                                               "SYS_TTY_CONFIG",
                                                               "MKNOD",
                                                               "LEASE",
                                                               "AUDIT_WRITE",
                                                               "AUDIT_CONTROL",
                                                               "SETFCAP",
                                                               "MAC_OVERRIDE",
                                                               "MAC_ADMIN",
                                                               "SYSLOG",
                                                               "WAKE_ALARM",
                                                               "BLOCK_SUSPEND",
                                                               "AUDIT_READ",
                                                               "PERFMON",
                                                               "BPF",
                                                               "CHECKPOINT_RESTORE"};

}  // namespace

std::optional<int> CapFromName(std::string_view name) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view n = upper;
  if (n.starts_with("CAP_")) n.remove_prefix(4);
  for (std::size_t i = 0; i < kCapNames.size(); ++i) {
    if (kCapNames[i] == n) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string CapName(int cap) {
  if (cap >= 0 && cap < kCapCount) {
    return "CAP_" + std::string(kCapNames[static_cast<std::size_t>(cap)]);
  }
  return "CAP_" + std::to_string(cap);
}

std::vector<std::string> CapNames(CapSet set) {
  std::vector<std::string> out;
  for (int cap = 0; cap < 64; ++cap) {
    if ((set & (CapSet{1} << cap)) != 0) out.push_back(CapName(cap));
  }
  return out;
}

std::vector<std::string> AllCapNames() { return CapNames(kAllCaps); }

}  // namespace policy
