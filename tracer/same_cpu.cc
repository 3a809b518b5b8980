#include "tracer/same_cpu.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "base/unique_fd.h"

namespace tracer {
namespace {

const cpu_set_t& AsSet(const std::vector<unsigned char>& bytes) {
  return *reinterpret_cast<const cpu_set_t*>(bytes.data());
}

// How long one task has run so far; nullopt when it is gone.
std::optional<std::uint64_t> RunTime(pid_t tid) {
  base::UniqueFd fd(open(fmt::format("/proc/{}/schedstat", tid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  char buf[128];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  return ParseRunTime(std::string_view(buf, static_cast<std::size_t>(n)));
}

// Every thread of tracejail: the supervisor's, and any it started while pinned (the output
// capture), which inherited the pin.
void RestoreOwnThreads(const cpu_set_t& set) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    pid_t tid = 0;
    std::string name = entry.path().filename().string();
    auto [p, err] = std::from_chars(name.data(), name.data() + name.size(), tid);
    if (err == std::errc() && p == name.data() + name.size()) {
      sched_setaffinity(tid, sizeof set, &set);
    }
  }
  sched_setaffinity(0, sizeof set, &set);
}

}  // namespace

std::optional<std::uint64_t> ParseRunTime(std::string_view s) {
  // "<ns on the CPU> <ns waiting on a run queue> <time slices>\n"
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data() || end == s.data() + s.size() || *end != ' ') {
    return std::nullopt;
  }
  return v;
}

void SameCpu::Start(double now, const std::string& why_off) {
  start_ = last_tick_ = now;
  if (!why_off.empty()) {
    why_ = why_off;
    return;
  }
  original_.assign(sizeof(cpu_set_t), 0);
  auto* set = reinterpret_cast<cpu_set_t*>(original_.data());
  int cpu = sched_getcpu();
  if (sched_getaffinity(0, sizeof(cpu_set_t), set) != 0 || cpu < 0) {
    why_ = fmt::format("the CPU affinity could not be read: {}", std::strerror(errno));
    return;
  }
  if (CPU_COUNT(set) < 2) {
    why_ = "tracejail may use only one CPU here";
    return;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0) {
    why_ = fmt::format("pinning to CPU {} failed: {}", cpu, std::strerror(errno));
    return;
  }
  cpu_ = cpu;
  active_ = pinned_ = true;
  why_ = "nothing in the tree wanted a second CPU";
}

SameCpu::~SameCpu() {
  if (pinned_) RestoreOwnThreads(AsSet(original_));
}

void SameCpu::Release(const std::vector<pid_t>& tids, double now, std::string why) {
  if (!active_) return;
  active_ = false;
  released_ = now;
  why_ = std::move(why);
  RestoreOwnThreads(AsSet(original_));
  pinned_ = false;
  // A task may be exiting, or have set an affinity of its own since (it then holds it: its
  // call released the pin first, so it ran natively and comes after this).
  for (pid_t tid : tids) sched_setaffinity(tid, sizeof(cpu_set_t), &AsSet(original_));
  ran_.clear();
}

void SameCpu::Adopt(pid_t tid) {
  if (active_ || released_ < 0 || tree_set_ || cpu_ < 0) return;
  cpu_set_t now;
  CPU_ZERO(&now);
  if (sched_getaffinity(tid, sizeof now, &now) != 0) return;
  if (CPU_COUNT(&now) == 1 && CPU_ISSET(cpu_, &now)) {
    sched_setaffinity(tid, sizeof(cpu_set_t), &AsSet(original_));
  }
}

void SameCpu::Tick(const std::vector<pid_t>& tids, double now,
                   const std::vector<std::size_t>& lanes) {
  if (!active_) return;
  double interval = now - last_tick_;
  last_tick_ = now;
  // Per lane (one group without lanes): how long each of its tasks ran.
  std::map<std::size_t, std::vector<std::uint64_t>> ran;
  std::map<pid_t, std::uint64_t> now_ran;
  for (std::size_t i = 0; i < tids.size(); ++i) {
    const pid_t tid = tids[i];
    auto total = RunTime(tid);
    if (!total) continue;
    auto it = ran_.find(tid);
    // A task first seen now: all of its time so far (it is younger than the interval, or this
    // is the first tick).
    std::uint64_t before = it == ran_.end() ? 0 : it->second;
    ran[i < lanes.size() ? lanes[i] : 0].push_back(*total > before ? *total - before : 0);
    now_ran[tid] = *total;
  }
  ran_ = std::move(now_ran);
  for (const auto& [lane, times] : ran) {
    if (std::size_t busy = BusyTasks(times, interval); busy >= 2) {
      Release(tids, now,
              fmt::format("{} tasks{} each ran more than {:.0f}% of {:.0f} ms: parallel work", busy,
                          lanes.empty() ? "" : " of one lane", kBusyShare * 100, interval * 1e3));
      return;
    }
  }
}

std::vector<int> SameCpu::AllowedCpus() const {
  std::vector<int> cpus;
  if (original_.size() < sizeof(cpu_set_t)) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &AsSet(original_))) cpus.push_back(cpu);
  }
  return cpus;
}

nlohmann::json SameCpu::Describe() const {
  nlohmann::json j;
  j["same_cpu"] = cpu_ >= 0 ? nlohmann::json(cpu_) : nlohmann::json(nullptr);
  if (released_ >= 0) j["released_after_s"] = released_ - start_;
  j["why"] = why_;
  return j;
}

}  // namespace tracer
