// The live view (--live), the event stream (--stream) with a fast and a stalled subscriber, and
// `tracejail watch`: real runs, real sockets, synchronised on what the subscribers receive.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <future>
#include <sstream>
#include <thread>

#include "harness.h"

namespace {

int ConnectUnix(const std::string& path, int rcvbuf = 0) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  // The run creates the socket before it waits for subscribers: until it exists, wait for
  // its directory to change (inotify, watched before the first try) rather than spin.
  int watch = inotify_init1(IN_CLOEXEC);
  std::string dir = path.substr(0, path.rfind('/'));
  if (watch < 0 || inotify_add_watch(watch, dir.c_str(), IN_CREATE) < 0) {
    if (watch >= 0) close(watch);
    close(fd);
    return -1;
  }
  bool ok = true;
  while (ok && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ENOENT) {
      char events[4096];
      ok = read(watch, events, sizeof events) >= 0 || errno == EINTR;
    } else if (errno == ECONNREFUSED) {
      sched_yield();  // bound, not yet listening: a matter of microseconds
    } else {
      ok = false;
    }
  }
  close(watch);
  if (!ok) close(fd);
  return ok ? fd : -1;
}

// Reads lines until EOF; calls `on_line` for each.
template <typename F>
void ReadLines(int fd, F&& on_line) {
  std::string buf;
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      on_line(buf.substr(start, nl - start));
    }
    buf.erase(0, start);
  }
  close(fd);
}

std::vector<nlohmann::json> FileRecords(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(harness::Slurp(path));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("live view: --live shows decisions as they happen, --live=denied only the denials") {
  harness::Options all;
  all.tracejail_args = {"--live"};
  harness::Result r =
      harness::Run({"/bin/sh", "-c", "cat /etc/hostname >/dev/null; cat /etc/shadow"}, all);
  CHECK_THAT(r.err, Catch::Contains("pathname=\"/etc/hostname\") = allowed"));
  CHECK_THAT(r.err, Catch::Contains("pathname=\"/etc/shadow\") = DENIED EACCES"));
  CHECK_THAT(r.err, Catch::Contains("+++ exec /usr/bin/cat"));
  harness::Options denied;
  denied.tracejail_args = {"--live=denied"};
  harness::Result d =
      harness::Run({"/bin/sh", "-c", "cat /etc/hostname >/dev/null; cat /etc/shadow"}, denied);
  CHECK_THAT(d.err, Catch::Contains("/etc/shadow\") = DENIED EACCES"));
  CHECK_THAT(d.err, !Catch::Contains("/etc/hostname"));
}

TEST_CASE(
    "live view: --live escapes what the tracee controls: no terminal escape reaches the screen") {
  harness::Options o;
  o.tracejail_args = {"--live=denied"};
  harness::Result r =
      harness::Run({"/bin/sh", "-c", "cat \"/etc/shadow/\x1b[2J\x1b]0;pwned\x07\""}, o);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find('\x07') == std::string::npos);
  CHECK_THAT(r.err, Catch::Contains("DENIED"));
}

