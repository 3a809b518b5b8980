// syscalls/xlat.h: flag and enum names, strace style (composites before their parts, unknown bits
// in hex).
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "syscalls/xlat.h"

namespace {

namespace xlat = syscalls::xlat;

struct Case {
  std::uint64_t value;
  const char* name;
};

std::uint64_t U(long v) { return static_cast<std::uint64_t>(v); }

}  // namespace

TEST_CASE("xlat::Flags and Enum on a custom table", "[xlat]") {
  const xlat::Name table[] = {{0x3, "AB"}, {0x1, "A"}, {0x2, "B"}, {0x8, "D"}, {0, "ZERO"}};
  const Case flags[] = {{0, "0"},
                        {0x1, "A"},
                        {0x2, "B"},
                        {0x3, "AB"},
                        {0x8, "D"},
                        {0xb, "AB|D"},
                        {0x4, "0x4"},
                        {0x7, "AB|0x4"},
                        {0x9, "A|D"},
                        {0xf0, "0xf0"},
                        {1ULL << 63, "0x8000000000000000"}};
  for (const auto& c : flags) {
    CAPTURE(c.value);
    CHECK(xlat::Flags(c.value, table) == c.name);
  }
  CHECK(xlat::Enum(0x1, table) == "A");
  CHECK(xlat::Enum(0x3, table) == "AB");
  CHECK(xlat::Enum(0, table) == "ZERO");
  CHECK(xlat::Enum(42, table) == "42");
  CHECK(xlat::Enum(~0ULL, table) == "-1");  // values are shown as signed
}

