// tracer/decode.h: Decode turns a row and raw arguments into a policy::Request through a fake
// tracee; RenderArgs renders the decoded arguments for events.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fakes.h"
#include "policy/names.h"
#include "syscalls/table.h"
#include "tracer/decode.h"

namespace {

using nlohmann::json;
using policy::Access;
using policy::Primitive;
using tjtest::BytesOf;
using tjtest::FakeContext;
using tjtest::FakeMemory;
using Args = std::array<std::uint64_t, 6>;

// Registers hold ints sign-extended.
constexpr std::uint64_t R(long long v) { return static_cast<std::uint64_t>(v); }
constexpr std::uint64_t kFdCwd = R(AT_FDCWD);
constexpr std::uint64_t kUnmapped = 0xdead0000;

tracer::DecodedCall Run(FakeContext& ctx, std::string_view name, const Args& args) {
  const syscalls::SyscallRow* row = syscalls::FindRow(name);
  REQUIRE(row != nullptr);
  tracer::DecodedCall out;
  tracer::Decode(*row, args, ctx, out);
  CHECK(out.row == row);
  CHECK(out.args == args);
  CHECK(out.request.syscall == name);
  return out;
}

std::string In4(const char* ip, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  REQUIRE(inet_pton(AF_INET, ip, &sin.sin_addr) == 1);
  return BytesOf(sin);
}

std::string In6(const char* ip, std::uint16_t port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  REQUIRE(inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1);
  return BytesOf(sin6);
}

std::string Un(const std::string& path_bytes) {
  sa_family_t family = AF_UNIX;
  return BytesOf(family) + path_bytes;
}

std::string Text(const policy::SocketAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family, a.ip.data(), buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(a.port);
}

// Writes a NULL-terminated array of string pointers; returns its address.
std::uint64_t PutStrings(FakeMemory& mem, const std::vector<std::string>& items) {
  std::string ptrs;
  for (const auto& s : items) ptrs += BytesOf(mem.PutCString(s));
  ptrs += BytesOf(std::uint64_t{0});
  return mem.Put(ptrs);
}

void* AsPtr(std::uint64_t addr) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(addr));
}

}  // namespace

TEST_CASE("Decode openat: access kinds from open flags", "[decode]") {
  struct Case {
    std::uint64_t flags;
    Access access;
    bool follow;
  };
  const Case cases[] = {
      {O_RDONLY, Access::kRead, true},
      {O_WRONLY, Access::kWrite, true},
      {O_RDWR, Access::kRead | Access::kWrite, true},
      {O_WRONLY | O_CREAT, Access::kWrite | Access::kCreate, true},
      {O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, Access::kWrite | Access::kCreate, true},
      {O_WRONLY | O_CREAT | O_EXCL, Access::kWrite | Access::kCreate, false},
      {O_RDONLY | O_TRUNC, Access::kRead | Access::kWrite, true},
      {O_RDWR | O_TMPFILE, Access::kRead | Access::kWrite | Access::kCreate, true},
      {O_RDONLY | O_DIRECTORY, Access::kRead, true},
      {O_RDONLY | O_NOFOLLOW, Access::kRead, false},
      {O_PATH, Access::kMetadata, true},
      {O_PATH | O_NOFOLLOW, Access::kMetadata, false},
      {O_PATH | O_WRONLY | O_CREAT, Access::kMetadata, true},  // O_PATH ignores the rest
  };
  for (const auto& c : cases) {
    CAPTURE(c.flags, policy::AccessNames(c.access));
    FakeContext ctx;
    std::uint64_t path = ctx.mem.PutCString("/etc//hosts");
    auto out = Run(ctx, "openat", {kFdCwd, path, c.flags, 0644, 0, 0});
    CHECK(out.early_errno == 0);
    CHECK(out.open_flags == c.flags);
    REQUIRE(out.request.path_count == 1);
    CHECK(out.request.paths[0].path == "/etc/hosts");
    CHECK(out.request.paths[0].access == c.access);
    CHECK(out.request.paths[0].resolved);
    CHECK(out.paths[0].raw == "/etc//hosts");
    CHECK(out.paths[0].resolved.path == "/etc/hosts");
    REQUIRE(ctx.resolve_calls.size() == 1);
    CHECK(ctx.resolve_calls[0].dirfd == AT_FDCWD);
    CHECK(ctx.resolve_calls[0].follow_last == c.follow);
    CHECK_FALSE(ctx.resolve_calls[0].empty_path_ok);
    CHECK_FALSE(out.request.net);
    CHECK(out.request.primitive == Primitive::kNone);
  }
}

TEST_CASE("Decode opens: relative paths, dirfds, open and creat", "[decode]") {
  FakeContext ctx;
  ctx.dir_fds[7] = "/srv/data";

  SECTION("relative to the cwd") {
    auto out = Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString("src/../a.txt"), O_RDONLY});
    CHECK(out.request.paths[0].path == "/home/user/work/a.txt");
  }
  SECTION("relative to a dirfd") {
    auto out = Run(ctx, "openat", {7, ctx.mem.PutCString("x/y"), O_WRONLY});
    CHECK(out.request.paths[0].path == "/srv/data/x/y");
    CHECK(ctx.resolve_calls.at(0).dirfd == 7);
  }
  SECTION("a dirfd the tracee does not have") {
    auto out = Run(ctx, "openat", {9, ctx.mem.PutCString("x"), O_RDONLY});
    CHECK(out.early_errno == EBADF);
    CHECK(out.request.path_count == 0);
  }
  SECTION("absolute paths ignore the dirfd") {
    auto out = Run(ctx, "openat", {7, ctx.mem.PutCString("/etc/passwd"), O_RDONLY});
    CHECK(out.request.paths[0].path == "/etc/passwd");
  }
  SECTION("open(2) has no dirfd") {
    auto out = Run(ctx, "open", {ctx.mem.PutCString("rel"), O_RDWR | O_APPEND, 0});
    CHECK(out.request.paths[0].path == "/home/user/work/rel");
    CHECK(out.request.paths[0].access == (Access::kRead | Access::kWrite));
    CHECK(ctx.resolve_calls.at(0).dirfd == AT_FDCWD);
  }
  SECTION("creat is write+create") {
    auto out = Run(ctx, "creat", {ctx.mem.PutCString("/tmp/new"), 0644});
    CHECK(out.request.paths[0].access == (Access::kWrite | Access::kCreate));
  }
  SECTION("openat2 reads its flags from struct open_how") {
    std::uint64_t how[3] = {O_WRONLY | O_CREAT, 0600, 0};
    std::uint64_t how_addr = ctx.mem.Put(BytesOf(how));
    auto out = Run(ctx, "openat2", {kFdCwd, ctx.mem.PutCString("/tmp/f"), how_addr, 24});
    CHECK(out.early_errno == 0);
    CHECK(out.open_flags == (O_WRONLY | O_CREAT));
    CHECK(out.request.paths[0].access == (Access::kWrite | Access::kCreate));
    SECTION("a size below OPEN_HOW_SIZE_VER0 is EINVAL") {
      auto bad = Run(ctx, "openat2", {kFdCwd, ctx.mem.PutCString("/tmp/f"), how_addr, 16});
      CHECK(bad.early_errno == EINVAL);
    }
    SECTION("an unreadable open_how is EFAULT") {
      auto bad = Run(ctx, "openat2", {kFdCwd, ctx.mem.PutCString("/tmp/f"), kUnmapped, 24});
      CHECK(bad.early_errno == EFAULT);
    }
  }
}

