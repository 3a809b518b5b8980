// Test doubles for the tracer's seams: a fake tracee address space (tracer::MemoryReader) and a
// fake tracee (tracer::TraceeContext). No ptrace, no processes.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/path.h"
#include "policy/policy.h"
#include "tracer/decode.h"
#include "tracer/event_sink.h"
#include "tracer/memory.h"

namespace tjtest {

// A sparse address space of 4 KiB pages. A read that starts in an unmapped page fails with
// -EFAULT. A read that runs into an unmapped page either returns the bytes before it (kShortReads,
// like read(2) on /proc/PID/mem) or fails entirely (kStrict, like process_vm_readv with one iovec).
class FakeMemory final : public tracer::MemoryReader {
 public:
  enum class Mode { kShortReads, kStrict };
  using Page = std::array<std::uint8_t, tracer::kPageSize>;

  explicit FakeMemory(Mode mode = Mode::kShortReads) : mode_(mode) {}

  static std::uint64_t PageOf(std::uint64_t addr) { return addr - addr % tracer::kPageSize; }

  void MapPage(std::uint64_t addr, std::uint8_t fill = 0) {
    Page page;
    page.fill(fill);
    pages_.emplace(PageOf(addr), page);
  }
  void UnmapPage(std::uint64_t addr) { pages_.erase(PageOf(addr)); }
  bool Mapped(std::uint64_t addr) const { return pages_.count(PageOf(addr)) != 0; }

  // Copies bytes into the address space, mapping (zero-filled) pages as needed.
  void Write(std::uint64_t addr, std::string_view bytes) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      std::uint64_t a = addr + i;
      if (!Mapped(a)) MapPage(a);
      pages_.at(PageOf(a))[a % tracer::kPageSize] = static_cast<std::uint8_t>(bytes[i]);
    }
  }
  template <typename T>
  void WriteValue(std::uint64_t addr, const T& value) {
    std::string bytes(sizeof(T), '\0');
    std::memcpy(bytes.data(), &value, sizeof(T));
    Write(addr, bytes);
  }

  // Bump allocation in a region of its own, 16-byte aligned: returns where `bytes` now live.
  std::uint64_t Put(std::string_view bytes) {
    std::uint64_t addr = next_;
    Write(addr, bytes);
    next_ += (bytes.size() + 15) / 16 * 16 + 16;
    return addr;
  }
  std::uint64_t PutCString(std::string_view s) { return Put(std::string(s) + '\0'); }
  template <typename T>
  std::uint64_t PutValue(const T& value) {
    std::string bytes(sizeof(T), '\0');
    std::memcpy(bytes.data(), &value, sizeof(T));
    return Put(bytes);
  }

  // The byte at `addr` as a test's oracle sees it (not a read: nothing is counted).
  std::optional<std::uint8_t> Peek(std::uint64_t addr) const {
    auto it = pages_.find(PageOf(addr));
    if (it == pages_.end()) return std::nullopt;
    return it->second[addr % tracer::kPageSize];
  }

  // Largest number of bytes one Read may return (0: unlimited); exercises callers' loops.
  std::size_t max_chunk = 0;
  int read_calls = 0;

  // Where the code under test may read, as [begin, end) ranges (mapped or not: reading an
  // unmapped argument is how a fault is found). Once `confined` (Allow sets it), a Read whose
  // whole requested range lies in none of them is a stray read: counted, and the first one kept.
  // Ends saturate at 2^64 - 1, so a range near the top of the address space does not wrap.
  struct Range {
    std::uint64_t begin, end;
  };
  bool confined = false;
  std::vector<Range> allowed;
  int stray_reads = 0;
  Range first_stray{0, 0};
  static std::uint64_t EndOf(std::uint64_t addr, std::uint64_t len) {
    return len > ~std::uint64_t{0} - addr ? ~std::uint64_t{0} : addr + len;
  }
  void Allow(std::uint64_t addr, std::uint64_t len) {
    confined = true;
    if (len != 0) allowed.push_back({addr, EndOf(addr, len)});
  }

  long Read(std::uint64_t addr, void* buf, std::size_t len) override {
    ++read_calls;
    if (confined && len != 0) {
      const std::uint64_t end = EndOf(addr, len);
      bool inside = std::any_of(allowed.begin(), allowed.end(),
                                [&](const Range& r) { return addr >= r.begin && end <= r.end; });
      if (!inside && stray_reads++ == 0) first_stray = {addr, end};
    }
    if (len == 0) return 0;
    if (!Mapped(addr)) return -EFAULT;
    if (max_chunk != 0 && len > max_chunk) len = max_chunk;
    auto* out = static_cast<std::uint8_t*>(buf);
    std::size_t done = 0;
    while (done < len) {
      std::uint64_t a = addr + done;
      auto it = pages_.find(PageOf(a));
      if (it == pages_.end()) {
        if (mode_ == Mode::kStrict) return -EFAULT;
        break;
      }
      std::size_t offset = a % tracer::kPageSize;
      std::size_t n = std::min(len - done, tracer::kPageSize - offset);
      std::memcpy(out + done, it->second.data() + offset, n);
      done += n;
    }
    return static_cast<long>(done);
  }

 private:
  Mode mode_;
  std::map<std::uint64_t, Page> pages_;
  std::uint64_t next_ = 0x7f0000010000;
};

