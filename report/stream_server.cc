#include "report/stream_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it

#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace report {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using unix_proto = asio::local::stream_protocol;

constexpr std::size_t kMaxSubscribers = 16;  // documented in docs/events.md
constexpr std::chrono::seconds kStallLimit{10};

}  // namespace

bool ParseStreamEndpoint(const std::string& spec, StreamEndpoint& out, std::string& error) {
  if (spec.starts_with("unix:")) {
    out.unix_socket = true;
    out.path = spec.substr(5);
    if (out.path.empty() || out.path.size() >= 108) {
      error = fmt::format("\"{}\": a unix socket path must have 1 to 107 characters", spec);
      return false;
    }
    return true;
  }
  if (spec.starts_with("tcp:")) {
    std::string rest = spec.substr(4);
    std::size_t colon = rest.rfind(':');
    if (colon == std::string::npos) {
      error = fmt::format("\"{}\": expected tcp:ADDRESS:PORT, e.g. tcp:127.0.0.1:9000", spec);
      return false;
    }
    std::string host = rest.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    if (ec) {
      error = fmt::format("\"{}\": \"{}\" is not an IP address", spec, host);
      return false;
    }
    try {
      std::size_t used = 0;
      int port = std::stoi(rest.substr(colon + 1), &used);
      if (used != rest.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("");
      out.port = port;
    } catch (const std::exception&) {
      error = fmt::format("\"{}\": the port must be 0 to 65535", spec);
      return false;
    }
    out.host = host;
    return true;
  }
  error = fmt::format("\"{}\": expected unix:PATH or tcp:ADDRESS:PORT", spec);
  return false;
}

struct StreamServer::Impl {
  // One subscriber: a socket of either kind behind one interface.
  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(Impl& owner) : impl(owner) {}
    virtual ~Session() = default;
    virtual void Write(const std::string& data, std::function<void(bool ok)> done) = 0;
    virtual void Shutdown() = 0;

    void Enqueue(const std::string& line) {
      if (dead) return;
      if (queued_bytes + line.size() + 1 > impl.queue_bytes) {
        ++dropped;
        // A subscriber that has taken nothing for the whole stall limit is gone in all but
        // name: it is closed, and its place is free.
        if (std::chrono::steady_clock::now() - last_progress > kStallLimit) Close();
        return;
      }
      if (dropped > 0) {  // room again: say what was lost first
        std::string notice = fmt::format("{{\"type\":\"events_dropped\",\"count\":{}}}\n", dropped);
        queued_bytes += notice.size();
        queue.push_back(std::move(notice));
        dropped = 0;
      }
      queue.push_back(line + "\n");
      queued_bytes += line.size() + 1;
      Pump();
    }
    // At the end: a subscriber that lost events is told how many, whatever its queue holds.
    void FinalNotice() {
      if (dead || dropped == 0) return;
      std::string notice = fmt::format("{{\"type\":\"events_dropped\",\"count\":{}}}\n", dropped);
      queued_bytes += notice.size();
      queue.push_back(std::move(notice));
      dropped = 0;
      Pump();
    }
    void Pump() {
      if (writing || queue.empty() || dead) return;
      writing = true;
      auto self = shared_from_this();
      Write(queue.front(), [self](bool ok) {
        self->writing = false;
        self->last_progress = std::chrono::steady_clock::now();
        if (self->dead) return;  // closed meanwhile: its queue is gone
        self->queued_bytes -= self->queue.front().size();
        self->queue.pop_front();
        if (!ok) {
          self->dead = true;
          self->queue.clear();
          self->queued_bytes = 0;
          return;
        }
        self->Pump();
      });
    }
    bool Drained() const { return dead || queue.empty(); }
    void Close() {
      dead = true;
      queue.clear();
      queued_bytes = 0;
      Shutdown();
    }

    Impl& impl;
    std::deque<std::string> queue;
    std::size_t queued_bytes = 0;
    std::uint64_t dropped = 0;
    bool writing = false;
    bool dead = false;
    std::chrono::steady_clock::time_point last_progress = std::chrono::steady_clock::now();
  };

  template <typename Socket>
  struct SocketSession : Session {
    SocketSession(Impl& owner, Socket s) : Session(owner), socket(std::move(s)) {}
    void Write(const std::string& data, std::function<void(bool)> done) override {
      asio::async_write(socket, asio::buffer(data),
                        [done](const boost::system::error_code& ec, std::size_t) { done(!ec); });
    }
    void Shutdown() override {
      boost::system::error_code ec;
      socket.shutdown(Socket::shutdown_both, ec);
      socket.close(ec);
    }
    Socket socket;
  };

  explicit Impl(std::size_t bytes) : queue_bytes(bytes), work(asio::make_work_guard(io)) {}

  template <typename Acceptor, typename Socket>
  void Accept(Acceptor& acceptor) {
    acceptor.async_accept([this, &acceptor](const boost::system::error_code& ec, Socket s) {
      if (ec) return;  // closed
      sessions.remove_if([](const std::shared_ptr<Session>& x) { return x->dead; });
      auto session = std::make_shared<SocketSession<Socket>>(*this, std::move(s));
      if (sessions.size() >= kMaxSubscribers) {
        // Each subscriber may hold a queue of its own: their number is bounded too.
        session->queue.push_back(fmt::format(
            "{{\"type\":\"refused\",\"reason\":\"{} subscribers already watch this run\"}}\n",
            kMaxSubscribers));
        session->Write(session->queue.front(), [session](bool) { session->Close(); });
        Accept<Acceptor, Socket>(acceptor);
        return;
      }
      sessions.push_back(session);
      {
        std::lock_guard lock(count_mu);
        ++connected;
      }
      count_cv.notify_all();
      Accept<Acceptor, Socket>(acceptor);
    });
  }

  asio::io_context io;
  std::size_t queue_bytes;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unique_ptr<tcp::acceptor> tcp_acceptor;
  std::unique_ptr<unix_proto::acceptor> unix_acceptor;
  std::list<std::shared_ptr<Session>> sessions;  // io thread only
  std::string described;
  std::string unix_path;
  std::thread thread;
  std::atomic<bool> closed{false};
  std::mutex count_mu;
  std::condition_variable count_cv;
  int connected = 0;
};