TEST_CASE("Decode paths: errors the kernel would return first", "[decode]") {
  FakeContext ctx;
  SECTION("unreadable path pointer") {
    auto out = Run(ctx, "openat", {kFdCwd, kUnmapped, O_RDONLY});
    CHECK(out.early_errno == EFAULT);
    CHECK(out.request.path_count == 0);
    CHECK(ctx.resolve_calls.empty());
  }
  SECTION("NULL path pointer") {
    CHECK(Run(ctx, "openat", {kFdCwd, 0, O_RDONLY}).early_errno == EFAULT);
    CHECK(Run(ctx, "unlink", {0}).early_errno == EFAULT);
  }
  SECTION("no NUL within PATH_MAX bytes") {
    std::uint64_t path = ctx.mem.Put(std::string(2 * tracer::kPageSize, 'a'));
    auto out = Run(ctx, "openat", {kFdCwd, path, O_RDONLY});
    CHECK(out.early_errno == ENAMETOOLONG);
    CHECK(out.request.path_count == 0);
  }
  SECTION("PATH_MAX boundary: 4095 bytes and a NUL fit, 4096 do not") {
    std::string longest = "/" + std::string(tracer::kMaxPath - 2, 'b');
    REQUIRE(longest.size() == 4095);
    auto ok = Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString(longest), O_RDONLY});
    CHECK(ok.early_errno == 0);
    CHECK(ok.paths[0].raw == longest);
    auto too_long = Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString(longest + "b"), O_RDONLY});
    CHECK(too_long.early_errno == ENAMETOOLONG);
  }
  SECTION("a path ending at the end of the last mapped page (strict reader)") {
    ctx.mem = FakeMemory(FakeMemory::Mode::kStrict);
    std::string path = "/tmp/at-the-edge";
    std::uint64_t addr = 0x500000 - (path.size() + 1);
    ctx.mem.Write(addr, path + '\0');
    REQUIRE_FALSE(ctx.mem.Mapped(0x500000));
    auto out = Run(ctx, "openat", {kFdCwd, addr, O_RDONLY});
    CHECK(out.early_errno == 0);
    CHECK(out.request.paths[0].path == path);
  }
  SECTION("a resolution error other than ENOENT is returned as is") {
    ctx.resolve_errors["/loop/x"] = ELOOP;
    auto out = Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString("/loop/x"), O_RDONLY});
    CHECK(out.early_errno == ELOOP);
    CHECK(out.request.path_count == 0);
  }
  SECTION("ENOENT from resolution marks the path unresolved") {
    ctx.resolve_errors["gone/x"] = ENOENT;
    auto out = Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString("gone/x"), O_RDONLY});
    CHECK(out.early_errno == ENOENT);
    CHECK_FALSE(out.request.paths[0].resolved);
  }
  SECTION("an empty path without AT_EMPTY_PATH") {
    auto out = Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString(""), O_RDONLY});
    CHECK(out.early_errno == ENOENT);
    CHECK_FALSE(ctx.resolve_calls.at(0).empty_path_ok);
  }
}

TEST_CASE("Decode metadata and at-flags", "[decode]") {
  FakeContext ctx;
  ctx.dir_fds[7] = "/srv/data";
  SECTION("newfstatat with AT_EMPTY_PATH names the dirfd") {
    auto out = Run(ctx, "newfstatat", {7, ctx.mem.PutCString(""), 0x1000, AT_EMPTY_PATH});
    CHECK(out.early_errno == 0);
    CHECK(out.request.paths[0].path == "/srv/data");
    CHECK(out.request.paths[0].access == Access::kMetadata);
    CHECK(ctx.resolve_calls.at(0).empty_path_ok);
    CHECK(ctx.resolve_calls.at(0).follow_last);
  }
  SECTION("AT_SYMLINK_NOFOLLOW") {
    auto out =
        Run(ctx, "newfstatat", {kFdCwd, ctx.mem.PutCString("/l"), 0x1000, AT_SYMLINK_NOFOLLOW});
    CHECK_FALSE(ctx.resolve_calls.at(0).follow_last);
    CHECK(out.request.paths[0].path == "/l");
  }
  SECTION("a trailing slash follows where the final name is looked up, not where it is made") {
    Run(ctx, "lstat", {ctx.mem.PutCString("/l/"), 0x1000});
    Run(ctx, "lchown", {ctx.mem.PutCString("/l/"), 0, 0});
    Run(ctx, "rmdir", {ctx.mem.PutCString("/l/")});
    Run(ctx, "mkdir", {ctx.mem.PutCString("/l/"), 0755});
    CHECK(ctx.resolve_calls.at(0).follow_last);
    CHECK(ctx.resolve_calls.at(1).follow_last);
    CHECK_FALSE(ctx.resolve_calls.at(2).follow_last);
    CHECK_FALSE(ctx.resolve_calls.at(3).follow_last);
  }
  SECTION("lstat never follows, stat does") {
    Run(ctx, "lstat", {ctx.mem.PutCString("/l"), 0x1000});
    Run(ctx, "stat", {ctx.mem.PutCString("/l"), 0x1000});
    CHECK_FALSE(ctx.resolve_calls.at(0).follow_last);
    CHECK(ctx.resolve_calls.at(1).follow_last);
  }
  SECTION("inotify and fanotify follow a final symlink unless told not to") {
    Run(ctx, "inotify_add_watch", {3, ctx.mem.PutCString("/l"), 0x4});
    Run(ctx, "inotify_add_watch", {3, ctx.mem.PutCString("/l"), 0x4 | 0x02000000});
    Run(ctx, "fanotify_mark", {3, 0x1, 0x1, kFdCwd, ctx.mem.PutCString("/l")});
    Run(ctx, "fanotify_mark", {3, 0x1 | 0x4, 0x1, kFdCwd, ctx.mem.PutCString("/l")});
    CHECK(ctx.resolve_calls.at(0).follow_last);
    CHECK_FALSE(ctx.resolve_calls.at(1).follow_last);  // IN_DONT_FOLLOW
    CHECK(ctx.resolve_calls.at(2).follow_last);
    CHECK_FALSE(ctx.resolve_calls.at(3).follow_last);  // FAN_MARK_DONT_FOLLOW
  }
  SECTION("utimensat(fd, NULL) acts on the fd") {
    auto out = Run(ctx, "utimensat", {7, 0, 0, 0});
    CHECK(out.early_errno == 0);
    CHECK(out.paths[0].raw.empty());
    CHECK(out.request.paths[0].path == "/srv/data");
    CHECK(out.request.paths[0].access == Access::kWrite);
  }
  SECTION("chmod and chown kinds") {
    CHECK(Run(ctx, "fchmodat", {kFdCwd, ctx.mem.PutCString("/f"), 0600}).request.paths[0].access ==
          Access::kChmod);
    CHECK(Run(ctx, "lchown", {ctx.mem.PutCString("/f"), 0, 0}).request.paths[0].access ==
          Access::kChown);
  }
}

