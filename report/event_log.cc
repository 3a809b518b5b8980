#include "report/event_log.h"

#include "report/hash_chain.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace report {

EventLog::EventLog(const std::string& path, std::vector<Sink> sinks) : sinks_(std::move(sinks)) {
  if (!path.empty()) file_ = std::fopen(path.c_str(), "we");
  if (!path.empty() && file_ == nullptr) {
    throw std::runtime_error(
        fmt::format("cannot open events file {}: {}", path, std::strerror(errno)));
  }
  thread_ = std::thread([this] { Run(); });
}

EventLog::~EventLog() { Close(); }

void EventLog::Push(Event event) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(event));
  }
  cv_.notify_one();
}

void EventLog::Close(const nlohmann::json& outcome) {
  {
    std::lock_guard lock(mu_);
    if (closing_ && !thread_.joinable()) return;
    if (outcome.is_object()) outcome_ = outcome;
    closing_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
}

void EventLog::WriteRecord(nlohmann::json record, bool is_event) {
  record["prev_hash"] = prev_hash_;
  // Tracee strings are escaped to valid UTF-8 before they get here; `replace` is a backstop.
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  prev_hash_ = Sha256Hex(line);
  for (const auto& sink : sinks_) sink(line, record, true);
  line += '\n';
  if (file_ != nullptr) std::fwrite(line.data(), 1, line.size(), file_);
  if (is_event) ++written_;
}

void EventLog::Flush() {
  if (file_ != nullptr) std::fflush(file_);
}

void EventLog::Run() {
  std::vector<Event> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      batch.swap(queue_);
      if (batch.empty() && closing_) {
        nlohmann::json end = outcome_.is_object() ? outcome_ : nlohmann::json::object();
        end["type"] = "log_end";
        end["records"] = written_.load();
        WriteRecord(std::move(end), false);
        Flush();
        return;
      }
    }
    for (const Event& e : batch) {
      if (e.live_only) {
        nlohmann::json record = ToJson(e);
        std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        for (const auto& sink : sinks_) sink(line, record, false);
        continue;
      }
      WriteRecord(ToJson(e), true);
    }
    Flush();
    batch.clear();
  }
}

}  // namespace report
