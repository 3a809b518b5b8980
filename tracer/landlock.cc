#include "tracer/landlock.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/unique_fd.h"

namespace tracer {
namespace {

using policy::Access;

struct KindRights {
  Access access;
  std::uint64_t rights;
};

constexpr std::array<KindRights, 5> kKinds{{
    {Access::kRead, landlock::kReadFile | landlock::kReadDir},
    {Access::kWrite, landlock::kWriteFile | landlock::kTruncate},
    {Access::kCreate, landlock::kMakeChar | landlock::kMakeDir | landlock::kMakeReg |
                          landlock::kMakeSock | landlock::kMakeFifo | landlock::kMakeBlock |
                          landlock::kMakeSym | landlock::kRefer},
    {Access::kDelete, landlock::kRemoveDir | landlock::kRemoveFile | landlock::kRefer},
    {Access::kExec, landlock::kExecute},
}};

// Pseudo filesystems whose entries come and go with processes and devices: never split.
bool Unsplittable(const std::string& dir) {
  for (std::string_view top : {"/proc", "/sys", "/dev"}) {
    if (dir == top || (dir.starts_with(top) && dir.size() > top.size() && dir[top.size()] == '/')) {
      return true;
    }
  }
  return false;
}

bool Under(const std::string& path, const std::string& dir) {
  if (dir == "/") return path != "/";
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

class Planner {
 public:
  Planner(const policy::Policy& policy, const FsView& fs, LandlockPlan& plan)
      : policy_(policy), fs_(fs), plan_(plan) {}

  void Kind(const KindRights& kind, std::uint64_t rights) {
    auto allowed = [&](const std::string& p) {
      return policy_.DecidePathAccess(p, kind.access).action == policy::Action::kAllow;
    };
    std::set<std::string> roots{"/"}, wild_roots;
    std::set<std::string> excluded;
    for (const auto& rule : policy_.path_rules) {
      if (!Any(rule.access & kind.access)) continue;
      if (rule.verdict.action == policy::Action::kAllow) {
        // A wildcard allow ("/work/*.py") is granted its anchor directory: wider than the rule,
        // which the tracer keeps exact, but never narrower.
        (rule.pattern.is_literal() ? roots : wild_roots).insert(rule.pattern.anchor());
        continue;
      }
      if (rule.pattern.is_literal()) {
        if (!allowed(rule.pattern.text())) excluded.insert(rule.pattern.text());
        continue;
      }
      const std::string& anchor = rule.pattern.anchor();
      if (Unsplittable(anchor)) continue;
      if (auto entries = fs_.list(anchor)) {
        for (const auto& e : *entries) {
          std::string p = Join(anchor, e);
          if (!allowed(p)) excluded.insert(p);
        }
      }
    }
    excluded_ = std::move(excluded);
    for (const auto& root : roots) {
      if (allowed(root) && fs_.exists(root)) Root(root, rights);
    }
    for (const auto& root : wild_roots) {
      if (fs_.exists(root)) Root(root, rights);
    }
  }

  void ExecInterpreters() {
    std::vector<std::string> extra;
    for (const auto& [path, rights] : grants_) {
      if ((rights & landlock::kExecute) == 0) continue;
      std::string interp = fs_.interpreter(path);
      for (int depth = 0; !interp.empty() && depth < 4; ++depth) {  // #! chains are short
        extra.push_back(interp);
        interp = fs_.interpreter(interp);
      }
    }
    for (const auto& p : extra) grants_[p] |= landlock::kExecute | landlock::kReadFile;
  }

  void Finish() {
    for (auto& [path, rights] : grants_) plan_.grants.push_back({path, rights});
  }

 private:
  // Every grant, made or still to be made, holds one slot of the kMaxGrants budget.
  void Root(const std::string& dir, std::uint64_t rights) {
    ++planned_;
    Grant(dir, rights);
  }

  void Grant(const std::string& dir, std::uint64_t rights) {
    if (excluded_.count(dir) != 0) return;
    bool has_exclusion = std::any_of(excluded_.begin(), excluded_.end(),
                                     [&](const std::string& e) { return Under(e, dir); });
    if (!has_exclusion) {
      grants_[dir] |= rights;
      return;
    }
    if (Unsplittable(dir)) {
      grants_[dir] |= rights;
      Note(fmt::format("denials under {} are enforced by the tracer only", dir));
      return;
    }
    auto entries = fs_.list(dir);
    if (entries && planned_ - 1 + entries->size() > kMaxGrants) entries.reset();
    if (!entries) {
      grants_[dir] |= rights;
      Note(
          fmt::format("{} could not be split (unlistable or over {} grants): denials inside it "
                      "are enforced by the tracer only",
                      dir, kMaxGrants));
      return;
    }
    planned_ += entries->size() - 1;  // this directory's slot goes to its entries
    for (const auto& e : *entries) Grant(Join(dir, e), rights);
  }

  void Note(std::string note) {
    if (std::find(plan_.notes.begin(), plan_.notes.end(), note) == plan_.notes.end()) {
      plan_.notes.push_back(std::move(note));
    }
  }

  const policy::Policy& policy_;
  const FsView& fs_;
  LandlockPlan& plan_;
  std::set<std::string> excluded_;
  std::map<std::string, std::uint64_t> grants_;
  std::size_t planned_ = 0;
};

std::string ElfInterpreter(int fd) {
  Elf64_Ehdr eh{};
  if (pread(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh)) return {};
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return {};
  }
  for (unsigned i = 0; i < eh.e_phnum && i < 64; ++i) {
    Elf64_Phdr ph{};
    off_t off = static_cast<off_t>(eh.e_phoff + i * static_cast<std::uint64_t>(eh.e_phentsize));
    if (pread(fd, &ph, sizeof ph, off) != static_cast<ssize_t>(sizeof ph)) return {};
    if (ph.p_type != PT_INTERP || ph.p_filesz == 0 || ph.p_filesz > 4096) continue;
    std::string interp(ph.p_filesz, '\0');
    if (pread(fd, interp.data(), interp.size(), static_cast<off_t>(ph.p_offset)) !=
        static_cast<ssize_t>(interp.size())) {
      return {};
    }
    interp.resize(std::strlen(interp.c_str()));
    return interp;
  }
  return {};
}

std::string ShebangInterpreter(int fd) {
  char buf[256];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n < 3 || buf[0] != '#' || buf[1] != '!') return {};
  std::string_view line(buf + 2, static_cast<std::size_t>(n - 2));
  line = line.substr(0, line.find('\n'));
  std::size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  line = line.substr(start);
  return std::string(line.substr(0, line.find_first_of(" \t")));
}

}  // namespace