TEST_CASE("Decode two-path calls", "[decode]") {
  FakeContext ctx;
  ctx.dir_fds[7] = "/srv";
  SECTION("renameat: read+delete the source (it carries its tree), create+delete the destination") {
    auto out =
        Run(ctx, "renameat", {kFdCwd, ctx.mem.PutCString("/a/old"), 7, ctx.mem.PutCString("new")});
    CHECK(out.early_errno == 0);
    REQUIRE(out.request.path_count == 2);
    CHECK(out.request.paths[0].path == "/a/old");
    CHECK(out.request.paths[0].access == (Access::kDelete | Access::kRead));
    CHECK(out.request.paths[0].carries_tree);
    CHECK_FALSE(out.request.paths[1].carries_tree);
    CHECK(out.request.paths[1].path == "/srv/new");
    CHECK(out.request.paths[1].access == (Access::kCreate | Access::kDelete));
    REQUIRE(ctx.resolve_calls.size() == 2);
    CHECK(ctx.resolve_calls[0].dirfd == AT_FDCWD);
    CHECK(ctx.resolve_calls[1].dirfd == 7);
    CHECK_FALSE(ctx.resolve_calls[0].follow_last);
    CHECK_FALSE(ctx.resolve_calls[1].follow_last);
  }
  SECTION("rename") {
    auto out = Run(ctx, "rename", {ctx.mem.PutCString("a"), ctx.mem.PutCString("/b")});
    REQUIRE(out.request.path_count == 2);
    CHECK(out.request.paths[0].path == "/home/user/work/a");
    CHECK(out.request.paths[1].path == "/b");
  }
  SECTION("the second path's dirfd does not leak to the first and vice versa") {
    auto out =
        Run(ctx, "renameat", {7, ctx.mem.PutCString("old"), kFdCwd, ctx.mem.PutCString("new")});
    CHECK(out.request.paths[0].path == "/srv/old");
    CHECK(out.request.paths[1].path == "/home/user/work/new");
  }
  SECTION("an unreadable second path") {
    auto out = Run(ctx, "renameat", {kFdCwd, ctx.mem.PutCString("/a"), kFdCwd, kUnmapped});
    CHECK(out.early_errno == EFAULT);
  }
  SECTION("linkat: every change to the source, create the destination; AT_SYMLINK_FOLLOW") {
    auto out =
        Run(ctx, "linkat", {kFdCwd, ctx.mem.PutCString("/s"), kFdCwd, ctx.mem.PutCString("/d"), 0});
    // The new name reaches the same file: what is denied on the source must be allowed.
    CHECK(out.request.paths[0].access ==
          (Access::kRead | Access::kWrite | Access::kChmod | Access::kChown));
    CHECK(out.request.paths[1].access == Access::kCreate);
    CHECK_FALSE(ctx.resolve_calls.at(0).follow_last);
    Run(ctx, "linkat",
        {kFdCwd, ctx.mem.PutCString("/s"), kFdCwd, ctx.mem.PutCString("/d"), AT_SYMLINK_FOLLOW});
    CHECK(ctx.resolve_calls.at(2).follow_last);
    CHECK_FALSE(ctx.resolve_calls.at(3).follow_last);
  }
  SECTION("symlink: the target is a string, only the link path is a path") {
    auto out = Run(ctx, "symlink", {ctx.mem.PutCString("/etc/shadow"), ctx.mem.PutCString("l")});
    REQUIRE(out.request.path_count == 1);
    CHECK(out.request.paths[0].path == "/home/user/work/l");
    CHECK(out.request.paths[0].access == Access::kCreate);
    json j = tracer::RenderArgs(out, ctx);
    CHECK(j["target"] == "/etc/shadow");
    CHECK(j["linkpath"]["resolved"] == "/home/user/work/l");
  }
  SECTION("unlinkat deletes without following") {
    auto out = Run(ctx, "unlinkat", {kFdCwd, ctx.mem.PutCString("/tmp/x"), 0});
    CHECK(out.request.paths[0].access == Access::kDelete);
    CHECK_FALSE(ctx.resolve_calls.at(0).follow_last);
  }
}

TEST_CASE("Decode execve: path, argv and envp", "[decode]") {
  FakeContext ctx;
  SECTION("ordinary") {
    std::uint64_t argv = PutStrings(ctx.mem, {"ls", "-l", "/tmp"});
    std::uint64_t envp = PutStrings(ctx.mem, {"A=1"});
    auto out = Run(ctx, "execve", {ctx.mem.PutCString("/bin/ls"), argv, envp});
    CHECK(out.early_errno == 0);
    CHECK(out.request.paths[0].path == "/bin/ls");
    CHECK(out.request.paths[0].access == Access::kExec);
    CHECK(out.argv.items == std::vector<std::string>{"ls", "-l", "/tmp"});
    CHECK_FALSE(out.argv.truncated);
    CHECK_FALSE(out.argv.fault);
    CHECK(out.envp.items == std::vector<std::string>{"A=1"});
    json j = tracer::RenderArgs(out, ctx);
    CHECK(j["argv"] == json{"ls", "-l", "/tmp"});
    CHECK(j["envp"] == json{"A=1"});
    CHECK(j["pathname"]["access"] == "exec");
  }
  SECTION("argv truncated after 256 entries") {
    std::vector<std::string> many;
    for (int i = 0; i < 300; ++i) many.push_back("arg" + std::to_string(i));
    auto out = Run(ctx, "execve", {ctx.mem.PutCString("/bin/echo"), PutStrings(ctx.mem, many), 0});
    REQUIRE(out.argv.items.size() == tracer::kMaxArgvEntries);
    CHECK(out.argv.items.front() == "arg0");
    CHECK(out.argv.items.back() == "arg255");
    CHECK(out.argv.truncated);
    CHECK_FALSE(out.argv.fault);
    json j = tracer::RenderArgs(out, ctx);
    REQUIRE(j["argv"].size() == tracer::kMaxArgvEntries + 1);
    CHECK(j["argv"][255] == "arg255");
    CHECK(j["argv"].back() == "...(truncated)");
    CHECK(j["envp"] == json::array());
  }
  SECTION("255 entries are not truncated") {
    std::vector<std::string> many(tracer::kMaxArgvEntries - 1, "x");
    auto out = Run(ctx, "execve", {ctx.mem.PutCString("/bin/echo"), PutStrings(ctx.mem, many), 0});
    CHECK(out.argv.items.size() == tracer::kMaxArgvEntries - 1);
    CHECK_FALSE(out.argv.truncated);
  }
  SECTION("an argument longer than 4096 bytes is cut") {
    std::string huge(10000, 'h');
    auto out = Run(ctx, "execve",
                   {ctx.mem.PutCString("/bin/echo"), PutStrings(ctx.mem, {"echo", huge}), 0});
    REQUIRE(out.argv.items.size() == 2);
    CHECK(out.argv.items[1] == huge.substr(0, tracer::kMaxArgBytes));
    CHECK(out.argv.truncated);
  }
  SECTION("an unreadable argument") {
    std::string ptrs =
        BytesOf(ctx.mem.PutCString("ok")) + BytesOf(kUnmapped) + BytesOf(std::uint64_t{0});
    auto out = Run(ctx, "execve", {ctx.mem.PutCString("/bin/x"), ctx.mem.Put(ptrs), 0});
    CHECK(out.argv.items == std::vector<std::string>{"ok"});
    CHECK(out.argv.fault);
    CHECK(tracer::RenderArgs(out, ctx)["argv"] == json{"ok", "...(unreadable)"});
  }
  SECTION("an argv array running into unmapped memory") {
    std::uint64_t end = 0x600000;
    std::uint64_t arr = end - 16;
    ctx.mem.Write(arr, BytesOf(ctx.mem.PutCString("a")) + BytesOf(ctx.mem.PutCString("b")));
    auto out = Run(ctx, "execve", {ctx.mem.PutCString("/bin/x"), arr, 0});
    CHECK(out.argv.items == std::vector<std::string>{"a", "b"});
    CHECK(out.argv.fault);
  }
  SECTION("argv NULL") {
    auto out = Run(ctx, "execve", {ctx.mem.PutCString("/bin/x"), 0, 0});
    CHECK(out.argv.items.empty());
    CHECK_FALSE(out.argv.truncated);
    CHECK_FALSE(out.argv.fault);
    CHECK(tracer::RenderArgs(out, ctx)["argv"] == json::array());
  }
  SECTION("execveat with AT_EMPTY_PATH") {
    ctx.dir_fds[5] = "/usr/bin/prog";
    auto out = Run(ctx, "execveat", {5, ctx.mem.PutCString(""), 0, 0, AT_EMPTY_PATH});
    CHECK(out.early_errno == 0);
    CHECK(out.request.paths[0].path == "/usr/bin/prog");
    CHECK(ctx.resolve_calls.at(0).empty_path_ok);
  }
}

