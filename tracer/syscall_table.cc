#include "tracer/syscall_table.h"

#include <linux/sched.h>
#include <seccomp.h>
#include <sys/prctl.h>

#include <algorithm>

namespace tracer {
namespace {

using A = policy::Access;
using P = policy::Primitive;
using V = policy::NetVerb;
using R = Role;
using G = Group;
using K = Kind;

constexpr A kReadA = A::kRead;
constexpr A kWriteA = A::kWrite;
constexpr A kMeta = A::kMetadata;

constexpr std::uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
                                          CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                                          CLONE_NEWCGROUP;

// clone is flagged only when one of these bits is set (checked in BPF, one condition per bit).
constexpr SyscallRow CloneRow() {
  SyscallRow row{.name = "clone",
                 .group = G::kProcess,
                 .kind = K::kClone,
                 .args = {{{R::kCloneFlags, "flags"}, {R::kPtr, "stack"}, {R::kPtr, "parent_tid"},
                           {R::kPtr, "child_tid"}, {R::kHex, "tls"}}}};
  constexpr std::array<std::uint64_t, 8> kBits{CLONE_UNTRACED, CLONE_NEWNS,  CLONE_NEWUSER,
                                               CLONE_NEWPID,   CLONE_NEWNET, CLONE_NEWIPC,
                                               CLONE_NEWUTS,   CLONE_NEWCGROUP};
  static_assert((CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                 CLONE_NEWUTS | CLONE_NEWCGROUP) == kNamespaceFlags);
  for (std::size_t i = 0; i < kBits.size(); ++i) row.conds[i] = {0, kBits[i], kBits[i]};
  row.cond_count = kBits.size();
  return row;
}

constexpr SyscallRow Primitive(std::string_view name, P p, std::array<Arg, 6> args = {}) {
  return SyscallRow{.name = name, .group = G::kProcess, .kind = K::kPrimitive, .args = args,
                    .primitive = p};
}

constexpr Arg kDirfd{R::kDirFd, "dirfd"};
constexpr Arg kPathname{R::kPath, "pathname"};
constexpr Arg kModeArg{R::kMode, "mode"};
constexpr Arg kAtFlagsArg{R::kAtFlags, "flags"};

const SyscallRow kRows[] = {
    // --- opens -------------------------------------------------------------------------
    {.name = "open", .group = G::kOpen, .kind = K::kOpen,
     .args = {{kPathname, {R::kOpenFlags, "flags"}, kModeArg}}, .follow = Follow::kOpenFlags},
    {.name = "openat", .group = G::kOpen, .kind = K::kOpen,
     .args = {{kDirfd, kPathname, {R::kOpenFlags, "flags"}, kModeArg}},
     .follow = Follow::kOpenFlags},
    {.name = "openat2", .group = G::kOpen, .kind = K::kOpen,
     .args = {{kDirfd, kPathname, {R::kOpenHow, "how"}, {R::kInt, "size"}}},
     .follow = Follow::kOpenFlags},
    {.name = "creat", .group = G::kOpen, .kind = K::kPaths,
     .args = {{kPathname, kModeArg}}, .access = A::kWrite | A::kCreate},
    Primitive("open_by_handle_at", P::kHandleOpen,
              {{{R::kFd, "mount_fd"}, {R::kPtr, "handle"}, {R::kOpenFlags, "flags"}}}),
    // --- exec --------------------------------------------------------------------------
    {.name = "execve", .group = G::kExec, .kind = K::kExec,
     .args = {{kPathname, {R::kArgv, "argv"}, {R::kEnvp, "envp"}}}, .access = A::kExec},
    {.name = "execveat", .group = G::kExec, .kind = K::kExec,
     .args = {{kDirfd, kPathname, {R::kArgv, "argv"}, {R::kEnvp, "envp"}, kAtFlagsArg}},
     .access = A::kExec, .follow = Follow::kAtNoFollow},
    // --- metadata reads ----------------------------------------------------------------
    {.name = "stat", .group = G::kStat, .kind = K::kPaths,
     .args = {{kPathname, {R::kPtr, "statbuf"}}}, .access = kMeta},
    {.name = "lstat", .group = G::kStat, .kind = K::kPaths,
     .args = {{kPathname, {R::kPtr, "statbuf"}}}, .access = kMeta, .follow = Follow::kNo},
    {.name = "newfstatat", .group = G::kStat, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, {R::kPtr, "statbuf"}, kAtFlagsArg}}, .access = kMeta,
     .follow = Follow::kAtNoFollow},
    {.name = "statx", .group = G::kStat, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, kAtFlagsArg, {R::kHex, "mask"}, {R::kPtr, "statxbuf"}}},
     .access = kMeta, .follow = Follow::kAtNoFollow},
    {.name = "access", .group = G::kStat, .kind = K::kPaths,
     .args = {{kPathname, {R::kInt, "mode"}}}, .access = kMeta},
    {.name = "faccessat", .group = G::kStat, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, {R::kInt, "mode"}}}, .access = kMeta},
    {.name = "faccessat2", .group = G::kStat, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, {R::kInt, "mode"}, kAtFlagsArg}}, .access = kMeta,
     .follow = Follow::kAtNoFollow},
    {.name = "readlink", .group = G::kStat, .kind = K::kPaths,
     .args = {{kPathname, {R::kPtr, "buf"}, {R::kInt, "bufsiz"}}}, .access = kMeta,
     .follow = Follow::kNo},
    {.name = "readlinkat", .group = G::kStat, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, {R::kPtr, "buf"}, {R::kInt, "bufsiz"}}}, .access = kMeta,
     .follow = Follow::kNo},
    {.name = "chdir", .group = G::kStat, .kind = K::kPaths, .args = {{kPathname}},
     .access = kMeta},
    {.name = "statfs", .group = G::kStat, .kind = K::kPaths,
     .args = {{kPathname, {R::kPtr, "buf"}}}, .access = kMeta},
    {.name = "getxattr", .group = G::kStat, .kind = K::kPaths,
     .args = {{kPathname, {R::kString, "name"}}}, .access = kMeta},
    {.name = "lgetxattr", .group = G::kStat, .kind = K::kPaths,
     .args = {{kPathname, {R::kString, "name"}}}, .access = kMeta, .follow = Follow::kNo},
    {.name = "listxattr", .group = G::kStat, .kind = K::kPaths, .args = {{kPathname}},
     .access = kMeta},
    {.name = "llistxattr", .group = G::kStat, .kind = K::kPaths, .args = {{kPathname}},
     .access = kMeta, .follow = Follow::kNo},
    {.name = "inotify_add_watch", .group = G::kStat, .kind = K::kPaths,
     .args = {{{R::kFd, "fd"}, kPathname, {R::kHex, "mask"}}}, .access = kMeta},
    {.name = "name_to_handle_at", .group = G::kStat, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, {R::kPtr, "handle"}, {R::kPtr, "mount_id"}, kAtFlagsArg}},
     .access = kMeta, .follow = Follow::kAtFollow},
    // --- filesystem changes ------------------------------------------------------------
    {.name = "unlink", .group = G::kMutate, .kind = K::kPaths, .args = {{kPathname}},
     .access = A::kDelete, .follow = Follow::kNo},
    {.name = "unlinkat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, kAtFlagsArg}}, .access = A::kDelete, .follow = Follow::kNo},
    {.name = "rmdir", .group = G::kMutate, .kind = K::kPaths, .args = {{kPathname}},
     .access = A::kDelete, .follow = Follow::kNo},
    {.name = "rename", .group = G::kMutate, .kind = K::kPaths,
     .args = {{{R::kPath, "oldpath"}, {R::kPath, "newpath"}}}, .access = A::kDelete,
     .access2 = A::kCreate | A::kDelete, .follow = Follow::kNo},
    {.name = "renameat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{{R::kDirFd, "olddirfd"}, {R::kPath, "oldpath"}, {R::kDirFd, "newdirfd"},
               {R::kPath, "newpath"}}},
     .access = A::kDelete, .access2 = A::kCreate | A::kDelete, .follow = Follow::kNo},
    {.name = "renameat2", .group = G::kMutate, .kind = K::kPaths,
     .args = {{{R::kDirFd, "olddirfd"}, {R::kPath, "oldpath"}, {R::kDirFd, "newdirfd"},
               {R::kPath, "newpath"}, {R::kHex, "flags"}}},
     .access = A::kDelete, .access2 = A::kCreate | A::kDelete, .follow = Follow::kNo},
    {.name = "link", .group = G::kMutate, .kind = K::kPaths,
     .args = {{{R::kPath, "oldpath"}, {R::kPath, "newpath"}}}, .access = kReadA,
     .access2 = A::kCreate, .follow = Follow::kNo},
    {.name = "linkat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{{R::kDirFd, "olddirfd"}, {R::kPath, "oldpath"}, {R::kDirFd, "newdirfd"},
               {R::kPath, "newpath"}, kAtFlagsArg}},
     .access = kReadA, .access2 = A::kCreate, .follow = Follow::kAtFollow},
    {.name = "symlink", .group = G::kMutate, .kind = K::kPaths,
     .args = {{{R::kString, "target"}, {R::kPath, "linkpath"}}}, .access = A::kCreate,
     .follow = Follow::kNo},
    {.name = "symlinkat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{{R::kString, "target"}, {R::kDirFd, "newdirfd"}, {R::kPath, "linkpath"}}},
     .access = A::kCreate, .follow = Follow::kNo},
    {.name = "mkdir", .group = G::kMutate, .kind = K::kPaths, .args = {{kPathname, kModeArg}},
     .access = A::kCreate, .follow = Follow::kNo},
    {.name = "mkdirat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, kModeArg}}, .access = A::kCreate, .follow = Follow::kNo},
    {.name = "mknod", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, kModeArg, {R::kHex, "dev"}}}, .access = A::kCreate,
     .follow = Follow::kNo},
    {.name = "mknodat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, kModeArg, {R::kHex, "dev"}}}, .access = A::kCreate,
     .follow = Follow::kNo},
    {.name = "chmod", .group = G::kMutate, .kind = K::kPaths, .args = {{kPathname, kModeArg}},
     .access = A::kChmod},
    {.name = "fchmodat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, kModeArg}}, .access = A::kChmod},
    {.name = "chown", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, {R::kInt, "owner"}, {R::kInt, "group"}}}, .access = A::kChown},
    {.name = "lchown", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, {R::kInt, "owner"}, {R::kInt, "group"}}}, .access = A::kChown,
     .follow = Follow::kNo},
    {.name = "fchownat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, {R::kInt, "owner"}, {R::kInt, "group"}, kAtFlagsArg}},
     .access = A::kChown, .follow = Follow::kAtNoFollow},
    {.name = "truncate", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, {R::kInt, "length"}}}, .access = kWriteA},
    {.name = "utime", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, {R::kPtr, "times"}}}, .access = kWriteA},
    {.name = "utimes", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, {R::kPtr, "times"}}}, .access = kWriteA},
    {.name = "futimesat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, {R::kPtr, "times"}}}, .access = kWriteA},
    {.name = "utimensat", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kDirfd, kPathname, {R::kPtr, "times"}, kAtFlagsArg}}, .access = kWriteA,
     .follow = Follow::kAtNoFollow},
    {.name = "setxattr", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, {R::kString, "name"}}}, .access = kWriteA},
    {.name = "lsetxattr", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, {R::kString, "name"}}}, .access = kWriteA, .follow = Follow::kNo},
    {.name = "removexattr", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, {R::kString, "name"}}}, .access = kWriteA},
    {.name = "lremovexattr", .group = G::kMutate, .kind = K::kPaths,
     .args = {{kPathname, {R::kString, "name"}}}, .access = kWriteA, .follow = Follow::kNo},
    // --- network -----------------------------------------------------------------------
    {.name = "socket", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kSockDomain, "domain"}, {R::kSockType, "type"}, {R::kInt, "protocol"}}},
     .verb = V::kSocket},
    {.name = "socketpair", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kSockDomain, "domain"}, {R::kSockType, "type"}, {R::kInt, "protocol"},
               {R::kPtr, "sv"}}},
     .verb = V::kSocket},
    {.name = "connect", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kFd, "sockfd"}, {R::kSockAddr, "addr"}, {R::kSockLen, "addrlen"}}},
     .verb = V::kConnect},
    {.name = "bind", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kFd, "sockfd"}, {R::kSockAddr, "addr"}, {R::kSockLen, "addrlen"}}},
     .verb = V::kBind},
    {.name = "sendto", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kFd, "sockfd"}, {R::kPtr, "buf"}, {R::kInt, "len"}, {R::kHex, "flags"},
               {R::kSockAddr, "dest_addr"}, {R::kSockLen, "addrlen"}}},
     .verb = V::kSend},
    {.name = "sendmsg", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kFd, "sockfd"}, {R::kMsgHdr, "msg"}, {R::kHex, "flags"}}}, .verb = V::kSend},
    {.name = "sendmmsg", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kFd, "sockfd"}, {R::kMMsgHdr, "msgvec"}, {R::kInt, "vlen"},
               {R::kHex, "flags"}}},
     .verb = V::kSend},
    {.name = "listen", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kFd, "sockfd"}, {R::kInt, "backlog"}}}, .verb = V::kListen},
    {.name = "accept", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kFd, "sockfd"}, {R::kPtr, "addr"}, {R::kPtr, "addrlen"}}},
     .verb = V::kAccept},
    {.name = "accept4", .group = G::kNet, .kind = K::kNet,
     .args = {{{R::kFd, "sockfd"}, {R::kPtr, "addr"}, {R::kPtr, "addrlen"}, {R::kHex, "flags"}}},
     .verb = V::kAccept},
    // --- process tree and escape primitives ----------------------------------------------
    CloneRow(),
    {.name = "clone3", .group = G::kProcess, .kind = K::kPrimitive,
     .args = {{{R::kPtr, "cl_args"}, {R::kInt, "size"}}}, .kernel_errno = 38 /*ENOSYS*/},
    Primitive("ptrace", P::kPtrace,
              {{{R::kPtraceRequest, "request"}, {R::kPid, "pid"}, {R::kPtr, "addr"},
                {R::kPtr, "data"}}}),
    {.name = "process_vm_readv", .group = G::kProcess, .kind = K::kProcessVm,
     .args = {{{R::kPid, "pid"}, {R::kPtr, "local_iov"}, {R::kInt, "liovcnt"},
               {R::kPtr, "remote_iov"}, {R::kInt, "riovcnt"}}},
     .primitive = P::kProcessVmRead},
    {.name = "process_vm_writev", .group = G::kProcess, .kind = K::kProcessVm,
     .args = {{{R::kPid, "pid"}, {R::kPtr, "local_iov"}, {R::kInt, "liovcnt"},
               {R::kPtr, "remote_iov"}, {R::kInt, "riovcnt"}}},
     .primitive = P::kProcessVmWrite},
    {.name = "kill", .group = G::kProcess, .kind = K::kSignalTarget,
     .args = {{{R::kPid, "pid"}, {R::kSignal, "sig"}}}},
    {.name = "tkill", .group = G::kProcess, .kind = K::kSignalTarget,
     .args = {{{R::kPid, "tid"}, {R::kSignal, "sig"}}}},
    {.name = "tgkill", .group = G::kProcess, .kind = K::kSignalTarget,
     .args = {{{R::kPid, "tgid"}, {R::kPid, "tid"}, {R::kSignal, "sig"}}}},
    {.name = "rt_sigqueueinfo", .group = G::kProcess, .kind = K::kSignalTarget,
     .args = {{{R::kPid, "tgid"}, {R::kSignal, "sig"}, {R::kPtr, "info"}}}},
    {.name = "rt_tgsigqueueinfo", .group = G::kProcess, .kind = K::kSignalTarget,
     .args = {{{R::kPid, "tgid"}, {R::kPid, "tid"}, {R::kSignal, "sig"}, {R::kPtr, "info"}}}},
    {.name = "pidfd_open", .group = G::kProcess, .kind = K::kSignalTarget,
     .args = {{{R::kPid, "pid"}, {R::kHex, "flags"}}}},
    {.name = "pidfd_send_signal", .group = G::kProcess, .kind = K::kPidfdSignal,
     .args = {{{R::kFd, "pidfd"}, {R::kSignal, "sig"}, {R::kPtr, "info"}, {R::kHex, "flags"}}}},
    {.name = "pidfd_getfd", .group = G::kProcess, .kind = K::kPidfdSignal,
     .args = {{{R::kFd, "pidfd"}, {R::kFd, "targetfd"}, {R::kHex, "flags"}}}},
    {.name = "setpgid", .group = G::kProcess, .kind = K::kSetpgid,
     .args = {{{R::kPid, "pid"}, {R::kPid, "pgid"}}}},
    Primitive("unshare", P::kNamespace, {{{R::kCloneFlags, "flags"}}}),
    Primitive("setns", P::kNamespace, {{{R::kFd, "fd"}, {R::kCloneFlags, "nstype"}}}),
    {.name = "seccomp", .group = G::kProcess, .kind = K::kSeccomp,
     .args = {{{R::kSeccompOp, "operation"}, {R::kHex, "flags"}, {R::kPtr, "args"}}},
     .primitive = P::kSeccompListener},
    {.name = "prctl", .group = G::kProcess, .kind = K::kPrctl,
     .args = {{{R::kPrctlOp, "option"}, {R::kHex, "arg2"}, {R::kHex, "arg3"}}},
     .conds = {{{0, ~0ULL, PR_SET_SECCOMP}}}, .cond_count = 1},
    {.name = "personality", .group = G::kProcess, .kind = K::kPersonality,
     .args = {{{R::kHex, "persona"}}}, .primitive = P::kPersonality},
    Primitive("io_uring_setup", P::kIoUring, {{{R::kInt, "entries"}, {R::kPtr, "params"}}}),
    Primitive("io_uring_enter", P::kIoUring, {{{R::kFd, "fd"}, {R::kInt, "to_submit"}}}),
    Primitive("io_uring_register", P::kIoUring, {{{R::kFd, "fd"}, {R::kInt, "opcode"}}}),
    Primitive("bpf", P::kBpf, {{{R::kInt, "cmd"}, {R::kPtr, "attr"}, {R::kInt, "size"}}}),
    Primitive("perf_event_open", P::kPerfEvent,
              {{{R::kPtr, "attr"}, {R::kPid, "pid"}, {R::kInt, "cpu"}, {R::kFd, "group_fd"}}}),
    Primitive("userfaultfd", P::kUserfaultfd, {{{R::kHex, "flags"}}}),
    Primitive("keyctl", P::kKeyring, {{{R::kInt, "operation"}}}),
    Primitive("add_key", P::kKeyring, {{{R::kString, "type"}, {R::kString, "description"}}}),
    Primitive("request_key", P::kKeyring, {{{R::kString, "type"}, {R::kString, "description"}}}),
    Primitive("kexec_load", P::kKexec),
    Primitive("kexec_file_load", P::kKexec),
    Primitive("init_module", P::kModule),
    Primitive("finit_module", P::kModule, {{{R::kFd, "fd"}, {R::kString, "param_values"}}}),
    Primitive("delete_module", P::kModule, {{{R::kString, "name"}}}),
    Primitive("mount", P::kMount,
              {{{R::kString, "source"}, {R::kString, "target"}, {R::kString, "filesystemtype"},
                {R::kHex, "mountflags"}}}),
    Primitive("umount2", P::kMount, {{{R::kString, "target"}, {R::kHex, "flags"}}}),
    Primitive("pivot_root", P::kMount, {{{R::kString, "new_root"}, {R::kString, "put_old"}}}),
    Primitive("chroot", P::kMount, {{{R::kString, "path"}}}),
    Primitive("open_tree", P::kMount, {{kDirfd, {R::kString, "pathname"}, {R::kHex, "flags"}}}),
    Primitive("move_mount", P::kMount),
    Primitive("fsopen", P::kMount, {{{R::kString, "fsname"}, {R::kHex, "flags"}}}),
    Primitive("fsmount", P::kMount),
    Primitive("fspick", P::kMount),
    Primitive("mount_setattr", P::kMount),
    Primitive("swapon", P::kSystemAdmin, {{{R::kString, "path"}, {R::kHex, "swapflags"}}}),
    Primitive("swapoff", P::kSystemAdmin, {{{R::kString, "path"}}}),
    Primitive("reboot", P::kSystemAdmin, {{{R::kHex, "magic"}, {R::kHex, "magic2"},
                                           {R::kHex, "cmd"}}}),
    Primitive("iopl", P::kSystemAdmin, {{{R::kInt, "level"}}}),
    Primitive("ioperm", P::kSystemAdmin, {{{R::kHex, "from"}, {R::kInt, "num"}, {R::kInt, "on"}}}),
    Primitive("acct", P::kSystemAdmin, {{{R::kString, "filename"}}}),
    Primitive("settimeofday", P::kSystemAdmin),
    Primitive("clock_settime", P::kSystemAdmin, {{{R::kInt, "clockid"}}}),
    Primitive("clock_adjtime", P::kSystemAdmin, {{{R::kInt, "clockid"}}}),
    Primitive("sethostname", P::kSystemAdmin, {{{R::kString, "name"}}}),
    Primitive("setdomainname", P::kSystemAdmin, {{{R::kString, "name"}}}),
    Primitive("syslog", P::kSystemAdmin, {{{R::kInt, "type"}}}),
    Primitive("quotactl", P::kSystemAdmin),
    Primitive("vhangup", P::kSystemAdmin),
    Primitive("lookup_dcookie", P::kSystemAdmin),
};

}  // namespace

