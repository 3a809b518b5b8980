// tracer/output_capture.cc: what the command writes to its stdout and stderr is kept up to the
// cap (each stream on its own), counted in full, flagged as truncated past the cap, and passed
// through to tracejail's own streams byte for byte; a reader of tracejail's output that goes away
// makes the command's next write fail as it would natively. Writers are this test (through the
// descriptors a child would get) or a real child process.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tracer/output_capture.h"

namespace {

void WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n > 0);
    done += static_cast<std::size_t>(n);
  }
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string Pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

// Copies of the write ends, as a started child would hold them.
struct ChildEnds {
  int out, err;
  explicit ChildEnds(const tracer::OutputCapture& c)
      : out(fcntl(c.child_stdout(), F_DUPFD_CLOEXEC, 3)),
        err(fcntl(c.child_stderr(), F_DUPFD_CLOEXEC, 3)) {
    REQUIRE(out >= 0);
    REQUIRE(err >= 0);
  }
  void Close() {
    if (out >= 0) close(out);
    if (err >= 0) close(err);
    out = err = -1;
  }
  ~ChildEnds() { Close(); }
};

// tracejail's own stdout and stderr swapped for pipes while `body` runs; what reached them comes
// back. No Catch assertion may run in between (the reporter writes to stdout).
struct Redirected {
  std::string out, err;
};
template <typename Body>
Redirected WithOwnStreamsRedirected(Body body) {
  std::fflush(stdout);
  std::cout.flush();
  int out_pipe[2], err_pipe[2];
  REQUIRE(pipe2(out_pipe, O_CLOEXEC) == 0);
  REQUIRE(pipe2(err_pipe, O_CLOEXEC) == 0);
  int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
  REQUIRE(saved_out >= 0);
  REQUIRE(saved_err >= 0);
  dup2(out_pipe[1], STDOUT_FILENO);
  dup2(err_pipe[1], STDERR_FILENO);
  close(out_pipe[1]);
  close(err_pipe[1]);
  Redirected r;
  // The pipes are drained while the body runs, so a large pass-through never blocks.
  std::thread out_reader([&] { r.out = ReadAll(out_pipe[0]); });
  std::thread err_reader([&] { r.err = ReadAll(err_pipe[0]); });
  body();
  dup2(saved_out, STDOUT_FILENO);
  dup2(saved_err, STDERR_FILENO);
  close(saved_out);
  close(saved_err);
  out_reader.join();
  err_reader.join();
  close(out_pipe[0]);
  close(err_pipe[0]);
  return r;
}

}  // namespace

TEST_CASE("output_capture: output under the cap is kept whole and counted", "[output_capture]") {
  tracer::OutputCapture capture(1024, false);
  ChildEnds child(capture);
  capture.Start();
  WriteAll(child.out, "hello\n");
  WriteAll(child.err, "warning: x\n");
  WriteAll(child.out, "world\n");
  child.Close();
  capture.Finish();
  CHECK(capture.out().text == "hello\nworld\n");
  CHECK(capture.out().bytes == 12);
  CHECK_FALSE(capture.out().truncated);
  CHECK(capture.err().text == "warning: x\n");
  CHECK(capture.err().bytes == 11);
  CHECK_FALSE(capture.err().truncated);
}

TEST_CASE("output_capture: output past the cap is counted and flagged and the start is kept",
          "[output_capture]") {
  constexpr std::size_t kCap = 100000;
  tracer::OutputCapture capture(kCap, false);
  ChildEnds child(capture);
  capture.Start();
  // Several pipe-fulls in pieces that straddle the cap; stderr exactly at the cap.
  const std::string data = Pattern(1 << 20);
  for (std::size_t at = 0; at < data.size(); at += 7777) {
    WriteAll(child.out, data.substr(at, 7777));
  }
  WriteAll(child.err, data.substr(0, kCap));
  child.Close();
  capture.Finish();
  CHECK(capture.out().bytes == data.size());
  CHECK(capture.out().truncated);
  CHECK(capture.out().text.size() == kCap);
  CHECK(capture.out().text == data.substr(0, kCap));
  // Exactly the cap is not truncated: nothing was dropped.
  CHECK(capture.err().bytes == kCap);
  CHECK_FALSE(capture.err().truncated);
  CHECK(capture.err().text == data.substr(0, kCap));
}