FsView RealFsView() {
  FsView fs;
  fs.list = [](const std::string& dir) -> std::optional<std::vector<std::string>> {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return std::nullopt;
    std::vector<std::string> out;
    while (dirent* e = readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") out.emplace_back(name);
    }
    closedir(d);
    std::sort(out.begin(), out.end());
    return out;
  };
  fs.exists = [](const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0;
  };
  fs.interpreter = [](const std::string& path) -> std::string {
    base::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return {};
    std::string interp = ElfInterpreter(fd.get());
    return interp.empty() ? ShebangInterpreter(fd.get()) : interp;
  };
  return fs;
}

LandlockPlan PlanLandlock(const policy::Policy& policy, int abi, const FsView& fs) {
  LandlockPlan plan;
  std::uint64_t supported = (landlock::kMakeSym << 1) - 1;  // ABI 1
  if (abi >= 2) supported |= landlock::kRefer;
  if (abi >= 3) supported |= landlock::kTruncate;
  Planner planner(policy, fs, plan);
  for (const auto& kind : kKinds) {
    std::uint64_t rights = kind.rights & supported;
    plan.handled |= rights;
    planner.Kind(kind, rights);
  }
  planner.ExecInterpreters();
  planner.Finish();
  return plan;
}

int LandlockAbi(std::string& why_not) {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi > 0) return static_cast<int>(abi);
  why_not = errno == ENOSYS ? "this kernel was built without Landlock (CONFIG_SECURITY_LANDLOCK)"
            : errno == EOPNOTSUPP
                ? "Landlock is disabled at boot (add landlock to the lsm= list)"
                : fmt::format("landlock_create_ruleset: {}", std::strerror(errno));
  return 0;
}

}  // namespace tracer
