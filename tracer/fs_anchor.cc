#include "tracer/fs_anchor.h"

#include <fcntl.h>
#include <linux/openat2.h>

#include <fmt/format.h>

#include "tracer/decode.h"

namespace tracer {
namespace {

// The last component of a path as written ("a/b/" -> "b", "a/." -> ".").
std::string_view LastComponent(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::size_t cut = path.find_last_of('/');
  return cut == std::string_view::npos ? path : path.substr(cut + 1);
}

}  // namespace

AnchorPlan PlanAnchors(const DecodedCall& call) {
  AnchorPlan plan;
  if (call.row == nullptr || call.row->kind != Kind::kPaths ||
      (call.row->group != Group::kMutate && call.row->group != Group::kStat)) {
    return plan;
  }
  const SyscallRow& row = *call.row;
  if (row.name == "inotify_add_watch" && call.request.path_count > 0) {
    // Its IN_DONT_FOLLOW is not modelled (the check always follows a final symlink): anchoring
    // the followed object would watch another inode than the kernel would.
    plan.why_not = "inotify_add_watch is not anchored";
    return plan;
  }
  for (int n = 0; n < call.request.path_count; ++n) {
    int arg = ArgOf(row, Role::kPath, n);
    if (arg < 0) break;  // a descriptor-based change (fchmod, ftruncate): nothing to walk
    if (call.args[static_cast<std::size_t>(arg)] == 0) continue;  // utimensat(fd, NULL)
    const DecodedPath& p = call.paths[static_cast<std::size_t>(n)];
    const std::string& walk = p.resolved.walk;
    if (walk.empty() || walk.front() != '/') {
      plan.anchors.clear();
      plan.why_not = p.resolved.unpinnable.empty() ? "the path has no checked walk to anchor"
                                                   : p.resolved.unpinnable;
      return plan;
    }
    FsAnchor a;
    a.arg = arg;
    a.trailing_slash = p.raw.size() > 1 && p.raw.back() == '/';
    std::size_t cut = walk.find_last_of('/');
    std::string name = walk.substr(cut + 1);
    std::string_view last = LastComponent(p.raw);
    if (!p.follow && (a.trailing_slash || last == "." || last == "..")) {
      // The kernel gives such a final name meanings of its own (a trailing slash follows a
      // symlink, "." and ".." are refused): the call runs on its pinned path as written.
      plan.anchors.clear();
      plan.why_not = "a final name ending in \"/\", \".\" or \"..\" is not anchored";
      return plan;
    }
    if (p.follow || name.empty()) {
      // The object itself: its final symlink was resolved by the check (the kernel would follow
      // it), and a symlink put there since must not be followed. "/" has no directory above it.
      a.object = true;
      a.open_path = walk;
    } else {
      a.open_path = cut == 0 ? "/" : walk.substr(0, cut);
      a.name = std::move(name);
    }
    if (a.open_path.size() >= kMaxAnchoredPath ||
        AnchoredPath(999999, a).size() >= kMaxAnchoredPath) {
      plan.anchors.clear();
      plan.why_not = "the anchored path would be longer than PATH_MAX";
      return plan;
    }
    plan.anchors.push_back(std::move(a));
  }
  return plan;
}

OpenHowWords AnchorHow(const FsAnchor& anchor) {
  OpenHowWords how;
  how.flags = O_PATH | O_CLOEXEC | (anchor.object ? 0 : O_DIRECTORY);
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return how;
}

std::string AnchoredPath(int fd, const FsAnchor& anchor) {
  std::string path = fmt::format("/proc/thread-self/fd/{}", fd);
  if (!anchor.object) path += "/" + anchor.name;
  if (anchor.trailing_slash) path += "/";
  return path;
}

}  // namespace tracer
