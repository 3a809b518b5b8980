#include "tracer/pin.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <optional>

#include "tracer/decode.h"

namespace tracer {

using syscalls::ArgOf;
using syscalls::Kind;
using syscalls::kPinSlots;
using syscalls::kPinSlotSize;
using syscalls::Role;
using syscalls::SyscallRow;
namespace {

// The sockaddr to hand the kernel: as read, or for a relative AF_UNIX path, its absolute form.
// Empty when a relative unix path cannot be made absolute (it then stays cwd-relative).
std::string PinnedSockaddr(const DecodedCall& call, std::string& unpinned) {
  if (call.unix_pin.empty()) {
    if (call.addr && call.addr->family == AF_UNIX && !call.addr->abstract && !call.addr->unnamed &&
        call.addr_bytes.size() > 2 && call.addr_bytes[2] != '/') {
      unpinned = "a relative unix socket path (the cwd can change)";
    }
    return call.addr_bytes;
  }
  sockaddr_un un{};
  if (call.unix_pin.size() >= sizeof un.sun_path) {
    unpinned = "a relative unix socket path too long to make absolute (the cwd can change)";
    return call.addr_bytes;
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, call.unix_pin.data(), call.unix_pin.size());
  std::size_t len = offsetof(sockaddr_un, sun_path) + call.unix_pin.size() + 1;
  return std::string(reinterpret_cast<const char*>(&un), len);
}

// fs/fcntl.h's VALID_OPEN_FLAGS and O_PATH_FLAGS.
constexpr std::uint64_t kValidOpenFlags = O_RDONLY | O_WRONLY | O_RDWR | O_CREAT | O_EXCL |
                                          O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_SYNC |
                                          O_DSYNC | FASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY |
                                          O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE;
constexpr std::uint64_t kPathOpenFlags = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;
constexpr std::uint64_t kNoSymlinkWalk = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

bool IsOpenFamily(const SyscallRow& row) {
  return row.kind == Kind::kOpen || row.name == "creat";  // not uselib, an open too
}

// The open_how the rewritten call gets: the caller's own for openat2 (its scoped walk was done
// by the tracer and the result is absolute), open's flags as the kernel reads them otherwise.
// nullopt: keep the call as it is (the kernel refuses it anyway).
std::optional<OpenHowWords> PinnedHow(const DecodedCall& call) {
  const SyscallRow& row = *call.row;
  if (ArgOf(row, Role::kOpenHow) >= 0) {
    OpenHowWords how{call.how[0], call.how[1], call.how[2]};
    constexpr std::uint64_t kScoped = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
    if ((how.resolve & kScoped) == kScoped) return std::nullopt;  // EINVAL
    how.resolve = (how.resolve & ~kScoped) | kNoSymlinkWalk;
    return how;
  }
  int m = ArgOf(row, Role::kMode);
  std::uint64_t mode = m >= 0 ? call.args[static_cast<std::size_t>(m)] : 0;
  // creat(path, mode) is open(path, O_CREAT | O_WRONLY | O_TRUNC, mode).
  std::uint64_t flags =
      ArgOf(row, Role::kOpenFlags) >= 0 ? call.open_flags : O_CREAT | O_WRONLY | O_TRUNC;
  OpenHowWords how = OpenHowOf(flags, mode);
  how.resolve = kNoSymlinkWalk;
  return how;
}

}  // namespace

OpenHowWords OpenHowOf(std::uint64_t open_flags, std::uint64_t mode) {
  // open(2) takes an int and an umode_t: the upper bits of the registers never count.
  std::uint64_t flags = static_cast<std::uint32_t>(open_flags) & kValidOpenFlags;
  if ((flags & O_PATH) != 0) {
    flags &= kPathOpenFlags;
  } else {
    flags |= O_LARGEFILE;  // force_o_largefile() on 64-bit
  }
  bool creates = (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
  OpenHowWords how;
  how.flags = flags;
  how.mode = creates ? (mode & 0xffff) & 07777 : 0;  // S_IALLUGO
  return how;
}

std::uint64_t AppendAligned(std::string& bytes, std::uint64_t base, std::string_view data) {
  bytes.resize((bytes.size() + 7) & ~std::size_t{7}, '\0');
  std::uint64_t at = base + bytes.size();
  bytes.append(data);
  return at;
}

PinPlan PlanPins(const DecodedCall& call, std::uint64_t slot) {
  PinPlan plan;
  if (call.row == nullptr) return plan;
  const SyscallRow& row = *call.row;
  auto note = [&](std::string why) {
    if (plan.unpinned.empty()) plan.unpinned = std::move(why);
  };
  if (IsOpenFamily(row) && call.request.path_count == 1 && !call.paths[0].resolved.walk.empty()) {
    if (auto how = PinnedHow(call)) {
      std::string path = call.paths[0].resolved.walk;
      path.push_back('\0');
      std::uint64_t path_at = AppendAligned(plan.bytes, slot, path);
      const std::array<std::uint64_t, 3> words{how->flags, how->mode, how->resolve};
      std::uint64_t how_at = AppendAligned(
          plan.bytes, slot,
          std::string_view(reinterpret_cast<const char*>(words.data()), sizeof words));
      plan.syscall = SYS_openat2;
      plan.registers = {{0, static_cast<std::uint64_t>(static_cast<std::int64_t>(AT_FDCWD))},
                        {1, path_at},
                        {2, how_at},
                        {3, sizeof words}};
      return plan;
    }
  }
  // Paths: the absolute form the resolver checked, so neither the bytes nor the cwd or dirfd
  // they were relative to can change under the decision.
  for (int n = 0; n < call.request.path_count; ++n) {
    int arg = ArgOf(row, Role::kPath, n);
    if (arg < 0) break;
    if (call.args[static_cast<std::size_t>(arg)] == 0) continue;  // utimensat(fd, NULL): no path
    const ResolveResult& r = call.paths[static_cast<std::size_t>(n)].resolved;
    if (r.pin.empty()) {
      const std::string& raw = call.paths[static_cast<std::size_t>(n)].raw;
      note(r.unpinnable.empty() ? "the path" : r.unpinnable);
      // Still pin the bytes themselves: the memory race at least is closed.
      std::string bytes = raw;
      bytes.push_back('\0');
      plan.registers.emplace_back(arg, AppendAligned(plan.bytes, slot, bytes));
      continue;
    }
    std::string bytes = r.pin;
    bytes.push_back('\0');
    plan.registers.emplace_back(arg, AppendAligned(plan.bytes, slot, bytes));
  }
  if (int h = ArgOf(row, Role::kOpenHow); h >= 0 && call.request.path_count > 0) {
    std::array<std::uint64_t, 3> pinned_how = call.how;
    if (!call.paths[0].resolved.pin.empty() &&
        (pinned_how[2] & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) != 0) {
      // The tracer walked the scoped path; the kernel gets the result from "/", where the
      // scope would mean something else, and may follow no symlink a race could plant.
      pinned_how[2] =
          (pinned_how[2] & ~std::uint64_t{RESOLVE_BENEATH | RESOLVE_IN_ROOT}) | RESOLVE_NO_SYMLINKS;
    }
    std::string how(reinterpret_cast<const char*>(pinned_how.data()), sizeof pinned_how);
    plan.registers.emplace_back(h, AppendAligned(plan.bytes, slot, how));
    plan.registers.emplace_back(h + 1, sizeof call.how);  // the size the copy has
  }
  bool mmsg = ArgOf(row, Role::kMMsgHdr) >= 0;
  if (mmsg && !call.first_msg_named) {
    note("sendmmsg whose first message names no destination");
  } else if (!call.msghdr_bytes.empty() && !call.addr_bytes.empty()) {
    int m = mmsg ? 1 : ArgOf(row, Role::kMsgHdr);
    if (mmsg) {
      plan.as_sendmsg = true;
      plan.registers.emplace_back(2, call.args[3]);  // sendmsg(fd, msg, flags)
    }
    std::string addr = PinnedSockaddr(call, plan.unpinned);
    std::uint64_t name_at = AppendAligned(plan.bytes, slot, addr);
    std::string msg = call.msghdr_bytes;
    std::uint64_t name = name_at;
    auto namelen = static_cast<std::uint32_t>(addr.size());
    std::memcpy(msg.data(), &name, sizeof name);            // msg_name
    std::memcpy(msg.data() + 8, &namelen, sizeof namelen);  // msg_namelen
    plan.registers.emplace_back(m, AppendAligned(plan.bytes, slot, msg));
  } else if (int m = ArgOf(row, Role::kMsgHdr); m >= 0 && !call.msghdr_bytes.empty()) {
    // A sendmsg that names no destination goes to the connected peer. The msghdr is still in
    // tracee memory, where another thread could give it a name after the check: the kernel
    // gets a copy that names none.
    std::string msg = call.msghdr_bytes;
    const std::uint64_t no_name = 0;
    const std::uint32_t no_len = 0;
    std::memcpy(msg.data(), &no_name, sizeof no_name);    // msg_name
    std::memcpy(msg.data() + 8, &no_len, sizeof no_len);  // msg_namelen
    plan.registers.emplace_back(m, AppendAligned(plan.bytes, slot, msg));
  } else if (int s = ArgOf(row, Role::kSockAddr); s >= 0 && !call.addr_bytes.empty()) {
    std::string addr = PinnedSockaddr(call, plan.unpinned);
    plan.registers.emplace_back(s, AppendAligned(plan.bytes, slot, addr));
    plan.registers.emplace_back(s + 1, addr.size());
  }
  if (plan.bytes.size() > kPinSlotSize) {  // cannot happen with PATH_MAX paths; fail safe
    plan = PinPlan{};
    plan.unpinned = "arguments larger than a pin slot";
  }
  return plan;
}

int PinSpace::Acquire() {
  if (!free_.empty()) {
    int s = free_.back();
    free_.pop_back();
    return s;
  }
  if (next_ >= static_cast<int>(kPinSlots)) return -1;
  return next_++;
}

void PinSpace::Release(int slot) {
  if (slot >= 0) free_.push_back(slot);
}

bool PinSpace::Holds(int slot, std::string_view bytes) const {
  auto i = static_cast<std::size_t>(slot);
  return slot >= 0 && i < shadow_.size() && !shadow_[i].empty() && shadow_[i] == bytes;
}

void PinSpace::Wrote(int slot, std::string_view bytes) {
  if (slot < 0) return;
  auto i = static_cast<std::size_t>(slot);
  if (i >= shadow_.size()) shadow_.resize(i + 1);
  if (bytes.size() <= kShadowBytes) {
    shadow_[i].assign(bytes);
  } else {
    shadow_[i].clear();  // not remembered: the next call writes again
  }
}

PinSlot& PinSlot::operator=(PinSlot&& other) noexcept {
  if (this != &other) {
    Reset();
    space_ = std::move(other.space_);
    slot_ = other.slot_;
    other.slot_ = -1;
  }
  return *this;
}

void PinSlot::Reset(std::shared_ptr<PinSpace> space) {
  if (space_ && slot_ >= 0) space_->Release(slot_);
  slot_ = -1;
  space_ = std::move(space);
}

int PinSlot::Get() {
  if (slot_ < 0 && space_) slot_ = space_->Acquire();
  return slot_;
}

PinSpace::~PinSpace() {
  if (mem_fd >= 0) close(mem_fd);
}

}  // namespace tracer
