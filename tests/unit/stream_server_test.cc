// report/stream_server.cc with real unix sockets and real subscribers: endpoints parse as
// documented, every subscriber gets every line in order, a subscriber that stops reading loses
// lines (and is told how many, exactly) while Publish never waits for it and the others lose
// nothing, the seventeenth subscriber is refused, and the socket file is handled with care.
// Synchronised on what subscribers receive, never on time. (The tcp door: stream_auth_test.cc.)
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "report/stream_server.h"

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/tj-stream-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

report::StreamEndpoint UnixAt(const std::string& path) {
  report::StreamEndpoint ep;
  ep.unix_socket = true;
  ep.path = path;
  return ep;
}

int ConnectUnix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// Reads one line at a time from a socket (blocking).
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  ~LineReader() { close(fd_); }
  // The next line without its newline, or nullopt at end of file.
  std::optional<std::string> Next() {
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      char chunk[65536];
      ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  std::vector<std::string> Rest() {
    std::vector<std::string> out;
    while (auto line = Next()) out.push_back(*line);
    return out;
  }

 private:
  int fd_;
  std::string buf_;
};

std::string Event(int i, std::size_t pad = 0) {
  return nlohmann::json{{"seq", i}, {"pad", std::string(pad, 'p')}}.dump();
}

}  // namespace

TEST_CASE("stream_server: endpoints parse as documented and bad ones say why", "[stream_server]") {
  report::StreamEndpoint ep;
  std::string error;
  REQUIRE(report::ParseStreamEndpoint("unix:/run/x.sock", ep, error));
  CHECK(ep.unix_socket);
  CHECK(ep.path == "/run/x.sock");
  ep = {};
  REQUIRE(report::ParseStreamEndpoint("tcp:127.0.0.1:9000", ep, error));
  CHECK_FALSE(ep.unix_socket);
  CHECK(ep.host == "127.0.0.1");
  CHECK(ep.port == 9000);
  ep = {};
  REQUIRE(report::ParseStreamEndpoint("tcp:[::1]:0", ep, error));
  CHECK(ep.host == "::1");
  CHECK(ep.port == 0);
  ep = {};
  REQUIRE(report::ParseStreamEndpoint("unix:" + std::string(107, 'a'), ep, error));

  struct Bad {
    std::string spec, says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"unix:", "1 to 107 characters"},
           {"unix:" + std::string(108, 'a'), "1 to 107 characters"},
           {"tcp:127.0.0.1", "expected tcp:ADDRESS:PORT"},
           {"tcp:localhost:80", "\"localhost\" is not an IP address"},
           {"tcp:127.0.0.1:65536", "the port must be 0 to 65535"},
           {"tcp:127.0.0.1:-1", "the port must be 0 to 65535"},
           {"tcp:127.0.0.1:80x", "the port must be 0 to 65535"},
           {"tcp:127.0.0.1:", "the port must be 0 to 65535"},
           {"tcp:127.0.0.1:99999999999999999999", "the port must be 0 to 65535"},
           {"udp:127.0.0.1:80", "expected unix:PATH or tcp:ADDRESS:PORT"},
           {"/run/x.sock", "expected unix:PATH or tcp:ADDRESS:PORT"},
       }) {
    CAPTURE(bad.spec);
    report::StreamEndpoint out;
    error.clear();
    CHECK_FALSE(report::ParseStreamEndpoint(bad.spec, out, error));
    CHECK_THAT(error, Catch::Contains(bad.says));
  }
}

TEST_CASE("stream_server: every subscriber gets every line in publication order",
          "[stream_server]") {
  TempDir dir;
  std::string path = dir.path + "/s.sock";
  report::StreamServer server(UnixAt(path));
  CHECK(server.Describe() == "unix:" + path);
  std::vector<std::unique_ptr<LineReader>> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(std::make_unique<LineReader>(ConnectUnix(path)));
  server.WaitForSubscribers(3);
  // Each subscriber reads on its own thread while lines are published from two threads at
  // once: each thread's lines keep their order, and nothing is lost (the queues are large).
  constexpr int kPerThread = 2000;
  std::vector<std::vector<std::string>> got(readers.size());
  std::vector<std::thread> consumers;
  for (std::size_t r = 0; r < readers.size(); ++r) {
    consumers.emplace_back([&, r] { got[r] = readers[r]->Rest(); });
  }
  std::thread other([&] {
    for (int i = 0; i < kPerThread; ++i) server.Publish(Event(100000 + i));
  });
  for (int i = 0; i < kPerThread; ++i) server.Publish(Event(i));
  other.join();
  server.Close(60000);
  for (auto& t : consumers) t.join();
  for (std::size_t r = 0; r < got.size(); ++r) {
    CAPTURE(r);
    REQUIRE(got[r].size() == 2 * kPerThread);
    int next_main = 0, next_other = 100000;
    for (const auto& line : got[r]) {
      int seq = nlohmann::json::parse(line)["seq"];
      if (seq >= 100000) {
        REQUIRE(seq == next_other++);
      } else {
        REQUIRE(seq == next_main++);
      }
    }
    CHECK(next_main == kPerThread);
    CHECK(next_other == 100000 + kPerThread);
  }
  CHECK(server.Stats().subscribers == 3);
  // The socket file goes with the server.
  CHECK_FALSE(std::filesystem::exists(path));
  // Publishing after Close is a no-op, not a crash.
  server.Publish(Event(1));
}

