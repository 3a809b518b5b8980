#include "policy/names.h"

#include <string.h>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <functional>
#include <map>
#include <string>
#include <utility>

namespace policy {
namespace {

template <typename T, std::size_t N>
std::optional<T> Find(const std::array<std::pair<T, std::string_view>, N>& table,
                      std::string_view name) {
  for (const auto& [value, n] : table) {
    if (n == name) return value;
  }
  return std::nullopt;
}

template <typename T, std::size_t N>
std::optional<std::string_view> FindName(const std::array<std::pair<T, std::string_view>, N>& table,
                                         T value) {
  for (const auto& [v, n] : table) {
    if (v == value) return n;
  }
  return std::nullopt;
}

// A name table of an enum lists every value once, in the enum's order: checked at compile time,
// so a value added to the enum without a name does not build.
template <typename T, std::size_t N>
constexpr bool CoversEnum(const std::array<std::pair<T, std::string_view>, N>& table) {
  if (N != static_cast<std::size_t>(T::kCount)) return false;
  for (std::size_t i = 0; i < N; ++i) {
    if (table[i].first != static_cast<T>(i)) return false;
  }
  return true;
}

// errno values a policy may return (asm-generic/errno-base.h, errno.h).
constexpr auto kErrnos = std::to_array<std::pair<int, std::string_view>>({
    {EPERM, "EPERM"},
    {ENOENT, "ENOENT"},
    {EIO, "EIO"},
    {E2BIG, "E2BIG"},
    {EBADF, "EBADF"},
    {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},
    {EFAULT, "EFAULT"},
    {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},
    {EINVAL, "EINVAL"},
    {EFBIG, "EFBIG"},
    {ENOSPC, "ENOSPC"},
    {EROFS, "EROFS"},
    {ENOSYS, "ENOSYS"},
    {EOPNOTSUPP, "EOPNOTSUPP"},
    {EAFNOSUPPORT, "EAFNOSUPPORT"},
    {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {ENETUNREACH, "ENETUNREACH"},
    {ECONNREFUSED, "ECONNREFUSED"},
    {EHOSTUNREACH, "EHOSTUNREACH"},
});

constexpr auto kFamilies = std::to_array<std::pair<int, std::string_view>>({
    {AF_UNSPEC, "unspec"},
    {AF_UNIX, "unix"},
    {AF_INET, "inet"},
    {AF_INET6, "inet6"},
    {AF_NETLINK, "netlink"},
    {AF_PACKET, "packet"},
    {AF_BLUETOOTH, "bluetooth"},
    {AF_VSOCK, "vsock"},
    {AF_ALG, "alg"},
});

constexpr auto kVerbs = std::to_array<std::pair<NetVerb, std::string_view>>({
    {NetVerb::kSocket, "socket"},
    {NetVerb::kConnect, "connect"},
    {NetVerb::kBind, "bind"},
    {NetVerb::kSend, "send"},
    {NetVerb::kListen, "listen"},
    {NetVerb::kAccept, "accept"},
});

constexpr auto kPrimitives = std::to_array<std::pair<Primitive, std::string_view>>({
    {Primitive::kNone, "none"},
    {Primitive::kForeignAbi, "foreign_abi"},
    {Primitive::kPtrace, "ptrace"},
    {Primitive::kProcessVmWrite, "process_vm_write"},
    {Primitive::kProcessVmRead, "process_vm_read"},
    {Primitive::kIoUring, "io_uring"},
    {Primitive::kNamespace, "namespace"},
    {Primitive::kCloneUntraced, "clone_untraced"},
    {Primitive::kMount, "mount"},
    {Primitive::kModule, "module"},
    {Primitive::kKexec, "kexec"},
    {Primitive::kBpf, "bpf"},
    {Primitive::kPerfEvent, "perf_event"},
    {Primitive::kUserfaultfd, "userfaultfd"},
    {Primitive::kKeyring, "keyring"},
    {Primitive::kPersonality, "personality"},
    {Primitive::kSeccompListener, "seccomp_listener"},
    {Primitive::kSignalOutside, "signal_outside_tree"},
    {Primitive::kSetpgidOutside, "setpgid_outside_tree"},
    {Primitive::kRawSocket, "raw_socket"},
    {Primitive::kHandleOpen, "open_by_handle"},
    {Primitive::kSystemAdmin, "system_admin"},
    {Primitive::kPinnedRegion, "pinned_region"},
    {Primitive::kUnknownSyscall, "unknown_syscall"},
    {Primitive::kTerminal, "terminal"},
    {Primitive::kFanotify, "fanotify"},
    {Primitive::kProcessOutside, "process_outside_tree"},
    {Primitive::kPrivilegedFile, "privileged_file"},
});

static_assert(CoversEnum(kVerbs));
static_assert(CoversEnum(kPrimitives));

constexpr auto kActions = std::to_array<std::pair<Action, std::string_view>>({
    {Action::kAllow, "allow"},
    {Action::kDeny, "deny"},
    {Action::kKill, "kill"},
});

constexpr auto kPolicyEvents = std::to_array<std::pair<EventType, std::string_view>>({
    {EventType::kSyscallBlocked, "syscall_blocked"},
    {EventType::kEscapeAttempt, "escape_attempt"},
    {EventType::kPermissionDenied, "permission_denied"},
    {EventType::kSuspiciousBehavior, "suspicious_behavior"},
    {EventType::kResourceLimitExceeded, "resource_limit_exceeded"},
    {EventType::kTimeoutExceeded, "timeout_exceeded"},
});

constexpr auto kSeverities = std::to_array<std::pair<Severity, std::string_view>>({
    {Severity::kInfo, "info"},
    {Severity::kLow, "low"},
    {Severity::kMedium, "medium"},
    {Severity::kHigh, "high"},
    {Severity::kCritical, "critical"},
});

template <typename T, std::size_t N>
std::vector<std::string> AllNames(const std::array<std::pair<T, std::string_view>, N>& table,
                                  std::size_t skip = 0) {
  std::vector<std::string> out;
  for (std::size_t i = skip; i < N; ++i) out.emplace_back(table[i].second);
  return out;
}

}  // namespace

std::vector<std::string> KnownErrnos() { return AllNames(kErrnos); }
std::vector<std::string> KnownFamilies() { return AllNames(kFamilies); }
std::vector<std::string> KnownPrimitives() { return AllNames(kPrimitives, 1); }
std::vector<std::string> KnownEventTypes() { return AllNames(kPolicyEvents); }
std::vector<std::string> KnownAccessKinds() { return AllNames(kAccessNames); }

std::optional<int> ErrnoFromName(std::string_view name) { return Find(kErrnos, name); }
std::string ErrnoName(int err) {
  if (auto n = FindName(kErrnos, err)) return std::string(*n);
  // ELOOP, EINTR...: the C library's names for the rest.
  if (const char* n = err > 0 ? strerrorname_np(err) : nullptr) return n;
  return "errno " + std::to_string(err);
}

std::optional<int> ErrnoFromRecordedName(std::string_view name) {
  if (auto n = ErrnoFromName(name)) return n;
  if (name.starts_with('E')) {
    // The C library's names, indexed once: a hostile file may name thousands of unknown ones.
    static const std::map<std::string, int, std::less<>> kLibcNames = [] {
      constexpr int kLastErrno = 4095;  // the kernel's MAX_ERRNO
      std::map<std::string, int, std::less<>> names;
      for (int err = kLastErrno; err >= 1; --err) {  // the lowest number wins a shared name
        if (const char* known = strerrorname_np(err)) names[known] = err;
      }
      return names;
    }();
    auto it = kLibcNames.find(name);
    if (it == kLibcNames.end() || ErrnoName(it->second) != name) return std::nullopt;
    return it->second;
  }
  constexpr std::string_view kPrefix = "errno ";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  std::string_view digits = name.substr(kPrefix.size());
  int err = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), err);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    return std::nullopt;
  }
  if (ErrnoName(err) != name) return std::nullopt;  // "errno 13" is written "EACCES", "errno 007"
  return err;
}

