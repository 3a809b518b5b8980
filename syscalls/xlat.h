// Flag and enum names for decoded arguments, strace style: value tables as data (each cites its
// UAPI header), composite names before their parts, leftover bits in hex.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace syscalls::xlat {

struct Name {
  std::uint64_t value;
  std::string_view name;
};

// Bit flags: names of every table entry whose bits are all set, in table order, then any
// leftover bits as hex; "0" when nothing is set.
std::string Flags(std::uint64_t value, std::span<const Name> table);
// A value-indexed enum: its name, or the number.
std::string Enum(std::uint64_t value, std::span<const Name> table);

std::string OpenFlags(std::uint64_t flags);      // "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"
std::string AtFlags(std::uint64_t flags);        // "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"
std::string Mode(std::uint64_t mode);            // "0644", "S_IFREG|0644"
std::string SocketFamily(std::uint64_t family);  // "AF_INET"
std::string SocketType(std::uint64_t type);      // "SOCK_STREAM|SOCK_CLOEXEC"
std::string CloneFlags(std::uint64_t flags);     // "CLONE_VM|CLONE_FS|SIGCHLD"
std::string PtraceRequest(std::uint64_t request);
std::string Signal(std::uint64_t sig);  // "SIGKILL", "SIGRT_3", "0"
std::string SeccompOp(std::uint64_t op);
std::string PrctlOp(std::uint64_t op);

}  // namespace syscalls::xlat