TEST_CASE("stream_server: a subscriber that stops reading loses lines and is told exactly how many",
          "[stream_server]") {
  TempDir dir;
  std::string path = dir.path + "/s.sock";
  report::StreamOptions options;
  options.queue_bytes = 16 * 1024;
  options.stall_limit = std::chrono::hours(1);  // however slow this machine, never closed
  report::StreamServer server(UnixAt(path), options);
  LineReader fast(ConnectUnix(path));
  server.WaitForSubscribers(1);
  int slow_fd = ConnectUnix(path);
  server.WaitForSubscribers(2);
  // 4 MiB: far more than a socket buffer and the slow one's queue. The fast subscriber takes each
  // line before the next is published, so its queue never holds more than one; the slow one
  // reads nothing meanwhile. If Publish waited for the slow one, this loop would never end.
  constexpr int kLines = 4096;
  for (int i = 0; i < kLines; ++i) {
    server.Publish(Event(i, 1000));
    auto line = fast.Next();
    REQUIRE(line);
    REQUIRE(nlohmann::json::parse(*line)["seq"] == i);  // the fast one lost nothing
  }
  // Now the slow one reads everything it has (on a thread: Close waits for it to drain).
  std::vector<std::string> slow_lines;
  std::thread slow([&] { slow_lines = LineReader(slow_fd).Rest(); });
  server.Close(60000);
  slow.join();
  CHECK(fast.Next() == std::nullopt);  // and nothing more than its lines
  // The slow one: lines in order, each gap announced by a notice of exactly its size, and the
  // lines it got and the ones it was told it lost add up to every line published.
  REQUIRE_FALSE(slow_lines.empty());
  int expected = 0;
  std::uint64_t notices = 0, told_lost = 0, pending_notice = 0;
  for (const auto& line : slow_lines) {
    nlohmann::json record = nlohmann::json::parse(line);
    if (record.contains("type")) {
      REQUIRE(record["type"] == "events_dropped");
      REQUIRE(pending_notice == 0);  // never two notices in a row
      pending_notice = record["count"].get<std::uint64_t>();
      REQUIRE(pending_notice > 0);
      ++notices;
      told_lost += pending_notice;
      continue;
    }
    int seq = record["seq"];
    REQUIRE(seq == expected + static_cast<int>(pending_notice));
    expected = seq + 1;
    pending_notice = 0;
  }
  CHECK(notices >= 1);
  CHECK(told_lost > 0);
  // What was lost after its last line is told at the end.
  CHECK(static_cast<std::uint64_t>(expected) + pending_notice == kLines);
  std::uint64_t received = slow_lines.size() - notices;
  CHECK(received + told_lost == kLines);
  CHECK(received < static_cast<std::uint64_t>(kLines));
}

