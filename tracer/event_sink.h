// Where the supervisor's events go (in the spirit of sandbox2's notify.h): an interface, so a
// test can capture them without the real report::EventLog. EventLogSink forwards to the log.
#pragma once

#include <optional>
#include <string>

#include "report/event.h"
#include "report/event_log.h"

namespace tracer {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void Emit(report::Event event) = 0;
  // Whether events can no longer be kept (the run must then end as an internal error), and why.
  virtual bool failed() const { return false; }
  virtual std::optional<std::string> Failure() const { return std::nullopt; }
};

class EventLogSink final : public EventSink {
 public:
  explicit EventLogSink(report::EventLog& log) : log_(log) {}
  void Emit(report::Event event) override { log_.Push(std::move(event)); }
  bool failed() const override { return log_.failed(); }
  std::optional<std::string> Failure() const override { return log_.Failure(); }

 private:
  report::EventLog& log_;
};

}  // namespace tracer