std::optional<int> FamilyFromName(std::string_view name) { return Find(kFamilies, name); }
std::string FamilyName(int family) {
  if (auto n = FindName(kFamilies, family)) return std::string(*n);
  return "family " + std::to_string(family);
}

std::optional<NetVerb> VerbFromName(std::string_view name) { return Find(kVerbs, name); }
std::string_view Name(NetVerb v) { return FindName(kVerbs, v).value_or("?"); }

std::optional<Access> AccessFromName(std::string_view name) { return Find(kAccessNames, name); }
std::string AccessNames(Access a) {
  std::string out;
  for (const auto& [bit, name] : kAccessNames) {
    if (!Any(a & bit)) continue;
    if (!out.empty()) out += '|';
    out += name;
  }
  return out.empty() ? "none" : out;
}

std::optional<Primitive> PrimitiveFromName(std::string_view name) {
  return Find(kPrimitives, name);
}
std::string_view Name(Primitive p) { return FindName(kPrimitives, p).value_or("?"); }

std::optional<Action> ActionFromName(std::string_view name) { return Find(kActions, name); }
std::optional<EventType> EventTypeFromName(std::string_view name) {
  return Find(kPolicyEvents, name);
}
std::optional<Severity> SeverityFromName(std::string_view name) { return Find(kSeverities, name); }

}  // namespace policy
