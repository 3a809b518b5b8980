#include "report/stream_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
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
// tcp connections that have not sent their AUTH line yet: past this many, the oldest is closed
// (a legitimate subscriber sends its line at once; documented in docs/learn.md).
constexpr std::size_t kMaxPending = 16;

std::string RefusedLine(const std::string& reason) {
  return fmt::format("{{\"type\":\"refused\",\"reason\":\"{}\"}}\n", reason);
}

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
        if (std::chrono::steady_clock::now() - last_progress > impl.stall_limit) {
          Close();
          ++impl.closed_stalled;
        }
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
    // tcp, until the AUTH line has been judged: what was read, and the deadline's timer.
    std::string auth_buf;
    std::unique_ptr<asio::steady_timer> auth_timer;
    bool auth_done = false;
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
    // Reads the first line (up to kMaxAuthLine bytes): `done(line)` with the line without its
    // newline, or nullopt and why not.
    void ReadAuthLine(std::function<void(std::optional<std::string>, const char* why)> done) {
      auto self = std::static_pointer_cast<SocketSession>(shared_from_this());
      asio::async_read_until(socket, asio::dynamic_buffer(auth_buf, kMaxAuthLine), '\n',
                             [self, done](const boost::system::error_code& ec, std::size_t n) {
                               if (!ec) {
                                 done(self->auth_buf.substr(0, n - 1), "");
                               } else if (ec == asio::error::not_found) {
                                 done(std::nullopt, "the first line is too long for an AUTH line");
                               } else {
                                 done(std::nullopt, "no AUTH line before the connection closed");
                               }
                             });
    }
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

  explicit Impl(StreamOptions o)
      : queue_bytes(o.queue_bytes),
        token(std::move(o.token)),
        auth_timeout(o.auth_timeout),
        stall_limit(o.stall_limit),
        work(asio::make_work_guard(io)) {}

  template <typename Acceptor, typename Socket>
  void Accept(Acceptor& acceptor) {
    acceptor.async_accept([this, &acceptor](const boost::system::error_code& ec, Socket s) {
      if (ec) return;  // closed
      auto session = std::make_shared<SocketSession<Socket>>(*this, std::move(s));
      if (token.empty()) {
        Admit(session);
      } else {
        Authenticate<Socket>(session);
      }
      Accept<Acceptor, Socket>(acceptor);
    });
  }

  // Says why, closes, never serves: `session` gets this one line and nothing else.
  static void Refuse(const std::shared_ptr<Session>& session, const std::string& reason) {
    session->queue.push_back(RefusedLine(reason));
    session->Write(session->queue.front(), [session](bool) { session->Close(); });
  }

  // A tcp subscriber: served only once its first line, within auth_timeout, is AUTH and the
  // token.
  template <typename Socket>
  void Authenticate(const std::shared_ptr<SocketSession<Socket>>& session) {
    if (pending.size() >= kMaxPending) {
      // Whoever holds connections open without authenticating cannot lock the others out: the
      // oldest goes.
      std::shared_ptr<Session> oldest = pending.front();  // a copy: the list lets it go
      Unauthenticated(oldest, "too many connections waiting to authenticate");
    }
    pending.push_back(session);
    session->auth_timer = std::make_unique<asio::steady_timer>(io, auth_timeout);
    session->auth_timer->async_wait(
        [this, session, ms = auth_timeout.count()](const boost::system::error_code& ec) {
          if (ec) return;  // cancelled: the line came, or the connection is gone
          Unauthenticated(session, fmt::format("no AUTH line within {} ms", ms));
        });
    session->ReadAuthLine([this, session](std::optional<std::string> line, const char* why) {
      if (session->auth_done) return;  // timed out, evicted or closed meanwhile
      if (!line) {
        Unauthenticated(session, why);
        return;
      }
      std::optional<std::string_view> got = ParseAuthLine(*line);
      if (!got) {
        Unauthenticated(session, "the first line must be AUTH <token>");
        return;
      }
      if (!TokensEqual(*got, token)) {
        Unauthenticated(session, "wrong token");
        return;
      }
      EndAuth(session);
      std::string().swap(session->auth_buf);  // the read is over
      Admit(session);
    });
  }

  void EndAuth(const std::shared_ptr<Session>& session) {
    session->auth_done = true;
    if (session->auth_timer) session->auth_timer->cancel();
    // auth_buf stays: a read still under way (timed out, evicted) writes into it until the
    // socket is closed.
    pending.remove(session);
  }

  void Unauthenticated(const std::shared_ptr<Session>& session, const std::string& reason) {
    if (session->auth_done) return;
    EndAuth(session);
    ++unauthenticated;
    Refuse(session, reason);
  }

  void Admit(const std::shared_ptr<Session>& session) {
    sessions.remove_if([](const std::shared_ptr<Session>& x) { return x->dead; });
    if (sessions.size() >= kMaxSubscribers) {
      // Each subscriber may hold a queue of its own: their number is bounded too.
      ++refused_full;
      Refuse(session, fmt::format("{} subscribers already watch this run", kMaxSubscribers));
      return;
    }
    sessions.push_back(session);
    ++admitted;
    {
      std::lock_guard lock(count_mu);
      ++connected;
    }
    count_cv.notify_all();
  }

  asio::io_context io;
  std::size_t queue_bytes;
  std::string token;  // tcp: what subscribers must send; empty for unix
  std::chrono::milliseconds auth_timeout;
  std::chrono::milliseconds stall_limit;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unique_ptr<tcp::acceptor> tcp_acceptor;
  std::unique_ptr<unix_proto::acceptor> unix_acceptor;
  std::list<std::shared_ptr<Session>> sessions;  // io thread only
  std::list<std::shared_ptr<Session>> pending;   // tcp, not yet authenticated; io thread only
  std::atomic<std::uint64_t> admitted{0}, unauthenticated{0}, refused_full{0}, closed_stalled{0};
  std::string described;
  std::string unix_path;
  std::thread thread;
  std::atomic<bool> closed{false};
  std::mutex count_mu;
  std::condition_variable count_cv;
  int connected = 0;
};

