#include "tracer/tracee_table.h"

#include <unistd.h>

#include <unordered_set>

#include <fmt/format.h>

#include "base/escape.h"
#include "tracer/self_guard.h"

namespace tracer {

void TraceeTable::Init(Tracee& t, pid_t tid) {
  t.tid = tid;
  t.mem = std::make_unique<ProcessMemory>(tid);
}

std::vector<pid_t> TraceeTable::Tids() const {
  std::vector<pid_t> tids;
  tids.reserve(tracees_.size());
  for (const auto& [tid, t] : tracees_) tids.push_back(tid);
  return tids;
}

std::vector<pid_t> TraceeTable::Processes() const {
  std::vector<pid_t> out;
  std::unordered_set<pid_t> seen;
  for (const auto& [tid, t] : tracees_) {
    pid_t tgid = t.tgid > 0 ? t.tgid : tid;
    if (seen.insert(tgid).second) out.push_back(tgid);
  }
  return out;
}

ExecCheck TraceeTable::TakeExec(Tracee& t, pid_t former) {
  ExecCheck origin = t.exec;
  if (former != t.tid) {
    if (auto it = tracees_.find(former); it != tracees_.end()) origin = it->second.exec;
    tracees_.erase(former);
  }
  t.exec.armed = false;
  t.tgid = t.tid;
  t.exe.clear();
  t.mem = std::make_unique<ProcessMemory>(t.tid);
  return origin;
}

pid_t TraceeTable::TgidOf(Tracee& t) {
  if (t.tgid == 0) {
    t.tgid = ProcField(fmt::format("/proc/{}/status", t.tid), "Tgid:").value_or(t.tid);
  }
  return t.tgid;
}

const std::string& TraceeTable::ExeOf(Tracee& t) {
  if (t.exe.empty()) {
    char buf[4096];
    ssize_t n = readlink(fmt::format("/proc/{}/exe", t.tid).c_str(), buf, sizeof buf);
    t.exe =
        base::EscapeBytes(n < 0 ? std::string("?") : std::string(buf, static_cast<std::size_t>(n)));
  }
  return t.exe;
}

}  // namespace tracer
