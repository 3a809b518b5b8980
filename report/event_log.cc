#include "report/event_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "policy/names.h"
#include "report/attack.h"
#include "report/hash_chain.h"

namespace report {
namespace {

double SteadyNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// What makes two events the same for folding: everything but when, which record and which
// process. The message carries the call's decoded target and notes.
std::string FoldKey(const Event& e) {
  return fmt::format(
      "{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", static_cast<int>(e.type),
      static_cast<int>(e.action), e.would ? static_cast<int>(*e.would) : -1, e.error, e.rule,
      e.syscall ? e.syscall->name : std::string(), e.exe, e.message,
      e.args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), e.race_free);
}

}  // namespace

EventLog::EventLog(const std::string& path, std::vector<Sink> sinks, EventLogOptions options)
    : path_(path), options_(options), hash_(options.key), sinks_(std::move(sinks)) {
  if (!path.empty()) {
    // Events carry paths, argv and addresses: the owner's alone, like the result.
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    struct stat st {};
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) fchmod(fd, 0600);
    file_ = fd >= 0 ? fdopen(fd, "w") : nullptr;
    if (file_ == nullptr) {
      int err = errno;
      if (fd >= 0) close(fd);
      throw std::runtime_error(
          fmt::format("cannot open events file {}: {}", path, std::strerror(err)));
    }
  }
  thread_ = std::thread([this] { Run(); });
}

EventLog::~EventLog() { Close(); }

void EventLog::Push(Event event) {
  std::unique_lock lock(mu_);
  if (!event.live_only) ++pushed_;
  if (queue_.size() >= options_.max_queued) {
    // Only for the live view: never worth a wait.
    if (event.live_only) return;
    // The tracer waits for the writer: the tracee stays in its stop meanwhile. A writer that
    // takes nothing for the whole stall limit (a file on a hung mount, a sink that blocks)
    // fails the log rather than hold the run forever.
    const auto limit = std::chrono::duration<double>(options_.stall_limit_s);
    std::uint64_t taken = taken_.load();
    while (queue_.size() >= options_.max_queued && !failed_.load()) {
      if (cv_room_.wait_for(lock, limit) == std::cv_status::timeout) {
        if (taken_.load() != taken) {
          taken = taken_.load();
          continue;
        }
        if (failure_.empty()) {
          failure_ = fmt::format(
              "the events writer took no record for {:g} s ({} waiting); the record is "
              "incomplete",
              options_.stall_limit_s, queue_.size());
        }
        failed_ = true;
      }
    }
    if (queue_.size() >= options_.max_queued) return;  // failed: lost, and the log says so
  }
  queue_.push_back(std::move(event));
  peak_queued_ = std::max(peak_queued_, queue_.size());
  lock.unlock();
  cv_.notify_one();
}

void EventLog::SetFailure(std::string what) {
  std::lock_guard lock(mu_);
  if (failure_.empty()) failure_ = std::move(what);
  failed_ = true;
}

std::optional<std::string> EventLog::Failure() const {
  std::lock_guard lock(mu_);
  if (!failed_.load()) return std::nullopt;
  return failure_;
}

void EventLog::Close(std::optional<LogEnd> outcome) {
  {
    std::lock_guard lock(mu_);
    if (closing_ && !thread_.joinable()) return;
    if (outcome) outcome_ = std::move(outcome);
    closing_ = true;
  }
  cv_.notify_one();
  cv_room_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (file_ != nullptr) {
    // The data is on the disk before the run says it is complete: a full disk or a failing
    // device may only say so here.
    if (!failed() && fsync(fileno(file_)) != 0 && errno != EINVAL && errno != EROFS) {
      SetFailure(fmt::format("syncing events file {}: {}", path_, std::strerror(errno)));
    }
    if (std::fclose(file_) != 0 && !failed()) {
      SetFailure(fmt::format("closing events file {}: {}", path_, std::strerror(errno)));
    }
    file_ = nullptr;
  }
}