TEST_CASE("Decode connect, bind and sendto", "[decode]") {
  FakeContext ctx;
  SECTION("connect to an IPv4 address") {
    std::uint64_t sa = ctx.mem.Put(In4("93.184.216.34", 443));
    auto out = Run(ctx, "connect", {3, sa, sizeof(sockaddr_in)});
    CHECK(out.early_errno == 0);
    REQUIRE(out.request.net);
    CHECK(out.request.net->verb == policy::NetVerb::kConnect);
    CHECK(out.request.net->family == AF_INET);
    REQUIRE(out.request.net->addr);
    CHECK(Text(*out.request.net->addr) == "93.184.216.34:443");
    REQUIRE(out.addr);
    CHECK(Text(*out.addr) == "93.184.216.34:443");
    CHECK(out.request.more_net.empty());
    json j = tracer::RenderArgs(out, ctx);
    CHECK(j["sockfd"] == 3);
    CHECK(j["addrlen"] == 16);
    CHECK(j["addr"] == json{{"family", "AF_INET"}, {"address", "93.184.216.34"}, {"port", 443}});
  }
  SECTION("addrlen larger than sockaddr_storage fails like the kernel (EINVAL)") {
    std::uint64_t sa = ctx.mem.Put(In4("10.0.0.1", 80) + std::string(200, '\0'));
    auto out = Run(ctx, "connect", {3, sa, 1000});
    CHECK(out.early_errno == EINVAL);
  }
  SECTION("unreadable address") {
    CHECK(Run(ctx, "connect", {3, kUnmapped, 16}).early_errno == EFAULT);
  }
  SECTION("negative addrlen") {
    std::uint64_t sa = ctx.mem.Put(In4("10.0.0.1", 80));
    CHECK(Run(ctx, "connect", {3, sa, R(-1)}).early_errno == EINVAL);
    CHECK(Run(ctx, "connect", {3, sa, 0xffffffffu}).early_errno == EINVAL);
  }
  SECTION("addrlen too short for the family") {
    std::uint64_t sa = ctx.mem.Put(In4("10.0.0.1", 80));
    CHECK(Run(ctx, "connect", {3, sa, 1}).early_errno == EINVAL);
    CHECK(Run(ctx, "connect", {3, sa, 8}).early_errno == EINVAL);
  }
  SECTION("a relative unix path is resolved against the cwd") {
    std::uint64_t sa = ctx.mem.Put(Un(std::string("app.sock\0", 9)));
    auto out = Run(ctx, "connect", {3, sa, 2 + 9});
    REQUIRE(out.addr);
    CHECK(out.addr->unix_path == "/home/user/work/app.sock");
    REQUIRE(ctx.resolve_calls.size() == 1);
    CHECK(ctx.resolve_calls[0].dirfd == AT_FDCWD);
    CHECK(ctx.resolve_calls[0].follow_last);
    CHECK(out.request.net->family == AF_UNIX);
  }
  SECTION("an abstract name is not resolved") {
    std::uint64_t sa = ctx.mem.Put(Un(std::string("\0name", 5)));
    auto out = Run(ctx, "connect", {3, sa, 2 + 5});
    REQUIRE(out.addr);
    CHECK(out.addr->abstract);
    CHECK(out.addr->unix_path == "name");
    CHECK(ctx.resolve_calls.empty());
    CHECK(tracer::RenderArgs(out, ctx)["addr"] ==
          json{{"family", "AF_UNIX"}, {"abstract", "name"}});
  }
  SECTION("bind to IPv6") {
    std::uint64_t sa = ctx.mem.Put(In6("::", 8080));
    auto out = Run(ctx, "bind", {3, sa, sizeof(sockaddr_in6)});
    REQUIRE(out.request.net);
    CHECK(out.request.net->verb == policy::NetVerb::kBind);
    CHECK(out.request.net->family == AF_INET6);
    CHECK(Text(*out.addr) == ":::8080");
  }
  SECTION("sendto without a destination") {
    auto out = Run(ctx, "sendto", {3, ctx.mem.Put("data"), 4, 0, 0, 0});
    CHECK(out.early_errno == 0);
    REQUIRE(out.request.net);
    CHECK(out.request.net->verb == policy::NetVerb::kSend);
    CHECK_FALSE(out.request.net->addr);
    CHECK_FALSE(out.addr);
    CHECK(tracer::RenderArgs(out, ctx)["dest_addr"] == "0x0");
  }
  SECTION("sendto with a destination") {
    std::uint64_t sa = ctx.mem.Put(In4("8.8.8.8", 53));
    auto out = Run(ctx, "sendto", {3, ctx.mem.Put("q"), 1, 0, sa, 16});
    REQUIRE(out.addr);
    CHECK(Text(*out.addr) == "8.8.8.8:53");
  }
  SECTION("listen and accept carry only the verb") {
    auto l = Run(ctx, "listen", {3, 16});
    REQUIRE(l.request.net);
    CHECK(l.request.net->verb == policy::NetVerb::kListen);
    CHECK_FALSE(l.request.net->addr);
    auto a = Run(ctx, "accept4", {3, 0, 0, 0});
    CHECK(a.request.net->verb == policy::NetVerb::kAccept);
  }
}

