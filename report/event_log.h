// Writes events as JSON Lines on its own thread, so the tracer rarely waits on disk. Every
// pushed event reaches the file before Close() returns, or the log says it failed: records are
// never lost silently. Records are chained by "prev_hash" and numbered by "seq" in file order,
// and a closing {"type": "log_end"} record ends the file (report/hash_chain.h).
//
// Bounded: at most `max_queued` events wait for the writer; Push() then waits (the tracee, held
// in its stop, waits with it), and a writer that takes nothing for `stall_limit_s` fails the
// log. Repeats are folded: an event that differs from an earlier one only in its time, seq and
// process (same type, decision, rule, call, arguments and message) is counted, and once a
// second the count goes out as one record, the last occurrence with
// "repeat": {"count": N, "first_time": T, "first_seq": S} (S: the seq of the record written in
// full for the first occurrence). Such a record stands for N occurrences; every other for one.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "report/event.h"
#include "report/hash_chain.h"
#include "report/record.h"

namespace report {

struct EventLogOptions {
  std::size_t max_queued = 4096;  // events waiting for the writer before Push() waits
  double stall_limit_s = 10;      // a full queue the writer takes nothing from this long: failed
  bool fold = true;               // false: every occurrence in full (`--raw-events`)
  double fold_window_s = 1;       // how long repeats are counted before their record goes out
  std::size_t max_folds = 1024;   // distinct events remembered for folding
  std::string key;                // non-empty: links are HMAC-SHA-256 under it (--events-key)
};

class EventLog {
 public:
  // A consumer of every record on the writer thread: the line as written (no newline), the
  // record, and whether it is part of the file (false: a live-only decision).
  using Sink =
      std::function<void(const std::string& line, const nlohmann::json& record, bool in_file)>;

  // Opens (truncates) `path` 0600, or writes no file when `path` is empty (sinks only); throws
  // std::runtime_error naming the path and errno on failure. Sinks are fixed at construction.
  explicit EventLog(const std::string& path, std::vector<Sink> sinks = {},
                    EventLogOptions options = {});
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog();

  void Push(Event event);  // thread-safe; waits while the queue is full
  // Drains, flushes, syncs, joins; idempotent. `outcome` gives the closing log_end record how
  // the run ended (run_status, internal_error, interrupted_by, capabilities), so the file alone
  // tells a complete run from one whose supervisor failed; the writer fills in the counts and
  // the chain.
  void Close(std::optional<LogEnd> outcome = std::nullopt);
  // What failed (a write, a flush, the sync, the close, a stalled writer), once anything has:
  // from then on the file is incomplete. Thread-safe.
  std::optional<std::string> Failure() const;
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  std::uint64_t written() const { return written_; }      // records of events in the file
  std::uint64_t occurrences() const { return counted_; }  // events they stand for
  std::uint64_t pushed() const { return pushed_; }        // events given to Push (not live-only)
  // Events given to Push that no record in the file stands for (after a failure).
  std::uint64_t lost() const { return pushed_ - std::min<std::uint64_t>(pushed_, persisted_); }
  std::size_t peak_queued() const { return peak_queued_; }
  // After Close: the link of the last record (its log_end), which the result records so that
  // `verify --expect` can tell this file from any other with an intact chain.
  const std::string& final_hash() const { return prev_hash_; }
  std::string_view chain_name() const { return hash_.name(); }

 private:
  struct Fold {
    std::uint64_t count = 0;  // occurrences since the last record for this event
    double first_time = 0;    // the first of them
    double since = 0;         // when counting began (monotonic)
    std::uint64_t first_seq = 0;
    Event last;
  };
  void Run();
  void Take(Event e);  // writer thread only
  // `weight`: the events the record stands for (0: not an event).
  void WriteRecord(Record record, std::uint64_t weight);  // writer thread only
  void FlushFolds(bool all);                              // writer thread only
  void Flush();
  void SetFailure(std::string what);

  std::FILE* file_ = nullptr;
  std::string path_;
  EventLogOptions options_;
  ChainHash hash_;  // how the links are made (keyed or not)
  mutable std::mutex mu_;
  std::condition_variable cv_;       // the writer: events or closing
  std::condition_variable cv_room_;  // Push: room in the queue
  std::vector<Event> queue_;
  std::size_t peak_queued_ = 0;
  bool closing_ = false;
  std::string failure_;  // under mu_
  std::atomic<bool> failed_{false};
  std::atomic<std::uint64_t> written_{0}, counted_{0}, pushed_{0}, persisted_{0};
  std::atomic<std::uint64_t> taken_{0};          // events the writer has taken off the queue
  std::uint64_t seq_ = 0;                        // writer thread only: the last record's seq
  std::string prev_hash_{kGenesisHash};          // writer thread only
  std::unordered_map<std::string, Fold> folds_;  // writer thread only
  std::vector<Sink> sinks_;
  std::optional<LogEnd> outcome_;  // set by Close before the writer is told to finish
  std::thread thread_;
};

}  // namespace report
