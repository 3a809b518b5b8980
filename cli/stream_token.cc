#include "cli/stream_token.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/unique_fd.h"
#include "cli/common.h"
#include "report/escape.h"
#include "report/stream_auth.h"

namespace cli {
namespace {

std::string AbsolutePath(const std::string& path) {
  if (path.starts_with("/")) return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

// An absolute directory this user owns and no one else may write to.
bool OwnDirectory(const char* dir) {
  struct stat st {};
  return dir != nullptr && dir[0] == '/' && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
         st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

// Writes the whole token and its newline to a file tracejail just created.
bool WriteToken(int fd, const std::string& token) {
  std::string text = token + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return fsync(fd) == 0;
}

}  // namespace

std::optional<std::string> ReadStreamToken(const std::string& path, std::string& why) {
  std::optional<std::string> text = ReadKeyFile(path, why);  // regular, no symlink, mode 600
  if (!text) return std::nullopt;
  std::string token = std::move(*text);
  if (token.ends_with('\n')) token.pop_back();
  if (token.ends_with('\r')) token.pop_back();
  if (std::string bad = report::CheckStreamToken(token); !bad.empty()) {
    why = fmt::format("{}: {}", report::EscapeBytes(path), bad);
    return std::nullopt;
  }
  return token;
}

std::unique_ptr<StreamTokenFile> StreamTokenFile::Prepare(const std::string& path,
                                                          std::string& why) {
  std::unique_ptr<StreamTokenFile> t(new StreamTokenFile());
  if (path.empty()) {
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    const char* tmp = std::getenv("TMPDIR");
    std::string base = OwnDirectory(runtime)                     ? runtime
                       : tmp != nullptr && tmp[0] == '/' && *tmp ? tmp
                                                                 : "/tmp";
    std::string dir = base + "/tracejail-stream-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) {  // mode 700
      why = fmt::format("cannot make a directory for the stream token in {}: {}",
                        report::EscapeBytes(base), std::strerror(errno));
      return nullptr;
    }
    t->dir_ = dir;
    t->path_ = dir + "/token";
  } else {
    t->path_ = AbsolutePath(path);
  }
  // A file that is there is the user's token; otherwise tracejail makes one. O_EXCL also fails
  // on a symlink, dangling or not, so nothing is written through one.
  base::UniqueFd fd(
      open(t->path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid() && errno == EEXIST && t->dir_.empty()) {
    std::optional<std::string> token = ReadStreamToken(t->path_, why);
    if (!token) return nullptr;
    t->token_ = std::move(*token);
    return t;
  }
  if (!fd.valid()) {
    why = fmt::format("cannot create the stream token file {}: {}", report::EscapeBytes(t->path_),
                      std::strerror(errno));
    if (!t->dir_.empty()) rmdir(t->dir_.c_str());
    return nullptr;
  }
  struct stat st {};
  std::string failed;
  try {
    t->token_ = report::NewStreamToken();
  } catch (const std::exception& e) {
    failed = e.what();
  }
  // 0600 whatever the umask; the token goes in only once no one else can read the file.
  if (failed.empty() && (fchmod(fd.get(), 0600) != 0 || fstat(fd.get(), &st) != 0 ||
                         !WriteToken(fd.get(), t->token_))) {
    failed = fmt::format("cannot write the stream token file {}: {}", report::EscapeBytes(t->path_),
                         std::strerror(errno));
  }
  if (!failed.empty()) {
    why = failed;
    unlink(t->path_.c_str());
    if (!t->dir_.empty()) rmdir(t->dir_.c_str());
    return nullptr;
  }
  t->generated_ = true;
  t->dev_ = st.st_dev;
  t->ino_ = st.st_ino;
  return t;
}

StreamTokenFile::~StreamTokenFile() {
  if (!generated_) return;
  // The token is worthless once the stream is gone; the file goes with it, if it is still the
  // one tracejail wrote.
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    unlink(path_.c_str());
  }
  if (!dir_.empty()) rmdir(dir_.c_str());
}

}  // namespace cli
