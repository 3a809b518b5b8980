// Reading tracee memory. MemoryReader is the seam: the live tracer reads with process_vm_readv
// (ProcessMemory), unit tests use a fake. Reads are bounded by the caller; EFAULT and ESRCH are
// ordinary results, never exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tracer {

class MemoryReader {
 public:
  virtual ~MemoryReader() = default;
  // Copies up to `len` bytes from tracee address `addr`. Returns the number of bytes copied
  // (possibly fewer when the range crosses into unmapped memory) or -errno.
  virtual long Read(std::uint64_t addr, void* buf, std::size_t len) = 0;
};

inline constexpr std::size_t kPageSize = 4096;

enum class StringStatus { kOk, kTruncated, kFault };

// Reads a NUL-terminated string of at most `max` bytes, one page at a time (a read that
// crosses into an unmapped page must not lose the part before it). kTruncated: no NUL within
// `max` bytes; `out` holds the first `max` bytes. kFault: unreadable memory before the NUL.
StringStatus ReadCString(MemoryReader& mem, std::uint64_t addr, std::size_t max, std::string& out);

// Reads exactly `len` bytes or fails.
bool ReadExact(MemoryReader& mem, std::uint64_t addr, void* buf, std::size_t len);

}  // namespace tracer
