#include "tracer/artifact_tracker.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "base/escape.h"
#include "report/file_digest.h"
#include "report/record.h"
#include "report/script_argument.h"
#include "tracer/exec_image.h"

namespace tracer {
namespace {

using report::Artifact;

std::int64_t Ns(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// A regular file for reading, found as the tracee would find `path` (absolute: under `root`;
// relative: from the directory `cwd`): O_PATH first, so nothing but a regular file is ever
// opened (a FIFO would block, a device could act on the open), then reopened for reading.
base::UniqueFd OpenRegular(const std::string& root, int cwd, const std::string& path,
                           std::string& why) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_MAGICLINKS;
  int from = AT_FDCWD;
  base::UniqueFd top;
  if (!path.empty() && path[0] == '/') {
    if (!root.empty()) {
      top.Reset(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      from = top.get();
      how.resolve |= RESOLVE_IN_ROOT;
    }
  } else {
    from = cwd;
    // An absolute symlink on the way would be followed in tracejail's view, not the tracee's.
    if (!root.empty()) how.resolve |= RESOLVE_NO_SYMLINKS;
  }
  base::UniqueFd found(
      static_cast<int>(syscall(SYS_openat2, from, path.c_str(), &how, sizeof how)));
  struct stat st {};
  if (!found.valid()) {
    why = fmt::format("cannot be opened: {}", std::strerror(errno));
    return {};
  }
  if (fstat(found.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
    return {};
  }
  base::UniqueFd content(open(fmt::format("/proc/self/fd/{}", found.get()).c_str(),
                              O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!content.valid()) why = fmt::format("cannot be read: {}", std::strerror(errno));
  return content;
}

std::string KindOf(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    default:
      return "device";
  }
}

bool Ignored(std::string_view path) {
  for (std::string_view top : {"/proc/", "/sys/", "/dev/"}) {
    if (path.starts_with(top) && !path.starts_with("/dev/shm/")) return true;
  }
  return path == "/proc" || path == "/sys" || path == "/dev";
}

}  // namespace

ArtifactTracker::ArtifactTracker(ArtifactOptions options) : options_(options) {}

Artifact ArtifactTracker::Describe(int fd, const std::string& display, std::string kind) {
  Artifact a;
  a.path = display;
  a.kind = std::move(kind);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    a.note = fmt::format("cannot be examined: {}", std::strerror(errno));
    return a;
  }
  const ImageKey key{st.st_dev, st.st_ino, st.st_size, Ns(st.st_mtim), Ns(st.st_ctim)};
  if (auto it = images_.find(key); it != images_.end()) {
    Artifact known = it->second;
    known.path = a.path;
    known.kind = a.kind;
    return known;
  }
  a.size = static_cast<std::uint64_t>(st.st_size);
  a.mode = report::ModeText(st.st_mode);
  report::FileDigest d = report::DigestFd(fd, options_.max_hash);
  if (d.complete) a.sha256 = d.sha256;
  a.note = d.error;
  if (images_.size() < options_.max_images) images_.emplace(key, a);
  return a;
}

void ArtifactTracker::DescribeExec(pid_t tid, const std::string& root, const std::string& exec_path,
                                   const std::vector<std::string>& argv, nlohmann::json& args) {
  const std::string exe_link = fmt::format("/proc/{}/exe", tid);
  std::array<char, PATH_MAX> name{};
  ssize_t n = readlink(exe_link.c_str(), name.data(), name.size());
  const std::string image_path = n > 0 ? std::string(name.data(), static_cast<std::size_t>(n)) : "";
  base::UniqueFd image(open(exe_link.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat image_st {};
  if (!image.valid() || fstat(image.get(), &image_st) != 0) {
    Artifact a;
    a.path = base::EscapeBytes(image_path);
    a.kind = "image";
    a.note = fmt::format("cannot be read: {}", std::strerror(errno));
    args["image"] = report::ToJson(a);
    return;
  }
  args["image"] = report::ToJson(Describe(image.get(), base::EscapeBytes(image_path), "image"));

  // The script: the file the exec named, when the kernel ran another image for it ("#!"), or
  // the interpreter's script argument.
  base::UniqueFd cwd(
      open(fmt::format("/proc/{}/cwd", tid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string why;
  std::string script_path;
  base::UniqueFd script;
  if (!exec_path.empty()) {
    base::UniqueFd named = OpenRegular(root, cwd.get(), exec_path, why);
    struct stat st {};
    if (named.valid() && fstat(named.get(), &st) == 0 &&
        (st.st_dev != image_st.st_dev || st.st_ino != image_st.st_ino)) {
      script = std::move(named);
      script_path = exec_path;
    }
  }
  if (!script.valid()) {
    std::optional<std::size_t> at = report::ScriptArgument(image_path, argv);
    if (!at) return;
    script_path = argv[*at];
    why.clear();
    script = OpenRegular(root, cwd.get(), script_path, why);
  }
  if (!script.valid()) {
    Artifact a;
    a.path = base::EscapeBytes(script_path);
    a.kind = "script";
    a.note = why;
    args["script"] = report::ToJson(a);
    return;
  }
  args["script"] = report::ToJson(Describe(script.get(), base::EscapeBytes(script_path), "script"));
}

void ArtifactTracker::NoteChange(const std::string& root, const std::string& path,
                                 syscalls::Access access) {
  using syscalls::Access;
  const bool write = syscalls::Any(access & (Access::kWrite | Access::kCreate));
  const bool remove = syscalls::Any(access & Access::kDelete);
  if ((!write && !remove) || path.size() < 2 || path[0] != '/' || Ignored(path)) return;
  const std::size_t cut = path.find_last_of('/');
  const std::string name = path.substr(cut + 1);
  if (name.empty() || name == "." || name == "..") return;
  base::UniqueFd dir(OpenChecked(root, cut == 0 ? "/" : path.substr(0, cut)));
  struct stat ds {};
  if (!dir.valid() || fstat(dir.get(), &ds) != 0 || !S_ISDIR(ds.st_mode)) return;  // it fails
  auto key = std::make_tuple(ds.st_dev, ds.st_ino, name);
  if (auto it = index_.find(key); it != index_.end()) {
    entries_[it->second].removed = remove && !write;
    return;
  }
  if (entries_.size() >= options_.max_files) {
    ++untracked_;
    return;
  }
  auto held = dirs_.find({ds.st_dev, ds.st_ino});
  if (held == dirs_.end()) {
    if (dirs_.size() >= options_.max_dirs) {
      ++untracked_;
      return;
    }
    held = dirs_
               .emplace(std::make_pair(ds.st_dev, ds.st_ino),
                        std::make_shared<base::UniqueFd>(dir.release()))
               .first;
  }
  Entry e{held->second, name, base::EscapeBytes(path), {}, remove && !write};
  e.before.existed =
      fstatat(held->second->get(), name.c_str(), &e.before.st, AT_SYMLINK_NOFOLLOW) == 0;
  index_.emplace(std::move(key), entries_.size());
  entries_.push_back(std::move(e));
}

void ArtifactTracker::Collect(int fd, const struct stat& st, Artifact& a) {
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (collected_bytes_ + size > options_.collect_max) {
    a.note = fmt::format("not collected: the copies would pass --collect-max ({} bytes)",
                         options_.collect_max);
    return;
  }
  const std::string partial = fmt::format(".partial-{}", partials_++);
  base::UniqueFd out(openat(options_.collect_dir, partial.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) {
    a.note = fmt::format("not collected: {}", std::strerror(errno));
    return;
  }
  report::FileDigest d = report::DigestFd(fd, options_.max_hash, out.get());
  if (d.complete) a.sha256 = d.sha256;
  if (!d.complete || renameat(options_.collect_dir, partial.c_str(), options_.collect_dir,
                              d.sha256.c_str()) != 0) {
    a.note = d.complete ? fmt::format("not collected: {}", std::strerror(errno))
                        : "not collected: " + d.error;
    unlinkat(options_.collect_dir, partial.c_str(), 0);
    return;
  }
  collected_bytes_ += d.read;
  a.collected = d.sha256;
}

Artifact ArtifactTracker::Dropped(Entry& e) {
  Artifact a;
  a.path = e.display;
  const int dir = e.dir->get();
  struct stat st {};
  if (fstatat(dir, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (!e.removed) return {};  // never made (the call failed), or not the program's doing
    a.kind = e.before.existed ? KindOf(e.before.st.st_mode) : "file";
    a.removed = true;
    a.created = !e.before.existed;
    return a;
  }
  const bool same_file =
      e.before.existed && e.before.st.st_ino == st.st_ino && e.before.st.st_dev == st.st_dev;
  if (same_file && e.before.st.st_size == st.st_size && Ns(e.before.st.st_mtim) == Ns(st.st_mtim) &&
      Ns(e.before.st.st_ctim) == Ns(st.st_ctim)) {
    return {};  // opened for writing, never changed
  }
  a.kind = KindOf(st.st_mode);
  a.created = !same_file;
  a.mode = report::ModeText(st.st_mode);
  a.size = static_cast<std::uint64_t>(st.st_size);
  if (S_ISLNK(st.st_mode)) {
    std::array<char, PATH_MAX> target{};
    ssize_t n = readlinkat(dir, e.name.c_str(), target.data(), target.size());
    if (n > 0)
      a.target = base::EscapeBytes(std::string_view(target.data(), static_cast<std::size_t>(n)));
    return a;
  }
  if (!S_ISREG(st.st_mode)) return a;  // recorded as what it is, never opened
  base::UniqueFd fd(
      openat(dir, e.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  struct stat again {};
  if (!fd.valid() || fstat(fd.get(), &again) != 0 || !S_ISREG(again.st_mode) ||
      again.st_ino != st.st_ino) {
    a.note = fmt::format("not hashed: {}",
                         fd.valid() ? "it changed while being opened" : std::strerror(errno));
    return a;
  }
  if (options_.collect_dir >= 0) {
    Collect(fd.get(), again, a);
    if (!a.sha256.empty()) return a;  // hashed while it was copied
  }
  report::FileDigest d = report::DigestFd(fd.get(), options_.max_hash);
  if (d.complete) a.sha256 = d.sha256;
  if (!d.error.empty()) a.note = a.note.empty() ? d.error : a.note + "; " + d.error;
  return a;
}

void ArtifactTracker::WriteIndex(const std::vector<Artifact>& dropped) {
  nlohmann::json index = {{"schema_version", report::kSchemaVersion},
                          {"files", nlohmann::json::array()}};
  for (const Artifact& a : dropped) {
    if (!a.collected.empty()) index["files"].push_back(report::ToJson(a));
  }
  const std::string text =
      index.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  unlinkat(options_.collect_dir, ".index.partial", 0);  // a new file, never one found there
  base::UniqueFd out(openat(options_.collect_dir, ".index.partial",
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  bool ok = out.valid() &&
            write(out.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (ok) ok = close(out.release()) == 0;
  if (!ok ||
      renameat(options_.collect_dir, ".index.partial", options_.collect_dir, "index.json") != 0) {
    collect_error_ = fmt::format("index.json could not be written: {}", std::strerror(errno));
    unlinkat(options_.collect_dir, ".index.partial", 0);
  }
}

std::vector<Artifact> ArtifactTracker::Finish() {
  std::vector<Artifact> out;
  for (Entry& e : entries_) {
    Artifact a = Dropped(e);
    if (!a.kind.empty()) out.push_back(std::move(a));
  }
  entries_.clear();
  index_.clear();
  dirs_.clear();
  if (options_.collect_dir >= 0) WriteIndex(out);
  return out;
}

}  // namespace tracer
