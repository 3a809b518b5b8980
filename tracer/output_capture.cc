#include "tracer/output_capture.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace tracer {
namespace {

void MakePipe(base::UniqueFd& read_end, base::UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(fmt::format("pipe2 for output capture: {}", std::strerror(errno)));
  }
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
}

// false when the echo failed, with errno saying why.
bool WriteAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

OutputCapture::OutputCapture(std::size_t cap, bool passthrough)
    : cap_(cap), passthrough_(passthrough) {
  MakePipe(out_read_, out_write_);
  MakePipe(err_read_, err_write_);
}

OutputCapture::~OutputCapture() {
  if (thread_.joinable()) Finish(0);
}

void OutputCapture::Start() {
  out_write_.Reset();
  err_write_.Reset();
  thread_ = std::thread([this] { Run(); });
}

void OutputCapture::Finish(int idle_ms) {
  idle_ms_.store(idle_ms);
  finishing_.store(true);
  if (thread_.joinable()) thread_.join();
}

void OutputCapture::Run() {
  struct Stream {
    int fd;
    int echo_fd;
    report::CapturedOutput* sink;
  };
  Stream streams[2] = {{out_read_.get(), STDOUT_FILENO, &out_},
                       {err_read_.get(), STDERR_FILENO, &err_}};
  bool open[2] = {true, true};
  bool echo_broken[2] = {false, false};
  char buf[65536];
  while (open[0] || open[1]) {
    pollfd fds[2];
    for (int i = 0; i < 2; ++i) fds[i] = {open[i] ? streams[i].fd : -1, POLLIN, 0};
    // While the command runs, wait without limit; once the tree is gone, give a holder of a
    // write end outside the tree `idle_ms` to finish before giving up.
    int timeout = finishing_.load() ? idle_ms_.load() : 200;
    int n = poll(fds, 2, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      if (finishing_.load()) break;
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || fds[i].revents == 0) continue;
      ssize_t r = read(streams[i].fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        open[i] = false;
        continue;
      }
      auto got = static_cast<std::size_t>(r);
      report::CapturedOutput& sink = *streams[i].sink;
      sink.bytes += got;
      std::size_t keep = sink.text.size() < cap_ ? std::min(got, cap_ - sink.text.size()) : 0;
      sink.text.append(buf, keep);
      if (keep < got) sink.truncated = true;
      if (passthrough_ && !echo_broken[i] && !WriteAll(streams[i].echo_fd, buf, got)) {
        if (errno == EPIPE) {
          // Whoever read tracejail's output is gone (`| head -1`): the program learns it as it
          // would natively, from its next write (EPIPE, SIGPIPE), instead of writing forever
          // into a pipe only tracejail reads.
          (i == 0 ? out_read_ : err_read_).Reset();
          open[i] = false;
        } else {
          echo_broken[i] = true;  // keep capturing, stop echoing
        }
      }
    }
  }
}

}  // namespace tracer