// A tracee with a fake address space, a fake cwd and fds, and a fake process tree. Resolve is
// lexical (base::NormalizePath) unless an error is planted for a raw path.
class FakeContext final : public tracer::TraceeContext {
 public:
  struct ResolveCall {
    int dirfd;
    std::string path;
    bool follow_last;
    bool empty_path_ok;
  };

  FakeMemory mem;
  pid_t pid = 4242;
  pid_t tid = 4243;
  std::string cwd = "/home/user/work";
  std::map<int, std::string> dir_fds;         // fd -> directory it names
  std::map<std::string, int> resolve_errors;  // raw path -> errno Resolve reports
  std::set<pid_t> tree{4242, 4243, 4300};     // pids and tids in the traced tree
  std::set<pid_t> groups{4242};               // process groups in the tree
  std::map<int, pid_t> pidfds;                // pidfd -> pid it names
  std::map<int, Terminal> terminals;          // fd -> what kind of terminal it is
  std::set<int> our_ptys{0, 1, 2, 3};         // /dev/pts/N the tree may open
  std::vector<ResolveCall> resolve_calls;
  // Resolve also fills pin and walk (with the resolved path, or nothing past PATH_MAX), as the
  // real resolver does for a path it could pin.
  bool pin_paths = false;
  mutable std::vector<pid_t> in_tree_queries;
  mutable std::vector<pid_t> group_queries;

  tracer::MemoryReader& Memory() override { return mem; }
  pid_t Pid() const override { return pid; }
  pid_t Tid() const override { return tid; }

  tracer::ResolveResult Resolve(int dirfd, std::string_view path, tracer::LastLink last,
                                tracer::EmptyPath empty, std::uint64_t /*resolve*/) override {
    const bool follow_last = last == tracer::LastLink::kFollow;
    const bool empty_path_ok = empty == tracer::EmptyPath::kNamesDirfd;
    resolve_calls.push_back({dirfd, std::string(path), follow_last, empty_path_ok});
    if (auto it = resolve_errors.find(std::string(path)); it != resolve_errors.end()) {
      return {"", it->second};
    }
    if (path.empty() && !empty_path_ok) return {"", ENOENT};
    tracer::ResolveResult r;
    if (!path.empty() && path[0] == '/') {
      r.path = base::NormalizePath(path);
    } else {
      std::string dir = cwd;
      if (dirfd != AT_FDCWD) {
        auto it = dir_fds.find(dirfd);
        if (it == dir_fds.end()) return {"", EBADF};
        dir = it->second;
      }
      r.path = base::NormalizePath(dir + "/" + std::string(path));
    }
    if (pin_paths && !path.empty()) {
      if (r.path.size() < tracer::kMaxPath) {
        r.pin = r.walk = r.path;
      } else {
        r.unpinnable = "longer than PATH_MAX";
      }
    }
    return r;
  }

  bool InTree(pid_t pid_or_tid) const override {
    in_tree_queries.push_back(pid_or_tid);
    return tree.count(pid_or_tid) != 0;
  }
  bool GroupInTree(pid_t pgid) const override {
    group_queries.push_back(pgid);
    return groups.count(pgid) != 0;
  }
  bool PtyIsOurs(int index) override { return our_ptys.count(index) != 0; }
  Terminal TerminalOf(int fd) override {
    auto it = terminals.find(fd);
    return it == terminals.end() ? Terminal::kNone : it->second;
  }
  std::optional<pid_t> PidfdTarget(int fd) override {
    auto it = pidfds.find(fd);
    if (it == pidfds.end()) return std::nullopt;
    return it->second;
  }
};

// Bytes of a trivially copyable value, for building sockaddrs and structs.
template <typename T>
std::string BytesOf(const T& value) {
  std::string bytes(sizeof(T), '\0');
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

// An EventSink that keeps every event the supervisor emits (tracer/event_sink.h).
class CaptureSink final : public tracer::EventSink {
 public:
  void Emit(report::Event event) override { events.push_back(std::move(event)); }
  std::vector<report::Event> events;
};

}  // namespace tjtest
