#include "tracer/memory.h"

#include <algorithm>
#include <cstring>

namespace tracer {

StringStatus ReadCString(MemoryReader& mem, std::uint64_t addr, std::size_t max, std::string& out) {
  out.clear();
  char chunk[kPageSize];
  while (out.size() < max) {
    std::size_t to_page_end = kPageSize - (addr % kPageSize);
    std::size_t want = std::min(to_page_end, max - out.size());
    long got = mem.Read(addr, chunk, want);
    if (got <= 0) return StringStatus::kFault;
    auto n = static_cast<std::size_t>(got);
    const void* nul = std::memchr(chunk, '\0', n);
    if (nul != nullptr) {
      out.append(chunk, static_cast<std::size_t>(static_cast<const char*>(nul) - chunk));
      return StringStatus::kOk;
    }
    out.append(chunk, n);
    addr += n;
  }
  return StringStatus::kTruncated;
}

bool ReadExact(MemoryReader& mem, std::uint64_t addr, void* buf, std::size_t len) {
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    long got = mem.Read(addr, p, len);
    if (got <= 0) return false;
    auto n = static_cast<std::size_t>(got);
    p += n;
    addr += n;
    len -= n;
  }
  return true;
}

}  // namespace tracer
