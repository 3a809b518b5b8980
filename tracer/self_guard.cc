#include "tracer/self_guard.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string_view>

#include <fmt/format.h>

#include "base/escape.h"

namespace tracer {
namespace {

constexpr int kMaxDepth = 4096;  // a process chain is never deeper (pid_max bounds it)

}  // namespace

std::optional<pid_t> ProcField(const std::string& path, std::string_view field) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(field)) continue;
    std::string_view v(line);
    v.remove_prefix(field.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    pid_t value = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec == std::errc()) return value;
  }
  return std::nullopt;
}

ProcessLookup ProcessLookup::Live() {
  ProcessLookup l;
  l.tgid_of = [](pid_t tid) { return ProcField(fmt::format("/proc/{}/status", tid), "Tgid:"); };
  l.parent_of = [](pid_t pid) { return ProcField(fmt::format("/proc/{}/status", pid), "PPid:"); };
  l.group_of = [](pid_t pid) -> std::optional<pid_t> {
    pid_t g = getpgid(pid);
    if (g < 0) return std::nullopt;
    return g;
  };
  l.name_of = [](pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/comm", pid));
    std::string name;
    std::getline(in, name);
    return base::EscapeBytes(name);
  };
  return l;
}

std::vector<pid_t> SelfGuard::Protected() const {
  std::vector<pid_t> chain;
  pid_t p = self_;
  for (int depth = 0; p > 0 && depth < kMaxDepth; ++depth) {
    if (std::find(chain.begin(), chain.end(), p) != chain.end()) break;
    chain.push_back(p);
    p = lookup_.parent_of(p).value_or(0);
  }
  return chain;
}

std::string SelfGuard::Check(const OutsideTargets& targets) const {
  if (targets.empty()) return {};
  if (targets.every_process) {
    return "kill(-1, ...) would signal every process it may, tracejail and its ancestors "
           "among them";
  }
  std::vector<pid_t> chain = Protected();
  auto describe = [&](pid_t pid) {
    std::string who = pid == self_
                          ? "tracejail itself"
                          : fmt::format("an ancestor of tracejail ({})", lookup_.name_of(pid));
    return who;
  };
  for (pid_t target : targets.pids) {
    // A thread id names its process: tgkill(tracejail, its writer thread) is the same attack.
    pid_t tgid = lookup_.tgid_of(target).value_or(target);
    if (std::find(chain.begin(), chain.end(), tgid) != chain.end()) {
      return fmt::format("pid {} is {}", target, describe(tgid));
    }
  }
  if (targets.group > 0) {
    for (pid_t p : chain) {
      if (lookup_.group_of(p) == targets.group) {
        return fmt::format("process group {} holds {}", targets.group, describe(p));
      }
    }
  }
  return {};
}

}  // namespace tracer