TEST_CASE("Decode sendmsg and sendmmsg", "[decode]") {
  FakeContext ctx;
  SECTION("sendmsg reads msg_name from struct msghdr") {
    std::uint64_t sa = ctx.mem.Put(In6("::1", 53));
    msghdr m{};
    m.msg_name = AsPtr(sa);
    m.msg_namelen = sizeof(sockaddr_in6);
    auto out = Run(ctx, "sendmsg", {3, ctx.mem.Put(BytesOf(m)), 0});
    CHECK(out.early_errno == 0);
    REQUIRE(out.request.net);
    CHECK(out.request.net->verb == policy::NetVerb::kSend);
    REQUIRE(out.addr);
    CHECK(out.addr->family == AF_INET6);
    CHECK(Text(*out.addr) == "::1:53");
    CHECK(tracer::RenderArgs(out, ctx)["msg"]["address"] == "::1");
  }
  SECTION("sendmsg on a connected socket (no msg_name)") {
    msghdr m{};
    auto out = Run(ctx, "sendmsg", {3, ctx.mem.Put(BytesOf(m)), 0});
    CHECK(out.early_errno == 0);
    CHECK_FALSE(out.addr);
  }
  SECTION("sendmsg with an unreadable msghdr") {
    CHECK(Run(ctx, "sendmsg", {3, kUnmapped, 0}).early_errno == EFAULT);
  }
  SECTION("sendmsg with an unreadable msg_name") {
    msghdr m{};
    m.msg_name = AsPtr(kUnmapped);
    m.msg_namelen = 16;
    CHECK(Run(ctx, "sendmsg", {3, ctx.mem.Put(BytesOf(m)), 0}).early_errno == EFAULT);
  }

  const char* kIps[] = {"1.1.1.1", "8.8.8.8", "9.9.9.9"};
  mmsghdr v[3]{};
  for (std::size_t i = 0; i < 3; ++i) {
    v[i].msg_hdr.msg_name = AsPtr(ctx.mem.Put(In4(kIps[i], static_cast<std::uint16_t>(53 + i))));
    v[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
  }
  SECTION("sendmmsg: every destination is in the request") {
    static_assert(sizeof(mmsghdr) == 64);
    auto out = Run(ctx, "sendmmsg", {3, ctx.mem.Put(BytesOf(v)), 3, 0});
    CHECK(out.early_errno == 0);
    REQUIRE(out.request.net);
    CHECK(out.request.net->verb == policy::NetVerb::kSend);
    REQUIRE(out.request.net->addr);
    CHECK(Text(*out.request.net->addr) == "1.1.1.1:53");
    REQUIRE(out.request.more_net.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CAPTURE(i);
      CHECK(out.request.more_net[i].verb == policy::NetVerb::kSend);
      REQUIRE(out.request.more_net[i].addr);
      CHECK(Text(*out.request.more_net[i].addr) ==
            std::string(kIps[i + 1]) + ":" + std::to_string(54 + i));
    }
  }
  SECTION("sendmmsg: vlen limits the messages read") {
    auto out = Run(ctx, "sendmmsg", {3, ctx.mem.Put(BytesOf(v)), 2, 0});
    CHECK(out.request.more_net.size() == 1);
    auto none = Run(ctx, "sendmmsg", {3, ctx.mem.Put(BytesOf(v)), 0, 0});
    CHECK_FALSE(none.addr);
    CHECK(none.request.more_net.empty());
  }
  SECTION("sendmmsg: messages without a name are skipped") {
    v[0].msg_hdr.msg_name = nullptr;
    auto out = Run(ctx, "sendmmsg", {3, ctx.mem.Put(BytesOf(v)), 3, 0});
    REQUIRE(out.addr);
    CHECK(Text(*out.addr) == "8.8.8.8:54");
    CHECK(out.request.more_net.size() == 1);
  }
  SECTION("sendmmsg: an unreadable later entry ends the list") {
    std::uint64_t arr = 0x700000 - sizeof(mmsghdr);  // entry 1 would be unmapped
    ctx.mem.Write(arr, BytesOf(v[0]));
    auto out = Run(ctx, "sendmmsg", {3, arr, 3, 0});
    CHECK(out.early_errno == 0);
    REQUIRE(out.addr);
    CHECK(Text(*out.addr) == "1.1.1.1:53");
    CHECK(out.request.more_net.empty());
  }
  SECTION("sendmmsg: an unreadable first entry is EFAULT") {
    CHECK(Run(ctx, "sendmmsg", {3, kUnmapped, 3, 0}).early_errno == EFAULT);
  }
}

TEST_CASE("Decode socket: raw sockets are an escape primitive", "[decode]") {
  struct Case {
    int family;
    std::uint64_t type;
    Primitive primitive;
  };
  const Case cases[] = {
      {AF_INET, SOCK_STREAM, Primitive::kNone},
      {AF_INET, SOCK_STREAM | SOCK_CLOEXEC, Primitive::kNone},
      {AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, Primitive::kNone},
      {AF_UNIX, SOCK_SEQPACKET, Primitive::kNone},
      {AF_PACKET, SOCK_RAW, Primitive::kRawSocket},
      {AF_PACKET, SOCK_DGRAM, Primitive::kNone},  // the family list decides this one
      {AF_INET, SOCK_RAW, Primitive::kRawSocket},
      {AF_INET, SOCK_RAW | SOCK_CLOEXEC, Primitive::kRawSocket},
      {AF_INET, SOCK_PACKET, Primitive::kRawSocket},
  };
  for (const auto& c : cases) {
    CAPTURE(c.family, c.type);
    FakeContext ctx;
    auto out = Run(ctx, "socket", {static_cast<std::uint64_t>(c.family), c.type, 0x300});
    CHECK(out.request.primitive == c.primitive);
    REQUIRE(out.request.net);
    CHECK(out.request.net->verb == policy::NetVerb::kSocket);
    CHECK(out.request.net->family == c.family);
    CHECK(out.request.net->type == static_cast<int>(c.type));
    CHECK(out.request.net->protocol == 0x300);
  }
  FakeContext ctx;
  auto out = Run(ctx, "socket", {AF_PACKET, SOCK_RAW, 0x300});
  json j = tracer::RenderArgs(out, ctx);
  CHECK(j == json{{"domain", "AF_PACKET"}, {"type", "SOCK_RAW"}, {"protocol", 768}});
  auto pair = Run(ctx, "socketpair", {AF_UNIX, SOCK_STREAM, 0, 0x1000});
  CHECK(pair.request.net->verb == policy::NetVerb::kSocket);
  CHECK(pair.request.net->family == AF_UNIX);
}

TEST_CASE("Decode signals: targets outside the tree", "[decode]") {
  // Tree: pids/tids 4242, 4243, 4300; process group 4242.
  struct Case {
    const char* syscall;
    Args args;
    Primitive primitive;
  };
  const Case cases[] = {
      {"kill", {R(-1), SIGKILL}, Primitive::kSignalOutside},
      {"kill", {R(-1), 0}, Primitive::kNone},  // probe
      {"kill", {4300, SIGTERM}, Primitive::kNone},
      {"kill", {4242, SIGKILL}, Primitive::kNone},
      {"kill", {1, SIGKILL}, Primitive::kSignalOutside},
      {"kill", {1, 0}, Primitive::kNone},        // probe
      {"kill", {0, SIGKILL}, Primitive::kNone},  // own process group
      {"kill", {R(-4242), SIGTERM}, Primitive::kNone},
      {"kill", {R(-999), SIGTERM}, Primitive::kSignalOutside},
      {"kill", {0xffffffff00001000ULL, SIGKILL}, Primitive::kSignalOutside},  // pid 4096
      {"tkill", {4243, SIGKILL}, Primitive::kNone},
      {"tkill", {1, SIGKILL}, Primitive::kSignalOutside},
      {"tkill", {1, 0}, Primitive::kNone},
      {"tgkill", {4242, 4243, SIGKILL}, Primitive::kNone},
      {"tgkill", {4242, 1, SIGKILL}, Primitive::kSignalOutside},
      {"tgkill", {1, 4243, SIGKILL}, Primitive::kSignalOutside},
      {"tgkill", {1, 1, 0}, Primitive::kNone},
      {"rt_sigqueueinfo", {1, SIGUSR1, 0}, Primitive::kSignalOutside},
      {"rt_sigqueueinfo", {4300, SIGUSR1, 0}, Primitive::kNone},
      {"rt_tgsigqueueinfo", {4242, 1, SIGUSR1, 0}, Primitive::kSignalOutside},
      {"pidfd_open", {1, 0}, Primitive::kSignalOutside},  // no signal: never a probe
      {"pidfd_open", {4300, 0}, Primitive::kNone},
      {"setpgid", {0, 4242}, Primitive::kNone},
      {"setpgid", {0, 0}, Primitive::kNone},
      {"setpgid", {0, 1}, Primitive::kSetpgidOutside},
  };
  for (const auto& c : cases) {
    CAPTURE(c.syscall, c.args[0], c.args[1], c.args[2]);
    FakeContext ctx;
    auto out = Run(ctx, c.syscall, c.args);
    CHECK(out.request.primitive == c.primitive);
    CHECK(out.early_errno == 0);
    CHECK(out.note.empty() == (c.primitive == Primitive::kNone));
  }
  SECTION("kill(-pgid) asks about the group") {
    FakeContext ctx;
    Run(ctx, "kill", {R(-4242), SIGTERM});
    CHECK(ctx.group_queries == std::vector<pid_t>{4242});
  }
  SECTION("pidfd_send_signal and pidfd_getfd check the pidfd's process") {
    FakeContext ctx;
    ctx.pidfds = {{5, 4300}, {6, 1}};
    CHECK(Run(ctx, "pidfd_send_signal", {5, SIGKILL, 0, 0}).request.primitive == Primitive::kNone);
    auto outside = Run(ctx, "pidfd_send_signal", {6, SIGKILL, 0, 0});
    CHECK(outside.request.primitive == Primitive::kSignalOutside);
    CHECK_THAT(outside.note, Catch::Contains("pid 1"));
    auto unknown = Run(ctx, "pidfd_send_signal", {9, SIGKILL, 0, 0});
    CHECK(unknown.request.primitive == Primitive::kSignalOutside);
    CHECK_THAT(unknown.note, Catch::Contains("could not be identified"));
    CHECK(Run(ctx, "pidfd_getfd", {6, 3, 0}).request.primitive == Primitive::kSignalOutside);
    CHECK(Run(ctx, "pidfd_getfd", {5, 3, 0}).request.primitive == Primitive::kNone);
  }
  SECTION("rendering") {
    FakeContext ctx;
    auto out = Run(ctx, "kill", {R(-1), SIGKILL});
    CHECK(tracer::RenderArgs(out, ctx) == json{{"pid", -1}, {"sig", "SIGKILL"}});
    auto rt = Run(ctx, "tgkill", {4242, 4243, R(SIGRTMIN + 2)});
    CHECK(tracer::RenderArgs(rt, ctx)["sig"] == "SIGRT_2");
  }
}

TEST_CASE("Decode process primitives: clone, seccomp, personality, process_vm", "[decode]") {
  struct Case {
    const char* syscall;
    Args args;
    Primitive primitive;
  };
  const Case cases[] = {
      {"clone", {CLONE_UNTRACED | SIGCHLD}, Primitive::kCloneUntraced},
      {"clone", {CLONE_NEWUSER}, Primitive::kNamespace},
      {"clone", {CLONE_NEWNET | SIGCHLD}, Primitive::kNamespace},
      {"clone", {CLONE_NEWCGROUP}, Primitive::kNamespace},
      {"clone", {CLONE_NEWNS | CLONE_UNTRACED}, Primitive::kCloneUntraced},
      {"clone",
       {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
        CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID},
       Primitive::kNone},
      {"clone", {SIGCHLD}, Primitive::kNone},
      {"clone", {0}, Primitive::kNone},
      {"seccomp",
       {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0x1000},
       Primitive::kSeccompListener},
      {"seccomp",
       {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
        0x1000},
       Primitive::kSeccompListener},
      {"seccomp", {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, 0x1000}, Primitive::kNone},
      {"seccomp", {SECCOMP_SET_MODE_FILTER, 0, 0x1000}, Primitive::kNone},
      {"seccomp", {SECCOMP_GET_ACTION_AVAIL, 0, 0x1000}, Primitive::kNone},
      {"personality", {0xffffffff}, Primitive::kNone},             // query
      {"personality", {0xffffffffffffffffULL}, Primitive::kNone},  // query, sign-extended
      {"personality", {PER_LINUX}, Primitive::kNone},
      {"personality", {0x0008}, Primitive::kPersonality},  // PER_LINUX32
      {"personality", {ADDR_NO_RANDOMIZE}, Primitive::kPersonality},
      {"personality", {READ_IMPLIES_EXEC}, Primitive::kPersonality},
      {"process_vm_readv", {4300, 0, 0, 0, 0, 0}, Primitive::kNone},
      {"process_vm_readv", {1, 0, 0, 0, 0, 0}, Primitive::kProcessVmRead},
      {"process_vm_writev", {4300, 0, 0, 0, 0, 0}, Primitive::kProcessVmWrite},
      {"process_vm_writev", {1, 0, 0, 0, 0, 0}, Primitive::kProcessVmWrite},
      {"prctl", {PR_SET_SECCOMP, 2, 0}, Primitive::kNone},
      {"ptrace", {PTRACE_ATTACH, 1}, Primitive::kPtrace},
      {"unshare", {CLONE_NEWUSER}, Primitive::kNamespace},
      {"io_uring_setup", {8, 0x1000}, Primitive::kIoUring},
      {"open_by_handle_at", {3, 0x1000, O_RDONLY}, Primitive::kHandleOpen},
  };
  for (const auto& c : cases) {
    CAPTURE(c.syscall, c.args[0], c.args[1]);
    FakeContext ctx;
    auto out = Run(ctx, c.syscall, c.args);
    CHECK(out.request.primitive == c.primitive);
    CHECK(out.early_errno == 0);
    CHECK(out.request.path_count == 0);
    CHECK_FALSE(out.request.net);
  }
}

TEST_CASE("Decode: every unconditional primitive row decodes to its primitive", "[decode]") {
  int rows = 0;
  for (const syscalls::SyscallRow& row : syscalls::SyscallTable()) {
    if (row.kind != syscalls::Kind::kPrimitive) continue;
    CAPTURE(row.name);
    FakeContext ctx;
    tracer::DecodedCall out;
    tracer::Decode(row, Args{}, ctx, out);
    CHECK(out.request.primitive == row.primitive);
    CHECK(out.early_errno == 0);
    CHECK(ctx.resolve_calls.empty());
    // Rendering never reads a NULL string pointer.
    json j = tracer::RenderArgs(out, ctx);
    CHECK(j.is_object());
    ++rows;
  }
  CHECK(rows > 30);
}

TEST_CASE("RenderArgs: names, flags and escaped paths", "[decode][render]") {
  FakeContext ctx;
  SECTION("openat with a control-character path, AT_FDCWD and flags by name") {
    std::string raw = "/tmp/a\x1b[31m\n\xff";
    auto out =
        Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString(raw), O_WRONLY | O_CREAT | O_TRUNC, 0644});
    json j = tracer::RenderArgs(out, ctx);
    CHECK(j["dirfd"] == "AT_FDCWD");
    CHECK(j["flags"] == "O_WRONLY|O_CREAT|O_TRUNC");
    CHECK(j["mode"] == "0644");
    CHECK(j["pathname"]["raw"] == "/tmp/a\\x1b[31m\\x0a\\xff");
    CHECK(j["pathname"]["resolved"] == "/tmp/a\\x1b[31m\\x0a\\xff");
    CHECK(j["pathname"]["access"] == "write|create");
    CHECK(j.size() == 4);
    CHECK_NOTHROW(j.dump());  // valid UTF-8 throughout
  }
  SECTION("mode is shown only when the open creates") {
    auto ro = Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString("/f"), O_RDONLY, 0777});
    CHECK_FALSE(tracer::RenderArgs(ro, ctx).contains("mode"));
    auto tmp = Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString("/tmp"), O_RDWR | O_TMPFILE, 0600});
    CHECK(tracer::RenderArgs(tmp, ctx)["mode"] == "0600");
    auto mk = Run(ctx, "mkdir", {ctx.mem.PutCString("/d"), 0755});
    CHECK(tracer::RenderArgs(mk, ctx)["mode"] == "0755");
  }
  SECTION("a numeric dirfd") {
    ctx.dir_fds[7] = "/srv";
    auto out = Run(ctx, "openat", {7, ctx.mem.PutCString("f"), O_RDONLY});
    json j = tracer::RenderArgs(out, ctx);
    CHECK(j["dirfd"] == 7);
    CHECK(j["pathname"]["raw"] == "f");
    CHECK(j["pathname"]["resolved"] == "/srv/f");
  }
  SECTION("an undecoded path is shown as its pointer") {
    auto out = Run(ctx, "openat", {kFdCwd, kUnmapped, O_RDONLY});
    CHECK(tracer::RenderArgs(out, ctx)["pathname"] == "0xdead0000");
  }
  SECTION("clone flags, pointers and hex") {
    auto out = Run(ctx, "clone", {CLONE_UNTRACED | SIGCHLD, 0x7ffc1000, 0, 0, 0});
    json j = tracer::RenderArgs(out, ctx);
    CHECK(j["flags"] == "CLONE_UNTRACED|SIGCHLD");
    CHECK(j["stack"] == "0x7ffc1000");
    CHECK(j["tls"] == "0x0");
  }
  SECTION("ptrace request and pid") {
    auto out = Run(ctx, "ptrace", {PTRACE_ATTACH, 1, 0, 0});
    json j = tracer::RenderArgs(out, ctx);
    CHECK(j["request"] == "PTRACE_ATTACH");
    CHECK(j["pid"] == 1);
  }
  SECTION("strings: escaped, NULL shown as a pointer") {
    auto out = Run(ctx, "sethostname", {ctx.mem.PutCString("evil\x1b]0;x\x07")});
    CHECK(tracer::RenderArgs(out, ctx)["name"] == "evil\\x1b]0;x\\x07");
    auto null = Run(ctx, "sethostname", {0});
    CHECK(tracer::RenderArgs(null, ctx)["name"] == "0x0");
    auto bad = Run(ctx, "sethostname", {kUnmapped});
    CHECK(tracer::RenderArgs(bad, ctx)["name"] == "0xdead0000");
  }
  SECTION("at flags and seccomp op") {
    auto st = Run(ctx, "newfstatat",
                  {kFdCwd, ctx.mem.PutCString("/x"), 0, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH});
    CHECK(tracer::RenderArgs(st, ctx)["flags"] == "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH");
    auto sc = Run(ctx, "seccomp", {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0});
    json j = tracer::RenderArgs(sc, ctx);
    CHECK(j["operation"] == "SECCOMP_SET_MODE_FILTER");
    CHECK(j["flags"] == "0x8");
  }
  SECTION("no row, no arguments") {
    tracer::DecodedCall empty;
    CHECK(tracer::RenderArgs(empty, ctx) == json::object());
  }
}

