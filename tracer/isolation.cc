#include "tracer/isolation.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <linux/capability.h>

#include "policy/capabilities.h"
#include "tracer/landlock.h"
#include "tracer/userns.h"

namespace tracer {
namespace {

using policy::LimitKind;
using policy::Namespace;

// 0 when unshare(flags) works in a fresh single-threaded child, else its errno.
int ProbeUnshare(int flags) {
  pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) _exit(unshare(flags) == 0 ? 0 : (errno & 0xff));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINVAL;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Mount points of this process, in mountinfo order (parents before children).
std::vector<std::string> MountPoints() {
  std::vector<std::string> out;
  std::istringstream in(ReadFile("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mp;
    if (!(f >> id >> parent >> dev >> root >> mp)) continue;
    std::string unescaped;
    for (std::size_t i = 0; i < mp.size(); ++i) {
      if (mp[i] == '\\' && i + 3 < mp.size()) {
        unescaped += static_cast<char>(std::stoi(mp.substr(i + 1, 3), nullptr, 8));
        i += 3;
      } else {
        unescaped += mp[i];
      }
    }
    out.push_back(unescaped);
  }
  return out;
}

// The MS_* flags a bind remount must repeat (the kernel refuses to drop locked ones).
unsigned long KeptFlags(const std::string& mount_point) {
  struct statvfs sv {};
  if (statvfs(mount_point.c_str(), &sv) != 0) return 0;
  unsigned long keep = 0;
  for (auto [st, ms] :
       {std::pair{ST_NOSUID, MS_NOSUID}, std::pair{ST_NODEV, MS_NODEV},
        std::pair{ST_NOEXEC, MS_NOEXEC}, std::pair{ST_NOATIME, MS_NOATIME},
        std::pair{ST_NODIRATIME, MS_NODIRATIME}, std::pair{ST_RELATIME, MS_RELATIME}}) {
    if ((sv.f_flag & st) != 0) keep |= ms;
  }
  return keep;
}

bool PolicyAllowsInet(const policy::Policy& p) {
  return std::any_of(p.families.begin(), p.families.end(),
                     [](int f) { return f == AF_INET || f == AF_INET6; });
}

bool KillsOnViolation(const policy::Policy& p) {
  auto kills = [](policy::Action a) { return a == policy::Action::kKill; };
  return kills(p.path_default.verdict.action) || kills(p.net_default.verdict.action) ||
         kills(p.family_default.verdict.action);
}

std::string LimitText(LimitKind k, std::uint64_t v) {
  const auto& info = policy::InfoOf(k);
  return fmt::format("{} {}", info.key, policy::FormatLimit(info.unit, v));
}

class Builder {
 public:
  Builder(const policy::Policy& p, const IsolationOptions& o, Sandbox& sb, PreparedIsolation& iso)
      : p_(p), o_(o), sb_(sb), iso_(iso) {}

  void Layer(std::string layer, std::string state, std::string detail) {
    iso_.layers.push_back({std::move(layer), std::move(state), std::move(detail)});
  }

  // A required layer is missing: fail, or record it as degraded.
  void Missing(const std::string& layer, const std::string& why, const std::string& fix) {
    if (!o_.allow_degraded) {
      throw IsolationError(
          fmt::format("the policy asks for {} but this machine cannot provide it: {}. {} (or pass "
                      "--allow-degraded to run without it; the result will list it as degraded)",
                      layer, why, fix));
    }
    iso_.warnings.push_back(fmt::format("{} is NOT active: {}", layer, why));
    Layer(layer, "degraded", why);
  }

  void Rlimits() {
    const policy::Limits& l = p_.limits;
    sb_.rlimits.push_back({RLIMIT_CORE, rlimit{0, 0}});
    std::vector<std::string> details;
    if (auto cpu = l.Get(LimitKind::kCpu)) {
      rlim_t s = static_cast<rlim_t>((*cpu + 999) / 1000);
      sb_.rlimits.push_back({RLIMIT_CPU, rlimit{s, s + 1}});
      details.push_back(LimitText(LimitKind::kCpu, *cpu));
    }
    if (auto f = l.Get(LimitKind::kFileSize)) {
      sb_.rlimits.push_back({RLIMIT_FSIZE, rlimit{*f, *f}});
      details.push_back(LimitText(LimitKind::kFileSize, *f));
    }
    if (auto n = l.Get(LimitKind::kOpenFiles)) {
      // A hard limit already below the policy's is kept: lower is stricter, and raising it
      // may not be allowed (it needs CAP_SYS_RESOURCE), which would fail the run for nothing.
      rlim_t want = static_cast<rlim_t>(*n);
      rlimit now{};
      std::string clamped;
      if (getrlimit(RLIMIT_NOFILE, &now) == 0 && now.rlim_max != RLIM_INFINITY &&
          now.rlim_max < want) {
        want = now.rlim_max;
        clamped = fmt::format(" (clamped to the hard limit {} tracejail was started with)", want);
      }
      sb_.rlimits.push_back({RLIMIT_NOFILE, rlimit{want, want}});
      details.push_back(LimitText(LimitKind::kOpenFiles, *n) + clamped);
    } else {
      // tracejail raised its own soft limit (RaiseOwnFileLimit): the command gets the one
      // tracejail was started with, as it would natively.
      sb_.rlimits.push_back({RLIMIT_NOFILE, RaiseOwnFileLimit()});
    }
    std::string d = "core dumps off";
    for (const auto& x : details) d += ", " + x;
    Layer("rlimits", "active", d);
  }

  void Cgroups() {
    const policy::Limits& l = p_.limits;
    auto mem = l.Get(LimitKind::kMemory);
    auto procs = l.Get(LimitKind::kProcesses);
    if (!mem && !procs && !p_.isolation.cgroups_required) {
      Layer("cgroup", "off", "no memory or process limit");
      return;
    }
    std::string why;
    iso_.cgroup = Cgroup::Create({mem, procs}, why);
    if (iso_.cgroup) {
      std::string d = iso_.cgroup->Describe();
      if (mem) d += ", " + LimitText(LimitKind::kMemory, *mem);
      if (procs) d += ", " + LimitText(LimitKind::kProcesses, *procs);
      Layer("cgroup", "active", d);
      Cgroup* cg = iso_.cgroup.get();
      sb_.before_release = [cg](pid_t pid) {
        std::string e = cg->Attach(pid);
        return e.empty() ? e : "cannot move the command into its cgroup: " + e;
      };
      return;
    }
    if (p_.isolation.cgroups_required && !o_.allow_degraded) {
      Missing("cgroup", why,
              geteuid() == 0
                  ? "Mount cgroup v2 with the memory and pids controllers delegated to "
                    "tracejail, or cgroup v1 memory and pids hierarchies, and run as root."
                  : "Run tracejail in a cgroup delegated to this user (cgroup v2: systemd-run "
                    "--user --scope -p Delegate=yes; v1: memory and pids directories it owns), "
                    "or as root.");
    }
    // The fallback: per-process rlimits, weaker and said so.
    std::string fallback;
    if (mem) {
      sb_.rlimits.push_back({RLIMIT_AS, rlimit{*mem, *mem}});
      fallback += fmt::format("memory via RLIMIT_AS per process (address space, not the tree)");
    }
    if (procs) {
      sb_.rlimits.push_back({RLIMIT_NPROC, rlimit{*procs, *procs}});
      fallback += std::string(fallback.empty() ? "" : "; ") +
                  "processes via RLIMIT_NPROC (per user" +
                  (geteuid() == 0 ? ", and ignored for root" : "") + ")";
    }
    iso_.warnings.push_back(
        fmt::format("no usable cgroup ({}); falling back to {}", why, fallback));
    Layer("cgroup", "degraded", fmt::format("{}; fallback: {}", why, fallback));
  }

  // An unprivileged caller gets the namespaces that need privilege (mount, pid, net, uts) only
  // inside a user namespace of its own, as bwrap and nsjail do: tracejail creates one when the
  // policy asks for any of them. The IPC namespace alone does not make one (a user namespace
  // shows root's files as nobody's, which trips programs that check ownership, such as ssh).
  // Root never needs it. Returns CLONE_NEWUSER when the user namespace is made for this reason.
  int RootlessUserNamespace(int wanted) {
    const int needs_privilege = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS;
    if (geteuid() == 0 || p_.isolation.Has(Namespace::kUser) || (wanted & needs_privilege) == 0) {
      return 0;
    }
    int e = ProbeUnshare(CLONE_NEWUSER);
    if (e != 0) {
      Missing("namespace:user",
              fmt::format("tracejail runs as uid {}, and an unprivileged caller gets the other "
                          "namespaces only in a user namespace of its own, but "
                          "unshare(CLONE_NEWUSER) fails: {}",
                          geteuid(), std::strerror(e)),
              UserNamespaceFix(ReadUserNsSysctls(), e) + ".");
      return 0;
    }
    Layer("namespace:user", "active",
          "made for an unprivileged caller: it gives the other namespaces; no capability it "
          "holds reaches outside it");
    return CLONE_NEWUSER;
  }

  void Namespaces() {
    const policy::IsolationWanted& want = p_.isolation;
    int flags = 0;
    // One probe for the whole set; only when it fails is each namespace probed on its own, to
    // say which one is missing.
    int wanted = 0;
    for (const auto& info : policy::kNamespaceInfo) {
      if (want.Has(info.ns) && !(info.ns == Namespace::kNet && PolicyAllowsInet(p_))) {
        wanted |= info.clone_flag;
      }
    }
    const int rootless = RootlessUserNamespace(wanted);
    const int user = rootless | (want.Has(Namespace::kUser) ? CLONE_NEWUSER : 0);
    flags |= rootless;
    bool all_ok = wanted != 0 && ProbeUnshare(wanted | user) == 0;
    for (const auto& info : policy::kNamespaceInfo) {
      std::string layer = fmt::format("namespace:{}", info.name);
      if (!want.Has(info.ns)) continue;
      if (info.ns == Namespace::kNet && PolicyAllowsInet(p_)) {
        Layer(layer, "off", "the policy allows inet sockets, so the host network stays visible");
        continue;
      }
      int e = all_ok ? 0 : ProbeUnshare(info.clone_flag | user);
      if (e != 0 && info.ns == Namespace::kIpc && geteuid() != 0 && user == 0) {
        // The IPC namespace keeps a root command away from every System V and POSIX IPC object
        // of the host. Unprivileged, the command reaches only what the objects' permissions
        // give its user, as that user could natively: the layer is off, and says why.
        Layer(layer, "off",
              fmt::format("unshare(CLONE_NEWIPC) needs root here ({}); other users' IPC objects "
                          "are protected by their permissions",
                          std::strerror(e)));
        continue;
      }
      if (e != 0) {
        std::string fix;
        if (info.ns == Namespace::kUser) {
          fix = UserNamespaceFix(ReadUserNsSysctls(), e) + ".";
        } else if (geteuid() != 0 && user != 0) {
          fix =
              "The kernel refuses it even inside tracejail's own user namespace (a "
              "container's seccomp filter or a security module may forbid it): run tracejail "
              "as root.";
        } else {
          fix = "Run tracejail as root or inside a user namespace.";
        }
        Missing(layer, fmt::format("unshare({}) fails: {}", info.flag_name, std::strerror(e)), fix);
        continue;
      }
      flags |= info.clone_flag;
      Layer(layer, "active", "");
    }
    // A disk limit needs a tmpfs, which needs a mount namespace of its own.
    auto disk = p_.limits.Get(LimitKind::kDisk);
    if (disk && !o_.workdir.empty() && (flags & CLONE_NEWNS) == 0) {
      if (ProbeUnshare(CLONE_NEWNS | user) == 0) {
        flags |= CLONE_NEWNS;
      } else {
        iso_.warnings.push_back(
            "the disk limit is NOT enforced: a private mount namespace for the work dir's tmpfs "
            "is not available here (run as root)");
      }
    }
    if (flags == CLONE_NEWUSER && rootless != 0) {  // no other namespace came with it
      flags = 0;
      for (auto& l : iso_.layers) {
        if (l.layer == "namespace:user") l = {l.layer, "off", "no other namespace came with it"};
      }
    }
    sb_.clone_flags = flags;
    iso_.view.own_mounts = (flags & CLONE_NEWNS) != 0;
    if ((flags & CLONE_NEWUTS) != 0) sb_.hostname = "tracejail";
    if ((flags & CLONE_NEWPID) != 0 && (flags & CLONE_NEWNS) != 0) {
      sb_.mount_proc = true;
      iso_.view.ns_proc_pids = true;
    }
    if ((flags & CLONE_NEWUSER) != 0) Identity();
  }

  // Who the command is inside its user namespace. Root's command is root there, and uid 65534
  // outside: nothing of the host's root. An ordinary user's command is that user, mapped to
  // itself (one uid, one gid), as with bwrap: `id -u` prints the caller's uid, its files are its
  // own, and the other ids show as the overflow id 65534. setgroups is denied first (the kernel
  // requires it of an unprivileged map), so the supplementary groups stay as they were.
  void Identity() {
    const bool root = geteuid() == 0;
    uid_t outer_uid = root ? 65534 : geteuid();
    gid_t outer_gid = root ? 65534 : getegid();
    sb_.inner_uid = root ? 0 : outer_uid;
    sb_.inner_gid = root ? 0 : outer_gid;
    sb_.uid_map = fmt::format("{} {} 1", sb_.inner_uid, outer_uid);
    sb_.gid_map = fmt::format("{} {} 1", sb_.inner_gid, outer_gid);
    sb_.deny_setgroups = !root;
    if (!o_.workdir.empty() && chown(o_.workdir.c_str(), outer_uid, outer_gid) != 0) {
      throw IsolationError(fmt::format("cannot hand the work dir {} to uid {}: {}", o_.workdir,
                                       outer_uid, std::strerror(errno)));
    }
    Layer("identity", "active",
          root ? fmt::format("root inside the user namespace is uid {} outside", outer_uid)
               : fmt::format(
                     "uid {} and gid {} are themselves inside the user namespace (one id "
                     "mapped each), so the command holds no capability after execve; supplementary "
                     "groups kept",
                     outer_uid, outer_gid));
  }

  void Mounts() {
    const policy::IsolationWanted& want = p_.isolation;
    auto disk = p_.limits.Get(LimitKind::kDisk);
    bool mount_ns = (sb_.clone_flags & CLONE_NEWNS) != 0;
    if (o_.workdir.empty()) {
      Layer("workdir", "off", "the command runs in " + o_.cwd);
    } else if (disk && mount_ns) {
      sb_.tmpfs_dir = o_.workdir;
      sb_.tmpfs_options = fmt::format("size={},mode=0700", *disk);
      iso_.tmpfs_dir = o_.workdir;
      Layer("workdir", "active",
            fmt::format("{}: a {} tmpfs in a private mount namespace, removed afterwards",
                        o_.workdir, policy::FormatLimit(policy::LimitUnit::kBytes, *disk)));
    } else {
      Layer("workdir", disk ? "degraded" : "active",
            fmt::format("{}: a private directory, removed afterwards{}", o_.workdir,
                        disk ? " (no disk limit: no mount namespace)" : ""));
    }
    if (!want.read_only_root) return;
    if (!mount_ns) {
      Missing("read_only_root", "it needs a mount namespace, which is not available",
              "Run as root or allow user namespaces.");
      return;
    }
    for (const auto& mp : MountPoints()) {
      if (mp == "/proc" || mp.starts_with("/proc/")) continue;  // replaced or left alone
      if (!o_.workdir.empty() && (mp == o_.workdir || mp.starts_with(o_.workdir + "/"))) continue;
      sb_.read_only_mounts.push_back({mp, KeptFlags(mp)});
    }
    Layer("read_only_root", "active",
          fmt::format("{} mounts read-only; only the work dir is writable",
                      sb_.read_only_mounts.size()));
  }

  void Capabilities() {
    const auto& caps = p_.isolation.capabilities;
    sb_.restrict_caps = caps.has_value();
    sb_.keep_caps = caps.value_or(0) & ~policy::CapBit(CAP_SYS_PTRACE);
    if (!caps) {
      Layer("capabilities", "off", "the caller's, less CAP_SYS_PTRACE");
      return;
    }
    auto names = policy::CapNames(sb_.keep_caps);
    Layer("capabilities", "active",
          names.empty() ? "none" : fmt::format("{}", fmt::join(names, " ")));
  }

  void Landlock() {
    if (!p_.isolation.landlock) return;
    if (!o_.enforce) {  // audit mode must see every access, so nothing may deny beneath it
      Layer("landlock", "off", "audit mode records every access instead of denying it");
      return;
    }
    std::string why;
    int abi = LandlockAbi(why);
    if (abi == 0) {
      Missing("landlock", why, "Use a kernel with Landlock (5.13+) enabled in the lsm= list.");
      return;
    }
    LandlockPlan plan = PlanLandlock(p_, abi, RealFsView());
    sb_.landlock_handled = plan.handled;
    for (auto& g : plan.grants) sb_.landlock_grants.emplace_back(g.path, g.rights);
    std::string d = fmt::format("ABI {}, {} grants", abi, plan.grants.size());
    for (const auto& n : plan.notes) d += "; " + n;
    Layer("landlock", "active", d);
  }

  void Rules() {
    std::string mode = o_.enforce ? "active" : "off";
    std::string how = o_.enforce ? "enforced by the tracer" : "audit mode: recorded, not enforced";
    Layer("path_rules", p_.NeedsPaths() ? mode : "off",
          p_.NeedsPaths() ? how : "the policy allows every path");
    Layer("network_rules", p_.NeedsNetwork() ? mode : "off",
          p_.NeedsNetwork() ? how : "the policy allows every address");
    Layer("kill_on_violation", KillsOnViolation(p_) ? mode : "off",
          KillsOnViolation(p_) ? "a violation of a default rule kills the whole tree" : "");
  }

 private:
  const policy::Policy& p_;
  const IsolationOptions& o_;
  Sandbox& sb_;
  PreparedIsolation& iso_;
};

}  // namespace

namespace {

// Work dirs of runs whose tracejail was killed (SIGKILL) before it could remove them: named
// /tmp/tracejail-<pid>-XXXXXX, owned by us, and that pid is gone.
void SweepStaleWorkDirs() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
    std::string name = entry.path().filename().string();
    // mkdtemp's suffix is "-XXXXXX": exactly 7 characters after the pid.
    std::size_t dash = name.rfind('-');
    if (dash == std::string::npos || name.size() - dash != 7 || !LeftByDeadRun(name)) continue;
    struct stat st {};
    if (lstat(entry.path().c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
      std::filesystem::remove_all(entry.path(), ec);
    }
  }
}

}  // namespace

std::unique_ptr<WorkDir> WorkDir::Create() {
  SweepStaleWorkDirs();
  std::string tmpl = fmt::format("/tmp/tracejail-{}-XXXXXX", getpid());
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw IsolationError(
        fmt::format("cannot create a work dir under /tmp: {}", std::strerror(errno)));
  }
  return std::unique_ptr<WorkDir>(new WorkDir(tmpl));
}

WorkDir::~WorkDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // symlinks are removed, never followed
}

nlohmann::json PreparedIsolation::LayersJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& l : layers) {
    out.push_back({{"layer", l.layer}, {"state", l.state}, {"detail", l.detail}});
  }
  return out;
}

PreparedIsolation PrepareIsolation(const policy::Policy& policy, const IsolationOptions& options,
                                   Sandbox& sandbox) {
  PreparedIsolation iso;
  Builder b(policy, options, sandbox, iso);
  b.Layer("trace", "active", "seccomp filter and ptrace supervisor");
  b.Layer("environment", policy.isolation.clean_environment ? "active" : "off",
          policy.isolation.clean_environment ? "clean: only PATH, LANG, HOME, TERM and --env"
                                             : "inherited from tracejail");
  b.Rules();
  b.Rlimits();
  b.Cgroups();
  b.Namespaces();
  b.Mounts();
  b.Landlock();
  b.Capabilities();
  sandbox.chdir_to = options.cwd;
  return iso;
}

}  // namespace tracer
