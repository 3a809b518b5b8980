// Captures a command's stdout and stderr through pipes on a thread of its own: the first `cap`
// bytes of each are kept (then a truncation flag), and every byte is passed through to
// tracejail's own stdout/stderr unless `passthrough` is false. The tracer thread never waits
// on it while the command runs.
#pragma once

#include <atomic>
#include <cstddef>
#include <thread>

#include "base/unique_fd.h"
#include "report/result.h"

namespace tracer {

class OutputCapture {
 public:
  OutputCapture(std::size_t cap, bool passthrough);  // throws std::runtime_error on pipe failure
  ~OutputCapture();
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  int child_stdout() const { return out_write_.get(); }
  int child_stderr() const { return err_write_.get(); }

  // Call once the child is started: closes tracejail's copies of the write ends, so EOF comes
  // when the last process holding them exits, and starts the reader thread.
  void Start();
  // Waits for EOF on both pipes (or, if something outside the tree keeps a write end open,
  // for `idle_ms` without data) and returns what was captured.
  void Finish(int idle_ms = 2000);

  const report::CapturedOutput& out() const { return out_; }
  const report::CapturedOutput& err() const { return err_; }

 private:
  void Run();

  std::size_t cap_;
  bool passthrough_;
  base::UniqueFd out_read_, out_write_, err_read_, err_write_;
  report::CapturedOutput out_, err_;
  std::thread thread_;
  std::atomic<bool> finishing_{false};
  std::atomic<int> idle_ms_{-1};
};

}  // namespace tracer