TEST_CASE(
    "stream_server: a subscriber that takes nothing for the stall limit is closed, the "
    "others go on",
    "[stream_server]") {
  TempDir dir;
  std::string path = dir.path + "/s.sock";
  report::StreamOptions options;
  options.queue_bytes = 16 * 1024;
  options.stall_limit = std::chrono::milliseconds(200);
  report::StreamServer server(UnixAt(path), options);
  LineReader stays(ConnectUnix(path));
  server.WaitForSubscribers(1);
  int stalled_fd = ConnectUnix(path);
  server.WaitForSubscribers(2);
  // Published one at a time, each taken by `stays` before the next: the stalled one's socket
  // buffer and queue fill, and once it has taken nothing for 200 ms the next line it cannot
  // queue closes it. Synchronised on the counter, bounded by the number of lines.
  int published = 0;
  for (; published < 10'000'000 && server.Stats().closed_stalled == 0; ++published) {
    server.Publish(Event(published, 1000));
    auto line = stays.Next();
    REQUIRE(line);
    REQUIRE(nlohmann::json::parse(*line)["seq"] == published);
  }
  REQUIRE(server.Stats().closed_stalled == 1);
  // The one that stays still gets everything after.
  for (int i = 0; i < 100; ++i, ++published) {
    server.Publish(Event(published, 1000));
    auto line = stays.Next();
    REQUIRE(line);
    REQUIRE(nlohmann::json::parse(*line)["seq"] == published);
  }
  // The closed one has what its socket held when it was closed, in order from the first, then
  // end of file: no notice (it could not have read one) and nothing published after.
  std::vector<std::string> got = LineReader(stalled_fd).Rest();
  REQUIRE_FALSE(got.empty());
  for (std::size_t i = 0; i < got.size(); ++i) {
    nlohmann::json record = nlohmann::json::parse(got[i]);
    REQUIRE_FALSE(record.contains("type"));
    REQUIRE(record["seq"] == static_cast<int>(i));
  }
  CHECK(got.size() < static_cast<std::size_t>(published));
  server.Close(60000);
  CHECK(server.Stats().closed_stalled == 1);
  CHECK(server.Stats().subscribers == 2);
}

TEST_CASE("stream_server: a subscriber that goes away mid-stream does not hurt the others",
          "[stream_server]") {
  TempDir dir;
  std::string path = dir.path + "/s.sock";
  report::StreamServer server(UnixAt(path));
  LineReader stays(ConnectUnix(path));
  int leaves = ConnectUnix(path);
  server.WaitForSubscribers(2);
  server.Publish(Event(0));
  REQUIRE(stays.Next() == Event(0));
  close(leaves);  // its writes now fail with EPIPE, which must not kill the process either
  for (int i = 1; i <= 500; ++i) {
    server.Publish(Event(i, 100));
    REQUIRE(stays.Next() == Event(i, 100));
  }
  server.Close(60000);
  CHECK(stays.Next() == std::nullopt);
}

TEST_CASE("stream_server: the seventeenth subscriber is refused and told why", "[stream_server]") {
  TempDir dir;
  std::string path = dir.path + "/s.sock";
  report::StreamServer server(UnixAt(path));
  std::vector<std::unique_ptr<LineReader>> watching;
  for (int i = 0; i < 16; ++i) {
    watching.push_back(std::make_unique<LineReader>(ConnectUnix(path)));
    server.WaitForSubscribers(i + 1);
  }
  LineReader extra(ConnectUnix(path));
  // Refused at once: one line, then end of file.
  CHECK(extra.Rest() ==
        std::vector<std::string>{
            R"({"type":"refused","reason":"16 subscribers already watch this run"})"});
  CHECK(server.Stats().refused_full == 1);
  CHECK(server.Stats().subscribers == 16);
  server.Publish(Event(7));
  server.Close(60000);
  for (auto& r : watching) CHECK(r->Rest() == std::vector<std::string>{Event(7)});
}

TEST_CASE("stream_server: a stale socket is replaced and any other file is left alone",
          "[stream_server]") {
  TempDir dir;
  // A socket left by an earlier run (bound, nobody listening).
  std::string stale = dir.path + "/stale.sock";
  {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", stale.c_str());
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    close(fd);
  }
  {
    report::StreamServer server(UnixAt(stale));
    LineReader r(ConnectUnix(stale));
    server.WaitForSubscribers(1);
    server.Publish(Event(1));
    server.Close(60000);
    CHECK(r.Rest() == std::vector<std::string>{Event(1)});
  }
  // A regular file, a directory and a symlink to a file are not tracejail's to remove.
  std::string file = dir.path + "/precious";
  std::ofstream(file) << "keep me\n";
  std::string subdir = dir.path + "/dir";
  std::filesystem::create_directory(subdir);
  std::string link = dir.path + "/link";
  std::filesystem::create_symlink(file, link);
  for (const std::string& path : {file, subdir, link}) {
    CAPTURE(path);
    try {
      report::StreamServer server(UnixAt(path));
      FAIL("listened on " << path);
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("cannot listen on unix:" + path) &&
                               Catch::Contains("not a socket"));
    }
  }
  std::ifstream in(file);
  std::string content;
  std::getline(in, content);
  CHECK(content == "keep me");
  CHECK(std::filesystem::is_directory(subdir));
  CHECK(std::filesystem::is_symlink(link));
  // A path in a directory that does not exist says which path.
  try {
    report::StreamServer server(UnixAt(dir.path + "/missing/s.sock"));
    FAIL("listened in a missing directory");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::Contains("cannot listen on unix:" + dir.path + "/missing/s.sock"));
  }
}