// Fixed regression (tracer/decode.cc ReadStringArray, `if (i == kMaxArgvEntries) { truncated =
// true; ...}`): the limit is checked before reading entry 256, so an argv of exactly 256 entries
// (NULL at index 256) is reported as truncated and rendered with a "...(truncated)" marker although
// nothing was dropped. Expected: 256 items, truncated == false.
TEST_CASE("regression: decode: exactly 256 argv entries are not truncated", "[decode]") {
  FakeContext ctx;
  std::vector<std::string> many(tracer::kMaxArgvEntries, "x");
  auto out = Run(ctx, "execve", {ctx.mem.PutCString("/bin/echo"), PutStrings(ctx.mem, many), 0});
  CHECK(out.argv.items.size() == tracer::kMaxArgvEntries);
  CHECK_FALSE(out.argv.truncated);
  CHECK(tracer::RenderArgs(out, ctx)["argv"].size() == tracer::kMaxArgvEntries);
}

// Fixed regression (tracer/decode.cc, RenderArgs, Role::kMode): the test `(open_flags & (O_CREAT |
// O_TMPFILE))` is true for any open with O_DIRECTORY, because O_TMPFILE includes the O_DIRECTORY
// bit. So openat(dirfd, path, O_RDONLY|O_DIRECTORY, junk) renders "mode" although open(2) ignores
// it and docs/events.md says mode is shown "only with O_CREAT/O_TMPFILE". AccessFromOpenFlags gets
// this right with `(flags & O_TMPFILE) == O_TMPFILE`.
TEST_CASE("regression: render: O_DIRECTORY alone does not show a mode", "[decode][render]") {
  FakeContext ctx;
  auto out = Run(ctx, "openat", {kFdCwd, ctx.mem.PutCString("/d"), O_RDONLY | O_DIRECTORY, 0});
  CHECK_FALSE(tracer::RenderArgs(out, ctx).contains("mode"));
}

