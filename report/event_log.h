// Writes events as JSON Lines on its own thread, so the tracer never waits on disk. Push() is
// cheap (a move under a mutex); every pushed event reaches the file before Close() returns,
// chained by "prev_hash" and followed by a closing {"type": "log_end"} record
// (report/hash_chain.h). written() counts events, not the closing record.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "report/event.h"
#include "report/hash_chain.h"

namespace report {

class EventLog {
 public:
  // A consumer of every record on the writer thread: the line as written (no newline), the
  // record, and whether it is part of the file (false: a live-only decision).
  using Sink =
      std::function<void(const std::string& line, const nlohmann::json& record, bool in_file)>;

  // Opens (truncates) `path`, or writes no file when `path` is empty (sinks only); throws
  // std::runtime_error naming the path and errno on failure. Sinks are fixed at construction.
  explicit EventLog(const std::string& path, std::vector<Sink> sinks = {});
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog();

  void Push(Event event);  // thread-safe
  // Drains, flushes, joins; idempotent. `outcome` (an object) adds its keys to the closing
  // log_end record: how the run ended, so the file alone tells a complete run from one whose
  // supervisor failed ({"run_status": "internal_error", "internal_error": "..."}).
  void Close(const nlohmann::json& outcome = nullptr);
  std::uint64_t written() const { return written_; }

 private:
  void Run();
  void WriteRecord(nlohmann::json record, bool is_event);  // writer thread only
  void Flush();

  std::FILE* file_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> queue_;
  bool closing_ = false;
  std::atomic<std::uint64_t> written_{0};
  std::string prev_hash_{kGenesisHash};  // writer thread only
  std::vector<Sink> sinks_;
  nlohmann::json outcome_;  // set by Close before the writer is told to finish
  std::thread thread_;
};

}  // namespace report
