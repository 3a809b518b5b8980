// Anchored path calls' pure half: which calls are anchored, on what (the directory or the object
// itself), the final name, what the openat2 gets and the path the call is then given.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

#include <catch2/catch.hpp>

#include "tracer/decode.h"
#include "tracer/fs_anchor.h"

using tracer::AnchorPlan;
using tracer::DecodedCall;
using tracer::PlanAnchors;

namespace {

struct PathSpec {
  std::string walk;
  bool follow = false;
  std::string raw = "some/path";
};

DecodedCall Call(std::string_view syscall, std::vector<PathSpec> paths) {
  DecodedCall call;
  call.row = syscalls::FindRow(syscall);
  REQUIRE(call.row != nullptr);
  call.args = {0x7000, 0x7100, 0x7200, 0x7300, 0x7400, 0x7500};  // pointers are non-NULL
  call.request.path_count = static_cast<int>(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    call.request.paths[i].access = i == 0 ? call.row->access : call.row->access2;
    call.paths[i].raw = paths[i].raw;
    call.paths[i].follow = paths[i].follow;
    call.paths[i].resolved.path = paths[i].walk;
    call.paths[i].resolved.pin = paths[i].walk;
    call.paths[i].resolved.walk = paths[i].walk;
  }
  return call;
}

}  // namespace