// Fixed regression (tracer/decode.cc, DecodeSignalTarget): kill(pid) with pid == INT_MIN computes
// -pid, which overflows int (undefined behaviour; with -fsanitize=undefined the supervisor aborts
// on a tracee-chosen value). The kernel answers ESRCH for INT_MIN without negating it. Observed:
// the tree is asked about process group INT_MIN.
TEST_CASE("regression: decode: kill(INT_MIN) does not negate INT_MIN", "[decode]") {
  FakeContext ctx;
  auto out = Run(ctx, "kill", {R(INT_MIN), SIGKILL});
  for (pid_t pgid : ctx.group_queries) CHECK(pgid > 0);
  CHECK((out.request.primitive == Primitive::kSignalOutside || out.early_errno == ESRCH));
}

// Fixed regression (tracer/decode.cc, DecodeEscapeChecks, Kind::kPidfdSignal): docs/events.md says
// signal-0 probes are allowed for the whole signal_outside_tree list, which names
// pidfd_send_signal, but pidfd_send_signal(pidfd, 0, ...) on a process outside the tree is flagged
// anyway (kill and tgkill probes are not).
TEST_CASE("regression: decode: pidfd_send_signal with signal 0 is a probe", "[decode]") {
  FakeContext ctx;
  ctx.pidfds = {{6, 1}};
  CHECK(Run(ctx, "pidfd_send_signal", {6, 0, 0, 0}).request.primitive == Primitive::kNone);
}

// Fixed regression (tracer/decode.cc, Kind::kPersonality): personality(2) takes an unsigned int,
// and the query test already truncates to 32 bits, but the PER_LINUX test compares all 64 bits: a
// register value 0x100000000 (which the kernel sees as PER_LINUX) is flagged as kPersonality.
TEST_CASE("regression: decode: personality compares only the low 32 bits", "[decode]") {
  FakeContext ctx;
  CHECK(Run(ctx, "personality", {0x100000000ULL}).request.primitive == Primitive::kNone);
}

