#include "report/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "report/escape.h"

namespace report {
namespace {

std::string Failed(const std::string& what, int err) {
  return fmt::format("cannot write {}: {}", what, std::strerror(err));
}

}  // namespace

std::optional<std::string> WriteOutput(const std::string& path, std::string_view text,
                                       mode_t mode) {
  if (path.empty()) {
    // A closed or full stdout is a failed report, not a printed one.
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
        std::fflush(stdout) != 0) {
      return Failed("standard output", errno);
    }
    return std::nullopt;
  }
  const std::string shown = EscapeBytes(path);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Failed(shown, errno);
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) != mode) {
    fchmod(fd, mode);
  }
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      close(fd);
      return Failed(shown, err);
    }
    done += static_cast<std::size_t>(n);
  }
  // Delayed allocation reports a full disk only here.
  if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    int err = errno;
    close(fd);
    return Failed(shown, err);
  }
  if (close(fd) != 0) return Failed(shown, errno);
  return std::nullopt;
}

}  // namespace report