TEST_CASE("a call that does not follow its final name is anchored on the directory above it",
          "[fs_anchor]") {
  for (const char* name : {"unlink", "rmdir", "mkdir", "mknod", "lchown", "lsetxattr"}) {
    CAPTURE(name);
    AnchorPlan plan = PlanAnchors(Call(name, {{"/work/dir/entry", false}}));
    REQUIRE(plan.anchors.size() == 1);
    CHECK(plan.why_not.empty());
    const tracer::FsAnchor& a = plan.anchors[0];
    CHECK(a.arg == 0);
    CHECK_FALSE(a.object);
    CHECK(a.open_path == "/work/dir");
    CHECK(a.name == "entry");
    CHECK(tracer::AnchoredPath(7, a) == "/proc/thread-self/fd/7/entry");
    tracer::OpenHowWords how = tracer::AnchorHow(a);
    CHECK(how.flags == (O_PATH | O_CLOEXEC | O_DIRECTORY));
    CHECK(how.mode == 0);
    CHECK(how.resolve == (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
  }
  // Directly under the root.
  AnchorPlan top = PlanAnchors(Call("unlinkat", {{"/entry", false}}));
  REQUIRE(top.anchors.size() == 1);
  CHECK(top.anchors[0].arg == 1);  // unlinkat(dirfd, pathname, flags)
  CHECK(top.anchors[0].open_path == "/");
  CHECK(top.anchors[0].name == "entry");
}

TEST_CASE("a call that follows its final name is anchored on the object itself", "[fs_anchor]") {
  for (const char* name : {"chmod", "chown", "truncate", "utimes", "setxattr", "removexattr"}) {
    CAPTURE(name);
    AnchorPlan plan = PlanAnchors(Call(name, {{"/work/target", true}}));
    REQUIRE(plan.anchors.size() == 1);
    const tracer::FsAnchor& a = plan.anchors[0];
    CHECK(a.object);
    CHECK(a.open_path == "/work/target");
    CHECK(a.name.empty());
    CHECK(tracer::AnchoredPath(12, a) == "/proc/thread-self/fd/12");
    CHECK(tracer::AnchorHow(a).flags == (O_PATH | O_CLOEXEC));  // any file type, no O_DIRECTORY
  }
  // The root has no directory above it.
  AnchorPlan root = PlanAnchors(Call("rmdir", {{"/", false, "/"}}));
  REQUIRE(root.anchors.size() == 1);
  CHECK(root.anchors[0].object);
  CHECK(root.anchors[0].open_path == "/");
}

TEST_CASE("metadata reads are anchored like the calls that change the filesystem", "[fs_anchor]") {
  struct Case {
    const char* name;
    bool follow;
    int arg;
  };
  for (const Case& c :
       {Case{"stat", true, 0}, Case{"lstat", false, 0}, Case{"newfstatat", true, 1},
        Case{"statx", false, 1}, Case{"access", true, 0}, Case{"faccessat2", true, 1},
        Case{"readlink", false, 0}, Case{"chdir", true, 0}, Case{"getxattr", true, 0},
        Case{"llistxattr", false, 0}}) {
    CAPTURE(c.name);
    AnchorPlan plan = PlanAnchors(Call(c.name, {{"/etc/entry", c.follow}}));
    REQUIRE(plan.anchors.size() == 1);
    CHECK(plan.anchors[0].arg == c.arg);
    CHECK(plan.anchors[0].object == c.follow);
    CHECK(plan.anchors[0].open_path == (c.follow ? "/etc/entry" : "/etc"));
  }
  // inotify_add_watch follows unless its mask has IN_DONT_FOLLOW (decode sets `follow`): the
  // object itself, or the name in its directory (the kernel then watches the symlink).
  AnchorPlan watch = PlanAnchors(Call("inotify_add_watch", {{"/etc/entry", true}}));
  REQUIRE(watch.anchors.size() == 1);
  CHECK(watch.anchors[0].arg == 1);
  CHECK(watch.anchors[0].object);
  AnchorPlan link = PlanAnchors(Call("inotify_add_watch", {{"/etc/entry", false}}));
  REQUIRE(link.anchors.size() == 1);
  CHECK_FALSE(link.anchors[0].object);
  CHECK(link.anchors[0].open_path == "/etc");
  CHECK(link.anchors[0].name == "entry");
}

TEST_CASE("two-path calls get one anchor per path in its own argument", "[fs_anchor]") {
  AnchorPlan rename = PlanAnchors(Call("renameat2", {{"/a/old", false}, {"/b/new", false}}));
  REQUIRE(rename.anchors.size() == 2);
  CHECK(rename.anchors[0].arg == 1);  // renameat2(olddirfd, oldpath, newdirfd, newpath, flags)
  CHECK(rename.anchors[0].open_path == "/a");
  CHECK(rename.anchors[1].arg == 3);
  CHECK(rename.anchors[1].open_path == "/b");
  CHECK(rename.anchors[1].name == "new");
  // linkat with AT_SYMLINK_FOLLOW: the old name's target itself.
  AnchorPlan link = PlanAnchors(Call("linkat", {{"/a/target", true}, {"/b/new", false}}));
  REQUIRE(link.anchors.size() == 2);
  CHECK(link.anchors[0].object);
  CHECK_FALSE(link.anchors[1].object);
  // symlink's target is a string, not a path: only the new name is anchored.
  AnchorPlan symlink = PlanAnchors(Call("symlink", {{"/b/link", false}}));
  REQUIRE(symlink.anchors.size() == 1);
  CHECK(symlink.anchors[0].arg == 1);
}

TEST_CASE("what is not anchored says why, or is not a call anchoring is for", "[fs_anchor]") {
  SECTION("opens and execs have their own guard") {
    for (const char* name : {"openat", "openat2", "execve", "fchmod", "ftruncate"}) {
      CAPTURE(name);
      AnchorPlan plan = PlanAnchors(Call(name, {{"/work/file", true}}));
      CHECK_FALSE(plan.needed());
      CHECK(plan.why_not.empty());
    }
  }
  SECTION("a NULL path acts on the descriptor") {
    DecodedCall call = Call("utimensat", {{"/work/file", true}});
    call.args[1] = 0;
    AnchorPlan plan = PlanAnchors(call);
    CHECK_FALSE(plan.needed());
    CHECK(plan.why_not.empty());
  }
  SECTION("a path with no checked walk (a magic link, AT_EMPTY_PATH)") {
    DecodedCall call = Call("chmod", {{"", true}});
    call.paths[0].resolved.unpinnable = "a walk through /proc/PID/fd";
    AnchorPlan plan = PlanAnchors(call);
    CHECK_FALSE(plan.needed());
    CHECK(plan.why_not == "a walk through /proc/PID/fd");
  }
  SECTION("final names the kernel treats specially") {
    // Where a name is removed (or made), a trailing slash stays on the name in its directory...
    for (const char* raw : {"dir/", "dir//"}) {
      CAPTURE(raw);
      // The resolver keeps a trailing slash on a name it does not follow.
      AnchorPlan plan = PlanAnchors(Call("rmdir", {{"/work/dir/", false, raw}}));
      REQUIRE(plan.anchors.size() == 1);
      CHECK(tracer::AnchoredPath(5, plan.anchors[0]) == "/proc/thread-self/fd/5/dir/");
      CHECK(plan.anchors[0].open_path == "/work");
    }
    // ... and a final "." or ".." is refused by the kernel whatever is there: nothing to anchor.
    for (const char* raw : {"dir/.", "dir/.."}) {
      CAPTURE(raw);
      AnchorPlan plan = PlanAnchors(Call("rmdir", {{"/work/dir", false, raw}}));
      CHECK_FALSE(plan.needed());
      CHECK(plan.why_not.empty());
      CHECK_FALSE(plan.inert.empty());
    }
    // A lookup that does not follow ends in the directory "." names: ".../fd/N/.".
    AnchorPlan lstat = PlanAnchors(Call("lstat", {{"/work/dir", false, "dir/."}}));
    REQUIRE(lstat.anchors.size() == 1);
    CHECK(lstat.anchors[0].open_path == "/work/dir");
    CHECK(tracer::AnchoredPath(5, lstat.anchors[0]) == "/proc/thread-self/fd/5/.");
    // Followed, a trailing slash keeps its meaning on the anchored path: a directory only.
    AnchorPlan chmod = PlanAnchors(Call("chmod", {{"/work/dir", true, "dir/"}}));
    REQUIRE(chmod.anchors.size() == 1);
    CHECK(tracer::AnchoredPath(5, chmod.anchors[0]) == "/proc/thread-self/fd/5/");
  }
  SECTION("one path that cannot be anchored leaves the whole call as it is") {
    DecodedCall call = Call("rename", {{"/a/old", false}, {"", false}});
    call.paths[1].resolved.unpinnable = "longer than PATH_MAX";
    AnchorPlan plan = PlanAnchors(call);
    CHECK(plan.anchors.empty());
    CHECK(plan.why_not == "longer than PATH_MAX");
  }
}

namespace {

// A connect or send to the unix socket path `walk` (already resolved by the check).
DecodedCall SocketCall(std::string_view syscall, std::string walk) {
  DecodedCall call;
  call.row = syscalls::FindRow(syscall);
  REQUIRE(call.row != nullptr);
  call.args = {3, 0x7100, 0x7200, 0x7300, 0x7400, 110};
  policy::SocketAddress addr;
  addr.family = AF_UNIX;
  addr.unix_path = walk;
  call.addr = addr;
  call.unix_walk = std::move(walk);
  call.msghdr_bytes = std::string(56, '\x11');  // whatever the program's msghdr held
  call.first_msg_named = true;
  return call;
}

sockaddr_un AddressAt(const tracer::AnchoredArgs& placed, std::uint64_t base, std::uint64_t at,
                      std::uint64_t len) {
  REQUIRE(at >= base);
  REQUIRE(at - base + len <= placed.bytes.size());
  sockaddr_un un{};
  REQUIRE(len <= sizeof un);
  std::memcpy(&un, placed.bytes.data() + (at - base), len);
  return un;
}

}  // namespace

TEST_CASE("connect and the sends to a unix socket path are anchored on the socket file",
          "[fs_anchor]") {
  constexpr std::uint64_t kBase = 0x10000;
  for (const char* name : {"connect", "sendto"}) {
    CAPTURE(name);
    AnchorPlan plan = PlanAnchors(SocketCall(name, "/run/app/s.sock"));
    REQUIRE(plan.anchors.size() == 1);
    const tracer::FsAnchor& a = plan.anchors[0];
    CHECK(a.object);  // the kernel follows a final symlink to a socket
    CHECK(a.open_path == "/run/app/s.sock");
    CHECK(a.carrier == tracer::Carrier::kSockaddr);
    CHECK(tracer::AnchorHow(a).flags == (O_PATH | O_CLOEXEC));
    tracer::AnchoredArgs placed = tracer::PlaceAnchored(plan.anchors, {12}, kBase);
    CHECK(placed.syscall == -1);
    REQUIRE(placed.registers.size() == 2);
    CHECK(placed.registers[0].first == a.arg);
    CHECK(placed.registers[1].first == a.arg + 1);
    sockaddr_un un =
        AddressAt(placed, kBase, placed.registers[0].second, placed.registers[1].second);
    CHECK(un.sun_family == AF_UNIX);
    CHECK(std::string(un.sun_path) == "/proc/thread-self/fd/12");
    CHECK(placed.registers[1].second == offsetof(sockaddr_un, sun_path) + 24);
  }
  // sendmsg: a copy of its msghdr naming the anchored address; the rest of it is the program's.
  AnchorPlan plan = PlanAnchors(SocketCall("sendmsg", "/run/app/s.sock"));
  REQUIRE(plan.anchors.size() == 1);
  CHECK(plan.anchors[0].carrier == tracer::Carrier::kMsghdr);
  tracer::AnchoredArgs placed = tracer::PlaceAnchored(plan.anchors, {5}, kBase);
  REQUIRE(placed.registers.size() == 1);
  CHECK(placed.registers[0].first == 1);
  std::uint64_t msg_at = placed.registers[0].second - kBase;
  REQUIRE(msg_at + 56 <= placed.bytes.size());
  std::uint64_t name = 0;
  std::uint32_t namelen = 0;
  std::memcpy(&name, placed.bytes.data() + msg_at, 8);
  std::memcpy(&namelen, placed.bytes.data() + msg_at + 8, 4);
  CHECK(std::string(AddressAt(placed, kBase, name, namelen).sun_path) == "/proc/thread-self/fd/5");
  CHECK(placed.bytes.substr(msg_at + 16, 40) == std::string(40, '\x11'));
  // sendmmsg becomes a sendmsg of its first message, its flags moved to sendmsg's.
  DecodedCall mmsg = SocketCall("sendmmsg", "/run/app/s.sock");
  mmsg.args[3] = 0x40;  // MSG_DONTWAIT
  plan = PlanAnchors(mmsg);
  REQUIRE(plan.anchors.size() == 1);
  placed = tracer::PlaceAnchored(plan.anchors, {5}, kBase);
  CHECK(placed.syscall == SYS_sendmsg);
  REQUIRE(placed.registers.size() == 2);
  CHECK(placed.registers[1] == std::pair<int, std::uint64_t>{2, 0x40});
  // Without the first message's address (it names none) it is not anchored, and says so.
  mmsg.first_msg_named = false;
  plan = PlanAnchors(mmsg);
  CHECK_FALSE(plan.needed());
  CHECK_FALSE(plan.why_not.empty());
  // Abstract and unnamed addresses name no file: nothing to anchor, nothing to say.
  DecodedCall abstract = SocketCall("connect", "");
  abstract.addr->abstract = true;
  plan = PlanAnchors(abstract);
  CHECK_FALSE(plan.needed());
  CHECK(plan.why_not.empty());
}
