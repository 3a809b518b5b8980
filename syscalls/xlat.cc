#include "syscalls/xlat.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fmt/format.h>

namespace syscalls::xlat {
namespace {

// asm-generic/fcntl.h; O_ACCMODE values are handled separately (they are not bits).
constexpr Name kOpenBits[] = {
    {O_SYNC, "O_SYNC"},           {O_TMPFILE, "O_TMPFILE"},  // composites before their parts
    {O_CREAT, "O_CREAT"},         {O_EXCL, "O_EXCL"},         {O_NOCTTY, "O_NOCTTY"},
    {O_TRUNC, "O_TRUNC"},         {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
    {O_DSYNC, "O_DSYNC"},         {O_DIRECT, "O_DIRECT"},     {0100000, "O_LARGEFILE"},
    {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},
    {O_CLOEXEC, "O_CLOEXEC"},     {O_PATH, "O_PATH"},         {FASYNC, "O_ASYNC"},
};
constexpr Name kAccMode[] = {{O_RDONLY, "O_RDONLY"}, {O_WRONLY, "O_WRONLY"}, {O_RDWR, "O_RDWR"}};

// linux/fcntl.h
constexpr Name kAtBits[] = {
    {AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
    {AT_REMOVEDIR, "AT_REMOVEDIR"},
    {AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"},
    {AT_NO_AUTOMOUNT, "AT_NO_AUTOMOUNT"},
    {AT_EMPTY_PATH, "AT_EMPTY_PATH"},
    {AT_EACCESS, "AT_EACCESS"},
    {0x2000, "AT_STATX_FORCE_SYNC"},
    {0x4000, "AT_STATX_DONT_SYNC"},
    {0x8000, "AT_RECURSIVE"},
};

// linux/socket.h (a subset: the families a sandboxed program plausibly uses)
constexpr Name kFamilies[] = {
    {AF_UNSPEC, "AF_UNSPEC"}, {AF_UNIX, "AF_UNIX"},   {AF_INET, "AF_INET"},
    {AF_AX25, "AF_AX25"},     {AF_IPX, "AF_IPX"},     {AF_APPLETALK, "AF_APPLETALK"},
    {AF_INET6, "AF_INET6"},   {AF_KEY, "AF_KEY"},     {AF_NETLINK, "AF_NETLINK"},
    {AF_PACKET, "AF_PACKET"}, {AF_RDS, "AF_RDS"},     {AF_LLC, "AF_LLC"},
    {AF_CAN, "AF_CAN"},       {AF_TIPC, "AF_TIPC"},   {AF_BLUETOOTH, "AF_BLUETOOTH"},
    {AF_ALG, "AF_ALG"},       {AF_VSOCK, "AF_VSOCK"}, {AF_XDP, "AF_XDP"},
};

// linux/net.h
constexpr Name kSockTypes[] = {
    {SOCK_STREAM, "SOCK_STREAM"}, {SOCK_DGRAM, "SOCK_DGRAM"},         {SOCK_RAW, "SOCK_RAW"},
    {SOCK_RDM, "SOCK_RDM"},       {SOCK_SEQPACKET, "SOCK_SEQPACKET"}, {SOCK_DCCP, "SOCK_DCCP"},
    {SOCK_PACKET, "SOCK_PACKET"},
};
constexpr Name kSockTypeBits[] = {{SOCK_NONBLOCK, "SOCK_NONBLOCK"}, {SOCK_CLOEXEC, "SOCK_CLOEXEC"}};

// linux/sched.h; the low byte of clone(2) flags is the exit signal.
constexpr Name kCloneBits[] = {
    {CLONE_VM, "CLONE_VM"},
    {CLONE_FS, "CLONE_FS"},
    {CLONE_FILES, "CLONE_FILES"},
    {CLONE_SIGHAND, "CLONE_SIGHAND"},
    {CLONE_PIDFD, "CLONE_PIDFD"},
    {CLONE_PTRACE, "CLONE_PTRACE"},
    {CLONE_VFORK, "CLONE_VFORK"},
    {CLONE_PARENT, "CLONE_PARENT"},
    {CLONE_THREAD, "CLONE_THREAD"},
    {CLONE_NEWNS, "CLONE_NEWNS"},
    {CLONE_SYSVSEM, "CLONE_SYSVSEM"},
    {CLONE_SETTLS, "CLONE_SETTLS"},
    {CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"},
    {CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"},
    {CLONE_DETACHED, "CLONE_DETACHED"},
    {CLONE_UNTRACED, "CLONE_UNTRACED"},
    {CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"},
    {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
    {CLONE_NEWUTS, "CLONE_NEWUTS"},
    {CLONE_NEWIPC, "CLONE_NEWIPC"},
    {CLONE_NEWUSER, "CLONE_NEWUSER"},
    {CLONE_NEWPID, "CLONE_NEWPID"},
    {CLONE_NEWNET, "CLONE_NEWNET"},
    {CLONE_IO, "CLONE_IO"},
};

// sys/ptrace.h
constexpr Name kPtraceRequests[] = {
    {PTRACE_TRACEME, "PTRACE_TRACEME"},
    {PTRACE_PEEKTEXT, "PTRACE_PEEKTEXT"},
    {PTRACE_PEEKDATA, "PTRACE_PEEKDATA"},
    {PTRACE_PEEKUSER, "PTRACE_PEEKUSER"},
    {PTRACE_POKETEXT, "PTRACE_POKETEXT"},
    {PTRACE_POKEDATA, "PTRACE_POKEDATA"},
    {PTRACE_POKEUSER, "PTRACE_POKEUSER"},
    {PTRACE_CONT, "PTRACE_CONT"},
    {PTRACE_KILL, "PTRACE_KILL"},
    {PTRACE_SINGLESTEP, "PTRACE_SINGLESTEP"},
    {PTRACE_GETREGS, "PTRACE_GETREGS"},
    {PTRACE_SETREGS, "PTRACE_SETREGS"},
    {PTRACE_ATTACH, "PTRACE_ATTACH"},
    {PTRACE_DETACH, "PTRACE_DETACH"},
    {PTRACE_SYSCALL, "PTRACE_SYSCALL"},
    {PTRACE_SETOPTIONS, "PTRACE_SETOPTIONS"},
    {PTRACE_GETEVENTMSG, "PTRACE_GETEVENTMSG"},
    {PTRACE_GETSIGINFO, "PTRACE_GETSIGINFO"},
    {PTRACE_SETSIGINFO, "PTRACE_SETSIGINFO"},
    {PTRACE_SEIZE, "PTRACE_SEIZE"},
    {PTRACE_INTERRUPT, "PTRACE_INTERRUPT"},
    {PTRACE_LISTEN, "PTRACE_LISTEN"},
    {PTRACE_GET_SYSCALL_INFO, "PTRACE_GET_SYSCALL_INFO"},
};

// linux/seccomp.h
constexpr Name kSeccompOps[] = {
    {SECCOMP_SET_MODE_STRICT, "SECCOMP_SET_MODE_STRICT"},
    {SECCOMP_SET_MODE_FILTER, "SECCOMP_SET_MODE_FILTER"},
    {SECCOMP_GET_ACTION_AVAIL, "SECCOMP_GET_ACTION_AVAIL"},
    {SECCOMP_GET_NOTIF_SIZES, "SECCOMP_GET_NOTIF_SIZES"},
};

// linux/prctl.h (the options tracejail flags)
constexpr Name kPrctlOps[] = {
    {PR_SET_SECCOMP, "PR_SET_SECCOMP"},           {PR_GET_SECCOMP, "PR_GET_SECCOMP"},
    {PR_SET_NO_NEW_PRIVS, "PR_SET_NO_NEW_PRIVS"}, {PR_SET_DUMPABLE, "PR_SET_DUMPABLE"},
    {PR_SET_PDEATHSIG, "PR_SET_PDEATHSIG"},       {PR_SET_NAME, "PR_SET_NAME"},
};

// sys/stat.h file types (value-indexed within S_IFMT)
constexpr Name kFileTypes[] = {
    {S_IFREG, "S_IFREG"}, {S_IFDIR, "S_IFDIR"}, {S_IFCHR, "S_IFCHR"},   {S_IFBLK, "S_IFBLK"},
    {S_IFIFO, "S_IFIFO"}, {S_IFLNK, "S_IFLNK"}, {S_IFSOCK, "S_IFSOCK"},
};

}  // namespace

std::string Flags(std::uint64_t value, std::span<const Name> table) {
  std::string out;
  std::uint64_t left = value;
  for (const auto& n : table) {
    if (n.value != 0 && (value & n.value) == n.value && (left & n.value) != 0) {
      if (!out.empty()) out += '|';
      out += n.name;
      left &= ~n.value;
    }
  }
  if (left != 0) {
    if (!out.empty()) out += '|';
    out += fmt::format("{:#x}", left);
  }
  return out.empty() ? "0" : out;
}

std::string Enum(std::uint64_t value, std::span<const Name> table) {
  for (const auto& n : table) {
    if (n.value == value) return std::string(n.name);
  }
  return std::to_string(static_cast<std::int64_t>(value));
}

std::string OpenFlags(std::uint64_t flags) {
  std::string out = Enum(flags & O_ACCMODE, kAccMode);
  std::uint64_t rest = flags & ~static_cast<std::uint64_t>(O_ACCMODE);
  if (rest != 0) out += "|" + Flags(rest, kOpenBits);
  return out;
}

std::string AtFlags(std::uint64_t flags) { return Flags(flags, kAtBits); }

std::string Mode(std::uint64_t mode) {
  std::string out;
  if ((mode & S_IFMT) != 0) out = Enum(mode & S_IFMT, kFileTypes) + "|";
  return out + fmt::format("0{:03o}", mode & 07777);
}

std::string SocketFamily(std::uint64_t family) { return Enum(family, kFamilies); }

std::string SocketType(std::uint64_t type) {
  std::string out = Enum(type & 0xf, kSockTypes);
  std::uint64_t rest = type & ~std::uint64_t{0xf};
  if (rest != 0) out += "|" + Flags(rest, kSockTypeBits);
  return out;
}

std::string CloneFlags(std::uint64_t flags) {
  std::string out;
  std::uint64_t bits = flags & ~std::uint64_t{CSIGNAL};
  if (bits != 0) out = Flags(bits, kCloneBits);
  std::uint64_t sig = flags & CSIGNAL;
  if (sig != 0) out += (out.empty() ? "" : "|") + Signal(sig);
  return out.empty() ? "0" : out;
}

std::string PtraceRequest(std::uint64_t request) { return Enum(request, kPtraceRequests); }

std::string Signal(std::uint64_t sig) {
  if (sig == 0) return "0";
  if (sig >= static_cast<std::uint64_t>(SIGRTMIN) && sig <= static_cast<std::uint64_t>(SIGRTMAX)) {
    return fmt::format("SIGRT_{}", sig - static_cast<std::uint64_t>(SIGRTMIN));
  }
  if (sig < 64) {
    const char* abbrev = sigabbrev_np(static_cast<int>(sig));
    if (abbrev != nullptr) return fmt::format("SIG{}", abbrev);
  }
  return std::to_string(sig);
}

std::string SeccompOp(std::uint64_t op) { return Enum(op, kSeccompOps); }
std::string PrctlOp(std::uint64_t op) { return Enum(op, kPrctlOps); }

}  // namespace syscalls::xlat
