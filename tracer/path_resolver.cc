#include "tracer/path_resolver.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

#include "base/path.h"

namespace tracer {
namespace {

constexpr int kMaxSymlinks = 40;  // fs/namei.c MAXSYMLINKS

bool ReadLink(const std::string& path, std::string& out) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return false;
  out.assign(buf, static_cast<std::size_t>(n));
  return true;
}

void Split(std::string_view path, std::deque<std::string>& parts, bool front) {
  std::deque<std::string> tmp;
  for (std::string_view part : base::SplitPath(path)) tmp.emplace_back(part);
  if (front) {
    parts.insert(parts.begin(), tmp.begin(), tmp.end());
  } else {
    parts.insert(parts.end(), tmp.begin(), tmp.end());
  }
}

void PopComponent(std::string& resolved) {
  std::size_t slash = resolved.rfind('/');
  resolved.resize(slash == 0 ? 1 : slash);
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// The original path asks for a directory ("x/", "x/.", "x/.."): the pinned copy must too.
bool NamesDirectory(std::string_view path) {
  return path.ends_with("/") || path == "." || path == ".." || path.ends_with("/.") ||
         path.ends_with("/..");
}

// The link a per-reader /proc entry would have for the tracee, or empty.
std::string ProcSelfTarget(const std::string& candidate, pid_t pid, pid_t tid) {
  if (candidate == "/proc/self") return std::to_string(pid);
  if (candidate == "/proc/thread-self") {
    return std::to_string(pid) + "/task/" + std::to_string(tid);
  }
  return {};
}

}  // namespace

pid_t ProcPidOf(std::string_view path) {
  if (!path.starts_with("/proc/")) return 0;
  std::size_t end = path.find('/', 6);
  if (end == std::string_view::npos) return 0;  // "/proc/PID" itself is a directory
  std::string_view digits = path.substr(6, end - 6);
  if (digits.empty() || digits.size() > 9) return 0;
  pid_t pid = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

ResolveResult ResolvePath(pid_t pid, pid_t tid, int dirfd, std::string_view path,
                          LastLink last_link, EmptyPath empty, const ResolveView* view,
                          std::uint64_t resolve) {
  bool follow_last = last_link == LastLink::kFollow;
  const bool empty_path_ok = empty == EmptyPath::kNamesDirfd;
  ResolveResult result;
  const std::string no_root;
  const std::string& root = view != nullptr ? view->root : no_root;
  pid_t self_pid = view != nullptr && view->self_pid != 0 ? view->self_pid : pid;
  pid_t self_tid = view != nullptr && view->self_tid != 0 ? view->self_tid : tid;
  std::string task = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
  std::string resolved = "/";
  std::deque<std::string> pending;
  // openat2's RESOLVE_BENEATH / RESOLVE_IN_ROOT: the walk is scoped to the dirfd, which is then
  // `top` ("/" otherwise). BENEATH fails with EXDEV where the walk would leave it; IN_ROOT
  // treats it as "/" (absolute paths and symlinks start there, ".." stops there).
  const bool beneath = (resolve & RESOLVE_BENEATH) != 0;
  const bool in_root = (resolve & RESOLVE_IN_ROOT) != 0;
  const bool no_symlinks = (resolve & RESOLVE_NO_SYMLINKS) != 0;
  const bool no_magiclinks = no_symlinks || (resolve & RESOLVE_NO_MAGICLINKS) != 0;
  const bool scoped = beneath || in_root;
  std::string top = "/";
  std::string base_dir;  // the cwd or dirfd a relative path starts from

  // "link/" names the directory the link points to: the kernel follows it whatever the flags.
  if (!path.empty() && path.back() == '/') follow_last = true;
  if (path.empty() && !empty_path_ok) {
    result.error = ENOENT;
    return result;
  }
  if (beneath && !path.empty() && path[0] == '/') {
    result.error = EXDEV;
    return result;
  }
  if (path.empty() || path[0] != '/' || scoped) {
    std::string base;
    std::string link = dirfd == AT_FDCWD ? task + "/cwd" : task + "/fd/" + std::to_string(dirfd);
    // The link's text is only a name: a deleted directory reads "/d (deleted)", an O_PATH fd
    // on a symlink reads as the symlink, and another thread may change a shared cwd (or dup2
    // over the dirfd) while we look. So take hold of the directory itself first (an O_PATH fd
    // of ours, which nobody else can change), read its name from that, and walk from the name
    // only if the name still leads to the same directory.
    if (path.empty()) {  // AT_EMPTY_PATH: the fd itself, not a walk from its name
      if (!ReadLink(link, base)) {
        result.error = dirfd == AT_FDCWD ? ENOENT : EBADF;
        return result;
      }
      if (base.empty() || base[0] != '/') {  // an anonymous object (memfd, pipe)
        result.path = base;
        return result;
      }
    } else if (struct stat dir_st{}, name_st{};
               stat(link.c_str(), &dir_st) == 0 && S_ISDIR(dir_st.st_mode) &&
               ReadLink(link, base) && !base.empty() && base[0] == '/' &&
               lstat((root + base).c_str(), &name_st) == 0 && name_st.st_dev == dir_st.st_dev &&
               name_st.st_ino == dir_st.st_ino) {
      // The common case, in three syscalls: the directory the link led to (stat follows it),
      // its name, and that name leading to the same directory now. A live inode's number is
      // unique, so the name reaches exactly that directory. Whatever disagrees (a deleted
      // directory, a symlink, a descriptor or cwd changed between the calls) takes the careful
      // path below, which decides it.
    } else {
      int held = open(link.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (held < 0) {
        result.error = errno == ENOTDIR ? ENOTDIR : dirfd == AT_FDCWD ? ENOENT : EBADF;
        return result;
      }
      struct stat real {
      }, named{};
      bool named_ok = ReadLink("/proc/self/fd/" + std::to_string(held), base);
      int read_errno = errno;
      bool same = named_ok && fstat(held, &real) == 0 && !base.empty() && base[0] == '/' &&
                  lstat((root + base).c_str(), &named) == 0 && named.st_dev == real.st_dev &&
                  named.st_ino == real.st_ino;
      close(held);
      if (!named_ok && read_errno == ENAMETOOLONG) {
        result.error = ENAMETOOLONG;  // deeper than PATH_MAX: no name the tracer could check
        return result;
      }
      if (!same) {
        result.error = ENOENT;  // deleted or moved: no name to check the walk against
        return result;
      }
    }
    resolved = base;  // the kernel's name for the directory: absolute and canonical
    base_dir = base;
    if (scoped) top = base;
  }
  Split(path, pending, false);
  auto at_top = [&] { return resolved.size() <= top.size(); };

  int links = 0;
  bool resolved_is_dir = true;  // ".." after a file fails with ENOTDIR in the kernel
  std::string pin_at_last;      // the final symlink's own path, when it is followed
  while (!pending.empty()) {
    std::string comp = std::move(pending.front());
    pending.pop_front();
    if (comp == ".") continue;
    if (comp == "..") {
      if (!resolved_is_dir) {
        result.error = ENOTDIR;
        return result;
      }
      if (at_top()) {
        if (beneath) {
          result.error = EXDEV;
          return result;
        }
        continue;  // ".." of the root is the root
      }
      PopComponent(resolved);
      continue;
    }
    std::string candidate = Join(resolved, comp);
    bool last = pending.empty();
    std::string target = ProcSelfTarget(candidate, self_pid, self_tid);
    if (target.empty()) {
      if (last && !follow_last) {
        resolved = std::move(candidate);
        break;
      }
      struct stat st {};
      if (lstat((root + candidate).c_str(), &st) != 0) {
        // Does not exist (yet) or cannot be examined: the rest is taken lexically, except
        // that the kernel cannot go back up (or further down) through a missing directory.
        int missing = errno;
        resolved = std::move(candidate);
        if (!pending.empty() && (missing == ENOENT || missing == ENOTDIR)) {
          result.error = missing;
          return result;
        }
        break;
      }
      if (!S_ISLNK(st.st_mode)) {
        resolved = std::move(candidate);
        resolved_is_dir = S_ISDIR(st.st_mode);
        continue;
      }
      if (pid_t owner = ProcPidOf(candidate); owner != 0) {
        // /proc/PID/{fd/N,cwd,root,exe,...}: a magic link.
        if (scoped || no_magiclinks) {
          result.error = scoped ? EXDEV : ELOOP;
          return result;
        }
        if (result.magic_pid == 0) result.magic_pid = owner;
      }
      if (last && pin_at_last.empty()) pin_at_last = candidate;
      if (!ReadLink(root + candidate, target)) {
        resolved = std::move(candidate);
        continue;
      }
    }
    if (no_symlinks) {
      result.error = ELOOP;
      return result;
    }
    if (++links > kMaxSymlinks) {
      result.error = ELOOP;
      return result;
    }
    if (target.empty()) {
      result.error = ENOENT;
      return result;
    }
    if (target[0] == '/') {
      if (beneath) {
        result.error = EXDEV;
        return result;
      }
      resolved = top;
    } else if (candidate.starts_with("/proc/") && target.find(':') != std::string::npos &&
               target.find('/') == std::string::npos) {
      // A magic link to an anonymous object (pipe:[12], anon_inode:[eventfd]).
      if (!pending.empty()) {
        result.error = ENOTDIR;
        return result;
      }
      result.path = target;
      result.unpinnable = "an anonymous object reached through /proc";
      return result;
    }
    Split(target, pending, true);
  }
  result.path = std::move(resolved);
  if (path.empty()) {
    result.unpinnable = "a file descriptor (AT_EMPTY_PATH): another thread can dup2 over it";
  } else if (result.magic_pid != 0) {
    result.unpinnable = "a /proc/PID magic link: another thread can change what it points to";
  } else if ((resolve & RESOLVE_NO_XDEV) != 0) {
    // From "/" the walk would cross other mounts than from the dirfd: keep the caller's walk.
    result.unpinnable = "RESOLVE_NO_XDEV keeps the walk relative to the dirfd";
  } else {
    // Scoped walks were checked here: the kernel gets the final path, symlinks forbidden.
    std::string pin = pin_at_last.empty() || scoped ? result.path : pin_at_last;
    if (NamesDirectory(path) && pin != "/") pin += '/';
    std::string walk = result.path;
    if (NamesDirectory(path) && walk != "/") walk += '/';
    // A final "." or ".." means something to rmdir, rename and mkdir (EINVAL, EBUSY): keep it,
    // after the pinned form of what precedes it.
    std::string_view trimmed = path.substr(0, path.find_last_not_of('/') + 1);
    std::string_view last = trimmed.substr(trimmed.rfind('/') + 1);
    if (!scoped && (last == "." || last == "..")) {
      std::string_view prefix = trimmed.substr(0, trimmed.size() - last.size());
      if (prefix.empty()) {
        pin = base_dir == "/" ? "/" + std::string(last) : base_dir + "/" + std::string(last);
      } else {
        ResolveResult before = ResolvePath(pid, tid, dirfd, prefix, LastLink::kFollow,
                                           EmptyPath::kRefuse, view, resolve);
        pin = before.pin.empty() ? std::string() : before.pin + std::string(last);
        if (!before.pin.empty() && !before.pin.ends_with('/'))
          pin = before.pin + "/" + std::string(last);
      }
    }
    if (!pin.empty() && pin.size() < PATH_MAX && walk.size() < PATH_MAX) {
      result.pin = std::move(pin);
      result.walk = std::move(walk);
    } else {
      result.unpinnable = "a path whose absolute form is longer than PATH_MAX";
    }
  }
  return result;
}

}  // namespace tracer
