#include "tracer/decode.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "base/escape.h"
#include "policy/names.h"
#include "policy/policy.h"
#include "syscalls/pin_layout.h"
#include "syscalls/xlat.h"
#include "tracer/sockaddr.h"

namespace tracer {

using syscalls::Arg;
using syscalls::ArgOf;
using syscalls::Follow;
using syscalls::kCloneNamespaceFlags;
using syscalls::Kind;
using syscalls::kPinBase;
using syscalls::kPinEnd;
using syscalls::Role;
using syscalls::SyscallRow;
using syscalls::TouchesPinRegion;
namespace xlat = syscalls::xlat;
namespace {

using policy::Access;
using policy::Primitive;

int AsInt(std::uint64_t v) { return static_cast<int>(static_cast<std::int32_t>(v)); }

Access AccessFromOpenFlags(std::uint64_t flags) {
  if ((flags & O_PATH) != 0) return Access::kMetadata;
  Access a = Access::kNone;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      a = Access::kRead;
      break;
    case O_WRONLY:
      a = Access::kWrite;
      break;
    default:
      a = Access::kRead | Access::kWrite;
      break;
  }
  if ((flags & O_TRUNC) != 0) a = a | Access::kWrite;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) a = a | Access::kCreate;
  return a;
}

// `at_flags`: the AT_* flags, or for inotify and fanotify the argument that says whether to
// follow (the mask, the mark flags).
bool FollowFor(Follow f, std::uint64_t open_flags, std::uint64_t at_flags) {
  switch (f) {
    case Follow::kYes:
      return true;
    case Follow::kNo:
      return false;
    case Follow::kOpenFlags:
      if ((open_flags & O_NOFOLLOW) != 0) return false;
      return (open_flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
    case Follow::kAtNoFollow:
      return (at_flags & AT_SYMLINK_NOFOLLOW) == 0;
    case Follow::kAtFollow:
      return (at_flags & AT_SYMLINK_FOLLOW) != 0;
    case Follow::kInotifyMask:
      return (at_flags & IN_DONT_FOLLOW) == 0;
    case Follow::kFanotifyFlags:
      return (at_flags & FAN_MARK_DONT_FOLLOW) == 0;
  }
  return true;
}

StringList ReadStringArray(MemoryReader& mem, std::uint64_t addr) {
  StringList list;
  if (addr == 0) return list;
  for (std::size_t i = 0;; ++i) {
    std::uint64_t ptr = 0;
    if (!ReadExact(mem, addr + i * sizeof ptr, &ptr, sizeof ptr)) {
      list.fault = true;
      break;
    }
    if (ptr == 0) break;
    if (i == kMaxArgvEntries) {  // a further entry exists: the list is cut here
      list.truncated = true;
      break;
    }
    std::string s;
    StringStatus st = ReadCString(mem, ptr, kMaxArgBytes, s);
    if (st == StringStatus::kFault) {
      list.fault = true;
      break;
    }
    if (st == StringStatus::kTruncated) list.truncated = true;
    list.items.push_back(std::move(s));
  }
  return list;
}

// Reads a sockaddr at addr/len; sets early_errno when the kernel would refuse it.
std::optional<policy::SocketAddress> ReadSockaddr(TraceeContext& ctx, std::uint64_t addr,
                                                  std::uint64_t len, DecodedCall& out,
                                                  bool send = false) {
  if (addr == 0) return std::nullopt;
  // addrlen is an int to the kernel: the upper half of the register does not count (read whole,
  // a length of 16 with junk above it read 128 bytes and decided on bytes the kernel ignores).
  const auto ulen = static_cast<std::uint32_t>(len);
  if (static_cast<std::int32_t>(ulen) < 0) {
    out.early_errno = EINVAL;
    return std::nullopt;
  }
  std::size_t n = std::min<std::size_t>(ulen, kMaxSockaddr);
  // A send's empty name is no destination: sendmsg drops it (__copy_msghdr), and each protocol
  // sends sendto's to the connected peer (unix, netlink), ignores it (TCP) or fails (UDP, raw).
  // connect and bind fail (EINVAL, below).
  if (n == 0 && send) return std::nullopt;
  std::uint8_t buf[kMaxSockaddr] = {};
  if (n > 0 && !ReadExact(ctx.Memory(), addr, buf, n)) {
    out.early_errno = EFAULT;
    return std::nullopt;
  }
  auto parsed = ParseSockaddr({buf, n});
  if (!parsed) {
    out.early_errno = EINVAL;
    return std::nullopt;
  }
  if (send && parsed->family == AF_UNSPEC && n >= sizeof(sockaddr_in)) {
    // An IPv4 datagram socket sends to an AF_UNSPEC address as to AF_INET (udp_sendmsg, raw
    // and ping sockets): decide it as that address. An IPv6 socket ignores it (its connected
    // peer, decided at connect, is used), so this is never more permissive.
    std::uint8_t v4[sizeof(sockaddr_in)];
    std::memcpy(v4, buf, sizeof v4);
    sa_family_t inet = AF_INET;
    std::memcpy(v4, &inet, sizeof inet);
    parsed = ParseSockaddr({v4, sizeof v4});
    if (!parsed) {
      out.early_errno = EINVAL;
      return std::nullopt;
    }
  }
  if (out.addr_bytes.empty()) out.addr_bytes.assign(reinterpret_cast<const char*>(buf), n);
  if (parsed->family == AF_UNIX && !parsed->abstract && !parsed->unnamed) {
    // Relative unix socket paths are resolved against the cwd like any path.
    bool relative = !parsed->unix_path.starts_with('/');
    ResolveResult r =
        ctx.Resolve(AT_FDCWD, parsed->unix_path, LastLink::kFollow, EmptyPath::kRefuse);
    if (r.error != 0) {
      // Fail closed, as for any path: left as written (relative, "..", symlinks), the name
      // would be decided where no rule names it.
      out.early_errno = r.error;
      return std::nullopt;
    }
    parsed->unix_path = r.path;
    out.unix_walk = r.walk;
    if (relative) out.unix_pin = r.pin;
  }
  return parsed;
}

struct MsgHdr64 {  // struct msghdr on LP64
  std::uint64_t name;
  std::uint32_t namelen;
  std::uint32_t pad;
  std::uint64_t iov, iovlen, control, controllen;
  std::int32_t flags;
  std::int32_t pad2;
};
static_assert(sizeof(MsgHdr64) == 56);

void DecodeNet(const SyscallRow& row, const std::array<std::uint64_t, 6>& a, TraceeContext& ctx,
               DecodedCall& out) {
  policy::NetAccess net;
  net.verb = row.verb;
  if (row.verb == policy::NetVerb::kSocket) {
    net.family = AsInt(a[0]);
    net.type = AsInt(a[1]);
    net.protocol = AsInt(a[2]);
    int base_type = net.type & 0xf;
    if (base_type == SOCK_RAW || base_type == SOCK_PACKET)
      out.request.primitive = Primitive::kRawSocket;
    out.request.net = net;
    return;
  }
  if (ctx.WantsSocketType()) {
    if (auto type = ctx.SocketType(AsInt(a[0]))) net.type = *type;
  }
  int addr_arg = ArgOf(row, Role::kSockAddr);
  if (addr_arg >= 0) {
    auto i = static_cast<std::size_t>(addr_arg);
    if (a[i] != 0 && static_cast<std::uint32_t>(a[i + 1]) > kMaxSockaddr) {
      out.early_errno = EINVAL;  // move_addr_to_kernel refuses more than sockaddr_storage
      return;
    }
    net.addr = ReadSockaddr(ctx, a[i], a[i + 1], out, row.verb == policy::NetVerb::kSend);
  } else if (ArgOf(row, Role::kMsgHdr) >= 0) {
    MsgHdr64 msg{};
    if (!ReadExact(ctx.Memory(), a[1], &msg, sizeof msg)) {
      out.early_errno = EFAULT;
      return;
    }
    out.msghdr_bytes.assign(reinterpret_cast<const char*>(&msg), sizeof msg);
    net.addr = ReadSockaddr(ctx, msg.name, msg.namelen, out, true);
  } else if (ArgOf(row, Role::kMMsgHdr) >= 0) {
    // Every message may name its own destination: each one is decided.
    std::size_t count = std::min<std::size_t>(static_cast<std::uint32_t>(a[2]), kMaxMMsg);
    for (std::size_t k = 0; k < count && out.early_errno == 0; ++k) {
      MsgHdr64 msg{};
      if (!ReadExact(ctx.Memory(), a[1] + k * (sizeof msg + 8), &msg, sizeof msg)) {
        if (k == 0) out.early_errno = EFAULT;
        break;  // the kernel stops at the first bad entry after sending the earlier ones
      }
      auto addr = ReadSockaddr(ctx, msg.name, msg.namelen, out, true);
      if (k == 0) {
        out.msghdr_bytes.assign(reinterpret_cast<const char*>(&msg), sizeof msg);
        out.first_msg_named = addr.has_value();
      }
      if (!addr) continue;
      out.multi_dest = true;
      if (!net.addr) {
        net.addr = addr;
      } else {
        policy::NetAccess more = net;
        more.addr = addr;
        out.request.more_net.push_back(std::move(more));
      }
    }
  }
  if (net.addr) {
    net.family = net.addr->family;
    out.addr = net.addr;
    net.own_socket = net.addr->family == AF_UNIX && ctx.BoundByTree(*net.addr);
    for (auto& more : out.request.more_net) {
      more.own_socket = more.addr && more.addr->family == AF_UNIX && ctx.BoundByTree(*more.addr);
    }
    if (row.verb == policy::NetVerb::kConnect || row.verb == policy::NetVerb::kSend) {
      auto as_used = policy::DestinationsAsUsed(*net.addr, {});
      if (as_used.size() == 1 && as_used[0].ip != net.addr->ip) {
        out.note = "the unspecified address means this host: decided as the loopback address";
      }
    }
    // MSG_FASTOPEN: the send opens a TCP connection to the address first, a connect too.
    if (row.verb == policy::NetVerb::kSend) {
      int flags_arg = ArgOf(row, Role::kMsgFlags);
      if (flags_arg >= 0 && (a[static_cast<std::size_t>(flags_arg)] & MSG_FASTOPEN) != 0) {
        policy::NetAccess connect = net;
        connect.verb = policy::NetVerb::kConnect;
        out.request.more_net.push_back(std::move(connect));
      }
    }
    // Binding a unix socket to a path creates a file there: a path decision like mknod's.
    const policy::SocketAddress& sa = *net.addr;
    if (row.verb == policy::NetVerb::kBind && sa.family == AF_UNIX && !sa.abstract && !sa.unnamed &&
        sa.unix_path.starts_with('/')) {
      out.paths[0].raw = sa.unix_path;
      out.paths[0].resolved.path = sa.unix_path;
      out.request.paths[0] = {sa.unix_path, Access::kCreate, true, false};
      out.request.path_count = 1;
    }
  }
  out.request.net = std::move(net);
}

void DecodeSignalTarget(const SyscallRow& row, const std::array<std::uint64_t, 6>& a,
                        TraceeContext& ctx, DecodedCall& out) {
  bool inside = true;
  int sig_arg = ArgOf(row, Role::kSignal);
  bool probe = sig_arg >= 0 && a[static_cast<std::size_t>(sig_arg)] == 0;
  if (row.name == "kill") {
    int pid = AsInt(a[0]);
    if (pid == -1) {
      inside = false;
      out.outside.every_process = !probe;
    } else if (pid == std::numeric_limits<int>::min()) {
      inside = false;  // no such group; the kernel answers ESRCH
    } else if (pid < -1) {
      inside = ctx.GroupInTree(-pid);
      if (!inside && !probe) out.outside.group = -pid;
    } else if (pid > 0) {
      inside = ctx.InTree(pid);
      if (!inside && !probe) out.outside.pids.push_back(pid);
    }
  } else {
    for (std::size_t i = 0; i < row.args.size(); ++i) {
      if (row.args[i].role != Role::kPid) continue;
      int pid = AsInt(a[i]);
      if (ctx.InTree(pid)) continue;
      inside = false;
      // A pidfd (pidfd_open) signals later: its target is checked again when it is used.
      if (pid > 0 && (!probe || row.name == "pidfd_open")) out.outside.pids.push_back(pid);
    }
  }
  if (!inside && !probe) {
    out.request.primitive = Primitive::kSignalOutside;
    out.note = "target is outside the traced process tree";
  }
}

// process_madvise advice that neither discards pages nor keeps them from a fork's child.
constexpr std::uint64_t kHarmlessAdvice[] = {MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT,
                                             25 /*COLLAPSE*/};

bool TouchesGuardedRange(const SyscallRow& row, const std::array<std::uint64_t, 6>& a) {
  if (row.name == "process_madvise") {
    return std::find(std::begin(kHarmlessAdvice), std::end(kHarmlessAdvice), a[3]) ==
           std::end(kHarmlessAdvice);
  }
  for (const syscalls::GuardedRange& g : row.ranges) {  // the table's ranges (PinGuard)
    if (g.addr_arg < 0) continue;
    if (g.flag_arg >= 0 && (a[static_cast<std::size_t>(g.flag_arg)] & g.flag) == 0) continue;
    std::uint64_t addr = a[static_cast<std::size_t>(g.addr_arg)];
    if (g.len_arg < 0) {
      if (addr != 0 && addr < kPinEnd) return true;
      continue;
    }
    if (TouchesPinRegion(addr, a[static_cast<std::size_t>(g.len_arg)])) return true;
  }
  return false;
}

// "/proc/PID/ENTRY..." or "/proc/PID/task/TID/ENTRY...": what follows the process's (or the
// thread's) directory, or "" for any other path.
std::string_view ProcEntryPath(std::string_view path) {
  if (ProcPidOf(path) == 0) return {};
  auto rest = path.substr(6);
  rest = rest.substr(rest.find('/') + 1);
  if (rest.starts_with("task/")) {
    auto slash = rest.find('/', 5);
    if (slash == std::string_view::npos) return {};
    rest = rest.substr(slash + 1);
  }
  return rest;
}

// The process whose /proc directory `path` is or lies in: "/proc/PID", "/proc/PID/...", or 0.
// A thread's id names its process's directory too ("/proc/TID", listed nowhere).
pid_t ProcDirPid(std::string_view path) {
  if (pid_t pid = ProcPidOf(path); pid != 0) return pid;
  if (!path.starts_with("/proc/") || path.size() == 6 || path.size() > 15) return 0;
  pid_t pid = 0;
  for (char c : path.substr(6)) {
    if (c < '0' || c > '9') return 0;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

// "/dev/pts/N" -> N; -1 for any other path.
int PtsIndex(std::string_view path) {
  constexpr std::string_view kPts = "/dev/pts/";
  if (!path.starts_with(kPts) || path.size() == kPts.size() || path.size() > kPts.size() + 7) {
    return -1;
  }
  int n = 0;
  for (char c : path.substr(kPts.size())) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// /proc/PID/mem, /proc/PID/task/TID/mem: another way to write (or read) process memory.
bool IsProcMem(std::string_view path) { return ProcEntryPath(path) == "mem"; }

// Entries of /proc/PID that expose a process's memory, environment, files or address space;
// for a process outside the traced tree (tracejail itself) they are escape primitives.
constexpr std::string_view kPrivateProcEntries[] = {
    "mem",     "environ",   "auxv",        "maps",   "smaps",        "smaps_rollup", "numa_maps",
    "pagemap", "map_files", "fd",          "fdinfo", "cwd",          "root",         "exe",
    "syscall", "stack",     "personality", "io",     "timerslack_ns"};

bool IsPrivateProcEntry(std::string_view path) {
  std::string_view rest = ProcEntryPath(path);
  auto entry = rest.substr(0, rest.find('/'));
  return std::find(std::begin(kPrivateProcEntries), std::end(kPrivateProcEntries), entry) !=
         std::end(kPrivateProcEntries);
}

// A pid the call names (0: the caller): outside the tree, the call is `primitive`.
void CheckPid(int pid, TraceeContext& ctx, DecodedCall& out, Primitive primitive,
              std::string_view what) {
  if (pid <= 0 || ctx.InTree(pid)) return;  // negative: the kernel refuses (ESRCH, EINVAL)
  out.outside.pids.push_back(pid);
  out.request.primitive = primitive;
  out.note = fmt::format("{} names pid {}, outside the traced tree", what, pid);
}

void DecodePidTarget(const SyscallRow& row, const std::array<std::uint64_t, 6>& a,
                     TraceeContext& ctx, DecodedCall& out) {
  for (std::size_t i = 0; i < row.args.size(); ++i) {
    if (row.args[i].role == Role::kPid) CheckPid(AsInt(a[i]), ctx, out, row.primitive, row.name);
  }
}

// (which, who) of getpriority/setpriority (PRIO_PROCESS 0, PGRP 1, USER 2) and of
// ioprio_get/ioprio_set (IOPRIO_WHO_PROCESS 1, PGRP 2, USER 3); who 0 is the caller's own.
void DecodePriority(const SyscallRow& row, const std::array<std::uint64_t, 6>& a,
                    TraceeContext& ctx, DecodedCall& out) {
  const int base = row.name.starts_with("ioprio") ? 1 : 0;
  // Wider than int: ioprio's INT_MIN - 1 must not overflow (undefined behaviour on a
  // tracee-chosen value). Any such `which` is EINVAL in the kernel.
  const std::int64_t which = std::int64_t{AsInt(a[0])} - base;
  const int who = AsInt(a[1]);
  if (which == 0) {
    CheckPid(who, ctx, out, row.primitive, row.name);
  } else if (which == 1 && who > 0 && !ctx.GroupInTree(who)) {
    out.outside.group = who;
    out.request.primitive = row.primitive;
    out.note = fmt::format("process group {} is outside the traced tree", who);
  } else if (which == 2) {
    out.request.primitive = row.primitive;
    out.note = fmt::format("names every process of user {}, most of them outside the traced tree",
                           who == 0 ? "(the caller's)" : std::to_string(who));
  }
}

// F_SETOWN / FIOSETOWN / SIOCSPGRP take a pid (a group when negative); F_SETOWN_EX a struct
// f_owner_ex {int type; pid_t pid;} (F_OWNER_TID 0, F_OWNER_PID 1, F_OWNER_PGRP 2).
void DecodeOwner(bool ex, std::uint64_t arg, TraceeContext& ctx, DecodedCall& out) {
  int owner = AsInt(arg);
  if (ex) {
    struct {
      std::int32_t type, pid;
    } fo{};
    if (!ReadExact(ctx.Memory(), arg, &fo, sizeof fo)) {
      out.early_errno = EFAULT;
      return;
    }
    // No process or group has that id (the kernel answers ESRCH); negating it would overflow.
    if (fo.pid == std::numeric_limits<int>::min()) return;
    owner = fo.type == 2 ? -fo.pid : fo.pid;
  }
  if (owner > 0) {
    CheckPid(owner, ctx, out, Primitive::kSignalOutside, "the descriptor's signal owner");
  } else if (owner < 0 && owner != std::numeric_limits<int>::min() && !ctx.GroupInTree(-owner)) {
    out.outside.group = -owner;
    out.request.primitive = Primitive::kSignalOutside;
    out.note = fmt::format("SIGIO would go to process group {}, outside the traced tree", -owner);
  }
}

// The ioctl requests the filter stops (syscalls/table.cc) and are decided one by one.
struct IoctlRequest {
  std::uint32_t request;
  std::string_view name;
  // kInject: types into or takes over a terminal, on any terminal; kAsync: FIOASYNC, whose SIGIO
  // goes to a terminal's foreground group; kOwner: a signal owner; kRead: asks only.
  enum class What : std::uint8_t { kInject, kAsync, kOwner, kRead } what;
  std::string_view capability;  // what the kernel asks for, when it asks
};
constexpr IoctlRequest kIoctlRequests[] = {
    {0x5412, "TIOCSTI", IoctlRequest::What::kInject, "CAP_SYS_ADMIN"},
    {0x541C, "TIOCLINUX", IoctlRequest::What::kInject, "CAP_SYS_ADMIN"},
    {0x541D, "TIOCCONS", IoctlRequest::What::kInject, "CAP_SYS_ADMIN"},
    {0x540E, "TIOCSCTTY", IoctlRequest::What::kInject, "CAP_SYS_ADMIN"},
    {0x5423, "TIOCSETD", IoctlRequest::What::kInject, ""},
    {0x5437, "TIOCVHANGUP", IoctlRequest::What::kInject, "CAP_SYS_ADMIN"},
    {0x5452, "FIOASYNC", IoctlRequest::What::kAsync, ""},
    {0x8901, "FIOSETOWN", IoctlRequest::What::kOwner, ""},
    {0x8902, "SIOCSPGRP", IoctlRequest::What::kOwner, ""},
    // Terminal requests that only ask, and the generic descriptor requests of type 'T'.
    {0x5401, "TCGETS", IoctlRequest::What::kRead, ""},
    {0x802c542a, "TCGETS2", IoctlRequest::What::kRead, ""},
    {0x5432, "TCGETX", IoctlRequest::What::kRead, ""},
    {0x540F, "TIOCGPGRP", IoctlRequest::What::kRead, ""},
    {0x5411, "TIOCOUTQ", IoctlRequest::What::kRead, ""},
    {0x5413, "TIOCGWINSZ", IoctlRequest::What::kRead, ""},
    {0x5415, "TIOCMGET", IoctlRequest::What::kRead, ""},
    {0x5419, "TIOCGSOFTCAR", IoctlRequest::What::kRead, ""},
    {0x541B, "FIONREAD", IoctlRequest::What::kRead, ""},
    {0x541E, "TIOCGSERIAL", IoctlRequest::What::kRead, ""},
    {0x5424, "TIOCGETD", IoctlRequest::What::kRead, ""},
    {0x5429, "TIOCGSID", IoctlRequest::What::kRead, ""},
    {0x80045430, "TIOCGPTN", IoctlRequest::What::kRead, ""},
    {0x80045432, "TIOCGDEV", IoctlRequest::What::kRead, ""},
    {0x80045438, "TIOCGPKT", IoctlRequest::What::kRead, ""},
    {0x80045439, "TIOCGPTLCK", IoctlRequest::What::kRead, ""},
    {0x80045440, "TIOCGEXCL", IoctlRequest::What::kRead, ""},
    {0x5441, "TIOCGPTPEER", IoctlRequest::What::kRead, ""},
    {0x5456, "TIOCGLCKTRMIOS", IoctlRequest::What::kRead, ""},
    {0x545D, "TIOCGICOUNT", IoctlRequest::What::kRead, ""},
    {0x5421, "FIONBIO", IoctlRequest::What::kRead, ""},
    {0x5450, "FIONCLEX", IoctlRequest::What::kRead, ""},
    {0x5451, "FIOCLEX", IoctlRequest::What::kRead, ""},
    {0x5460, "FIOQSIZE", IoctlRequest::What::kRead, ""},
};

// Filesystem ioctl families the filter stops by type byte (syscalls/table.cc): a request there
// may change the file it is issued on (flags, attributes, verity, encryption, clones), so it is
// a path decision on the descriptor's file, unless it is one of these that only read.
constexpr std::uint32_t kFsIoctlTypes[] = {0x66 /*'f'*/, 0x76 /*'v'*/, 0x58 /*'X'*/, 0x94};
constexpr std::uint32_t kFsIoctlReads[] = {
    0x80086601,  // FS_IOC_GETFLAGS
    0x80046601,  // FS_IOC32_GETFLAGS
    0x801c581f,  // FS_IOC_FSGETXATTR
    0x80087601,  // FS_IOC_GETVERSION
    0x80047601,  // FS_IOC32_GETVERSION
    0xc020660b,  // FS_IOC_FIEMAP (cp, filefrag)
    0x400c6615,  // FS_IOC_GET_ENCRYPTION_POLICY (declared _IOW)
    0xc0096616,  // FS_IOC_GET_ENCRYPTION_POLICY_EX
    0x80106614,  // FS_IOC_GET_ENCRYPTION_PWSALT
    0xc0506618,  // FS_IOC_GET_ENCRYPTION_KEY_STATUS
    0xc0046686,  // FS_IOC_MEASURE_VERITY
    0xc0286687,  // FS_IOC_READ_VERITY_METADATA
    0x81009431,  // FS_IOC_GETFSLABEL
};

// The file a descriptor names, decided as `access` (fchmod, fsetxattr, FS_IOC_SETFLAGS).
void DecodeFdPath(int fd, policy::Access access, TraceeContext& ctx, DecodedCall& out) {
  DecodedPath& p = out.paths[0];
  p.raw.clear();
  p.fd = fd;
  p.resolved = ctx.Resolve(fd, "", LastLink::kNoFollow, EmptyPath::kNamesDirfd);
  if (p.resolved.error != 0) {
    out.early_errno = p.resolved.error;
    return;
  }
  out.request.paths[0] = {p.resolved.path, access, true, false};
  out.request.path_count = 1;
}

void DecodeIoctl(const std::array<std::uint64_t, 6>& a, TraceeContext& ctx, DecodedCall& out) {
  const auto request = static_cast<std::uint32_t>(a[1]);
  const IoctlRequest* r = nullptr;
  for (const auto& k : kIoctlRequests) {
    if (k.request == request) r = &k;
  }
  const std::uint32_t type = (request >> 8) & 0xff;
  if (r == nullptr && type == 0x54) {
    // Any other terminal request changes the terminal (its modes, size, flow, foreground
    // group, ...): not the one tracejail was started from, unless the command was given it.
    if (ctx.TerminalOf(AsInt(a[0])) == TraceeContext::Terminal::kCallers) {
      out.request.primitive = Primitive::kTerminal;
      out.note = fmt::format(
          "request {:#x} would change the terminal tracejail was started from (run with --tty "
          "to give it to the command)",
          request);
    }
    return;
  }
  if (r == nullptr) {
    bool fs = std::find(std::begin(kFsIoctlTypes), std::end(kFsIoctlTypes), type) !=
              std::end(kFsIoctlTypes);
    bool reads = std::find(std::begin(kFsIoctlReads), std::end(kFsIoctlReads), request) !=
                 std::end(kFsIoctlReads);
    if (fs && !reads) {
      DecodeFdPath(AsInt(a[0]), Access::kWrite | Access::kChmod, ctx, out);
      if (out.early_errno == 0) {
        out.note = fmt::format("ioctl {:#x} may change the file's content or attributes", request);
      }
    }
    return;
  }
  switch (r->what) {
    case IoctlRequest::What::kInject:
      out.request.primitive = Primitive::kTerminal;
      out.capability = r->capability;
      out.note = fmt::format("{} types into or takes over a terminal", r->name);
      break;
    case IoctlRequest::What::kAsync: {
      std::int32_t on = 0;
      if (!ReadExact(ctx.Memory(), a[2], &on, sizeof on)) {
        out.early_errno = EFAULT;
        return;
      }
      if (on != 0 && ctx.TerminalOf(AsInt(a[0])) != TraceeContext::Terminal::kNone) {
        out.request.primitive = Primitive::kTerminal;
        out.note =
            "FIOASYNC on a terminal: its SIGIO goes to the terminal's foreground process "
            "group, whoever that is";
      }
      break;
    }
    case IoctlRequest::What::kRead:
      break;
    case IoctlRequest::What::kOwner: {
      std::int32_t owner = 0;
      if (!ReadExact(ctx.Memory(), a[2], &owner, sizeof owner)) {
        out.early_errno = EFAULT;
        return;
      }
      DecodeOwner(false, static_cast<std::uint64_t>(static_cast<std::uint32_t>(owner)), ctx, out);
      break;
    }
  }
}

void DecodeEscapeChecks(const SyscallRow& row, const std::array<std::uint64_t, 6>& a,
                        TraceeContext& ctx, DecodedCall& out) {
  switch (row.kind) {
    case Kind::kPrimitive:
      out.request.primitive = row.primitive;
      for (std::size_t i = 0; i < row.args.size(); ++i) {
        int pid = AsInt(a[i]);
        if (row.args[i].role == Role::kPid && pid > 0 && !ctx.InTree(pid)) {
          out.outside.pids.push_back(pid);  // ptrace, perf_event_open, ... of another process
        }
      }
      break;
    case Kind::kSignalTarget:
      DecodeSignalTarget(row, a, ctx, out);
      break;
    case Kind::kPidfdSignal: {
      if (row.name == "pidfd_send_signal" && a[1] == 0) break;  // signal 0: a probe
      auto target = ctx.PidfdTarget(AsInt(a[0]));
      if (!target || !ctx.InTree(*target)) {
        if (target) out.outside.pids.push_back(*target);
        out.request.primitive =
            row.primitive != Primitive::kNone ? row.primitive : Primitive::kSignalOutside;
        out.note = target ? fmt::format("pidfd names pid {}, outside the traced tree", *target)
                          : "pidfd target could not be identified";
      }
      break;
    }
    case Kind::kClone:
      if ((a[0] & CLONE_UNTRACED) != 0) {
        out.request.primitive = Primitive::kCloneUntraced;
      } else if ((a[0] & kCloneNamespaceFlags) != 0) {
        out.request.primitive = Primitive::kNamespace;
      }
      break;
    case Kind::kProcessVm:
      if (row.primitive == Primitive::kProcessVmWrite || !ctx.InTree(AsInt(a[0]))) {
        out.request.primitive = row.primitive;
      }
      if (AsInt(a[0]) > 0 && !ctx.InTree(AsInt(a[0]))) out.outside.pids.push_back(AsInt(a[0]));
      break;
    case Kind::kSeccomp:
      if (a[0] == SECCOMP_SET_MODE_FILTER && (a[1] & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0) {
        out.request.primitive = Primitive::kSeccompListener;
      }
      break;
    case Kind::kPersonality:
      // personality(2) takes an unsigned int: only the low 32 bits count.
      if (static_cast<std::uint32_t>(a[0]) != 0xffffffffu &&
          static_cast<std::uint32_t>(a[0]) != PER_LINUX) {
        out.request.primitive = Primitive::kPersonality;
      }
      break;
    case Kind::kPidTarget:
      DecodePidTarget(row, a, ctx, out);
      break;
    case Kind::kPriority:
      DecodePriority(row, a, ctx, out);
      break;
    case Kind::kCapget: {
      struct {
        std::uint32_t version;
        std::int32_t pid;
      } header{};
      if (!ReadExact(ctx.Memory(), a[0], &header, sizeof header)) {
        out.early_errno = EFAULT;
        break;
      }
      CheckPid(header.pid, ctx, out, row.primitive, "capget");
      break;
    }
    case Kind::kFcntl:
      if (static_cast<std::uint32_t>(a[1]) == F_SETFL) {
        if ((a[2] & O_ASYNC) != 0 &&
            ctx.TerminalOf(AsInt(a[0])) != TraceeContext::Terminal::kNone) {
          out.request.primitive = Primitive::kTerminal;
          out.note =
              "O_ASYNC on a terminal: its SIGIO goes to the terminal's foreground process "
              "group, whoever that is";
        }
        break;
      }
      DecodeOwner(static_cast<std::uint32_t>(a[1]) == F_SETOWN_EX, a[2], ctx, out);
      break;
    case Kind::kIoctl:
      DecodeIoctl(a, ctx, out);
      break;
    case Kind::kAdjtime: {
      // struct timex starts with `unsigned int modes`: 0 (or ADJ_OFFSET_SS_READ) only reads.
      std::uint32_t modes = 0;
      int buf = ArgOf(row, Role::kPtr);
      if (buf < 0 ||
          !ReadExact(ctx.Memory(), a[static_cast<std::size_t>(buf)], &modes, sizeof modes)) {
        out.early_errno = EFAULT;
        break;
      }
      if (modes != 0 && modes != 0xa001 /*ADJ_OFFSET_SS_READ*/) {
        out.request.primitive = row.primitive;
        out.note = fmt::format("sets the system clock (modes {:#x})", modes);
      }
      break;
    }
    case Kind::kPinGuard:
      if (row.name == "process_madvise") {
        auto target = ctx.PidfdTarget(AsInt(a[0]));
        if (!target || !ctx.InTree(*target)) {
          if (target) out.outside.pids.push_back(*target);
          out.request.primitive = Primitive::kProcessOutside;
          out.note = target ? fmt::format("pidfd names pid {}, outside the traced tree", *target)
                            : "pidfd target could not be identified";
          break;
        }
      }
      if (TouchesGuardedRange(row, a)) {
        out.request.primitive = Primitive::kPinnedRegion;
        out.note = row.name == "process_madvise"
                       ? "advice other than WILLNEED, COLD, PAGEOUT or COLLAPSE could discard "
                         "tracejail's pinned-argument region or keep it from a fork"
                       : fmt::format(
                             "the range reaches tracejail's pinned-argument region "
                             "[{:#x}, {:#x})",
                             kPinBase, kPinEnd);
      }
      break;
    case Kind::kSetpgid: {
      int pgid = AsInt(a[1]);
      if (pgid != 0 && !ctx.GroupInTree(pgid)) {
        if (pgid > 0) out.outside.group = pgid;
        out.request.primitive = Primitive::kSetpgidOutside;
        out.note = fmt::format("process group {} is outside the traced tree", pgid);
      }
      break;
    }
    default:
      break;
  }
}

void DecodePaths(const SyscallRow& row, const std::array<std::uint64_t, 6>& a, TraceeContext& ctx,
                 DecodedCall& out) {
  std::uint64_t at_flags = 0;
  if (int i = ArgOf(row, Role::kAtFlags); i >= 0) at_flags = a[static_cast<std::size_t>(i)];
  if (row.kind == Kind::kOpen) {
    if (int i = ArgOf(row, Role::kOpenFlags); i >= 0) {
      out.open_flags = a[static_cast<std::size_t>(i)];
    } else if (int h = ArgOf(row, Role::kOpenHow); h >= 0) {
      open_how how{};
      std::size_t size = static_cast<std::size_t>(a[static_cast<std::size_t>(h) + 1]);
      if (size < 24 /* OPEN_HOW_SIZE_VER0 */) {
        out.early_errno = EINVAL;
        return;
      }
      if (size > 4096) {  // the kernel's limit for extensible structs (PAGE_SIZE)
        out.early_errno = E2BIG;
        return;
      }
      if (!ReadExact(ctx.Memory(), a[static_cast<std::size_t>(h)], &how, sizeof how)) {
        out.early_errno = EFAULT;
        return;
      }
      if (size > sizeof how) {
        // Fields this kernel does not know must be zero (copy_struct_from_user), or E2BIG.
        std::array<std::uint8_t, 4096> tail{};
        std::size_t extra = size - sizeof how;
        if (!ReadExact(ctx.Memory(), a[static_cast<std::size_t>(h)] + sizeof how, tail.data(),
                       extra)) {
          out.early_errno = EFAULT;
          return;
        }
        if (std::any_of(tail.begin(), tail.begin() + static_cast<std::ptrdiff_t>(extra),
                        [](std::uint8_t b) { return b != 0; })) {
          out.early_errno = E2BIG;
          return;
        }
      }
      out.open_flags = how.flags;
      out.how = {how.flags, how.mode, how.resolve};
    }
  }
  int dirfd = AT_FDCWD;
  int n = 0;
  for (std::size_t i = 0; i < row.args.size() && n < 2; ++i) {
    Role role = row.args[i].role;
    if (role == Role::kDirFd) dirfd = AsInt(a[i]);
    if (role == Role::kFdPath) {
      DecodeFdPath(AsInt(a[i]), row.access, ctx, out);
      return;
    }
    if (role != Role::kPath) continue;
    DecodedPath& p = out.paths[static_cast<std::size_t>(n)];
    bool empty_ok = (at_flags & AT_EMPTY_PATH) != 0 || row.null_path_is_fd;
    if (a[i] == 0 && row.null_path_is_fd) {
      p.raw.clear();  // utimensat(fd, NULL, ...) acts on fd itself
    } else {
      StringStatus st = ReadCString(ctx.Memory(), a[i], kMaxPath, p.raw);
      if (st == StringStatus::kFault) {
        out.early_errno = EFAULT;
        return;
      }
      if (st == StringStatus::kTruncated) {
        out.early_errno = ENAMETOOLONG;
        return;
      }
    }
    Follow how = n == 0 ? row.follow : row.follow2;
    const std::uint64_t follow_word = how == Follow::kInotifyMask     ? a[2]
                                      : how == Follow::kFanotifyFlags ? a[1]
                                                                      : at_flags;
    bool follow = FollowFor(how, out.open_flags, follow_word);
    // A trailing slash makes the kernel follow a final symlink (and want a directory) wherever
    // it looks the final name up; a call that makes or removes a name only looks at its parent.
    const Access named = n == 0 ? row.access : row.access2;
    const bool trailing_slash = p.raw.size() > 1 && p.raw.back() == '/';
    const bool made_or_removed =
        row.kind == Kind::kPaths && (named & (Access::kCreate | Access::kDelete)) != Access::kNone;
    if (!follow && trailing_slash && !made_or_removed && row.kind == Kind::kPaths) follow = true;
    p.follow = follow;
    std::string_view lookup = p.raw;
    if (!follow && trailing_slash && made_or_removed) {
      // The name is looked up in its parent, not followed, whatever the slash: it is resolved
      // without it, and the slash is given back to what the kernel gets (it still wants a
      // directory there).
      while (lookup.size() > 1 && lookup.back() == '/') lookup.remove_suffix(1);
    }
    p.resolved = ctx.Resolve(dirfd, lookup, follow ? LastLink::kFollow : LastLink::kNoFollow,
                             empty_ok ? EmptyPath::kNamesDirfd : EmptyPath::kRefuse, out.how[2]);
    p.fd = p.raw.empty() ? dirfd : -1;
    if (lookup.size() != p.raw.size()) {
      if (!p.resolved.pin.empty()) p.resolved.pin += '/';
      if (!p.resolved.walk.empty()) p.resolved.walk += '/';
    }
    if (p.resolved.error != 0 && p.resolved.error != ENOENT) {
      out.early_errno = p.resolved.error;
      return;
    }
    if (made_or_removed && (named & Access::kCreate) != Access::kNone) {
      p.existed =
          p.resolved.error == ENOENT ? std::optional<bool>(false) : ctx.Exists(p.resolved.path);
    }
    policy::PathAccess& pa = out.request.paths[static_cast<std::size_t>(n)];
    pa.path = p.resolved.path;
    pa.resolved = p.resolved.error == 0;
    if (row.kind == Kind::kOpen) {
      pa.access = AccessFromOpenFlags(out.open_flags);
    } else {
      pa.access = n == 0 ? row.access : row.access2;
    }
    // A rename moves the name and everything under it: reading them must be allowed as well.
    bool exchange = row.name == "renameat2" && (a[4] & 2 /* RENAME_EXCHANGE */) != 0;
    if (row.name.starts_with("rename") && (n == 0 || exchange)) {
      pa.access = pa.access | Access::kRead;
      pa.carries_tree = true;
    }
    // RENAME_WHITEOUT leaves a whiteout device where the source was: a creation there.
    if (row.name == "renameat2" && n == 0 && (a[4] & 4 /* RENAME_WHITEOUT */) != 0) {
      pa.access = pa.access | Access::kCreate;
    }
    // Process memory and the fds, cwd and root of processes outside the tree are reached
    // through /proc as well as through process_vm_* and ptrace: the same escape primitives.
    if (IsProcMem(pa.path) && ((pa.access & (Access::kWrite | Access::kCreate)) != Access::kNone ||
                               !ctx.ProcPidInTree(ProcPidOf(pa.path)))) {
      bool write = (pa.access & (Access::kWrite | Access::kCreate)) != Access::kNone;
      out.request.primitive = write ? Primitive::kProcessVmWrite : Primitive::kProcessVmRead;
      out.note = fmt::format("{} process memory through {}", write ? "writes" : "reads",
                             base::EscapeBytes(pa.path));
      if (!ctx.ProcPidInTree(ProcPidOf(pa.path))) out.outside.pids.push_back(ProcPidOf(pa.path));
    } else if (p.resolved.magic_pid != 0 && !ctx.ProcPidInTree(p.resolved.magic_pid)) {
      out.outside.pids.push_back(p.resolved.magic_pid);
      out.request.primitive = Primitive::kProcessVmRead;
      out.note = fmt::format("goes through /proc/{} of a process outside the traced tree",
                             p.resolved.magic_pid);
    } else if (pid_t owner = ProcDirPid(pa.path); owner != 0 && !ctx.ProcPidInTree(owner)) {
      // Every entry of another process's /proc directory (and the directory itself, a pidfd for
      // pidfd_send_signal) observes or changes that process; memory and files most of all.
      out.outside.pids.push_back(owner);
      out.request.primitive =
          IsPrivateProcEntry(pa.path) ? Primitive::kProcessVmRead : Primitive::kProcessOutside;
      out.note = fmt::format("{} belongs to a process outside the traced tree",
                             base::EscapeBytes(pa.path));
    }
    // Another session's terminal: writing to it, reading what its user types, changing its size
    // (SIGWINCH to its foreground job): only pseudo-terminals the tree made are its own.
    if (int pty = PtsIndex(pa.path);
        pty >= 0 && out.request.primitive == Primitive::kNone && !ctx.PtyIsOurs(pty)) {
      out.request.primitive = Primitive::kTerminal;
      out.note = fmt::format("{} is another session's terminal", pa.path);
    }
    if (p.resolved.error == ENOENT) {  // e.g. a dirfd-relative name under a deleted directory
      out.early_errno = ENOENT;
      return;
    }
    dirfd = AT_FDCWD;
    ++n;
  }
  out.request.path_count = n;
  // A device node opens the device behind every path rule (a disk, memory): the kernel asks
  // for CAP_MKNOD, and tracejail refuses it as a second layer.
  if (int m = ArgOf(row, Role::kMode); m >= 0 && row.name.starts_with("mknod")) {
    auto type = static_cast<mode_t>(a[static_cast<std::size_t>(m)]) & S_IFMT;
    if (type == S_IFCHR || type == S_IFBLK) {
      out.request.primitive = Primitive::kSystemAdmin;
      out.capability = "CAP_MKNOD";
      out.note = fmt::format("creates a {} device node", type == S_IFCHR ? "character" : "block");
    }
  }
}

// A file that runs with privileges for whoever executes it, made by the sandbox: a set-user-ID
// or set-group-ID mode (open with O_CREAT, creat, mknod, the chmod family) or file
// capabilities (the "security.capability" attribute). Anyone on the host could run it later.
void CheckPrivilegedFile(const SyscallRow& row, const std::array<std::uint64_t, 6>& a,
                         TraceeContext& ctx, DecodedCall& out) {
  if (out.early_errno != 0 || out.request.primitive != Primitive::kNone) return;
  std::optional<std::uint64_t> mode;
  int m = ArgOf(row, Role::kMode);
  if (row.kind == Kind::kOpen) {
    bool creates = (out.open_flags & O_CREAT) != 0 || (out.open_flags & O_TMPFILE) == O_TMPFILE;
    if (creates)
      mode = ArgOf(row, Role::kOpenHow) >= 0 ? out.how[1] : a[static_cast<std::size_t>(m)];
  } else if (m >= 0 && (Any(row.access & Access::kChmod) || row.name == "creat" ||
                        row.name.starts_with("mknod"))) {
    mode = a[static_cast<std::size_t>(m)];
  }
  if (mode && (*mode & (S_ISUID | S_ISGID)) != 0) {
    out.request.primitive = Primitive::kPrivilegedFile;
    out.note = fmt::format(
        "makes a set-{}-ID file (mode {:#o}), which would run with its owner's "
        "privileges for anyone",
        (*mode & S_ISUID) != 0 ? "user" : "group", *mode & 07777);
    return;
  }
  if (row.name.find("setxattr") == std::string_view::npos) return;
  int n = ArgOf(row, Role::kString);
  std::string name;
  if (n < 0 ||
      ReadCString(ctx.Memory(), a[static_cast<std::size_t>(n)], 256, name) != StringStatus::kOk) {
    return;  // the kernel reads it again: an unreadable name fails there (EFAULT)
  }
  if (name == "security.capability") {
    out.request.primitive = Primitive::kPrivilegedFile;
    out.capability = "CAP_SETFCAP";
    out.note = "gives a file capabilities, which would run with them for anyone";
  }
}

}  // namespace

void Decode(const SyscallRow& row, const std::array<std::uint64_t, 6>& args, TraceeContext& ctx,
            DecodedCall& out) {
  out.row = &row;
  out.args = args;
  out.request.syscall = row.name;
  switch (row.kind) {
    case Kind::kOpen:
    case Kind::kPaths:
    case Kind::kExec:
      DecodePaths(row, args, ctx, out);
      CheckPrivilegedFile(row, args, ctx, out);
      if (row.kind == Kind::kExec) {
        if (int i = ArgOf(row, Role::kArgv); i >= 0) {
          out.argv = ReadStringArray(ctx.Memory(), args[static_cast<std::size_t>(i)]);
        }
        if (int i = ArgOf(row, Role::kEnvp); i >= 0) {
          out.envp = ReadStringArray(ctx.Memory(), args[static_cast<std::size_t>(i)]);
        }
      }
      break;
    case Kind::kNet:
      DecodeNet(row, args, ctx, out);
      break;
    default:
      DecodeEscapeChecks(row, args, ctx, out);
      break;
  }
  std::string_view cap = !out.capability.empty() ? out.capability : row.capability;
  if (out.request.primitive != Primitive::kNone && !cap.empty()) {
    out.note += fmt::format("{}the kernel asks for {}", out.note.empty() ? "" : "; ", cap);
  }
}

namespace {

nlohmann::json RenderList(const StringList& list) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : list.items) arr.push_back(base::EscapeBytes(s));
  if (list.truncated || list.fault) {
    arr.push_back(list.fault ? "...(unreadable)" : "...(truncated)");
  }
  return arr;
}

}  // namespace

nlohmann::json RenderArgs(const DecodedCall& call, TraceeContext& ctx) {
  nlohmann::json j = nlohmann::json::object();
  if (call.row == nullptr) return j;
  const auto& a = call.args;
  int path_n = 0;
  for (std::size_t i = 0; i < call.row->args.size(); ++i) {
    const Arg& arg = call.row->args[i];
    if (arg.role == Role::kNone) continue;
    std::string key(arg.name);
    std::uint64_t v = a[i];
    switch (arg.role) {
      case Role::kNone:
        break;
      case Role::kInt:
      case Role::kFd:
      case Role::kPid:
      case Role::kSockLen:
        j[key] = static_cast<std::int64_t>(static_cast<std::int32_t>(v));
        break;
      case Role::kHex:
      case Role::kMsgFlags:
      case Role::kPtr:
        j[key] = fmt::format("{:#x}", v);
        break;
      case Role::kDirFd:
        if (AsInt(v) == AT_FDCWD) {
          j[key] = "AT_FDCWD";
        } else {
          j[key] = AsInt(v);
        }
        break;
      case Role::kFdPath:
        if (call.request.path_count > 0) {
          j[key] = {{"fd", AsInt(v)},
                    {"resolved", base::EscapeBytes(call.paths[0].resolved.path)},
                    {"access", policy::AccessNames(call.request.paths[0].access)}};
        } else {
          j[key] = AsInt(v);
        }
        break;
      case Role::kPath: {
        if (path_n < call.request.path_count) {
          const DecodedPath& p = call.paths[static_cast<std::size_t>(path_n)];
          j[key] = {{"raw", base::EscapeBytes(p.raw)},
                    {"resolved", base::EscapeBytes(p.resolved.path)},
                    {"access", policy::AccessNames(
                                   call.request.paths[static_cast<std::size_t>(path_n)].access)}};
          if (p.existed) j[key]["exists"] = *p.existed;
        } else {
          j[key] = fmt::format("{:#x}", v);
        }
        ++path_n;
        break;
      }
      case Role::kString: {
        std::string s;
        StringStatus st = v == 0 ? StringStatus::kFault : ReadCString(ctx.Memory(), v, kMaxPath, s);
        if (st == StringStatus::kFault) {
          j[key] = fmt::format("{:#x}", v);
        } else {
          j[key] = base::EscapeBytes(s) + (st == StringStatus::kTruncated ? "...(truncated)" : "");
        }
        break;
      }
      case Role::kOpenFlags:
        j[key] = xlat::OpenFlags(v);
        break;
      case Role::kOpenHow:
        j[key] = {{"flags", xlat::OpenFlags(call.open_flags)}};
        break;
      case Role::kMode:
        // open(2) reads mode only when creating (O_CREAT, O_TMPFILE).
        if (call.row->kind != Kind::kOpen || (call.open_flags & O_CREAT) != 0 ||
            (call.open_flags & O_TMPFILE) == O_TMPFILE) {
          j[key] = xlat::Mode(v);
        }
        break;
      case Role::kAtFlags:
        j[key] = xlat::AtFlags(v);
        break;
      case Role::kSockDomain:
        j[key] = xlat::SocketFamily(v);
        break;
      case Role::kSockType:
        j[key] = xlat::SocketType(v);
        break;
      case Role::kSockAddr:
      case Role::kMsgHdr:
      case Role::kMMsgHdr:
        j[key] = call.addr ? AddressJson(*call.addr) : nlohmann::json(fmt::format("{:#x}", v));
        break;
      case Role::kArgv:
        j[key] = RenderList(call.argv);
        break;
      case Role::kEnvp:
        j[key] = RenderList(call.envp);
        break;
      case Role::kCloneFlags:
        j[key] = xlat::CloneFlags(v);
        break;
      case Role::kPtraceRequest:
        j[key] = xlat::PtraceRequest(v);
        break;
      case Role::kSignal:
        j[key] = xlat::Signal(v);
        break;
      case Role::kSeccompOp:
        j[key] = xlat::SeccompOp(v);
        break;
      case Role::kPrctlOp:
        j[key] = xlat::PrctlOp(v);
        break;
    }
  }
  return j;
}

}  // namespace tracer
