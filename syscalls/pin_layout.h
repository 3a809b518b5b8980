// Where the pinned-argument region lies in every traced address space (tracer/pin.h has the
// whole scheme). Only the layout: the decoder and the syscall table guard the region with it,
// and need nothing else of pinning.
#pragma once

#include <cstdint>

namespace syscalls {

inline constexpr std::uint64_t kPinBase = 0x10000;   // vm.mmap_min_addr's usual value
inline constexpr std::uint64_t kPinEnd = 0x400000;   // below the usual non-PIE load address
inline constexpr std::uint64_t kPinSlotSize = 8192;  // two PATH_MAX paths, or a path + open_how
inline constexpr std::uint64_t kPinSlots = (kPinEnd - kPinBase) / kPinSlotSize;  // 504

// Does [addr, addr + len) (len 0 counts as one page) overlap the pinned region?
constexpr bool TouchesPinRegion(std::uint64_t addr, std::uint64_t len) {
  constexpr std::uint64_t kPage = 4096;
  if (len == 0) len = 1;
  std::uint64_t end = addr + len < addr ? ~std::uint64_t{0} : addr + len;
  end = end > ~std::uint64_t{0} - kPage ? end : (end + kPage - 1) & ~(kPage - 1);
  return addr < kPinEnd && end > kPinBase;
}

}  // namespace syscalls
