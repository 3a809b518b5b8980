#include "tracer/same_cpu.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "tracer/unique_fd.h"

namespace tracer {
namespace {

const cpu_set_t& AsSet(const std::vector<unsigned char>& bytes) {
  return *reinterpret_cast<const cpu_set_t*>(bytes.data());
}

// The run-queue wait of one task so far; nullopt when it is gone.
std::optional<std::uint64_t> RunDelay(pid_t tid) {
  UniqueFd fd(open(fmt::format("/proc/{}/schedstat", tid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  char buf[128];
  ssize_t n = read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  return ParseRunDelay(std::string_view(buf, static_cast<std::size_t>(n)));
}

}  // namespace

std::optional<std::uint64_t> ParseRunDelay(std::string_view s) {
  // "<ns on the CPU> <ns waiting on a run queue> <time slices>\n"
  std::size_t sp = s.find(' ');
  if (sp == std::string_view::npos || sp == 0) return std::nullopt;
  std::string_view rest = s.substr(sp + 1);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (ec != std::errc() || end == rest.data() || (end != rest.data() + rest.size() && *end != ' '))
    return std::nullopt;
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
  if (pinned_) sched_setaffinity(0, sizeof(cpu_set_t), &AsSet(original_));
}

void SameCpu::Release(const std::vector<pid_t>& tids, double now, std::string why) {
  if (!active_) return;
  active_ = false;
  released_ = now;
  why_ = std::move(why);
  sched_setaffinity(0, sizeof(cpu_set_t), &AsSet(original_));
  pinned_ = false;
  // A task may be exiting, or have set an affinity of its own since (it then holds it: its
  // call released the pin first, so it ran natively and comes after this).
  for (pid_t tid : tids) sched_setaffinity(tid, sizeof(cpu_set_t), &AsSet(original_));
  delays_.clear();
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

void SameCpu::Tick(const std::vector<pid_t>& tids, double now) {
  if (!active_) return;
  double interval = now - last_tick_;
  last_tick_ = now;
  if (tids.size() > kMaxTasks) {
    Release(tids, now, fmt::format("the tree had {} tasks (more than {})", tids.size(), kMaxTasks));
    return;
  }
  std::uint64_t waited = 0;
  std::map<pid_t, std::uint64_t> seen;
  auto sample = [&](pid_t tid) {
    auto d = RunDelay(tid);
    if (!d) return;
    auto it = delays_.find(tid);
    // A task seen for the first time: all of its wait so far (it is younger than a tick, or
    // the tick is the first).
    std::uint64_t before = it == delays_.end() ? 0 : it->second;
    if (*d > before) waited += *d - before;
    seen[tid] = *d;
  };
  for (pid_t tid : tids) sample(tid);
  sample(static_cast<pid_t>(gettid()));  // the supervisor waits for the same CPU
  delays_ = std::move(seen);
  if (Contended(waited, interval)) {
    Release(tids, now,
            fmt::format("the tree waited {:.0f} ms for the CPU in {:.0f} ms",
                        static_cast<double>(waited) / 1e6, interval * 1e3));
  }
}

nlohmann::json SameCpu::Describe() const {
  nlohmann::json j;
  j["same_cpu"] = cpu_ >= 0 ? nlohmann::json(cpu_) : nlohmann::json(nullptr);
  if (released_ >= 0) j["released_after_s"] = released_ - start_;
  j["why"] = why_;
  return j;
}

}  // namespace tracer
