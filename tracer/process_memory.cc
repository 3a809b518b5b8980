#include "tracer/process_memory.h"

#include <fcntl.h>
#include <sys/uio.h>

#include <cerrno>
#include <string>

namespace tracer {

long ProcessMemory::Read(std::uint64_t addr, void* buf, std::size_t len) {
  iovec local{buf, len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  ssize_t n = process_vm_readv(pid_, &local, 1, &remote, 1, 0);
  if (n > 0) return n;
  if (n < 0 && errno == ESRCH) return -ESRCH;
  // The fallback is rare: the file is opened for this read only, so a tree of thousands of
  // processes holds no descriptor per process.
  std::string path = "/proc/" + std::to_string(pid_) + "/mem";
  base::UniqueFd mem(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!mem.valid()) return -errno;
  n = pread(mem.get(), buf, len, static_cast<off_t>(addr));
  return n < 0 ? -errno : n;
}

}  // namespace tracer
