// For the `tracejail observe` tests (integration/observe_test.cc, stress/): a sample started
// outside tracejail and driven through pipes (samples/observed.c), and `tracejail observe`
// running beside it. Everything waits on pipes and process exits, never on time.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness.h"

namespace harness {

// Exit code, or 128+signal like a shell; -1 when it could not be waited for.
inline int WaitStatus(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// samples/observed: `args` are FILE PORT THREADS [PROGRAM ARG...].
class Driven {
 public:
  explicit Driven(const std::vector<std::string>& args) {
    int cmd[2], ack[2];
    if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(ack, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      // The child's ends without O_CLOEXEC, at fixed numbers.
      int in = fcntl(cmd[0], F_DUPFD, 10), out = fcntl(ack[1], F_DUPFD, 10);
      dup2(in, 3);
      dup2(out, 4);
      std::vector<std::string> argv{Sample("observed"), "3", "4"};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> raw;
      for (auto& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(202);
    }
    close(cmd[0]);
    close(ack[1]);
    cmd_ = cmd[1];
    ack_ = ack[0];
    ready_ = Read() == 'r';
  }
  ~Driven() {
    if (pid_ > 0 && !reaped_) {
      close(cmd_);  // it quits on end of file
      WaitStatus(pid_);
    }
    if (!reaped_ && pid_ > 0) close(ack_);
  }
  Driven(const Driven&) = delete;
  Driven& operator=(const Driven&) = delete;

  bool ready() const { return ready_; }
  pid_t pid() const { return pid_; }
  // Sends one command and returns its acknowledgement (0: the pipe closed).
  char Do(char c) {
    if (write(cmd_, &c, 1) != 1) return 0;
    return Read();
  }
  // 'q', then its exit status (7: it ran to its end unharmed).
  int Quit() {
    char got = Do('q');
    close(cmd_);
    close(ack_);
    reaped_ = true;
    int status = WaitStatus(pid_);
    return got == 'q' ? status : -2;
  }

 private:
  char Read() {
    char c = 0;
    for (;;) {
      ssize_t n = read(ack_, &c, 1);
      if (n == 1) return c;
      if (n < 0 && errno == EINTR) continue;
      return 0;
    }
  }
  pid_t pid_ = -1;
  int cmd_ = -1, ack_ = -1;
  bool ready_ = false;
  bool reaped_ = false;
};

// `tracejail ARGS...` in the background, its stderr read until it says it is observing.
class Observing {
 public:
  explicit Observing(const std::vector<std::string>& args) {
    int err[2];
    if (pipe2(err, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(err[1], STDERR_FILENO);
      int null = open("/dev/null", O_RDWR);
      dup2(null, STDIN_FILENO);
      ExecTracejail(args);
    }
    close(err[1]);
    err_fd_ = err[0];
    while (err_.find("observing process") == std::string::npos && ReadSome()) {
    }
    attached_ = err_.find("observing process") != std::string::npos;
  }
  ~Observing() {
    if (pid_ > 0 && !waited_) {
      kill(pid_, SIGKILL);
      WaitStatus(pid_);
    }
    if (err_fd_ >= 0) close(err_fd_);
  }
  Observing(const Observing&) = delete;
  Observing& operator=(const Observing&) = delete;

  bool attached() const { return attached_; }
  const std::string& err() const { return err_; }
  // Sends `sig` to tracejail and waits for it: its exit status.
  int Stop(int sig = SIGINT) {
    kill(pid_, sig);
    return Wait();
  }
  int Wait() {
    while (ReadSome()) {
    }
    waited_ = true;
    return WaitStatus(pid_);
  }

 private:
  bool ReadSome() {
    char buf[4096];
    for (;;) {
      ssize_t n = read(err_fd_, buf, sizeof buf);
      if (n > 0) {
        err_.append(buf, static_cast<std::size_t>(n));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
  }
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
  bool attached_ = false;
  bool waited_ = false;
};

// Every record of an events file, log_end included.
inline std::vector<nlohmann::json> Records(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return out;
}

}  // namespace harness
