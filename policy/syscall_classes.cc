#include "policy/syscall_classes.h"

#include <seccomp.h>

#include <array>
#include <cstdlib>

namespace policy {
namespace {

using SV = std::string_view;

// Syscalls that take a file name (strace's %file).
constexpr SV kFile[] = {"open",
                        "openat",
                        "openat2",
                        "creat",
                        "execve",
                        "execveat",
                        "stat",
                        "lstat",
                        "newfstatat",
                        "statx",
                        "access",
                        "faccessat",
                        "faccessat2",
                        "readlink",
                        "readlinkat",
                        "chdir",
                        "chroot",
                        "statfs",
                        "getxattr",
                        "lgetxattr",
                        "listxattr",
                        "llistxattr",
                        "setxattr",
                        "lsetxattr",
                        "removexattr",
                        "lremovexattr",
                        "unlink",
                        "unlinkat",
                        "rmdir",
                        "rename",
                        "renameat",
                        "renameat2",
                        "link",
                        "linkat",
                        "symlink",
                        "symlinkat",
                        "mkdir",
                        "mkdirat",
                        "mknod",
                        "mknodat",
                        "chmod",
                        "fchmodat",
                        "chown",
                        "lchown",
                        "fchownat",
                        "truncate",
                        "utime",
                        "utimes",
                        "futimesat",
                        "utimensat",
                        "mount",
                        "umount2",
                        "pivot_root",
                        "swapon",
                        "swapoff",
                        "acct",
                        "inotify_add_watch",
                        "fanotify_mark",
                        "name_to_handle_at",
                        "quotactl",
                        "uselib",
                        "open_tree",
                        "move_mount",
                        "fspick",
                        "mount_setattr",
                        "statmount",
                        "listmount",
                        "getcwd",
                        "fchmodat2",
                        "getxattrat",
                        "setxattrat",
                        "listxattrat",
                        "removexattrat",
                        "file_getattr",
                        "file_setattr"};

// Socket calls (strace's %network).
constexpr SV kNetwork[] = {"socket",   "socketpair", "bind",        "connect",     "listen",
                           "accept",   "accept4",    "getsockname", "getpeername", "sendto",
                           "recvfrom", "sendmsg",    "recvmsg",     "sendmmsg",    "recvmmsg",
                           "shutdown", "setsockopt", "getsockopt"};

// Process life cycle (strace's %process).
constexpr SV kProcess[] = {"fork",
                           "vfork",
                           "clone",
                           "clone3",
                           "execve",
                           "execveat",
                           "exit",
                           "exit_group",
                           "wait4",
                           "waitid",
                           "kill",
                           "tkill",
                           "tgkill",
                           "rt_sigqueueinfo",
                           "rt_tgsigqueueinfo",
                           "pidfd_open",
                           "pidfd_send_signal",
                           "pidfd_getfd",
                           "unshare",
                           "setns"};

// Signal handling (strace's %signal).
constexpr SV kSignal[] = {
    "kill",          "tkill",         "tgkill",          "rt_sigaction",    "rt_sigprocmask",
    "rt_sigreturn",  "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "rt_sigsuspend", "sigaltstack",   "signalfd",        "signalfd4",       "pidfd_send_signal",
    "pause"};

// System V IPC (strace's %ipc).
constexpr SV kIpc[] = {"msgget", "msgsnd",     "msgrcv", "msgctl", "semget", "semop",
                       "semctl", "semtimedop", "shmget", "shmat",  "shmctl", "shmdt"};

// Memory mapping (strace's %memory).
constexpr SV kMemory[] = {
    "brk",           "mmap",          "munmap",        "mprotect",         "mremap",
    "madvise",       "mlock",         "mlock2",        "munlock",          "mlockall",
    "munlockall",    "mincore",       "msync",         "remap_file_pages", "mbind",
    "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages",       "pkey_mprotect"};

// Credentials (strace's %creds).
constexpr SV kCreds[] = {"getuid",   "geteuid",  "getgid",    "getegid",   "setuid",    "setgid",
                         "setreuid", "setregid", "setresuid", "setresgid", "getresuid", "getresgid",
                         "setfsuid", "setfsgid", "getgroups", "setgroups", "capget",    "capset",
                         "prctl",    "getpgid",  "setpgid",   "setsid"};

// Clocks (strace's %clock).
constexpr SV kClock[] = {"adjtimex",      "clock_adjtime",   "clock_getres",
                         "clock_gettime", "clock_nanosleep", "clock_settime",
                         "gettimeofday",  "settimeofday",    "time"};

// tracejail's own: calls whose only use in a sandbox is to leave it or blind it, which are every
// unconditional escape primitive of tracer/syscall_table.cc (the unit test "Syscall classes agree
// with the table" keeps the two together).
constexpr SV kEscape[] = {"ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup",
                          "io_uring_enter", "io_uring_register", "bpf", "perf_event_open",
                          "userfaultfd", "keyctl", "add_key", "request_key", "kexec_load",
                          "kexec_file_load", "init_module", "finit_module", "delete_module",
                          "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
                          "open_by_handle_at", "iopl", "ioperm",
                          // the new mount API: each one builds or changes a mount
                          "open_tree", "open_tree_attr", "move_mount", "fsopen", "fsconfig",
                          "fsmount", "fspick", "mount_setattr",
                          // system administration
                          "reboot", "swapon", "swapoff", "syslog", "sethostname", "setdomainname",
                          "settimeofday", "clock_settime", "acct", "quotactl", "quotactl_fd",
                          "vhangup", "lookup_dcookie", "fanotify_init", "lsm_set_self_attr"};

constexpr std::array<SyscallClass, 9> kClasses{{
    {"%file", "calls that take a file name", kFile},
    {"%network", "socket calls", kNetwork},
    {"%process", "process life cycle", kProcess},
    {"%signal", "signal handling", kSignal},
    {"%ipc", "System V IPC", kIpc},
    {"%memory", "memory mapping", kMemory},
    {"%creds", "user, group and capability credentials", kCreds},
    {"%clock", "clocks and time", kClock},
    {"%escape", "escape primitives (tracejail's class)", kEscape},
}};

}  // namespace

std::span<const SyscallClass> SyscallClasses() { return kClasses; }

const SyscallClass* FindSyscallClass(std::string_view name) {
  for (const auto& c : kClasses) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {

// x86-64 syscalls newer than the libseccomp Debian 12 ships (2.5.4 knows numbers up to 456),
// from the kernel's arch/x86/entry/syscalls/syscall_64.tbl (Linux 6.18). libseccomp's own
// answer wins where it has one.
struct NewerSyscall {
  std::string_view name;
  int nr;
};
constexpr NewerSyscall kNewerX86_64[] = {
    {"uretprobe", 335},         {"uprobe", 336},
    {"statmount", 457},         {"listmount", 458},
    {"lsm_get_self_attr", 459}, {"lsm_set_self_attr", 460},
    {"lsm_list_modules", 461},  {"mseal", 462},
    {"setxattrat", 463},        {"getxattrat", 464},
    {"listxattrat", 465},       {"removexattrat", 466},
    {"open_tree_attr", 467},    {"file_getattr", 468},
    {"file_setattr", 469},
};

bool NativeIsX86_64() { return seccomp_arch_native() == SCMP_ARCH_X86_64; }

}  // namespace

std::optional<int> SyscallNumber(std::string_view name) {
  std::string n(name);
  int nr = seccomp_syscall_resolve_name(n.c_str());
  if (nr >= 0) return nr;
  if (!NativeIsX86_64()) return std::nullopt;
  for (const auto& s : kNewerX86_64) {
    if (s.name == name) return s.nr;
  }
  return std::nullopt;
}

std::optional<std::string> SyscallNameOf(int nr) {
  if (char* n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr)) {
    std::string out(n);
    std::free(n);
    return out;
  }
  if (!NativeIsX86_64()) return std::nullopt;
  for (const auto& s : kNewerX86_64) {
    if (s.nr == nr) return std::string(s.name);
  }
  return std::nullopt;
}

const std::vector<std::string>& KnownSyscallNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (int nr = 0; nr < 1024; ++nr) {
      if (auto n = SyscallNameOf(nr)) out.push_back(std::move(*n));
    }
    return out;
  }();
  return names;
}

}  // namespace policy