StreamServer::StreamServer(const StreamEndpoint& ep, std::size_t queue_bytes)
    : impl_(std::make_unique<Impl>(queue_bytes)) {
  Impl& impl = *impl_;
  try {
    if (ep.unix_socket) {
      // A stale socket from an earlier run is replaced; anything else at the path is not
      // tracejail's to remove.
      if (struct stat st{}; lstat(ep.path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
          throw std::runtime_error(fmt::format(
              "cannot listen on unix:{}: the path exists and is not a socket (remove it or "
              "choose another path)",
              ep.path));
        }
        ::unlink(ep.path.c_str());
      }
      impl.unix_acceptor =
          std::make_unique<unix_proto::acceptor>(impl.io, unix_proto::endpoint(ep.path));
      impl.unix_path = ep.path;
      ::chmod(ep.path.c_str(), 0600);  // events name files and addresses: owner only
      impl.described = "unix:" + ep.path;
      impl.Accept<unix_proto::acceptor, unix_proto::socket>(*impl.unix_acceptor);
    } else {
      tcp::endpoint endpoint(asio::ip::make_address(ep.host), static_cast<unsigned short>(ep.port));
      impl.tcp_acceptor = std::make_unique<tcp::acceptor>(impl.io, endpoint);
      auto local = impl.tcp_acceptor->local_endpoint();
      impl.described = fmt::format("tcp:{}:{}", local.address().to_string(), local.port());
      impl.Accept<tcp::acceptor, tcp::socket>(*impl.tcp_acceptor);
    }
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(
        fmt::format("cannot listen on {}: {}",
                    ep.unix_socket ? "unix:" + ep.path : fmt::format("tcp:{}:{}", ep.host, ep.port),
                    e.code().message()));
  }
  impl.thread = std::thread([&impl] { impl.io.run(); });
}

StreamServer::~StreamServer() { Close(0); }

void StreamServer::Publish(std::string line) {
  if (impl_->closed) return;
  asio::post(impl_->io, [impl = impl_.get(), line = std::move(line)] {
    for (auto& s : impl->sessions) s->Enqueue(line);
  });
}

void StreamServer::Close(int grace_ms) {
  Impl& impl = *impl_;
  if (impl.closed.exchange(true)) return;
  asio::post(impl.io, [&impl] {
    boost::system::error_code ec;
    if (impl.tcp_acceptor) impl.tcp_acceptor->close(ec);
    if (impl.unix_acceptor) impl.unix_acceptor->close(ec);
    for (auto& s : impl.sessions) s->FinalNotice();
  });
  // Give subscribers a bounded time to take what is queued (polled on the io thread): until
  // every queue is empty, the grace period ends, or for 500 ms nobody has taken anything (a
  // stalled subscriber must not keep tracejail alive).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  std::size_t last_queued = SIZE_MAX;
  auto last_progress = std::chrono::steady_clock::now();
  for (;;) {
    std::promise<std::pair<bool, std::size_t>> state;
    auto answer = state.get_future();
    asio::post(impl.io, [&impl, &state] {
      bool all = true;
      std::size_t queued = 0;
      for (auto& s : impl.sessions) {
        all = all && s->Drained();
        queued += s->queued_bytes;
      }
      state.set_value({all, queued});
    });
    auto [drained, queued] = answer.get();
    auto now = std::chrono::steady_clock::now();
    if (queued != last_queued) {
      last_queued = queued;
      last_progress = now;
    }
    if (drained || now >= deadline || now - last_progress > std::chrono::milliseconds(500)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  asio::post(impl.io, [&impl] {
    for (auto& s : impl.sessions) s->Shutdown();
    impl.sessions.clear();
    impl.work.reset();
  });
  if (impl.thread.joinable()) impl.thread.join();
  if (!impl.unix_path.empty()) ::unlink(impl.unix_path.c_str());
}

void StreamServer::WaitForSubscribers(int n) {
  std::unique_lock lock(impl_->count_mu);
  impl_->count_cv.wait(lock, [&] { return impl_->connected >= n; });
}

std::string StreamServer::Describe() const { return impl_->described; }

}  // namespace report
