// MemoryReader for a live tracee: process_vm_readv, falling back to pread on /proc/PID/mem when
// the range is not readable that way (e.g. PROT_NONE pages the kernel can still read).
#pragma once

#include <sys/types.h>

#include "base/unique_fd.h"
#include "tracer/memory.h"

namespace tracer {

class ProcessMemory final : public MemoryReader {
 public:
  explicit ProcessMemory(pid_t pid) : pid_(pid) {}
  long Read(std::uint64_t addr, void* buf, std::size_t len) override;

 private:
  pid_t pid_;
};

}  // namespace tracer
