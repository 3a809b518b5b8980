// Argument pinning's pure half: what is written into a slot, which registers change, what is
// reported as not pinned, the guarded range, and slot allocation.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <sys/syscall.h>

#include <cstring>
#include <set>

#include <catch2/catch.hpp>

#include "tracer/decode.h"
#include "tracer/pin.h"

using tracer::DecodedCall;
using tracer::PlanPins;

namespace {

constexpr std::uint64_t kSlot = syscalls::kPinBase + 3 * syscalls::kPinSlotSize;

DecodedCall PathCall(std::string_view syscall, std::vector<std::string> pins) {
  DecodedCall call;
  call.row = syscalls::FindRow(syscall);
  REQUIRE(call.row != nullptr);
  call.args = {3, 0x7100, 0x7200, 0x7300, 0x7400, 0x7500};  // pointers are non-NULL
  call.request.path_count = static_cast<int>(pins.size());
  for (std::size_t i = 0; i < pins.size(); ++i) {
    call.paths[i].raw = "relative/" + std::to_string(i);
    call.paths[i].resolved.path = pins[i];
    call.paths[i].resolved.pin = pins[i];
    call.paths[i].resolved.walk = pins[i];
  }
  return call;
}

std::string At(const tracer::PinPlan& plan, std::uint64_t addr) {
  REQUIRE(addr >= kSlot);
  REQUIRE(addr - kSlot < plan.bytes.size());
  return std::string(plan.bytes.c_str() + (addr - kSlot));
}

}  // namespace

