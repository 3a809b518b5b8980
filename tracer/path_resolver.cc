#include "tracer/path_resolver.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

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
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) tmp.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
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

// The link a per-reader /proc entry would have for the tracee, or empty.
std::string ProcSelfTarget(const std::string& candidate, pid_t pid, pid_t tid) {
  if (candidate == "/proc/self") return std::to_string(pid);
  if (candidate == "/proc/thread-self") {
    return std::to_string(pid) + "/task/" + std::to_string(tid);
  }
  return {};
}

}  // namespace

ResolveResult ResolvePath(pid_t pid, pid_t tid, int dirfd, std::string_view path, bool follow_last,
                          bool empty_path_ok, const ResolveView* view) {
  ResolveResult result;
  const std::string no_root;
  const std::string& root = view != nullptr ? view->root : no_root;
  pid_t self_pid = view != nullptr && view->self_pid != 0 ? view->self_pid : pid;
  pid_t self_tid = view != nullptr && view->self_tid != 0 ? view->self_tid : tid;
  std::string task = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
  std::string resolved = "/";
  std::deque<std::string> pending;

  // "link/" names the directory the link points to: the kernel follows it whatever the flags.
  if (!path.empty() && path.back() == '/') follow_last = true;
  if (path.empty() && !empty_path_ok) {
    result.error = ENOENT;
    return result;
  }
  if (path.empty() || path[0] != '/') {
    std::string base;
    std::string link = dirfd == AT_FDCWD ? task + "/cwd" : task + "/fd/" + std::to_string(dirfd);
    if (!ReadLink(link, base)) {
      result.error = dirfd == AT_FDCWD ? ENOENT : EBADF;
      return result;
    }
    if (base.empty() || base[0] != '/') {
      if (path.empty()) {  // AT_EMPTY_PATH on an anonymous object (memfd, pipe)
        result.path = base;
        return result;
      }
      result.error = ENOTDIR;
      return result;
    }
    Split(base, pending, false);
  }
  Split(path, pending, false);

  int links = 0;
  while (!pending.empty()) {
    std::string comp = std::move(pending.front());
    pending.pop_front();
    if (comp == ".") continue;
    if (comp == "..") {
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
        // Does not exist (yet) or cannot be examined: the rest is taken lexically.
        resolved = std::move(candidate);
        while (!pending.empty()) {
          std::string rest = std::move(pending.front());
          pending.pop_front();
          if (rest == "." || rest.empty()) continue;
          if (rest == "..") {
            PopComponent(resolved);
          } else {
            resolved = Join(resolved, rest);
          }
        }
        break;
      }
      if (!S_ISLNK(st.st_mode)) {
        resolved = std::move(candidate);
        continue;
      }
      if (!ReadLink(root + candidate, target)) {
        resolved = std::move(candidate);
        continue;
      }
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
      resolved = "/";
    } else if (candidate.starts_with("/proc/") && target.find(':') != std::string::npos &&
               target.find('/') == std::string::npos) {
      // A magic link to an anonymous object (pipe:[12], anon_inode:[eventfd]).
      if (!pending.empty()) {
        result.error = ENOTDIR;
        return result;
      }
      result.path = target;
      return result;
    }
    Split(target, pending, true);
  }
  result.path = std::move(resolved);
  return result;
}

}  // namespace tracer
