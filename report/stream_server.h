// Serves events as JSON Lines to any number of subscribers (`--stream unix:PATH` or
// `--stream tcp:127.0.0.1:PORT`), on an I/O thread of its own with Boost.Asio. Publishing never
// blocks: each subscriber has a bounded queue, and what does not fit is dropped for that
// subscriber only and counted; when its queue has room again it gets
// {"type":"events_dropped","count":N} before the next event. A slow or dead subscriber never
// slows the tracer or the other subscribers, and never touches the events file.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace report {

struct StreamEndpoint {
  bool unix_socket = false;
  std::string path;  // unix
  std::string host;  // tcp: an IP address
  int port = 0;      // tcp: 0 picks a free port
};

// "unix:/run/x.sock", "tcp:127.0.0.1:9000", "tcp:[::1]:9000"; error text on failure.
bool ParseStreamEndpoint(const std::string& spec, StreamEndpoint& out, std::string& error);

class StreamServer {
 public:
  // Listens at once; throws std::runtime_error saying what failed (address in use, bad path).
  StreamServer(const StreamEndpoint& endpoint, std::size_t queue_bytes = 1 << 20);
  ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // Blocks until `n` subscribers are connected (so a run can wait for its watchers).
  void WaitForSubscribers(int n);

  // Thread-safe, never blocks. `line` has no trailing newline.
  void Publish(std::string line);
  // Stops accepting, gives subscribers up to `grace_ms` to take what is queued (ending early
  // when none has taken anything for 500 ms), closes them.
  void Close(int grace_ms = 2000);

  std::string Describe() const;  // "unix:/run/x.sock" or "tcp:127.0.0.1:40123"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace report