void EventLog::WriteRecord(Record record, std::uint64_t weight) {
  const bool is_event = weight > 0;
  if (Event* e = std::get_if<Event>(&record); e != nullptr && is_event) e->seq = ++seq_;
  if (Event* e = std::get_if<Event>(&record)) e->prev_hash = prev_hash_;
  if (LogEnd* end = std::get_if<LogEnd>(&record)) end->prev_hash = prev_hash_;
  const nlohmann::json j = ToJson(record);
  // Tracee strings are escaped to valid UTF-8 before they get here; `replace` is a backstop.
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  prev_hash_ = hash_(line);
  for (const auto& sink : sinks_) sink(line, j, true);
  line += '\n';
  if (file_ != nullptr && !failed() &&
      std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
    SetFailure(fmt::format("writing events file {}: {}", path_, std::strerror(errno)));
  }
  if (is_event && !failed()) {
    ++written_;
    persisted_ += weight;
  }
}

void EventLog::Take(Event e) {
  if (e.attack.empty()) e.attack = AttackIdsFor(e);
  if (e.live_only) {
    e.seq = seq_;  // where it falls among the file's records
    const nlohmann::json record = ToJson(e);
    std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    for (const auto& sink : sinks_) sink(line, record, false);
    return;
  }
  ++counted_;
  if (!options_.fold || e.rule == "lifecycle") {  // each process's story, in full
    WriteRecord(std::move(e), 1);
    return;
  }
  std::string key = FoldKey(e);
  if (auto it = folds_.find(key); it != folds_.end()) {
    Fold& f = it->second;
    if (f.count == 0) {
      f.first_time = e.time;
      f.since = SteadyNow();
    }
    ++f.count;
    f.last = std::move(e);
    return;
  }
  if (folds_.size() >= options_.max_folds) {
    FlushFolds(true);
    folds_.clear();
  }
  WriteRecord(std::move(e), 1);  // the first occurrence, in full and at once
  folds_.emplace(std::move(key), Fold{.first_seq = seq_});
}

void EventLog::FlushFolds(bool all) {
  const double now = SteadyNow();
  std::vector<Fold*> due;
  for (auto& [key, f] : folds_) {
    if (f.count > 0 && (all || now - f.since >= options_.fold_window_s)) due.push_back(&f);
  }
  // In the order their counting began: the file reads in time order as far as it can.
  std::sort(due.begin(), due.end(),
            [](const Fold* a, const Fold* b) { return a->first_time < b->first_time; });
  for (Fold* f : due) {
    Event record = f->last;
    record.repeat =
        Repeat{.count = f->count, .first_time = f->first_time, .first_seq = f->first_seq};
    WriteRecord(std::move(record), f->count);
    f->count = 0;
  }
}

void EventLog::Flush() {
  if (file_ != nullptr && !failed() && std::fflush(file_) != 0) {
    SetFailure(fmt::format("writing events file {}: {}", path_, std::strerror(errno)));
  }
}

void EventLog::Run() {
  std::vector<Event> batch;
  const auto tick = std::chrono::duration<double>(std::min(options_.fold_window_s, 0.25));
  for (;;) {
    bool done = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, tick, [&] { return closing_ || !queue_.empty(); });
      batch.swap(queue_);
      done = closing_ && batch.empty();
    }
    if (!batch.empty()) {
      taken_ += batch.size();
      cv_room_.notify_all();
    }
    for (Event& e : batch) Take(std::move(e));
    batch.clear();
    FlushFolds(done);
    if (done) {
      LogEnd end = outcome_.value_or(LogEnd{});
      end.records = written_.load();
      end.events = counted_.load();
      end.chain = std::string(hash_.name());
      WriteRecord(std::move(end), 0);
      Flush();
      return;
    }
    Flush();
  }
}

}  // namespace report