std::span<const SyscallRow> SyscallTable() { return kRows; }

const SyscallRow* FindRow(std::string_view name) {
  for (const auto& row : kRows) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

SyscallIndex::SyscallIndex() {
  static_assert(std::size(kRows) <= std::tuple_size_v<decltype(nr_by_row_)>);
  by_nr_.fill(-1);
  nr_by_row_.fill(-1);
  for (std::size_t i = 0; i < std::size(kRows); ++i) {
    std::string name(kRows[i].name);
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr < 0 || static_cast<std::size_t>(nr) >= by_nr_.size()) continue;  // not on this arch
    by_nr_[static_cast<std::size_t>(nr)] = static_cast<std::int16_t>(i);
    nr_by_row_[i] = nr;
  }
}

const SyscallRow* SyscallIndex::Lookup(long nr) const {
  if (nr < 0 || static_cast<std::size_t>(nr) >= by_nr_.size()) return nullptr;
  auto i = by_nr_[static_cast<std::size_t>(nr)];
  return i < 0 ? nullptr : &kRows[i];
}

int SyscallIndex::Number(const SyscallRow& row) const {
  auto i = static_cast<std::size_t>(&row - kRows);
  return i < std::size(kRows) ? nr_by_row_[i] : -1;
}

}  // namespace tracer