StreamServer::StreamServer(const StreamEndpoint& ep, StreamOptions options) {
  if (ep.unix_socket) {
    options.token.clear();  // the socket's permissions decide who connects
  } else if (options.token.empty()) {
    throw std::invalid_argument(
        "a tcp stream needs a token: every local user can connect to a tcp port");
  }
  impl_ = std::make_unique<Impl>(std::move(options));
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
      // Events name files, argv and addresses: the socket is the owner's alone before anyone
      // can connect. The mode of a socket file comes from the socket's inode (set here) less the
      // umask; it is set again on the file, and only then does the socket listen (a connect
      // before listen is refused).
      unix_proto::endpoint endpoint(ep.path);
      impl.unix_acceptor = std::make_unique<unix_proto::acceptor>(impl.io);
      impl.unix_acceptor->open(endpoint.protocol());
      ::fchmod(impl.unix_acceptor->native_handle(), 0600);
      impl.unix_acceptor->bind(endpoint);
      if (::chmod(ep.path.c_str(), 0600) != 0) {
        int err = errno;
        ::unlink(ep.path.c_str());
        throw std::runtime_error(
            fmt::format("cannot listen on unix:{}: chmod: {}", ep.path, std::strerror(err)));
      }
      impl.unix_path = ep.path;
      impl.unix_acceptor->listen();
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
    if (!impl.unix_path.empty()) ::unlink(impl.unix_path.c_str());  // bound, could not listen
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
    // Connections still without their AUTH line get nothing, and count as unauthenticated.
    while (!impl.pending.empty()) {
      auto session = impl.pending.front();
      impl.EndAuth(session);
      ++impl.unauthenticated;
      session->Close();
    }
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

StreamStats StreamServer::Stats() const {
  return {impl_->admitted.load(), impl_->unauthenticated.load(), impl_->refused_full.load(),
          impl_->closed_stalled.load()};
}

}  // namespace report
