// tracer/cgroup.h, the pure part: where each cgroup hierarchy is mounted (mountinfo), where this
// process sits in it (/proc/self/cgroup), the directory that follows, and flat-keyed files such
// as memory.events.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tracer/cgroup.h"

namespace {

using tracer::CgroupDir;
using tracer::CgroupMount;
using tracer::CgroupPathOf;
using tracer::KeyedValue;
using tracer::ParseCgroupMounts;

// A hybrid (v1 + v2) host, as /proc/self/mountinfo shows it: a root fs and a tmpfs that are not
// cgroups, the unified v2 hierarchy, v1 hierarchies (one named, one with two controllers), a
// line without optional fields, and a container's bind of a sub-hierarchy whose mount point
// has a space (escaped as \040).
constexpr std::string_view kMountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "25 22 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
    "cgroup2 rw,nsdelegate\n"
    "27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
    "cgroup rw,xattr,name=systemd\n"
    "30 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup "
    "cgroup rw,memory\n"
    "31 25 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 master:3 - "
    "cgroup cgroup rw,pids\n"
    "32 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "40 22 0:28 /docker/abc123 /mnt/my\\040cgroups rw,relatime shared:20 - cgroup cgroup "
    "rw,memory\n"
    "41 22 0:45 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw\n";

bool HasController(const CgroupMount& m, const std::string& c) {
  return std::find(m.controllers.begin(), m.controllers.end(), c) != m.controllers.end();
}

}  // namespace