TEST_CASE("output_capture: a cap of zero keeps nothing and still counts", "[output_capture]") {
  tracer::OutputCapture capture(0, false);
  ChildEnds child(capture);
  capture.Start();
  WriteAll(child.out, "x");
  child.Close();
  capture.Finish();
  CHECK(capture.out().text.empty());
  CHECK(capture.out().bytes == 1);
  CHECK(capture.out().truncated);
  CHECK(capture.err().bytes == 0);
  CHECK_FALSE(capture.err().truncated);
}

TEST_CASE("output_capture: a real child's output is captured until it exits", "[output_capture]") {
  tracer::OutputCapture capture(4096, false);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(capture.child_stdout(), STDOUT_FILENO);
    dup2(capture.child_stderr(), STDERR_FILENO);
    execl("/bin/sh", "sh", "-c", "printf 'a\\0b\\033[2J\\n'; echo oops >&2; exit 3",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  capture.Start();  // tracejail's copies of the write ends go: EOF comes with the child's exit
  capture.Finish();
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WEXITSTATUS(status) == 3);
  // Raw bytes are kept as written; escaping is the result's job (report/result.cc).
  CHECK(capture.out().text == std::string("a\0b\x1b[2J\n", 8));
  CHECK(capture.err().text == "oops\n");
}

TEST_CASE("output_capture: everything is passed through while only the cap is kept",
          "[output_capture]") {
  const std::string big = Pattern(300000);
  report::CapturedOutput out, err;
  Redirected seen = WithOwnStreamsRedirected([&] {
    tracer::OutputCapture capture(1000, true);
    ChildEnds child(capture);
    capture.Start();
    WriteAll(child.out, big);
    WriteAll(child.err, "to stderr\n");
    child.Close();
    capture.Finish();
    out = capture.out();
    err = capture.err();
  });
  CHECK(seen.out == big);  // byte for byte, past the cap too
  CHECK(seen.err == "to stderr\n");
  CHECK(out.text == big.substr(0, 1000));
  CHECK(out.truncated);
  CHECK(out.bytes == big.size());
  CHECK(err.text == "to stderr\n");
}

TEST_CASE("output_capture: when tracejail's reader goes away the command's writes fail",
          "[output_capture]") {
  // As `tracejail run ... | head -1`: the echo fails with EPIPE, and the command learns it as it
  // would natively, from its own next write, instead of writing forever into a pipe only
  // tracejail reads.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(sigaction(SIGPIPE, &ignore, &old) == 0);
  std::fflush(stdout);
  std::cout.flush();
  int gone[2];
  REQUIRE(pipe2(gone, O_CLOEXEC) == 0);
  close(gone[0]);  // nobody will ever read tracejail's stdout
  int saved_out = dup(STDOUT_FILENO);
  REQUIRE(saved_out >= 0);
  int write_error = 0;
  std::uint64_t written = 0;
  report::CapturedOutput out;
  {
    dup2(gone[1], STDOUT_FILENO);
    close(gone[1]);
    tracer::OutputCapture capture(1 << 20, true);
    ChildEnds child(capture);
    capture.Start();
    // Blocks while the pipe is full and the capture has not read yet; fails once it is closed.
    const std::string chunk(65536, 'y');
    for (int i = 0; i < 1024 && write_error == 0; ++i) {
      ssize_t n = write(child.out, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) write_error = errno;
      if (n > 0) written += static_cast<std::uint64_t>(n);
    }
    child.Close();
    capture.Finish();
    out = capture.out();
    dup2(saved_out, STDOUT_FILENO);
    close(saved_out);
  }
  sigaction(SIGPIPE, &old, nullptr);
  CHECK(write_error == EPIPE);
  // What it read before the reader went away is kept and counted; nothing more.
  CHECK(out.bytes > 0);
  CHECK(out.bytes <= written);
  CHECK(out.text.size() == out.bytes);
  CHECK(written < 1024ull * 65536);
}

TEST_CASE("output_capture: a write end held outside the tree does not keep Finish waiting",
          "[output_capture]") {
  tracer::OutputCapture capture(1024, false);
  ChildEnds child(capture);
  capture.Start();
  WriteAll(child.out, "before the end\n");
  // The command's tree is gone, but something it started elsewhere still holds stdout open:
  // Finish gives it the idle time, then returns with what was written.
  capture.Finish(0);
  CHECK(capture.out().text == "before the end\n");
  CHECK(capture.out().bytes == 15);
  child.Close();
}
