// Serves events as JSON Lines to any number of subscribers (`--stream unix:PATH` or
// `--stream tcp:127.0.0.1:PORT`), on an I/O thread of its own with Boost.Asio. Publishing never
// blocks: each subscriber has a bounded queue, and what does not fit is dropped for that
// subscriber only and counted; when its queue has room again it gets
// {"type":"events_dropped","count":N} before the next event. A slow or dead subscriber never
// slows the tracer or the other subscribers, and never touches the events file.
//
// Who may subscribe: a unix socket is created 0600 (the owner's alone) before it listens; a tcp
// stream has a token, and a tcp subscriber is served only once its first line is
// "AUTH <token>" (report/stream_auth.h has the protocol). Until then it gets nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "report/stream_auth.h"

namespace report {

struct StreamEndpoint {
  bool unix_socket = false;
  std::string path;  // unix
  std::string host;  // tcp: an IP address
  int port = 0;      // tcp: 0 picks a free port
};

// "unix:/run/x.sock", "tcp:127.0.0.1:9000", "tcp:[::1]:9000"; error text on failure.
bool ParseStreamEndpoint(const std::string& spec, StreamEndpoint& out, std::string& error);

struct StreamOptions {
  std::size_t queue_bytes = 1 << 20;  // each subscriber's queue
  // tcp: what a subscriber must send as "AUTH <token>" before it gets anything. Required for a
  // tcp stream; a unix stream has none.
  std::string token;
  std::chrono::milliseconds auth_timeout = kAuthTimeout;  // to send that line
  // A subscriber that has taken nothing for this long while its queue is full is gone in all
  // but name: it is closed (without a notice: it reads nothing), and its place is free.
  std::chrono::milliseconds stall_limit = std::chrono::seconds(10);
};

struct StreamStats {
  std::uint64_t subscribers = 0;      // served (for tcp: authenticated)
  std::uint64_t unauthenticated = 0;  // tcp connections closed without a valid AUTH line
  std::uint64_t refused_full = 0;     // turned away: 16 subscribers were already watching
  std::uint64_t closed_stalled = 0;   // closed for taking nothing for the stall limit
};

class StreamServer {
 public:
  // Listens at once; throws std::runtime_error saying what failed (address in use, bad path),
  // std::invalid_argument for a tcp endpoint without a token.
  explicit StreamServer(const StreamEndpoint& endpoint, StreamOptions options = {});
  ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // Blocks until `n` subscribers are connected (for tcp: authenticated), so a run can wait for
  // its watchers.
  void WaitForSubscribers(int n);

  // Thread-safe, never blocks. `line` has no trailing newline.
  void Publish(std::string line);
  // Stops accepting, gives subscribers up to `grace_ms` to take what is queued (ending early
  // when none has taken anything for 500 ms), closes them.
  void Close(int grace_ms = 2000);

  std::string Describe() const;  // "unix:/run/x.sock" or "tcp:127.0.0.1:40123"
  StreamStats Stats() const;     // so far; final once Close has returned

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace report