TEST_CASE("Cgroup: mountinfo yields the cgroup mounts only", "[cgroup]") {
  std::vector<CgroupMount> mounts = ParseCgroupMounts(kMountinfo);
  REQUIRE(mounts.size() == 6);

  const CgroupMount& unified = mounts[0];
  CHECK(unified.mount_point == "/sys/fs/cgroup/unified");
  CHECK(unified.root == "/");
  CHECK(unified.v2);
  CHECK(unified.controllers.empty());  // v2 controllers are in cgroup.controllers, not here

  const CgroupMount& systemd = mounts[1];
  CHECK(systemd.mount_point == "/sys/fs/cgroup/systemd");
  CHECK_FALSE(systemd.v2);
  CHECK(HasController(systemd, "name=systemd"));
  CHECK_FALSE(HasController(systemd, "memory"));

  const CgroupMount& memory = mounts[2];
  CHECK(memory.mount_point == "/sys/fs/cgroup/memory");
  CHECK(memory.root == "/");
  CHECK_FALSE(memory.v2);
  CHECK(HasController(memory, "memory"));
  CHECK_FALSE(HasController(memory, "pids"));

  const CgroupMount& pids = mounts[3];  // two optional fields before the separator
  CHECK(pids.mount_point == "/sys/fs/cgroup/pids");
  CHECK_FALSE(pids.v2);
  CHECK(HasController(pids, "pids"));
  CHECK_FALSE(HasController(pids, "memory"));

  const CgroupMount& cpu = mounts[4];  // no optional fields at all
  CHECK(cpu.mount_point == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(HasController(cpu, "cpu"));
  CHECK(HasController(cpu, "cpuacct"));
  CHECK_FALSE(HasController(cpu, "cpu,cpuacct"));

  const CgroupMount& bind = mounts[5];
  CHECK(bind.mount_point == "/mnt/my cgroups");  // \040 unescaped
  CHECK(bind.root == "/docker/abc123");
  CHECK_FALSE(bind.v2);
  CHECK(HasController(bind, "memory"));

  for (const auto& m : mounts) {
    INFO(m.mount_point);
    CHECK(m.mount_point != "/");
    CHECK(m.mount_point != "/sys/fs/cgroup");  // the tmpfs
    CHECK(m.mount_point != "/proc");
  }
}

TEST_CASE("Cgroup: mountinfo of a pure cgroup v2 host and odd input", "[cgroup]") {
  std::vector<CgroupMount> v2 = ParseCgroupMounts(
      "24 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot");  // no trailing newline
  REQUIRE(v2.size() == 1);
  CHECK(v2[0].v2);
  CHECK(v2[0].mount_point == "/sys/fs/cgroup");
  CHECK(v2[0].root == "/");
  CHECK(v2[0].controllers.empty());

  CHECK(ParseCgroupMounts("").empty());
  CHECK(ParseCgroupMounts("\n\n").empty());
  // Too few fields, no separator, or nothing after the separator: skipped, not a crash.
  CHECK(ParseCgroupMounts("26 25 0:24 / /sys/fs/cgroup\n").empty());
  CHECK(ParseCgroupMounts("26 25 0:24 / /sys/fs/cgroup rw shared:1 cgroup2 cgroup2 rw\n").empty());
  CHECK(ParseCgroupMounts("26 25 0:24 / /sys/fs/cgroup rw shared:1 - cgroup2\n").empty());
  CHECK(ParseCgroupMounts("26 25 0:24 / /sys/fs/cgroup rw shared:1 - cgroup2 cgroup2\n").empty());

  // Escapes: space, tab and backslash in mount point and root; a backslash that does not start
  // an octal escape stays as it is.
  auto escaped = ParseCgroupMounts(
      "50 22 0:24 /a\\040b /mnt/x\\011y\\134z rw - cgroup2 cgroup2 rw\n"
      "51 22 0:24 / /mnt/back\\slash rw - cgroup2 cgroup2 rw\n"
      "52 22 0:24 / /mnt/end\\040 rw - cgroup2 cgroup2 rw\n");
  REQUIRE(escaped.size() == 3);
  CHECK(escaped[0].root == "/a b");
  CHECK(escaped[0].mount_point == "/mnt/x\ty\\z");
  CHECK(escaped[1].mount_point == "/mnt/back\\slash");
  CHECK(escaped[2].mount_point == "/mnt/end ");
}

TEST_CASE("Cgroup: a controller's path in /proc/self/cgroup", "[cgroup]") {
  constexpr std::string_view kHybrid =
      "12:pids:/user.slice/user-1000.slice\n"
      "7:cpu,cpuacct:/x\n"
      "4:memory:/a/b\n"
      "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
      "0::/user.slice\n";
  CHECK(CgroupPathOf(kHybrid, "memory") == std::string("/a/b"));
  CHECK(CgroupPathOf(kHybrid, "cpu") == std::string("/x"));
  CHECK(CgroupPathOf(kHybrid, "cpuacct") == std::string("/x"));
  CHECK(CgroupPathOf(kHybrid, "pids") == std::string("/user.slice/user-1000.slice"));
  CHECK(CgroupPathOf(kHybrid, "name=systemd") ==
        std::string("/user.slice/user-1000.slice/session-2.scope"));
  CHECK(CgroupPathOf(kHybrid, "") == std::string("/user.slice"));  // "" asks for v2
  CHECK_FALSE(CgroupPathOf(kHybrid, "blkio"));
  CHECK_FALSE(CgroupPathOf(kHybrid, "mem"));  // whole controller names only
  CHECK_FALSE(CgroupPathOf(kHybrid, "acct"));

  // A v2-only host: no v1 controller has a path; the v2 one does.
  constexpr std::string_view kV2 = "0::/user.slice/user-1000.slice/session-3.scope\n";
  CHECK(CgroupPathOf(kV2, "") == std::string("/user.slice/user-1000.slice/session-3.scope"));
  CHECK_FALSE(CgroupPathOf(kV2, "memory"));
  CHECK_FALSE(CgroupPathOf(kV2, "pids"));

  // A v1-only host has no v2 path.
  CHECK_FALSE(CgroupPathOf("4:memory:/a/b\n3:pids:/a/b\n", ""));
  // Only hierarchy 0 with an empty list is v2.
  CHECK_FALSE(CgroupPathOf("5::/odd\n", ""));
  // A path may itself contain ':'.
  CHECK(CgroupPathOf("0::/weird:name\n", "") == std::string("/weird:name"));
  CHECK(CgroupPathOf("4:memory:/a:b/c", "memory") == std::string("/a:b/c"));
  // Root of a hierarchy (inside a cgroup namespace).
  CHECK(CgroupPathOf("0::/\n", "") == std::string("/"));
  // Garbage lines are skipped.
  CHECK(CgroupPathOf("garbage\n4 memory /x\n4:memory:/y\n", "memory") == std::string("/y"));
  CHECK_FALSE(CgroupPathOf("", "memory"));
  CHECK_FALSE(CgroupPathOf("", ""));
}

TEST_CASE("Cgroup: the directory of a cgroup under a mount", "[cgroup]") {
  SECTION("a mount of the whole hierarchy") {
    CgroupMount m{"/sys/fs/cgroup/memory", "/", false, {"rw", "memory"}};
    CHECK(CgroupDir(m, "/a/b") == std::string("/sys/fs/cgroup/memory/a/b"));
    CHECK(CgroupDir(m, "/user.slice") == std::string("/sys/fs/cgroup/memory/user.slice"));
    CHECK(CgroupDir(m, "/") == std::string("/sys/fs/cgroup/memory"));
    CgroupMount v2{"/sys/fs/cgroup", "/", true, {}};
    CHECK(CgroupDir(v2, "/user.slice/user-1000.slice") ==
          std::string("/sys/fs/cgroup/user.slice/user-1000.slice"));
    CHECK(CgroupDir(v2, "/") == std::string("/sys/fs/cgroup"));
  }
  SECTION("a container's bind of a sub-hierarchy") {
    CgroupMount m{"/sys/fs/cgroup/memory", "/docker/abc123", false, {"rw", "memory"}};
    CHECK(CgroupDir(m, "/docker/abc123") == std::string("/sys/fs/cgroup/memory"));
    CHECK(CgroupDir(m, "/docker/abc123/sub") == std::string("/sys/fs/cgroup/memory/sub"));
    CHECK(CgroupDir(m, "/docker/abc123/sub/leaf") == std::string("/sys/fs/cgroup/memory/sub/leaf"));
    // Outside the mounted sub-hierarchy: the mount does not show it.
    CHECK_FALSE(CgroupDir(m, "/"));
    CHECK_FALSE(CgroupDir(m, "/docker"));
    CHECK_FALSE(CgroupDir(m, "/docker/abc"));
    CHECK_FALSE(CgroupDir(m, "/docker/abc1234"));  // a sibling sharing the prefix
    CHECK_FALSE(CgroupDir(m, "/docker/other/sub"));
    CHECK_FALSE(CgroupDir(m, "/user.slice"));
  }
}

TEST_CASE("Cgroup: mountinfo and /proc/self/cgroup together", "[cgroup]") {
  // What Cgroup::Create does with them: the memory hierarchy's mount, the process's path in it,
  // and the directory that follows.
  std::vector<CgroupMount> mounts = ParseCgroupMounts(kMountinfo);
  constexpr std::string_view kSelf =
      "12:pids:/user.slice\n4:memory:/docker/abc123/job\n0::/user.slice/session-1.scope\n";
  std::vector<std::string> memory_dirs;
  for (const auto& m : mounts) {
    if (m.v2 || !HasController(m, "memory")) continue;
    auto path = CgroupPathOf(kSelf, "memory");
    REQUIRE(path);
    if (auto dir = CgroupDir(m, *path)) memory_dirs.push_back(*dir);
  }
  CHECK(memory_dirs ==
        std::vector<std::string>{"/sys/fs/cgroup/memory/docker/abc123/job", "/mnt/my cgroups/job"});

  auto v2 = std::find_if(mounts.begin(), mounts.end(), [](const auto& m) { return m.v2; });
  REQUIRE(v2 != mounts.end());
  auto path = CgroupPathOf(kSelf, "");
  REQUIRE(path);
  CHECK(CgroupDir(*v2, *path) == std::string("/sys/fs/cgroup/unified/user.slice/session-1.scope"));
}

TEST_CASE("Cgroup: values of flat-keyed files", "[cgroup]") {
  constexpr std::string_view kEvents = "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n";
  CHECK(KeyedValue(kEvents, "low") == std::uint64_t{0});
  CHECK(KeyedValue(kEvents, "high") == std::uint64_t{0});
  CHECK(KeyedValue(kEvents, "max") == std::uint64_t{3});
  CHECK(KeyedValue(kEvents, "oom") == std::uint64_t{1});  // not confused with oom_kill
  CHECK(KeyedValue(kEvents, "oom_kill") == std::uint64_t{2});
  CHECK_FALSE(KeyedValue(kEvents, "oom_group_kill"));
  CHECK_FALSE(KeyedValue(kEvents, "oom_"));
  CHECK_FALSE(KeyedValue(kEvents, "ma"));
  CHECK_FALSE(KeyedValue(kEvents, ""));

  // cgroup v1 memory.oom_control: oom_kill is the last key, and may lack a final newline.
  constexpr std::string_view kOomControl = "oom_kill_disable 0\nunder_oom 0\noom_kill 5";
  CHECK(KeyedValue(kOomControl, "oom_kill") == std::uint64_t{5});
  CHECK(KeyedValue(kOomControl, "oom_kill_disable") == std::uint64_t{0});

  // pids.events.
  CHECK(KeyedValue("max 17\n", "max") == std::uint64_t{17});
  CHECK(KeyedValue("max 18446744073709551615\n", "max") == std::uint64_t{18446744073709551615ULL});

  // Values that are not numbers, and lines of another shape, do not count.
  CHECK_FALSE(KeyedValue("max max\n", "max"));
  CHECK_FALSE(KeyedValue("max -1\n", "max"));
  CHECK_FALSE(KeyedValue("max 3 4\n", "max"));
  CHECK_FALSE(KeyedValue("max\n", "max"));
  CHECK_FALSE(KeyedValue("", "max"));
  // The first well-formed line for the key wins.
  CHECK(KeyedValue("max x\nmax 9\n", "max") == std::uint64_t{9});
}
