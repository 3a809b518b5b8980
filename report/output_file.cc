#include "report/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "base/escape.h"

namespace report {

OutputFile::~OutputFile() {
  if (fd_ >= 0) close(fd_);
}

std::optional<std::string> OutputFile::Fail(int err) {
  if (!error_) error_ = fmt::format("cannot write {}: {}", shown_, std::strerror(err));
  return error_;
}

std::optional<std::string> OutputFile::Open(const std::string& path, mode_t mode) {
  if (path.empty()) {
    stdout_ = true;
    shown_ = "standard output";
    return std::nullopt;
  }
  shown_ = base::EscapeBytes(path);
  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd_ < 0) return Fail(errno);
  struct stat st {};
  if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) != mode) {
    fchmod(fd_, mode);
  }
  return std::nullopt;
}

std::optional<std::string> OutputFile::Write(std::string_view text) {
  if (error_) return error_;
  if (stdout_) {
    // A closed or full stdout is a failed report, not a printed one.
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) return Fail(errno);
    return std::nullopt;
  }
  if (fd_ < 0) return Fail(EBADF);
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

std::optional<std::string> OutputFile::Close() {
  if (error_) return error_;
  if (stdout_) {
    if (std::fflush(stdout) != 0) return Fail(errno);
    return std::nullopt;
  }
  if (fd_ < 0) return Fail(EBADF);
  int fd = fd_;
  fd_ = -1;
  // Delayed allocation reports a full disk only here.
  if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    int err = errno;
    close(fd);
    return Fail(err);
  }
  if (close(fd) != 0) return Fail(errno);
  return std::nullopt;
}

std::optional<std::string> WriteOutput(const std::string& path, std::string_view text,
                                       mode_t mode) {
  OutputFile file;
  if (auto failed = file.Open(path, mode)) return failed;
  if (auto failed = file.Write(text)) return failed;
  return file.Close();
}

}  // namespace report
