// The live view (--live), the event stream (--stream) with a fast and a stalled subscriber, and
// `tracejail watch`: real runs, real sockets, synchronised on what the subscribers receive.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <future>
#include <regex>
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

// A tracejail run in the background whose stderr the test reads as it comes: a tcp stream's
// address and token file are on it before the run waits for its subscribers.
class BackgroundRun {
 public:
  explicit BackgroundRun(const std::vector<std::string>& args) {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      int null = open("/dev/null", O_RDWR);
      dup2(null, STDIN_FILENO);
      dup2(null, STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      harness::ExecTracejail(args);
    }
    close(fds[1]);
    err_fd_ = fds[0];
  }
  ~BackgroundRun() {
    if (pid_ > 0) Finish();
  }
  // Reads stderr up to the first line (from the next unread one) containing `text`: that line,
  // or "" if stderr ended first.
  std::string WaitForLine(const std::string& text) {
    for (;;) {
      std::size_t nl = err_.find('\n', read_to_);
      if (nl != std::string::npos) {
        std::string line = err_.substr(read_to_, nl - read_to_);
        read_to_ = nl + 1;
        if (line.find(text) != std::string::npos) return line;
        continue;
      }
      if (!ReadMore()) return "";
    }
  }
  // Reads the rest of stderr and reaps the run: its exit status.
  int Finish() {
    while (ReadMore()) {
    }
    close(err_fd_);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& err() const { return err_; }

 private:
  bool ReadMore() {
    char chunk[4096];
    for (;;) {
      ssize_t n = read(err_fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      err_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
  std::size_t read_to_ = 0;
};

// "tracejail: streaming events on tcp:127.0.0.1:PORT (...)" -> PORT, or 0.
int StreamPort(const std::string& line) {
  std::size_t at = line.find("tcp:127.0.0.1:");
  return at == std::string::npos ? 0 : std::atoi(line.c_str() + at + 14);
}

int ConnectTcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendText(int fd, const std::string& text) {
  return send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

std::vector<std::string> AllLines(int fd) {
  std::vector<std::string> lines;
  ReadLines(fd, [&](const std::string& line) { lines.push_back(line); });
  return lines;
}

// The lines a refused subscriber may get: its refusal, nothing else.
bool OnlyRefusals(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    if (!line.starts_with("{\"type\":\"refused\"")) return false;
  }
  return true;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 ? st.st_mode : 0;
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
  // An allowed call waits for its exit and shows what it returned (a descriptor, or the
  // kernel's error where the file is missing).
  CHECK(std::regex_search(
      r.err, std::regex(R"(pathname="/etc/hostname", flags="O_RDONLY"\) = (\d+|-1 ENOENT) )")));
  CHECK_THAT(r.err, Catch::Contains("openat(dirfd=\"AT_FDCWD\", pathname=\"/etc/shadow\", "
                                    "flags=\"O_RDONLY\") = DENIED EACCES"));
  CHECK_THAT(r.err, Catch::Contains("+++ exec /usr/bin/cat"));
  harness::Options denied;
  denied.tracejail_args = {"--live=denied"};
  harness::Result d =
      harness::Run({"/bin/sh", "-c", "cat /etc/hostname >/dev/null; cat /etc/shadow"}, denied);
  CHECK_THAT(d.err, Catch::Contains("/etc/shadow\", flags=\"O_RDONLY\") = DENIED EACCES"));
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
    // Every open its own record: the fast reader counts them. The stalled subscriber is kept
    // however long the run takes (a slow sanitizer run once passed the default 10 s, and it was
    // closed: stream_server_test has that case).
    o.tracejail_args = {"--mode", "audit",          "--raw-events", "--events",
                        events,   "--stream",       "unix:" + sock, "--stream-wait",
                        "2",      "--stream-stall", "86400"};
    return harness::Run({"/usr/bin/python3", script, gate}, o);
  });
  int fast_fd = ConnectUnix(sock);
  int slow_fd = ConnectUnix(sock, 4096);
  REQUIRE(fast_fd >= 0);
  REQUIRE(slow_fd >= 0);
  // The stalled subscriber reads nothing until the fast one has seen every batch: only then,
  // before the script is let go for the last time, does it start reading. It reads while the
  // run ends, so the server's bounded wait for subscribers at the end (report::StreamServer::
  // Close) always sees it taking what is queued; a reader that only began after the end would
  // depend on how soon this thread is scheduled (it once missed the 500 ms under a loaded
  // sanitizer run).
  std::promise<void> slow_may_read;
  std::vector<std::string> fast_lines;  // kept raw: the reader stays cheap
  std::thread fast_reader([&] {
    int opens = 0;
    ReadLines(fast_fd, [&](const std::string& line) {
      fast_lines.push_back(line);
      if (line.find("\"resolved\":\"/etc/hostname\"") != std::string::npos &&
          ++opens % kPerBatch == 0) {
        if (opens == kBatches * kPerBatch) slow_may_read.set_value();
        (void)!write(gate_fd, "x", 1);  // the batch arrived: let the script go on
      }
    });
  });
  slow_may_read.get_future().wait();
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
  CHECK_THAT(w.out, Catch::Contains("openat(dirfd=\"AT_FDCWD\", pathname=\"/etc/shadow\", "
                                    "flags=\"O_RDONLY\") = DENIED EACCES"));
  CHECK_THAT(w.out, !Catch::Contains("allowed"));
  harness::Result bad = harness::Tool({"watch", "unix:" + dir.path() + "/nothing.sock"});
  CHECK(bad.status == 1);
  CHECK_THAT(bad.err, Catch::Contains("cannot connect"));
}

TEST_CASE("stream: a tcp stream serves only subscribers that send its token") {
  harness::TempDir dir;
  std::string token_file = dir.path() + "/token";
  std::string events = dir.path() + "/events.jsonl";
  BackgroundRun run({"run", "--no-summary", "--events", events, "--stream", "tcp:127.0.0.1:0",
                     "--stream-token-file", token_file, "--stream-wait", "1", "--", "/bin/sh", "-c",
                     "cat /etc/shadow"});
  int port = StreamPort(run.WaitForLine("streaming events on"));
  INFO(run.err());
  REQUIRE(port > 0);
  // The token: a new file only its owner can read, 64 hex digits and a newline.
  mode_t mode = ModeOf(token_file);
  CHECK(S_ISREG(mode));
  CHECK((mode & 07777) == 0600);
  std::string token = harness::Slurp(token_file);
  REQUIRE(token.size() == 65);
  CHECK(token.back() == '\n');
  token.pop_back();
  CHECK(token.find_first_not_of("0123456789abcdef") == std::string::npos);

  // Connected through the whole run and never authenticated: it gets no event.
  int silent = ConnectTcp(port);
  REQUIRE(silent >= 0);
  // No token: the subscriber says nothing and closes its side.
  int none = ConnectTcp(port);
  REQUIRE(none >= 0);
  shutdown(none, SHUT_WR);
  std::vector<std::string> none_lines = AllLines(none);
  CHECK(none_lines.size() == 1);
  CHECK(OnlyRefusals(none_lines));
  // Not an AUTH line.
  int http = ConnectTcp(port);
  REQUIRE(http >= 0);
  REQUIRE(SendText(http, "GET / HTTP/1.0\r\n\r\n"));
  std::vector<std::string> http_lines = AllLines(http);
  CHECK(http_lines.size() == 1);
  CHECK(OnlyRefusals(http_lines));
  // A wrong token, one digit off.
  std::string wrong = token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  int bad = ConnectTcp(port);
  REQUIRE(bad >= 0);
  REQUIRE(SendText(bad, "AUTH " + wrong + "\n"));
  std::vector<std::string> bad_lines = AllLines(bad);
  CHECK(bad_lines == std::vector<std::string>{R"({"type":"refused","reason":"wrong token"})"});
  // The token: this is the one subscriber the run waits for, and it gets every record.
  int good = ConnectTcp(port);
  REQUIRE(good >= 0);
  REQUIRE(SendText(good, "AUTH " + token + "\n"));
  std::vector<std::string> good_lines = AllLines(good);
  std::vector<std::string> silent_lines = AllLines(silent);
  int status = run.Finish();
  CHECK(status == 1);  // cat's

  std::vector<nlohmann::json> file = FileRecords(events);
  REQUIRE(good_lines.size() == file.size());
  for (std::size_t i = 0; i < file.size(); ++i) {
    CHECK(nlohmann::json::parse(good_lines[i]) == file[i]);
  }
  bool denial = false;
  for (const auto& r : file) denial = denial || r.dump().find("/etc/shadow") != std::string::npos;
  CHECK(denial);
  CHECK(OnlyRefusals(silent_lines));
  CHECK_THAT(run.err(), Catch::Contains("every user of this machine can connect to a tcp stream"));
  CHECK_THAT(run.err(), Catch::Contains("4 connection(s) to the stream were closed without a "
                                        "valid token"));
  CHECK_THAT(run.err(), Catch::Contains("--token-file " + token_file));
  CHECK_THAT(run.err(), !Catch::Contains(token));  // where it is, never what it is
  CHECK(ModeOf(token_file) == 0);                  // tracejail made it: gone with the stream
}

TEST_CASE("stream: tracejail watch --token-file follows a tcp stream and nothing else does") {
  harness::TempDir dir;
  std::string result = dir.path() + "/result.json";
  // No --stream-token-file: the token goes to a private directory named on stderr.
  BackgroundRun run({"run", "--no-summary", "--result", result, "--stream", "tcp:127.0.0.1:0",
                     "--stream-wait", "1", "--", "/bin/sh", "-c", "cat /etc/shadow"});
  std::string line = run.WaitForLine("streaming events on");
  INFO(run.err());
  int port = StreamPort(line);
  REQUIRE(port > 0);
  std::size_t at = line.find("--token-file ");
  REQUIRE(at != std::string::npos);
  std::string token_file = line.substr(at + 13, line.size() - at - 14);  // without the ")"
  std::string token_dir = token_file.substr(0, token_file.rfind('/'));
  CHECK((ModeOf(token_file) & 07777) == 0600);
  CHECK(S_ISDIR(ModeOf(token_dir)));
  CHECK((ModeOf(token_dir) & 07777) == 0700);
  std::string endpoint = fmt::format("tcp:127.0.0.1:{}", port);

  harness::Result no_file = harness::Tool({"watch", endpoint});
  CHECK(no_file.status == 120);
  CHECK_THAT(no_file.err, Catch::Contains("--token-file"));
  std::string wrong_file =
      dir.File("wrong", std::string(64, 'f') + "\n");  // right shape, wrong token
  REQUIRE(chmod(wrong_file.c_str(), 0600) == 0);
  harness::Result wrong = harness::Tool({"watch", endpoint, "--token-file", wrong_file});
  CHECK(wrong.status == 1);
  CHECK_THAT(wrong.err, Catch::Contains("the stream refused this subscriber: wrong token"));
  CHECK(wrong.out.empty());
  REQUIRE(chmod(wrong_file.c_str(), 0644) == 0);
  harness::Result shared = harness::Tool({"watch", endpoint, "--token-file", wrong_file});
  CHECK(shared.status == 120);
  CHECK_THAT(shared.err, Catch::Contains("readable by others"));

  harness::Result w = harness::Tool({"watch", "--denied", endpoint, "--token-file", token_file});
  int status = run.Finish();
  INFO(w.err);
  CHECK(w.status == 0);
  CHECK_THAT(w.out, Catch::Contains("openat(dirfd=\"AT_FDCWD\", pathname=\"/etc/shadow\", "
                                    "flags=\"O_RDONLY\") = DENIED EACCES"));
  CHECK(status == 1);
  CHECK_THAT(run.err(), Catch::Contains("1 connection(s) to the stream were closed without a "
                                        "valid token"));
  CHECK(ModeOf(token_file) == 0);
  CHECK(ModeOf(token_dir) == 0);
  nlohmann::json r = nlohmann::json::parse(harness::Slurp(result));
  CHECK(r["stream"]["endpoint"] == endpoint);
  CHECK(r["stream"]["subscribers"] == 1);
  CHECK(r["stream"]["unauthenticated"] == 1);
  CHECK(r["stream"]["refused_full"] == 0);
  CHECK(r["stream"]["closed_stalled"] == 0);
}

TEST_CASE("stream: a token file the user supplies is the token and is left in place") {
  harness::TempDir dir;
  std::string token = "my-own-stream-secret/0123456789+ABCDEFGHIJ";
  std::string token_file = dir.File("secret", token + "\n");
  REQUIRE(chmod(token_file.c_str(), 0600) == 0);
  // The traced program tries to read the token: it is one of tracejail's own outputs.
  BackgroundRun run({"run", "--no-summary", "--stream", "tcp:127.0.0.1:0", "--stream-token-file",
                     token_file, "--stream-wait", "1", "--", "/bin/cat", token_file});
  int port = StreamPort(run.WaitForLine("streaming events on"));
  INFO(run.err());
  REQUIRE(port > 0);
  int fd = ConnectTcp(port);
  REQUIRE(fd >= 0);
  REQUIRE(SendText(fd, "AUTH " + token + "\r\n"));
  std::vector<std::string> lines = AllLines(fd);
  CHECK(run.Finish() == 1);  // cat could not open it
  REQUIRE_FALSE(lines.empty());
  CHECK_THAT(lines.back(), Catch::Contains("\"type\":\"log_end\""));
  bool refused_to_cat = false;
  for (const auto& line : lines) {
    refused_to_cat = refused_to_cat || line.find("builtin:tracejail-output") != std::string::npos;
  }
  CHECK(refused_to_cat);
  CHECK_THAT(run.err(), Catch::Contains("the stream's token is the one in " + token_file));
  CHECK(harness::Slurp(token_file) == token + "\n");
}

TEST_CASE("stream: no tcp stream on a non-loopback address or with a token file open to others") {
  harness::TempDir dir;
  harness::Options o;
  o.events = false;
  o.tracejail_args = {"--stream", "tcp:0.0.0.0:0"};
  harness::Result wildcard = harness::Run({"/bin/true"}, o);
  CHECK(wildcard.status == 120);
  CHECK_THAT(wildcard.err, Catch::Contains("not a loopback address"));

  std::string shared = dir.File("shared", std::string(64, 'a') + "\n");
  REQUIRE(chmod(shared.c_str(), 0644) == 0);
  o.tracejail_args = {"--stream", "tcp:127.0.0.1:0", "--stream-token-file", shared};
  harness::Result open_file = harness::Run({"/bin/true"}, o);
  CHECK(open_file.status == 120);
  CHECK_THAT(open_file.err, Catch::Contains("readable by others"));

  o.tracejail_args = {"--stream", "tcp:127.0.0.1:0", "--stream-token-file", dir.path()};
  harness::Result directory = harness::Run({"/bin/true"}, o);
  CHECK(directory.status == 120);
  CHECK_THAT(directory.err, Catch::Contains("not a regular file"));

  // A symlink is neither followed nor written through, even when it dangles.
  std::string target = dir.path() + "/target";
  std::string link = dir.path() + "/link";
  REQUIRE(symlink(target.c_str(), link.c_str()) == 0);
  o.tracejail_args = {"--stream", "tcp:127.0.0.1:0", "--stream-token-file", link};
  harness::Result symlinked = harness::Run({"/bin/true"}, o);
  CHECK(symlinked.status == 120);
  CHECK(ModeOf(target) == 0);

  std::string short_token = dir.File("short", "too-short\n");
  REQUIRE(chmod(short_token.c_str(), 0600) == 0);
  o.tracejail_args = {"--stream", "tcp:127.0.0.1:0", "--stream-token-file", short_token};
  harness::Result too_short = harness::Run({"/bin/true"}, o);
  CHECK(too_short.status == 120);
  CHECK_THAT(too_short.err, Catch::Contains("32 to 256 characters"));

  o.tracejail_args = {"--stream", "unix:" + dir.path() + "/s.sock", "--stream-token-file",
                      dir.path() + "/t"};
  harness::Result unix_token = harness::Run({"/bin/true"}, o);
  CHECK(unix_token.status == 120);
  CHECK_THAT(unix_token.err, Catch::Contains("is for --stream tcp"));
}

TEST_CASE("stream: a unix stream needs no token and its socket is the owner's alone") {
  harness::TempDir dir;
  std::string sock = dir.path() + "/events.sock";
  // The least protective umask: the socket's mode must not come from it.
  mode_t old = umask(0);
  auto run = std::async(std::launch::async, [&] {
    harness::Options o;
    // Two subscribers: the socket is looked at between them, while the run still waits.
    o.tracejail_args = {"--stream", "unix:" + sock, "--stream-wait", "2"};
    return harness::Run({"/bin/sh", "-c", "cat /etc/shadow"}, o);
  });
  int fd = ConnectUnix(sock);
  REQUIRE(fd >= 0);
  mode_t mode = ModeOf(sock);
  int second = ConnectUnix(sock);
  REQUIRE(second >= 0);
  std::vector<std::string> lines = AllLines(fd);
  CHECK(AllLines(second) == lines);
  harness::Result r = run.get();
  umask(old);
  INFO(r.err);
  CHECK(S_ISSOCK(mode));
  CHECK((mode & 07777) == 0600);
  REQUIRE_FALSE(lines.empty());
  CHECK_THAT(lines.back(), Catch::Contains("\"type\":\"log_end\""));
  bool denial = false;
  for (const auto& line : lines) denial = denial || line.find("/etc/shadow") != std::string::npos;
  CHECK(denial);
  CHECK_THAT(r.err, !Catch::Contains("token"));
}
