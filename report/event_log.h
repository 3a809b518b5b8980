// Writes events as JSON Lines on its own thread, so the tracer never waits on disk. Push() is
// cheap (a move under a mutex); every pushed event reaches the file before Close() returns,
// chained by "prev_hash" and followed by a closing {"type": "log_end"} record
// (report/hash_chain.h). written() counts events, not the closing record.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "report/event.h"
#include "report/hash_chain.h"

namespace report {

class EventLog {
 public:
  // Opens (truncates) `path`; throws std::runtime_error naming the path and errno on failure.
  explicit EventLog(const std::string& path);
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;
  ~EventLog();

  void Push(Event event);  // thread-safe
  void Close();            // drains, flushes, joins; idempotent
  std::uint64_t written() const { return written_; }

 private:
  void Run();
  void WriteRecord(nlohmann::json record, bool is_event);  // writer thread only

  std::FILE* file_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> queue_;
  bool closing_ = false;
  std::atomic<std::uint64_t> written_{0};
  std::string prev_hash_{kGenesisHash};  // writer thread only
  std::thread thread_;
};

}  // namespace report
