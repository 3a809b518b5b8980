#include "tracer/exec_image.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>

#include "base/unique_fd.h"

namespace tracer {
namespace {

constexpr int kMaxScripts = 5;            // fs/exec.c: five levels of binfmt recursion
constexpr std::size_t kShebangMax = 256;  // BINPRM_BUF_SIZE

}  // namespace

std::string ShebangInterpreter(std::string_view head) {
  if (!head.starts_with("#!")) return {};
  head.remove_prefix(2);
  std::size_t nl = head.find('\n');
  if (nl != std::string_view::npos) head = head.substr(0, nl);
  std::size_t start = head.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  head.remove_prefix(start);
  return std::string(head.substr(0, head.find_first_of(" \t")));
}

ExpectedImage ImageOf(int file, const std::string& root, const std::string& cwd) {
  ExpectedImage out;
  if (file < 0) return out;
  std::string path = "/proc/self/fd/" + std::to_string(file);
  for (int depth = 0; depth <= kMaxScripts; ++depth) {
    // O_PATH first: opening anything but a regular file for reading could have effects (a
    // device, a FIFO); the content is read through the same inode. An interpreter is found as
    // the kernel finds it, symlinks followed (/bin/sh is one).
    base::UniqueFd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || fstat(fd.get(), &st) != 0) {
      out.id.reset();  // a file or an interpreter that is not there: the exec fails
      if (depth > 0) out.path = path;
      return out;
    }
    out.id = FileId{st.st_dev, st.st_ino};
    if (depth > 0) out.path = path;
    std::array<char, kShebangMax> head{};
    ssize_t n = -1;
    if (S_ISREG(st.st_mode)) {
      std::string again = "/proc/self/fd/" + std::to_string(fd.get());
      base::UniqueFd content(open(again.c_str(), O_RDONLY | O_CLOEXEC));  // execute-only: none
      if (content.valid()) n = pread(content.get(), head.data(), head.size(), 0);
    }
    std::string interp =
        n > 0 ? ShebangInterpreter(std::string_view(head.data(), static_cast<std::size_t>(n)))
              : std::string();
    if (interp.empty()) return out;
    path = interp[0] == '/' ? root + interp : cwd + "/" + interp;
  }
  out.id.reset();  // deeper than the kernel goes: the exec fails with ELOOP
  return out;
}

int OpenChecked(const std::string& root, const std::string& path) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  if (root.empty())
    return static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how));
  base::UniqueFd top(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!top.valid()) return -1;
  how.resolve |= RESOLVE_IN_ROOT;
  return static_cast<int>(syscall(SYS_openat2, top.get(), path.c_str(), &how, sizeof how));
}

std::optional<FileId> RunningImage(pid_t pid) {
  struct stat st {};
  std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  if (stat(exe.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

}  // namespace tracer