TEST_CASE("stream: a stalled subscriber loses events (and is told), the other gets them all") {
  harness::TempDir dir;
  std::string sock = dir.path() + "/events.sock";
  std::string events = dir.path() + "/events.jsonl";
  // The run is paced by the fast subscriber, so that "fast" is a property of the test and not of
  // the machine's load: after each batch of opens the script waits on a fifo, and the fast reader
  // writes to it once it has received that batch. Its backlog is never more than one batch
  // (~150 KiB) of its 1 MiB queue; the stalled one, which reads nothing, loses most of ~4.7 MB.
  constexpr int kBatches = 30, kPerBatch = 200;
  std::string gate = dir.path() + "/gate";
  REQUIRE(mkfifo(gate.c_str(), 0600) == 0);
  int gate_fd = open(gate.c_str(), O_RDWR | O_CLOEXEC);  // O_RDWR: the open does not block
  REQUIRE(gate_fd >= 0);
  std::string script = dir.File("opens.py", fmt::format("import os, sys\n"
                                                        "gate = os.open(sys.argv[1], os.O_RDONLY)\n"
                                                        "for batch in range({}):\n"
                                                        "    for i in range({}):\n"
                                                        "        open('/etc/hostname').close()\n"
                                                        "    os.read(gate, 1)\n",
                                                        kBatches, kPerBatch));
  auto run = std::async(std::launch::async, [&] {
    harness::Options o;
    o.events = false;
    // Every open its own record: the fast reader counts them.
    o.tracejail_args = {"--mode",   "audit",        "--raw-events",  "--events", events,
                        "--stream", "unix:" + sock, "--stream-wait", "2"};
    return harness::Run({"/usr/bin/python3", script, gate}, o);
  });
  int fast_fd = ConnectUnix(sock);
  int slow_fd = ConnectUnix(sock, 4096);
  REQUIRE(fast_fd >= 0);
  REQUIRE(slow_fd >= 0);
  std::promise<void> fast_done;
  std::vector<std::string> fast_lines;  // kept raw: the reader stays cheap
  std::thread fast_reader([&] {
    int opens = 0;
    ReadLines(fast_fd, [&](const std::string& line) {
      fast_lines.push_back(line);
      if (line.find("\"resolved\":\"/etc/hostname\"") != std::string::npos &&
          ++opens % kPerBatch == 0) {
        (void)!write(gate_fd, "x", 1);  // the batch arrived: let the script go on
      }
      if (line.find("\"type\":\"log_end\"") != std::string::npos) fast_done.set_value();
    });
  });
  // The stalled subscriber reads nothing until the fast one has seen the whole run.
  fast_done.get_future().wait();
  std::vector<nlohmann::json> slow;
  ReadLines(slow_fd, [&](const std::string& line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    slow.push_back(j);
  });
  fast_reader.join();
  std::vector<nlohmann::json> fast;
  for (const auto& line : fast_lines) fast.push_back(nlohmann::json::parse(line));
  harness::Result r = run.get();
  close(gate_fd);
  INFO(r.err);
  REQUIRE(r.status == 0);

  std::vector<nlohmann::json> file = FileRecords(events);
  REQUIRE(file.size() > kBatches * kPerBatch);
  REQUIRE(fast.size() == file.size());
  for (std::size_t i = 0; i < file.size(); ++i) {
    if (fast[i] != file[i]) FAIL("record " << i << " differs from the events file");
  }
  std::uint64_t received = 0, dropped = 0, notices = 0;
  for (const auto& j : slow) {
    if (j.value("type", "") == "events_dropped") {
      ++notices;
      dropped += j["count"].get<std::uint64_t>();
    } else {
      ++received;
    }
  }
  INFO("slow subscriber: " << received << " records, " << dropped << " dropped, " << notices
                           << " notices");
  CHECK(notices >= 1);
  CHECK(dropped > 0);
  CHECK(received + dropped == file.size());
  // It ends with the run's last record, or with the notice for what it lost at the end.
  std::string last = slow.back().value("type", "");
  CHECK((last == "log_end" || last == "events_dropped"));
}

TEST_CASE("stream: tracejail watch shows the live view of a run started elsewhere") {
  harness::TempDir dir;
  std::string sock = dir.path() + "/watch.sock";
  auto run = std::async(std::launch::async, [&] {
    harness::Options o;
    // Two subscribers: the probe below, and watch.
    o.tracejail_args = {"--stream", "unix:" + sock, "--stream-wait", "2"};
    return harness::Run({"/bin/sh", "-c", "cat /etc/shadow"}, o);
  });
  // watch does not retry: connect a probe first, which also proves the socket is up.
  int probe = ConnectUnix(sock);
  REQUIRE(probe >= 0);
  harness::Result w = harness::Tool({"watch", "--denied", "unix:" + sock});
  close(probe);
  harness::Result r = run.get();
  INFO(w.err << r.err);
  CHECK(w.status == 0);
  CHECK_THAT(w.out, Catch::Contains("pathname=\"/etc/shadow\") = DENIED EACCES"));
  CHECK_THAT(w.out, !Catch::Contains("allowed"));
  harness::Result bad = harness::Tool({"watch", "unix:" + dir.path() + "/nothing.sock"});
  CHECK(bad.status == 1);
  CHECK_THAT(bad.err, Catch::Contains("cannot connect"));
}