// Fixed regression (tracer/decode.cc, ReadSockaddr), found by the decoder fuzzer: addrlen is an
// int to the kernel, but the register was read whole, so connect(fd, addr, 0x100000008) read
// 128 bytes (min(register, sockaddr_storage)) and decided on them, while the kernel reads 8.
// For AF_UNIX that is another path: the kernel connects to "/tmp/a", the decision (and the
// event) named "/tmp/allowed.sock". With the upper half 0, the kernel fails the call (EINVAL).
TEST_CASE("regression: decode: only the low 32 bits of addrlen count", "[decode]") {
  FakeContext ctx;
  const std::uint64_t junk = 0x1234567800000000ULL;
  SECTION("AF_UNIX: the path ends where the kernel's addrlen ends") {
    std::uint64_t sa = ctx.mem.Put(Un(std::string("/tmp/allowed.sock\0", 18)));
    auto out = Run(ctx, "connect", {3, sa, junk | (2 + 6)});
    CHECK(out.early_errno == 0);
    REQUIRE(out.addr);
    CHECK(out.addr->unix_path == "/tmp/a");
    CHECK(out.addr_bytes.size() == 8);
  }
  SECTION("AF_INET: the 16 bytes, not sockaddr_storage") {
    std::uint64_t sa = ctx.mem.Put(In4("10.0.0.1", 80) + std::string(112, '\x7f'));
    auto out = Run(ctx, "sendto", {3, ctx.mem.Put("x"), 1, 0, sa, junk | 16});
    CHECK(out.early_errno == 0);
    CHECK(out.addr_bytes.size() == 16);
    // An address ending at the end of readable memory is read, not failed with EFAULT.
    std::uint64_t edge = 0x800000 - 16;
    ctx.mem.Write(edge, In4("10.0.0.2", 80));
    auto at_edge = Run(ctx, "connect", {3, edge, junk | 16});
    CHECK(at_edge.early_errno == 0);
    REQUIRE(at_edge.addr);
    CHECK(Text(*at_edge.addr) == "10.0.0.2:80");
  }
  SECTION("an addrlen of 0 with junk above it is EINVAL, like 0") {
    std::uint64_t sa = ctx.mem.Put(In4("10.0.0.1", 80));
    CHECK(Run(ctx, "connect", {3, sa, junk}).early_errno == EINVAL);
  }
}

// Fixed regression (tracer/decode.cc, ReadSockaddr), found by the decoder fuzzer: a unix socket
// path the resolver could not resolve (a cwd deeper than PATH_MAX: ENAMETOOLONG; a symlink
// loop: ELOOP) was kept as the tracee wrote it, so bind, connect and sendto were decided on a
// relative or unnormalised name ("s", "/tmp/../run/x.sock") that no absolute rule names. Paths
// fail closed with the resolver's errno; so do unix socket paths now.
TEST_CASE("regression: decode: an unresolvable unix socket path fails closed", "[decode]") {
  FakeContext ctx;
  ctx.resolve_errors["s"] = ENAMETOOLONG;
  ctx.resolve_errors["/tmp/../run/x.sock"] = ELOOP;
  for (const char* name : {"connect", "bind"}) {
    CAPTURE(name);
    auto rel = Run(ctx, name, {3, ctx.mem.Put(Un(std::string("s\0", 2))), 2 + 2});
    CHECK(rel.early_errno == ENAMETOOLONG);
    CHECK_FALSE(rel.addr);
    auto loop = Run(ctx, name, {3, ctx.mem.Put(Un("/tmp/../run/x.sock")), 2 + 18});
    CHECK(loop.early_errno == ELOOP);
    CHECK_FALSE(loop.addr);
  }
  msghdr m{};
  m.msg_name = AsPtr(ctx.mem.Put(Un(std::string("s\0", 2))));
  m.msg_namelen = 2 + 2;
  auto out = Run(ctx, "sendmsg", {3, ctx.mem.Put(BytesOf(m)), 0});
  CHECK(out.early_errno == ENAMETOOLONG);
  CHECK_FALSE(out.addr);
}

// Fixed regression (tracer/decode.cc, ReadSockaddr), found by the decoder fuzzer: a send whose
// name is 0 bytes long (sendmsg with msg_name set and msg_namelen 0, sendto with addrlen 0) was
// failed with EINVAL without reaching the kernel, which drops such a name (__copy_msghdr) or
// hands it to a protocol that sends to the connected peer (unix, netlink) or ignores it (TCP).
// It names no destination: decided as a send on a connected socket. connect and bind with an
// empty address still fail with EINVAL, as in the kernel.
TEST_CASE("regression: decode: a send with an empty name has no destination", "[decode]") {
  FakeContext ctx;
  std::uint64_t sa = ctx.mem.Put(In4("10.0.0.1", 80));
  msghdr m{};
  m.msg_name = AsPtr(sa);
  m.msg_namelen = 0;
  auto msg = Run(ctx, "sendmsg", {3, ctx.mem.Put(BytesOf(m)), 0});
  CHECK(msg.early_errno == 0);
  CHECK_FALSE(msg.addr);
  REQUIRE(msg.request.net);
  CHECK_FALSE(msg.request.net->addr);
  auto to = Run(ctx, "sendto", {3, ctx.mem.Put("x"), 1, 0, sa, 0});
  CHECK(to.early_errno == 0);
  CHECK_FALSE(to.addr);
  mmsghdr v[2]{};
  v[0].msg_hdr = m;
  v[1].msg_hdr.msg_name = AsPtr(ctx.mem.Put(In4("10.0.0.2", 53)));
  v[1].msg_hdr.msg_namelen = sizeof(sockaddr_in);
  auto mm = Run(ctx, "sendmmsg", {3, ctx.mem.Put(BytesOf(v)), 2, 0});
  CHECK(mm.early_errno == 0);
  REQUIRE(mm.addr);
  CHECK(Text(*mm.addr) == "10.0.0.2:53");
  CHECK_FALSE(mm.first_msg_named);
  CHECK(Run(ctx, "connect", {3, sa, 0}).early_errno == EINVAL);
  CHECK(Run(ctx, "bind", {3, sa, 0}).early_errno == EINVAL);
}

// Fixed regressions (tracer/decode.cc, DecodePriority and DecodeOwner), found by the decoder
// fuzzer under UBSan: ioprio_get/ioprio_set(which = INT_MIN) computed INT_MIN - 1, and
// fcntl(F_SETOWN_EX) with {F_OWNER_PGRP, INT_MIN} negated INT_MIN, both signed overflow
// (undefined behaviour) on tracee-chosen values; a sanitized supervisor aborts on them. The
// kernel fails both (EINVAL, ESRCH). Like the kill(INT_MIN) test above, these fail only under
// -fsanitize=undefined (the ASan/UBSan build of scripts/test.sh).
TEST_CASE("regression: decode: ioprio which INT_MIN and F_SETOWN_EX pgrp INT_MIN do not overflow",
          "[decode]") {
  FakeContext ctx;
  for (const char* name : {"ioprio_get", "ioprio_set"}) {
    CAPTURE(name);
    auto out = Run(ctx, name, {R(INT_MIN), 1, 0});
    CHECK(out.request.primitive == Primitive::kNone);
    CHECK(out.outside.empty());
  }
  struct {
    std::int32_t type, pid;
  } owner{2 /* F_OWNER_PGRP */, INT_MIN};
  auto out = Run(ctx, "fcntl", {3, 15 /* F_SETOWN_EX */, ctx.mem.Put(BytesOf(owner))});
  CHECK(out.early_errno == 0);
  CHECK(out.request.primitive == Primitive::kNone);
  for (pid_t pgid : ctx.group_queries) CHECK(pgid > 0);
}
