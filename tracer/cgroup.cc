#include "tracer/cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace tracer {
namespace {

std::vector<std::string_view> Fields(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i <= line.size()) {
    std::size_t j = line.find(sep, i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (std::size_t k = 1; k <= 3; ++k) {
        char c = i + k < s.size() ? s[i + k] : 'x';
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::optional<std::string> ReadSmall(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Write(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  if (out) out << value << std::flush;
  if (!out) return fmt::format("cannot write \"{}\" to {}: {}", value, path, std::strerror(errno));
  return {};
}

std::optional<std::uint64_t> ReadNumber(const std::string& path) {
  auto text = ReadSmall(path);
  if (!text) return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

bool HasWord(std::string_view text, std::string_view word) {
  for (auto w : Fields(text, ' ')) {
    while (!w.empty() && (w.back() == '\n' || w.back() == '\r')) w.remove_suffix(1);
    if (w == word) return true;
  }
  return false;
}

std::string NewLeafName() {
  static std::atomic<int> counter{0};
  return fmt::format("tracejail-{}-{}", getpid(), counter++);
}

// Leaves of runs whose tracejail was killed before it could clean up: removed when empty.
void SweepStaleLeaves(const std::string& parent) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && LeftByDeadRun(name)) rmdir(entry.path().c_str());
  }
}

std::vector<pid_t> ReadPids(const std::string& file) {
  std::vector<pid_t> pids;
  std::ifstream in(file);
  for (pid_t p; in >> p;) pids.push_back(p);
  return pids;
}

void Pause(long ns) {
  timespec ts{0, ns};
  nanosleep(&ts, nullptr);
}

}  // namespace

bool LeftByDeadRun(std::string_view name) {
  if (!name.starts_with("tracejail-")) return false;
  name.remove_prefix(10);
  pid_t pid = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc() || pid <= 0 || ptr == name.data() + name.size() || *ptr != '-') {
    return false;
  }
  return kill(pid, 0) != 0 && errno == ESRCH;
}

std::vector<CgroupMount> ParseCgroupMounts(std::string_view mountinfo) {
  std::vector<CgroupMount> out;
  for (auto line : Fields(mountinfo, '\n')) {
    auto f = Fields(line, ' ');
    auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
    if (f.size() < 7 || dash == f.end() || f.end() - dash < 4) continue;
    std::string_view fstype = *(dash + 1);
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount m;
    m.root = Unescape(f[3]);
    m.mount_point = Unescape(f[4]);
    m.v2 = fstype == "cgroup2";
    if (!m.v2) {
      for (auto opt : Fields(*(dash + 3), ',')) m.controllers.emplace_back(opt);
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<std::string> CgroupPathOf(std::string_view proc_cgroup, std::string_view controller) {
  for (auto line : Fields(proc_cgroup, '\n')) {
    std::size_t a = line.find(':');
    std::size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view list = line.substr(a + 1, b - a - 1);
    std::string path(line.substr(b + 1));
    if (controller.empty()) {
      if (line.substr(0, a) == "0" && list.empty()) return path;
      continue;
    }
    for (auto c : Fields(list, ',')) {
      if (c == controller) return path;
    }
  }
  return std::nullopt;
}

std::optional<std::string> CgroupDir(const CgroupMount& mount, const std::string& path) {
  std::string rel;
  if (mount.root == "/") {
    rel = path;
  } else if (path == mount.root) {
    rel = "/";
  } else if (path.starts_with(mount.root + "/")) {
    rel = path.substr(mount.root.size());
  } else {
    return std::nullopt;
  }
  if (rel == "/") return mount.mount_point;
  return mount.mount_point + rel;
}

std::optional<std::uint64_t> KeyedValue(std::string_view text, std::string_view key) {
  for (auto line : Fields(text, '\n')) {
    auto f = Fields(line, ' ');
    if (f.size() == 2 && f[0] == key) {
      std::uint64_t v = 0;
      auto [ptr, ec] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), v);
      if (ec == std::errc()) return v;
    }
  }
  return std::nullopt;
}

std::unique_ptr<Cgroup> Cgroup::Create(const Limits& limits, std::string& why_not) {
  auto mountinfo = ReadSmall("/proc/self/mountinfo");
  auto self = ReadSmall("/proc/self/cgroup");
  if (!mountinfo || !self) {
    why_not = "cannot read /proc/self/mountinfo or /proc/self/cgroup";
    return nullptr;
  }
  std::vector<CgroupMount> mounts = ParseCgroupMounts(*mountinfo);
  std::vector<std::string> tried;
  std::unique_ptr<Cgroup> cg(new Cgroup());

  // cgroup v2: the memory and pids controllers must be delegated to tracejail's own cgroup.
  for (const auto& m : mounts) {
    if (!m.v2) continue;
    auto path = CgroupPathOf(*self, "");
    auto dir = path ? CgroupDir(m, *path) : std::nullopt;
    if (!dir) continue;
    auto controllers = ReadSmall(*dir + "/cgroup.controllers").value_or("");
    if (!HasWord(controllers, "memory") || !HasWord(controllers, "pids")) {
      tried.push_back(
          fmt::format("cgroup v2 at {}: the memory and pids controllers are not "
                      "available there (cgroup.controllers: \"{}\")",
                      *dir, controllers.substr(0, controllers.find('\n'))));
      continue;
    }
    auto subtree = ReadSmall(*dir + "/cgroup.subtree_control").value_or("");
    if (!HasWord(subtree, "memory") || !HasWord(subtree, "pids")) {
      std::string err = Write(*dir + "/cgroup.subtree_control", "+memory +pids");
      if (!err.empty()) {
        tried.push_back(
            fmt::format("cgroup v2 at {}: cannot delegate memory and pids ({}); run tracejail in a "
                        "delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes",
                        *dir, err));
        continue;
      }
    }
    SweepStaleLeaves(*dir);
    std::string leaf = *dir + "/" + NewLeafName();
    if (mkdir(leaf.c_str(), 0755) != 0) {
      tried.push_back(fmt::format("cgroup v2: mkdir {}: {}", leaf, std::strerror(errno)));
      continue;
    }
    cg->v2_ = true;
    cg->memory_dir_ = cg->pids_dir_ = leaf;
    std::string err;
    if (limits.memory_bytes) {
      err = Write(leaf + "/memory.max", std::to_string(*limits.memory_bytes));
      if (err.empty()) Write(leaf + "/memory.swap.max", "0");  // absent without swap accounting
    }
    if (err.empty() && limits.processes) {
      err = Write(leaf + "/pids.max", std::to_string(*limits.processes));
    }
    if (!err.empty()) {
      why_not = err;
      return nullptr;  // the destructor removes the leaf
    }
    return cg;
  }

  // cgroup v1: one directory in the memory hierarchy and one in the pids hierarchy.
  auto v1_dir = [&](const char* controller) -> std::optional<std::string> {
    for (const auto& m : mounts) {
      if (m.v2 || std::find(m.controllers.begin(), m.controllers.end(), controller) ==
                      m.controllers.end()) {
        continue;
      }
      auto path = CgroupPathOf(*self, controller);
      if (auto dir = path ? CgroupDir(m, *path) : std::nullopt) return dir;
    }
    tried.push_back(
        fmt::format("cgroup v1: no {} hierarchy mounted where this process is", controller));
    return std::nullopt;
  };
  auto mem = v1_dir("memory");
  auto pids = v1_dir("pids");
  if (mem && pids) {
    SweepStaleLeaves(*mem);
    SweepStaleLeaves(*pids);
    std::string name = NewLeafName();
    std::string mdir = *mem + "/" + name, pdir = *pids + "/" + name;
    if (mkdir(mdir.c_str(), 0755) != 0) {
      tried.push_back(fmt::format("cgroup v1: mkdir {}: {}", mdir, std::strerror(errno)));
    } else {
      cg->memory_dir_ = mdir;
      if (mkdir(pdir.c_str(), 0755) != 0) {
        tried.push_back(fmt::format("cgroup v1: mkdir {}: {}", pdir, std::strerror(errno)));
      } else {
        cg->pids_dir_ = pdir;
        std::string err;
        if (limits.memory_bytes) {
          std::string v = std::to_string(*limits.memory_bytes);
          err = Write(mdir + "/memory.limit_in_bytes", v);
          // Swap would let the tree exceed the limit: cap memory+swap too where accounted.
          if (err.empty() && access((mdir + "/memory.memsw.limit_in_bytes").c_str(), W_OK) == 0) {
            Write(mdir + "/memory.memsw.limit_in_bytes", v);
          }
        }
        if (err.empty() && limits.processes) {
          err = Write(pdir + "/pids.max", std::to_string(*limits.processes));
        }
        if (err.empty()) return cg;
        tried.push_back("cgroup v1: " + err);
      }
    }
  }
  why_not.clear();
  for (const auto& t : tried) why_not += (why_not.empty() ? "" : "; ") + t;
  if (why_not.empty()) why_not = "no cgroup hierarchy is mounted";
  return nullptr;
}

Cgroup::~Cgroup() {
  KillAll();
  for (const std::string* dir : {&memory_dir_, &pids_dir_}) {
    if (dir->empty() || (dir == &pids_dir_ && pids_dir_ == memory_dir_)) continue;
    // Killed tasks leave the cgroup as they exit; give them up to two seconds.
    for (int i = 0; i < 400; ++i) {
      if (rmdir(dir->c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY) break;
      if (i % 20 == 0) KillAll();
      Pause(5'000'000);
    }
  }
}

std::string Cgroup::Attach(pid_t pid) const {
  for (const std::string* dir : {&memory_dir_, &pids_dir_}) {
    if (dir == &pids_dir_ && pids_dir_ == memory_dir_) continue;
    std::string err = Write(*dir + "/cgroup.procs", std::to_string(pid));
    if (!err.empty()) return err;
  }
  return {};
}

std::string Cgroup::Describe() const {
  if (v2_) return fmt::format("cgroup v2 {}", memory_dir_);
  return fmt::format("cgroup v1 {} and {}", memory_dir_, pids_dir_);
}

std::optional<std::uint64_t> Cgroup::PeakMemory() const {
  if (v2_) return ReadNumber(memory_dir_ + "/memory.peak");  // Linux 5.19+
  return ReadNumber(memory_dir_ + "/memory.max_usage_in_bytes");
}

std::uint64_t Cgroup::OomKills() const {
  auto text = ReadSmall(memory_dir_ + (v2_ ? "/memory.events" : "/memory.oom_control"));
  return text ? KeyedValue(*text, "oom_kill").value_or(0) : 0;
}

std::uint64_t Cgroup::ForksRefused() const {
  auto text = ReadSmall(pids_dir_ + "/pids.events");
  return text ? KeyedValue(*text, "max").value_or(0) : 0;
}

std::uint64_t Cgroup::Processes() const {
  auto n = ReadNumber(pids_dir_ + "/pids.current");
  return n.value_or(0);
}

void Cgroup::KillAll() const {
  if (v2_ && access((memory_dir_ + "/cgroup.kill").c_str(), W_OK) == 0) {
    Write(memory_dir_ + "/cgroup.kill", "1");
    return;
  }
  for (const std::string* dir : {&memory_dir_, &pids_dir_}) {
    if (dir->empty()) continue;
    for (pid_t p : ReadPids(*dir + "/cgroup.procs")) kill(p, SIGKILL);
  }
}

}  // namespace tracer