TEST_CASE("xlat::OpenFlags", "[xlat]") {
  const Case cases[] = {
      {O_RDONLY, "O_RDONLY"},
      {O_WRONLY, "O_WRONLY"},
      {O_RDWR, "O_RDWR"},
      {O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"},
      {O_RDWR | O_APPEND, "O_RDWR|O_APPEND"},
      {O_CREAT | O_EXCL | O_NONBLOCK, "O_RDONLY|O_CREAT|O_EXCL|O_NONBLOCK"},
      // O_TMPFILE includes the O_DIRECTORY bit and is named as one flag.
      {O_RDWR | O_TMPFILE, "O_RDWR|O_TMPFILE"},
      {O_WRONLY | O_TMPFILE | O_EXCL, "O_WRONLY|O_TMPFILE|O_EXCL"},
      {O_RDONLY | O_DIRECTORY, "O_RDONLY|O_DIRECTORY"},
      {O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
       "O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC"},
      // O_SYNC includes the O_DSYNC bit.
      {O_WRONLY | O_SYNC, "O_WRONLY|O_SYNC"},
      {O_WRONLY | O_DSYNC, "O_WRONLY|O_DSYNC"},
      {O_PATH, "O_RDONLY|O_PATH"},
      {O_PATH | O_NOFOLLOW, "O_RDONLY|O_NOFOLLOW|O_PATH"},
      {0100000, "O_RDONLY|O_LARGEFILE"},
      {O_RDONLY | O_NOCTTY | O_NOATIME | O_DIRECT, "O_RDONLY|O_NOCTTY|O_DIRECT|O_NOATIME"},
      {O_RDONLY | O_ASYNC, "O_RDONLY|O_ASYNC"},
      // Leftover bits in hex, after the names.
      {0x80000000u, "O_RDONLY|0x80000000"},
      {O_WRONLY | O_CREAT | 0x40000000u, "O_WRONLY|O_CREAT|0x40000000"},
      {0x100000000ULL, "O_RDONLY|0x100000000"},
      // The access mode 3 is not a valid mode; shown as its number.
      {O_ACCMODE, "3"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CHECK(xlat::OpenFlags(c.value) == c.name);
  }
  // Never O_DIRECTORY alongside O_TMPFILE, never O_DSYNC alongside O_SYNC.
  CHECK(xlat::OpenFlags(O_RDWR | O_TMPFILE).find("O_DIRECTORY") == std::string::npos);
  CHECK(xlat::OpenFlags(O_WRONLY | O_SYNC).find("O_DSYNC") == std::string::npos);
}

TEST_CASE("xlat::AtFlags", "[xlat]") {
  const Case cases[] = {
      {0, "0"},
      {AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW"},
      {AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"},
      {AT_REMOVEDIR, "AT_REMOVEDIR"},
      {AT_SYMLINK_FOLLOW, "AT_SYMLINK_FOLLOW"},
      {AT_NO_AUTOMOUNT | AT_EMPTY_PATH, "AT_NO_AUTOMOUNT|AT_EMPTY_PATH"},
      {0x8000, "AT_RECURSIVE"},
      {0x2000 | AT_SYMLINK_NOFOLLOW, "AT_SYMLINK_NOFOLLOW|AT_STATX_FORCE_SYNC"},
      {AT_EMPTY_PATH | 0x1, "AT_EMPTY_PATH|0x1"},
      {0x10000000, "0x10000000"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CHECK(xlat::AtFlags(c.value) == c.name);
  }
}

TEST_CASE("xlat::Mode", "[xlat]") {
  const Case cases[] = {
      {0644, "0644"},
      {0, "0000"},
      {0755, "0755"},
      {07, "0007"},
      {04755, "04755"},
      {01777, "01777"},
      {07777, "07777"},
      {S_IFREG | 0644, "S_IFREG|0644"},
      {S_IFDIR | 0755, "S_IFDIR|0755"},
      {S_IFIFO | 0600, "S_IFIFO|0600"},
      {S_IFCHR | 0620, "S_IFCHR|0620"},
      {S_IFSOCK | 0777, "S_IFSOCK|0777"},
      {S_IFLNK | 0777, "S_IFLNK|0777"},
      {S_IFBLK | 0660, "S_IFBLK|0660"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CHECK(xlat::Mode(c.value) == c.name);
  }
}

TEST_CASE("xlat::SocketFamily and SocketType", "[xlat]") {
  const Case families[] = {{AF_UNSPEC, "AF_UNSPEC"},   {AF_UNIX, "AF_UNIX"},
                           {AF_INET, "AF_INET"},       {AF_INET6, "AF_INET6"},
                           {AF_NETLINK, "AF_NETLINK"}, {AF_PACKET, "AF_PACKET"},
                           {AF_VSOCK, "AF_VSOCK"},     {AF_ALG, "AF_ALG"},
                           {AF_XDP, "AF_XDP"},         {255, "255"}};
  for (const auto& c : families) {
    CAPTURE(c.value);
    CHECK(xlat::SocketFamily(c.value) == c.name);
  }
  const Case types[] = {
      {SOCK_STREAM, "SOCK_STREAM"},
      {SOCK_DGRAM, "SOCK_DGRAM"},
      {SOCK_RAW, "SOCK_RAW"},
      {SOCK_SEQPACKET, "SOCK_SEQPACKET"},
      {SOCK_PACKET, "SOCK_PACKET"},
      {SOCK_STREAM | SOCK_CLOEXEC, "SOCK_STREAM|SOCK_CLOEXEC"},
      {SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, "SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC"},
      {SOCK_RAW | 0x100, "SOCK_RAW|0x100"},
      {0, "0"},
      {15, "15"},
  };
  for (const auto& c : types) {
    CAPTURE(c.value);
    CHECK(xlat::SocketType(c.value) == c.name);
  }
}

TEST_CASE("xlat::CloneFlags", "[xlat]") {
  const Case cases[] = {
      {0, "0"},
      {SIGCHLD, "SIGCHLD"},
      {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
           CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
       "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|"
       "CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"},
      {CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD,
       "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"},
      {CLONE_VM | CLONE_VFORK | SIGCHLD, "CLONE_VM|CLONE_VFORK|SIGCHLD"},
      {CLONE_UNTRACED | SIGCHLD, "CLONE_UNTRACED|SIGCHLD"},
      {CLONE_NEWUSER | CLONE_NEWNS, "CLONE_NEWNS|CLONE_NEWUSER"},
      {CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP,
       "CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET"},
      {CLONE_PIDFD | SIGKILL, "CLONE_PIDFD|SIGKILL"},
      {0x100000000ULL | SIGCHLD, "0x100000000|SIGCHLD"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CHECK(xlat::CloneFlags(c.value) == c.name);
  }
}

TEST_CASE("xlat::PtraceRequest, SeccompOp and PrctlOp", "[xlat]") {
  const Case ptrace[] = {{PTRACE_TRACEME, "PTRACE_TRACEME"},
                         {PTRACE_ATTACH, "PTRACE_ATTACH"},
                         {PTRACE_SEIZE, "PTRACE_SEIZE"},
                         {PTRACE_POKEDATA, "PTRACE_POKEDATA"},
                         {PTRACE_GETREGS, "PTRACE_GETREGS"},
                         {PTRACE_GET_SYSCALL_INFO, "PTRACE_GET_SYSCALL_INFO"},
                         {0x4242, "16962"}};
  for (const auto& c : ptrace) {
    CAPTURE(c.value);
    CHECK(xlat::PtraceRequest(c.value) == c.name);
  }
  CHECK(xlat::SeccompOp(SECCOMP_SET_MODE_FILTER) == "SECCOMP_SET_MODE_FILTER");
  CHECK(xlat::SeccompOp(SECCOMP_SET_MODE_STRICT) == "SECCOMP_SET_MODE_STRICT");
  CHECK(xlat::SeccompOp(99) == "99");
  CHECK(xlat::PrctlOp(PR_SET_SECCOMP) == "PR_SET_SECCOMP");
  CHECK(xlat::PrctlOp(PR_SET_NO_NEW_PRIVS) == "PR_SET_NO_NEW_PRIVS");
  CHECK(xlat::PrctlOp(1000) == "1000");
}

TEST_CASE("xlat::Signal", "[xlat]") {
  const Case cases[] = {
      {0, "0"},
      {SIGKILL, "SIGKILL"},
      {SIGTERM, "SIGTERM"},
      {SIGHUP, "SIGHUP"},
      {SIGCHLD, "SIGCHLD"},
      {SIGSYS, "SIGSYS"},
      {SIGUSR1, "SIGUSR1"},
      {U(SIGRTMIN), "SIGRT_0"},
      {U(SIGRTMIN + 3), "SIGRT_3"},
      {1000, "1000"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    CHECK(xlat::Signal(c.value) == c.name);
  }
  CHECK(xlat::Signal(U(SIGRTMAX)) == "SIGRT_" + std::to_string(SIGRTMAX - SIGRTMIN));
  CHECK(xlat::Signal(U(SIGRTMAX + 1)) == std::to_string(SIGRTMAX + 1));
}