TEST_CASE("PlanPins: paths are handed to the kernel in their checked absolute form", "[pin]") {
  SECTION("openat becomes openat2 on the checked path, symlinks forbidden") {
    DecodedCall call = PathCall("openat", {"/etc/hosts"});
    call.open_flags = O_RDONLY | O_CLOEXEC;
    auto plan = PlanPins(call, kSlot);
    CHECK(plan.syscall == SYS_openat2);
    REQUIRE(plan.registers.size() == 4);
    CHECK(plan.registers[0] ==
          std::pair<int, std::uint64_t>{0, static_cast<std::uint64_t>(std::int64_t{AT_FDCWD})});
    CHECK(At(plan, plan.registers[1].second) == "/etc/hosts");
    CHECK(plan.registers[3] == std::pair<int, std::uint64_t>{3, sizeof(open_how)});
    open_how how{};
    std::memcpy(&how, plan.bytes.data() + (plan.registers[2].second - kSlot), sizeof how);
    CHECK(how.flags == (O_RDONLY | O_CLOEXEC | O_LARGEFILE));
    CHECK(how.mode == 0);
    CHECK(how.resolve == (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
    CHECK(plan.unpinned.empty());
  }
  SECTION("open and creat too; the walk is the path with every symlink resolved") {
    DecodedCall call = PathCall("open", {"/tmp/link"});
    call.paths[0].resolved.walk = "/srv/target";
    call.open_flags = O_WRONLY | O_CREAT;
    call.args[2] = 0100644;  // open(path, flags, mode): type bits are not a mode
    auto plan = PlanPins(call, kSlot);
    CHECK(plan.syscall == SYS_openat2);
    CHECK(At(plan, plan.registers[1].second) == "/srv/target");
    open_how how{};
    std::memcpy(&how, plan.bytes.data() + (plan.registers[2].second - kSlot), sizeof how);
    CHECK(how.mode == 0644);
    DecodedCall creat = PathCall("creat", {"/tmp/new"});
    creat.args[1] = 0600;
    plan = PlanPins(creat, kSlot);
    CHECK(plan.syscall == SYS_openat2);
    std::memcpy(&how, plan.bytes.data() + (plan.registers[2].second - kSlot), sizeof how);
    CHECK(how.flags == (O_CREAT | O_WRONLY | O_TRUNC | O_LARGEFILE));
    CHECK(how.mode == 0600);
  }
  SECTION("other path calls keep their number: the pathname register points at the copy") {
    auto plan = PlanPins(PathCall("unlinkat", {"/tmp/x"}), kSlot);
    CHECK(plan.syscall == -1);
    REQUIRE(plan.registers.size() == 1);
    CHECK(plan.registers[0].first == 1);
    CHECK(At(plan, plan.registers[0].second) == "/tmp/x");
  }
  SECTION("rename: both paths, each NUL-terminated, 8-byte aligned, inside the slot") {
    auto plan = PlanPins(PathCall("rename", {"/tmp/a", "/tmp/bb"}), kSlot);
    REQUIRE(plan.registers.size() == 2);
    CHECK(At(plan, plan.registers[0].second) == "/tmp/a");
    CHECK(At(plan, plan.registers[1].second) == "/tmp/bb");
    CHECK(plan.registers[1].second % 8 == 0);
    CHECK(plan.bytes.size() <= syscalls::kPinSlotSize);
  }
  SECTION("two PATH_MAX paths still fit one slot") {
    std::string a = "/" + std::string(4094, 'a'), b = "/" + std::string(4094, 'b');
    auto plan = PlanPins(PathCall("rename", {a, b}), kSlot);
    REQUIRE(plan.registers.size() == 2);
    CHECK(plan.unpinned.empty());
    CHECK(At(plan, plan.registers[1].second) == b);
  }
  SECTION("a NULL path (utimensat(fd, NULL, ...) acts on fd) stays NULL") {
    DecodedCall call = PathCall("utimensat", {"/tmp/f"});
    call.args = {3, 0, 0x7000, 0, 0, 0};
    call.paths[0].raw.clear();
    auto plan = PlanPins(call, kSlot);
    CHECK(plan.registers.empty());
  }
  SECTION("a path with no pinnable form: its bytes are pinned, and the reason is reported") {
    DecodedCall call = PathCall("openat", {""});
    call.paths[0].resolved.pin.clear();
    call.paths[0].resolved.walk.clear();
    call.paths[0].resolved.unpinnable = "a /proc/PID magic link";
    call.paths[0].raw = "/proc/self/fd/3/x";
    auto plan = PlanPins(call, kSlot);
    REQUIRE(plan.registers.size() == 1);
    CHECK(At(plan, plan.registers[0].second) == "/proc/self/fd/3/x");
    CHECK(plan.unpinned == "a /proc/PID magic link");
  }
}

TEST_CASE("PlanPins: openat2's open_how is pinned with its size, symlinks forbidden", "[pin]") {
  DecodedCall call = PathCall("openat2", {"/srv/x"});
  call.how = {std::uint64_t{O_RDONLY}, 0, RESOLVE_NO_MAGICLINKS | RESOLVE_CACHED};
  auto plan = PlanPins(call, kSlot);
  CHECK(plan.syscall == SYS_openat2);
  REQUIRE(plan.registers.size() == 4);
  CHECK(plan.registers[2].first == 2);
  CHECK(plan.registers[3] == std::pair<int, std::uint64_t>{3, 24});
  open_how how{};
  std::memcpy(&how, plan.bytes.data() + (plan.registers[2].second - kSlot), sizeof how);
  CHECK(how.flags == O_RDONLY);  // openat2's own flags are the caller's
  CHECK(how.resolve == (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_CACHED));
  SECTION("a scoped walk (IN_ROOT) was done by the tracer: the kernel gets no scope, no symlinks") {
    call.how = {std::uint64_t{O_RDONLY}, 0, RESOLVE_IN_ROOT};
    plan = PlanPins(call, kSlot);
    std::memcpy(&how, plan.bytes.data() + (plan.registers[2].second - kSlot), sizeof how);
    CHECK(how.resolve == (RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
  }
  SECTION("BENEATH with IN_ROOT stays as written: the kernel refuses it (EINVAL)") {
    call.how = {std::uint64_t{O_RDONLY}, 0, RESOLVE_IN_ROOT | RESOLVE_BENEATH};
    plan = PlanPins(call, kSlot);
    CHECK(plan.syscall == -1);
  }
}

TEST_CASE("OpenHowOf: open's flags and mode as the kernel builds struct open_how", "[pin]") {
  using tracer::OpenHowOf;
  SECTION("bits open ignores are dropped (openat2 would refuse them); O_LARGEFILE is added") {
    auto how = OpenHowOf(O_RDONLY | 0x40000000u | (std::uint64_t{1} << 40), 0);
    CHECK(how.flags == (O_RDONLY | O_LARGEFILE));
  }
  SECTION("O_PATH keeps only the flags it takes") {
    auto how = OpenHowOf(O_PATH | O_CLOEXEC | O_NOFOLLOW | O_RDWR | O_TRUNC | O_CREAT, 0644);
    CHECK(how.flags == (O_PATH | O_CLOEXEC | O_NOFOLLOW));
    CHECK(how.mode == 0);
  }
  SECTION("a mode only where a file may be created, with its type bits dropped") {
    CHECK(OpenHowOf(O_RDONLY, 0644).mode == 0);
    CHECK(OpenHowOf(O_WRONLY | O_CREAT, 0104755).mode == 04755);
    CHECK(OpenHowOf(O_RDWR | O_TMPFILE, 0600).mode == 0600);
  }
}

TEST_CASE("PlanPins: socket addresses", "[pin]") {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(80);
  in.sin_addr.s_addr = htonl(0x7f000001);
  std::string bytes(reinterpret_cast<const char*>(&in), sizeof in);
  SECTION("connect: the address and its length") {
    DecodedCall call;
    call.row = syscalls::FindRow("connect");
    call.addr_bytes = bytes;
    auto plan = PlanPins(call, kSlot);
    REQUIRE(plan.registers.size() == 2);
    CHECK(plan.registers[0].first == 1);
    CHECK(plan.bytes.substr(plan.registers[0].second - kSlot, sizeof in) == bytes);
    CHECK(plan.registers[1] == std::pair<int, std::uint64_t>{2, sizeof in});
  }
  SECTION("sendmsg: a copy of the msghdr whose msg_name points at the pinned address") {
    DecodedCall call;
    call.row = syscalls::FindRow("sendmsg");
    call.addr_bytes = bytes;
    call.msghdr_bytes.assign(56, '\x11');
    auto plan = PlanPins(call, kSlot);
    REQUIRE(plan.registers.size() == 1);
    CHECK(plan.registers[0].first == 1);
    std::uint64_t msg = plan.registers[0].second, name = 0;
    std::uint32_t namelen = 0;
    std::memcpy(&name, plan.bytes.data() + (msg - kSlot), 8);
    std::memcpy(&namelen, plan.bytes.data() + (msg - kSlot) + 8, 4);
    CHECK(namelen == sizeof in);
    CHECK(plan.bytes.substr(name - kSlot, sizeof in) == bytes);
    CHECK(plan.bytes[msg - kSlot + 16] == '\x11');  // the rest is the caller's
  }
  SECTION("sendmsg without a destination: a copy of the msghdr that names none") {
    // The msghdr stays in tracee memory otherwise: another thread could give it a name between
    // the check and the kernel's read, and the datagram would go where nobody checked.
    DecodedCall call;
    call.row = syscalls::FindRow("sendmsg");
    call.msghdr_bytes.assign(56, '\x22');  // msg_name and msg_namelen non-zero as read
    auto plan = PlanPins(call, kSlot);
    CHECK(plan.unpinned.empty());
    REQUIRE(plan.registers.size() == 1);
    CHECK(plan.registers[0].first == 1);
    std::uint64_t msg = plan.registers[0].second, name = 1;
    std::uint32_t namelen = 1;
    std::memcpy(&name, plan.bytes.data() + (msg - kSlot), 8);
    std::memcpy(&namelen, plan.bytes.data() + (msg - kSlot) + 8, 4);
    CHECK(name == 0);
    CHECK(namelen == 0);
    CHECK(plan.bytes.substr(msg - kSlot + 16, 40) == std::string(40, '\x22'));  // iov, control
  }
  SECTION("sendmmsg becomes a sendmsg of its pinned first message") {
    DecodedCall call;
    call.row = syscalls::FindRow("sendmmsg");
    call.args = {3, 0x7000, 2, 0x40, 0, 0};  // fd, msgvec, vlen, flags
    call.addr_bytes = bytes;
    call.msghdr_bytes.assign(56, '\0');
    call.multi_dest = true;
    call.first_msg_named = true;
    auto plan = PlanPins(call, kSlot);
    CHECK(plan.as_sendmsg);
    CHECK(plan.unpinned.empty());
    REQUIRE(plan.registers.size() == 2);
    CHECK(plan.registers[0] == std::pair<int, std::uint64_t>{2, 0x40});  // sendmsg's flags
    CHECK(plan.registers[1].first == 1);                                 // the pinned msghdr
    call.first_msg_named = false;
    CHECK(!PlanPins(call, kSlot).unpinned.empty());
  }
  SECTION("a relative unix socket path becomes absolute") {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strcpy(un.sun_path, "sock");
    DecodedCall call;
    call.row = syscalls::FindRow("connect");
    call.addr_bytes.assign(reinterpret_cast<const char*>(&un), offsetof(sockaddr_un, sun_path) + 5);
    call.addr = policy::SocketAddress{};
    call.addr->family = AF_UNIX;
    call.addr->unix_path = "/run/app/sock";
    call.unix_pin = "/run/app/sock";
    auto plan = PlanPins(call, kSlot);
    REQUIRE(plan.registers.size() == 2);
    std::string pinned = plan.bytes.substr(plan.registers[0].second - kSlot + 2);
    CHECK(std::string(pinned.c_str()) == "/run/app/sock");
    CHECK(plan.registers[1].second == offsetof(sockaddr_un, sun_path) + 14);
    CHECK(plan.unpinned.empty());
  }
}

TEST_CASE("TouchesPinRegion", "[pin]") {
  using syscalls::kPinBase;
  using syscalls::kPinEnd;
  using syscalls::TouchesPinRegion;
  CHECK(TouchesPinRegion(kPinBase, 4096));
  CHECK(TouchesPinRegion(kPinEnd - 4096, 4096));
  CHECK(TouchesPinRegion(0, ~0ULL));  // munmap(0, everything)
  CHECK(TouchesPinRegion(kPinBase - 4096, 4097));
  CHECK_FALSE(TouchesPinRegion(kPinBase - 4096, 1));  // rounds up to [base-4096, base)
  CHECK_FALSE(TouchesPinRegion(kPinBase - 8192, 4096));
  CHECK_FALSE(TouchesPinRegion(kPinEnd, 4096));
  CHECK_FALSE(TouchesPinRegion(0x7f0000000000, 1 << 20));
}

TEST_CASE("PinSpace: slots are unique until released, then reused, none past the region", "[pin]") {
  tracer::PinSpace space;
  std::set<int> seen;
  for (std::uint64_t i = 0; i < syscalls::kPinSlots; ++i) {
    int s = space.Acquire();
    REQUIRE(s >= 0);
    CHECK(tracer::PinSpace::Address(s) + syscalls::kPinSlotSize <= syscalls::kPinEnd);
    CHECK(seen.insert(s).second);
  }
  CHECK(space.Acquire() == -1);
  space.Release(7);
  CHECK(space.Acquire() == 7);
}

TEST_CASE("PinSlot gives its slot back when reset or destroyed", "[pin]") {
  auto space = std::make_shared<tracer::PinSpace>();
  {
    tracer::PinSlot a;
    a.Reset(space);
    CHECK(a.Get() == 0);
    tracer::PinSlot b = std::move(a);
    CHECK(b.Get() == 0);
  }
  tracer::PinSlot c;
  c.Reset(space);
  CHECK(c.Get() == 0);  // released by b's destructor
}

TEST_CASE("PinSpace remembers what a slot holds, so an identical copy is not written again",
          "[pin]") {
  tracer::PinSpace space;
  CHECK_FALSE(space.Holds(3, "/etc/hostname"));  // nothing written yet
  space.Wrote(3, std::string("/etc/hostname\0", 14));
  CHECK(space.Holds(3, std::string("/etc/hostname\0", 14)));
  CHECK_FALSE(space.Holds(3, std::string("/etc/hostnamf\0", 14)));
  CHECK_FALSE(space.Holds(3, "/etc/hostname"));                     // a prefix is not the same copy
  CHECK_FALSE(space.Holds(2, std::string("/etc/hostname\0", 14)));  // per slot
  CHECK_FALSE(space.Holds(-1, ""));
  space.Wrote(3, "");  // a write that may not have completed: unknown
  CHECK_FALSE(space.Holds(3, ""));
  CHECK_FALSE(space.Holds(3, std::string("/etc/hostname\0", 14)));
  std::string big(tracer::PinSpace::kShadowBytes + 1, 'x');
  space.Wrote(5, big);
  CHECK_FALSE(space.Holds(5, big));  // too long to remember: always written
}
