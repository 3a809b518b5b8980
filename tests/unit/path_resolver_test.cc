// tracer/path_resolver.h: ResolvePath on real temporary directories, as this very process (pid =
// tid = getpid()) would see them.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "tracer/path_resolver.h"

namespace {

using tracer::ResolvePath;
using tracer::ResolveResult;

// A temporary tree, canonical (so results compare as strings), removed on scope exit:
//   dir/  dir/file  dir/sub/
//   abs_link -> ROOT/dir        rel_link -> dir/file     dir/up_link -> ../dir
//   loop_a -> loop_b -> loop_a  self_loop -> self_loop   dangling -> missing_target
//   chain_0 -> chain_1 -> ... -> chain_N -> dir/file (built on demand)
struct TempTree {
  std::string root;
  TempTree() {
    char tmpl[] = "/tmp/tj_resolve_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    char real[PATH_MAX];
    REQUIRE(realpath(tmpl, real) != nullptr);
    root = real;
    REQUIRE(mkdir((root + "/dir").c_str(), 0755) == 0);
    REQUIRE(mkdir((root + "/dir/sub").c_str(), 0755) == 0);
    int fd = open((root + "/dir/file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    close(fd);
    Link(root + "/dir", "abs_link");
    Link("dir/file", "rel_link");
    Link("../dir", "dir/up_link");
    Link("loop_b", "loop_a");
    Link("loop_a", "loop_b");
    Link("self_loop", "self_loop");
    Link("missing_target", "dangling");
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  void Link(const std::string& target, const std::string& name) const {
    REQUIRE(symlink(target.c_str(), (root + "/" + name).c_str()) == 0);
  }
  // chain_0 -> chain_1 -> ... -> chain_{n-1} -> dir/file: resolving chain_0 follows n links.
  void Chain(int n) const {
    for (int i = 0; i < n; ++i) {
      std::string target = i + 1 < n ? "chain_" + std::to_string(i + 1) : "dir/file";
      Link(target, "chain_" + std::to_string(i));
    }
  }
};

// Changes the working directory for one scope.
struct ScopedChdir {
  std::string old;
  explicit ScopedChdir(const std::string& dir) {
    char buf[PATH_MAX];
    REQUIRE(getcwd(buf, sizeof buf) != nullptr);
    old = buf;
    REQUIRE(chdir(dir.c_str()) == 0);
  }
  ~ScopedChdir() {
    int rc = chdir(old.c_str());
    (void)rc;
  }
};

struct ScopedFd {
  int fd;
  explicit ScopedFd(int f) : fd(f) { REQUIRE(fd >= 0); }
  ~ScopedFd() { close(fd); }
};

ResolveResult Resolve(std::string_view path, bool follow_last = true, int dirfd = AT_FDCWD,
                      bool empty_path_ok = false) {
  pid_t self = getpid();
  return ResolvePath(self, self, dirfd, path,
                     follow_last ? tracer::LastLink::kFollow : tracer::LastLink::kNoFollow,
                     empty_path_ok ? tracer::EmptyPath::kNamesDirfd : tracer::EmptyPath::kRefuse);
}

}  // namespace

TEST_CASE("ResolvePath: absolute paths, dots and symlinks", "[resolve]") {
  TempTree t;
  const std::string& r = t.root;
  struct Case {
    std::string path;
    bool follow_last;
    std::string expected;
    int error = 0;
  };
  const Case cases[] = {
      {r + "/dir/file", true, r + "/dir/file"},
      {r + "//dir///file", true, r + "/dir/file"},
      {r + "/dir/./file", true, r + "/dir/file"},
      {r + "/dir/sub/../file", true, r + "/dir/file"},
      {r + "/dir/sub/../../dir/file", true, r + "/dir/file"},
      {r + "/dir/", true, r + "/dir"},
      {r, true, r},
      {"/", true, "/"},
      {"/..", true, "/"},
      {"/../../..", true, "/"},
      {"/.." + r + "/dir", true, r + "/dir"},
      // Symlink to an absolute target, in the middle and at the end.
      {r + "/abs_link/file", true, r + "/dir/file"},
      {r + "/abs_link/file", false, r + "/dir/file"},  // only the last component is kept
      {r + "/abs_link", true, r + "/dir"},
      {r + "/abs_link", false, r + "/abs_link"},
      // Relative symlink, resolved against the link's directory.
      {r + "/rel_link", true, r + "/dir/file"},
      {r + "/rel_link", false, r + "/rel_link"},
      {r + "/dir/up_link/file", true, r + "/dir/file"},
      {r + "/dir/up_link/up_link/up_link", true, r + "/dir"},
      // ".." after a symlink goes to the parent of the link's target (physical, like the kernel).
      {r + "/abs_link/sub/..", true, r + "/dir"},
      {r + "/dir/up_link/..", true, r},
      // A final component that does not exist is kept; a missing directory fails like the
      // kernel (ENOENT), and so does ".." after a file (ENOTDIR).
      {r + "/dir/missing", true, r + "/dir/missing"},
      {r + "/dir/missing/a/./b/../c", true, "", ENOENT},
      {r + "/dangling", true, r + "/missing_target"},
      {r + "/dangling", false, r + "/dangling"},
      {r + "/dangling/x", true, "", ENOENT},
      {r + "/dir/file/..", true, "", ENOTDIR},
      // Loops are not reached when the final link is not followed.
      {r + "/self_loop", false, r + "/self_loop"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path, c.follow_last);
    ResolveResult res = Resolve(c.path, c.follow_last);
    CHECK(res.error == c.error);
    if (c.error == 0) CHECK(res.path == c.expected);
  }
}

TEST_CASE("ResolvePath: symlink loops give ELOOP after 40 links", "[resolve]") {
  TempTree t;
  for (const char* name : {"/loop_a", "/loop_b", "/self_loop", "/loop_a/x", "/dir/../loop_b"}) {
    CAPTURE(name);
    ResolveResult res = Resolve(t.root + name);
    CHECK(res.error == ELOOP);
  }
  SECTION("a chain of 40 links resolves") {
    t.Chain(40);
    ResolveResult res = Resolve(t.root + "/chain_0");
    CHECK(res.error == 0);
    CHECK(res.path == t.root + "/dir/file");
    int fd = open((t.root + "/chain_0").c_str(), O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);  // the kernel agrees
    if (fd >= 0) close(fd);
  }
  SECTION("a chain of 41 links does not") {
    t.Chain(41);
    CHECK(Resolve(t.root + "/chain_0").error == ELOOP);
    // The kernel agrees.
    errno = 0;
    CHECK(open((t.root + "/chain_0").c_str(), O_RDONLY | O_CLOEXEC) == -1);
    CHECK(errno == ELOOP);
  }
}

TEST_CASE("ResolvePath: /proc/self and /proc/thread-self mean the given process", "[resolve]") {
  TempTree t;
  pid_t self = getpid();
  SECTION("/proc/self/root + path is the path") {
    ResolveResult res = Resolve("/proc/self/root" + t.root + "/abs_link/file");
    CHECK(res.error == 0);
    CHECK(res.path == t.root + "/dir/file");
  }
  SECTION("/proc/self names the pid passed in, not the caller") {
    ResolveResult mine = Resolve("/proc/self/status");
    CHECK(mine.path == "/proc/" + std::to_string(self) + "/status");
    ResolveResult other =
        ResolvePath(1, 1, AT_FDCWD, "/proc/self/status", tracer::LastLink::kFollow);
    CHECK(other.error == 0);
    CHECK(other.path == "/proc/1/status");
    ResolveResult bare = ResolvePath(1, 1, AT_FDCWD, "/proc/self", tracer::LastLink::kFollow);
    CHECK(bare.path == "/proc/1");
  }
  SECTION("/proc/thread-self names the given thread") {
    ResolveResult res = Resolve("/proc/thread-self/comm");
    CHECK(res.error == 0);
    CHECK(res.path == "/proc/" + std::to_string(self) + "/task/" + std::to_string(self) + "/comm");
  }
  SECTION("/proc/self/cwd is the cwd of the given process") {
    ScopedChdir cd(t.root + "/dir");
    ResolveResult res = Resolve("/proc/self/cwd/file");
    CHECK(res.error == 0);
    CHECK(res.path == t.root + "/dir/file");
  }
}

TEST_CASE("ResolvePath: relative paths use the dirfd or the cwd of the thread", "[resolve]") {
  TempTree t;
  SECTION("relative to a directory fd") {
    ScopedFd dir(open((t.root + "/dir").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct Case {
      const char* path;
      std::string expected;
    };
    const Case cases[] = {
        {"file", t.root + "/dir/file"},
        {"./sub/../file", t.root + "/dir/file"},
        {"../rel_link", t.root + "/dir/file"},
        {"..", t.root},
        {"new_name", t.root + "/dir/new_name"},
        {"/etc/..", "/"},  // absolute paths ignore the dirfd
    };
    for (const auto& c : cases) {
      CAPTURE(c.path);
      ResolveResult res = Resolve(c.path, true, dir.fd);
      CHECK(res.error == 0);
      CHECK(res.path == c.expected);
    }
    SECTION("AT_EMPTY_PATH names the directory itself") {
      ResolveResult res = Resolve("", true, dir.fd, true);
      CHECK(res.error == 0);
      CHECK(res.path == t.root + "/dir");
    }
  }
  SECTION("relative to the cwd (AT_FDCWD)") {
    ScopedChdir cd(t.root);
    ResolveResult res = Resolve("dir/file");
    CHECK(res.error == 0);
    CHECK(res.path == t.root + "/dir/file");
    CHECK(Resolve(".").path == t.root);
    CHECK(Resolve("abs_link/../rel_link").path == t.root + "/dir/file");
    CHECK(Resolve("rel_link", false).path == t.root + "/rel_link");
  }
  SECTION("a dirfd that is not open") {
    int unused = open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(unused >= 0);
    close(unused);  // now certainly closed
    CHECK(Resolve("file", true, unused).error == EBADF);
  }
  SECTION("an empty path without AT_EMPTY_PATH") {
    ResolveResult res = Resolve("");
    CHECK(res.error == ENOENT);
  }
}

TEST_CASE("ResolvePath: magic links to anonymous objects", "[resolve]") {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  ScopedFd read_end(fds[0]);
  ScopedFd write_end(fds[1]);
  char expected[64] = {};
  std::string link = "/proc/self/fd/" + std::to_string(read_end.fd);
  ssize_t n = readlink(link.c_str(), expected, sizeof expected - 1);
  REQUIRE(n > 0);
  REQUIRE_THAT(expected, Catch::StartsWith("pipe:["));

  SECTION("/proc/self/fd/N of a pipe is its name") {
    ResolveResult res = Resolve(link);
    CHECK(res.error == 0);
    CHECK(res.path == expected);
    CHECK_THAT(res.path, Catch::StartsWith("pipe:[") && Catch::EndsWith("]"));
  }
  SECTION("not followed, it is the link itself") {
    ResolveResult res = Resolve(link, false);
    CHECK(res.path == "/proc/" + std::to_string(getpid()) + "/fd/" + std::to_string(read_end.fd));
  }
  SECTION("nothing lies below a pipe") { CHECK(Resolve(link + "/x").error == ENOTDIR); }
  SECTION("AT_EMPTY_PATH on a pipe fd") {
    ResolveResult res = Resolve("", true, read_end.fd, true);
    CHECK(res.error == 0);
    CHECK(res.path == expected);
  }
  SECTION("a relative path on a pipe fd") {
    CHECK(Resolve("x", true, read_end.fd).error == ENOTDIR);
  }
}

// Fixed regression (tracer/path_resolver.cc, ResolvePath/Split): a trailing slash makes the kernel
// follow a final symlink even for no-follow calls (fs/namei.c lookup_last sets LOOKUP_FOLLOW when
// the last component is followed by '/'), but Split() drops the empty component, so "link/" with
// follow_last=false resolves to the link itself. lchown("/tmp/l/"), lsetxattr,
// fchownat(AT_SYMLINK_NOFOLLOW) etc. then act on the link's target directory while the policy is
// asked about the link's path.
TEST_CASE("regression: resolve: a trailing slash follows the final symlink", "[resolve]") {
  TempTree t;
  std::string path = t.root + "/abs_link/";
  // What the kernel does: lstat through the trailing slash reaches the directory.
  struct stat through {};
  struct stat target {};
  REQUIRE(lstat(path.c_str(), &through) == 0);
  REQUIRE(stat((t.root + "/dir").c_str(), &target) == 0);
  REQUIRE(S_ISDIR(through.st_mode));
  REQUIRE(through.st_ino == target.st_ino);
  // What the resolver says.
  ResolveResult res = Resolve(path, false);
  CHECK(res.error == 0);
  CHECK(res.path == t.root + "/dir");
}

TEST_CASE("ResolvePath: the pinned form keeps what the kernel must still see", "[resolve][pin]") {
  TempTree t;
  const std::string& r = t.root;
  struct Case {
    std::string path;
    bool follow_last;
    std::string pin;
  };
  const Case cases[] = {
      {r + "/dir/file", true, r + "/dir/file"},
      {r + "/dir/sub/../file", true, r + "/dir/file"},
      // The final symlink is left for the kernel to follow, so an exec'd script keeps its name.
      {r + "/rel_link", true, r + "/rel_link"},
      {r + "/abs_link/file", true, r + "/dir/file"},
      {r + "/rel_link", false, r + "/rel_link"},
      // A name that asks for a directory still does.
      {r + "/dir/", true, r + "/dir/"},
      // A final "." or ".." is kept: rmdir and rename treat it specially (EINVAL, EBUSY).
      {r + "/dir/sub/..", true, r + "/dir/sub/.."},
      {r + "/abs_link/.", true, r + "/abs_link/."},  // the kernel follows the link itself
      {"/", true, "/"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.path, c.follow_last);
    ResolveResult res = Resolve(c.path, c.follow_last);
    CHECK(res.error == 0);
    CHECK(res.pin == c.pin);
    CHECK(res.magic_pid == 0);
  }
  SECTION("the walk an open is handed resolves every symlink, the final one when followed") {
    const std::pair<std::string, std::string> walks[] = {
        {r + "/rel_link", r + "/dir/file"},       {r + "/abs_link/file", r + "/dir/file"},
        {r + "/abs_link/", r + "/dir/"},          {r + "/dir/up_link/sub/..", r + "/dir/"},
        {r + "/dangling", r + "/missing_target"},  // O_CREAT creates the target
    };
    for (const auto& [path, walk] : walks) {
      CAPTURE(path);
      CHECK(Resolve(path, true).walk == walk);
    }
    CHECK(Resolve(r + "/rel_link", false).walk == r + "/rel_link");  // O_NOFOLLOW: the link
  }
  SECTION("relative paths become absolute: the cwd cannot change under the decision") {
    ResolveResult res = tracer::ResolvePath(getpid(), static_cast<pid_t>(syscall(SYS_gettid)),
                                            AT_FDCWD, "x", tracer::LastLink::kFollow);
    char cwd[4096];
    REQUIRE(getcwd(cwd, sizeof cwd) != nullptr);
    CHECK(res.pin == std::string(cwd) + "/x");
  }
  SECTION("a dirfd whose name is not its directory fails like the kernel, never walks the name") {
    // An O_PATH fd on a symlink reads as the symlink's path: the kernel says ENOTDIR.
    int link_fd = open((r + "/abs_link").c_str(), O_PATH | O_NOFOLLOW);
    REQUIRE(link_fd >= 0);
    ResolveResult res = Resolve("file", true, link_fd);
    close(link_fd);
    CHECK(res.error == ENOTDIR);
    // A deleted directory reads "/... (deleted)", a name anyone may create as a symlink.
    std::string gone = r + "/gone";
    REQUIRE(mkdir(gone.c_str(), 0755) == 0);
    int gone_fd = open(gone.c_str(), O_PATH | O_DIRECTORY);
    REQUIRE(gone_fd >= 0);
    REQUIRE(rmdir(gone.c_str()) == 0);
    REQUIRE(symlink((r + "/dir").c_str(), (gone + " (deleted)").c_str()) == 0);
    res = Resolve("file", true, gone_fd);
    close(gone_fd);
    CHECK(res.error == ENOENT);
    CHECK(res.pin.empty());
  }
  SECTION("a walk through a /proc/PID magic link is not pinned as a path") {
    int fd = open((r + "/dir").c_str(), O_PATH | O_DIRECTORY);
    REQUIRE(fd >= 0);
    ResolveResult res = Resolve("/proc/self/fd/" + std::to_string(fd) + "/file", true);
    close(fd);
    CHECK(res.error == 0);
    CHECK(res.path == r + "/dir/file");
    CHECK(res.magic_pid == getpid());
    CHECK(res.pin.empty());
    CHECK(res.walk.empty());
  }
  SECTION("ProcPidOf") {
    CHECK(tracer::ProcPidOf("/proc/12/mem") == 12);
    CHECK(tracer::ProcPidOf("/proc/12") == 0);
    CHECK(tracer::ProcPidOf("/proc/self/mem") == 0);
    CHECK(tracer::ProcPidOf("/tmp/12/mem") == 0);
  }
}
