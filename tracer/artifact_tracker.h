// What ran and what was left behind (issue 19; docs/forensics.md): the SHA-256, size and mode of
// every image a process executes (and of the script, when it runs one), and at the end of the
// run every file the program created, changed or removed, hashed and, with --collect, copied.
//
// A write is noted before the call runs (at its seccomp stop): the directory it names is held
// open (so the file is found at the end even in a mount namespace that is gone by then) with
// the file's state at that moment, so the end of the run tells a file made or changed from one
// only opened for writing. Files are read through O_PATH first and only regular files are
// opened for reading (O_NONBLOCK, O_NOFOLLOW): a FIFO, a device or a symlink the program left
// is recorded as such, never read or followed. Everything is bounded: hashes (1 GiB per file),
// files tracked, directories held open, bytes collected.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "base/unique_fd.h"
#include "report/artifacts.h"
#include "syscalls/operation.h"

namespace tracer {

struct ArtifactOptions {
  std::uint64_t max_hash = std::uint64_t{1} << 30;  // bytes hashed per file
  std::size_t max_files = 4096;                     // names tracked per run
  std::size_t max_dirs = 256;                       // directories held open
  std::size_t max_images = 4096;                    // executed files remembered (their hashes)
  // --collect: the directory the copies go to (the caller's descriptor, kept open for the run,
  // protected from the tracee), or -1; at most collect_max bytes in all.
  int collect_dir = -1;
  std::uint64_t collect_max = std::uint64_t{256} << 20;
};

class ArtifactTracker {
 public:
  explicit ArtifactTracker(ArtifactOptions options = {});

  // At the exec event of `tid`: the image it runs now, as "image" in `args`, and "script" when
  // it runs one: the file the exec named when that is not the image (a "#!" script), or the
  // script argument of an interpreter (report/script_argument.h). `exec_path` is the path the
  // exec named and `argv` its arguments (raw), both as decided; `root` is the tracee's view
  // ("" or /proc/PID/root).
  void DescribeExec(pid_t tid, const std::string& root, const std::string& exec_path,
                    const std::vector<std::string>& argv, nlohmann::json& args);

  // Before an allowed call that writes, creates or removes the absolute, resolved `path` (in the
  // view of `root`) runs. Other accesses, and /proc, /sys and /dev (but /dev/shm), are ignored.
  void NoteChange(const std::string& root, const std::string& path, syscalls::Access access);

  // At the end of the run (the tree is gone): each file created, changed or removed, in the
  // order first noted, hashed and (--collect) copied. Once.
  std::vector<report::Artifact> Finish();

  // Names not tracked because a bound was reached (the result says so).
  std::size_t untracked() const { return untracked_; }
  // Why the --collect directory's index.json could not be written, or "".
  const std::string& collect_error() const { return collect_error_; }

 private:
  struct Before {
    bool existed = false;
    struct stat st {};
  };
  struct Entry {
    std::shared_ptr<base::UniqueFd> dir;
    std::string name;     // raw
    std::string display;  // the path, escaped
    Before before;
    bool removed = false;
  };
  struct ImageKey {
    dev_t dev;
    ino_t ino;
    off_t size;
    std::int64_t mtime_ns, ctime_ns;
    auto operator<=>(const ImageKey&) const = default;
  };
  report::Artifact Describe(int fd, const std::string& display, std::string kind);
  report::Artifact Dropped(Entry& e);
  void Collect(int fd, const struct stat& st, report::Artifact& a);
  void WriteIndex(const std::vector<report::Artifact>& dropped);

  ArtifactOptions options_;
  std::map<std::pair<dev_t, ino_t>, std::shared_ptr<base::UniqueFd>> dirs_;
  std::map<std::tuple<dev_t, ino_t, std::string>, std::size_t> index_;  // into entries_
  std::vector<Entry> entries_;
  std::map<ImageKey, report::Artifact> images_;  // hashes already taken, by file state
  std::size_t untracked_ = 0;
  std::uint64_t collected_bytes_ = 0;
  unsigned partials_ = 0;
  std::string collect_error_;
};

}  // namespace tracer
