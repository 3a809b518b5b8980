#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace harness {
namespace {

Result Spawn(const std::vector<std::string>& argv, const std::string& cwd,
             const std::string& events_path, const Options& options = {}) {
  TempDir io;
  std::string out_path = io.path() + "/stdout";
  std::string err_path = io.path() + "/stderr";
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) _exit(200);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (options.in_child && !options.in_child()) _exit(203);
    if (options.as_uid >= 0) {
      auto id = static_cast<uid_t>(options.as_uid);
      if (setgroups(0, nullptr) != 0 || setresgid(id, id, id) != 0 || setresuid(id, id, id) != 0) {
        _exit(204);
      }
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(201);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(202);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  Result r;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  if (!events_path.empty()) {
    std::ifstream in(events_path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      nlohmann::json record = nlohmann::json::parse(line);
      std::string type = record.value("type", "");
      if (type == "log_end") {
        r.log_closed = true;  // the hash chain's closing record, not an event
        continue;
      }
      if (type.starts_with("process_") || type == "file_dropped") {
        r.lifecycle.push_back(std::move(record));
        continue;
      }
      r.events.push_back(std::move(record));
    }
  }
  return r;
}

}  // namespace

std::vector<nlohmann::json> Result::Events(const std::string& type,
                                           const std::string& syscall) const {
  std::vector<nlohmann::json> matching;
  for (const auto& e : events) {
    if (e.value("type", "") != type) continue;
    if (!syscall.empty() && (!e.contains("syscall") || e["syscall"]["name"] != syscall)) continue;
    matching.push_back(e);
  }
  return matching;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Sample(const std::string& name) { return std::string(SAMPLES_DIR) + "/" + name; }
// TRACEJAIL_UNDER_TEST points the same tests at another build of tracejail (scripts/test.sh:
// the sanitizer build's binary). A value that is not an executable file ends the tests: running
// them against the wrong binary would report on something else.
std::string Tracejail() {
  static const std::string bin = [] {
    const char* other = std::getenv("TRACEJAIL_UNDER_TEST");
    if (other == nullptr || *other == '\0') return std::string(TRACEJAIL_BIN);
    if (other[0] != '/' || access(other, X_OK) != 0) {
      std::fprintf(stderr, "TRACEJAIL_UNDER_TEST=%s: not an absolute path to an executable\n",
                   other);
      std::exit(2);
    }
    return std::string(other);
  }();
  return bin;
}

std::string Iterations(int n) {
  static const int cap = [] {
    const char* text = std::getenv("TRACEJAIL_RACE_ITERATIONS");
    int c = text != nullptr ? std::atoi(text) : 0;
    return c < 1 ? 0 : c;
  }();
  return std::to_string(cap > 0 && cap < n ? cap : n);
}

Result Run(const std::vector<std::string>& command, const Options& options) {
  TempDir dir;
  std::vector<std::string> argv{Tracejail(), "run"};
  std::string events_path;
  if (options.as_uid >= 0 && chown(dir.path().c_str(), static_cast<uid_t>(options.as_uid),
                                   static_cast<gid_t>(options.as_uid)) != 0) {
    throw std::runtime_error(fmt::format("chown {}: {}", dir.path(), std::strerror(errno)));
  }
  if (options.events) {
    events_path = dir.path() + "/events.jsonl";
    if (options.raw_events) argv.push_back("--raw-events");
    argv.push_back("--events");
    argv.push_back(events_path);
  }
  if (!options.summary) argv.push_back("--no-summary");
  argv.insert(argv.end(), options.tracejail_args.begin(), options.tracejail_args.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  // Resolve bare command names like a shell would, for execv.
  return Spawn(argv, options.cwd, events_path, options);
}

void ExecTracejail(const std::vector<std::string>& args) {
  std::string bin = Tracejail();
  std::vector<char*> argv = {bin.data()};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(202);
}

Result Tool(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv{Tracejail()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Spawn(argv, cwd, "");
}

Result HeadlessChromium(const std::string& url, const std::vector<std::string>& args,
                        const std::string& scratch) {
  std::vector<std::string> argv{"/usr/bin/chromium",
                                "--headless",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--disable-quic",
                                "--no-first-run",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync",
                                "--enable-logging=stderr",
                                "--user-data-dir=" + scratch + "/profile"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  return Spawn(argv, "", "");
}

Result RunNative(const std::vector<std::string>& command, const std::string& cwd) {
  std::vector<std::string> argv = command;
  if (argv[0].find('/') == std::string::npos) argv[0] = "/usr/bin/" + argv[0];
  return Spawn(argv, cwd, "");
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/tracejail-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::File(const std::string& name, const std::string& content) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

ProjectDir::ProjectDir() {
  auto in_temp = [](const std::string& dir) {
    const char* tmpdir = std::getenv("TMPDIR");
    for (std::string t : {std::string("/tmp"), std::string("/var/tmp"), std::string("/dev/shm"),
                          std::string(tmpdir ? tmpdir : "/tmp")}) {
      if (dir == t || dir.starts_with(t + "/")) return true;
    }
    return false;
  };
  const char* home = std::getenv("HOME");
  for (std::string parent :
       {std::filesystem::current_path().string(), std::string(home ? home : "")}) {
    if (parent.empty() || !parent.starts_with('/') || in_temp(parent)) continue;
    std::string tmpl = parent + "/tj-project-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) {
      path_ = tmpl;
      return;
    }
  }
}

ProjectDir::~ProjectDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

LoopbackListener::LoopbackListener(bool udp) : udp_(udp) {
  fd_ = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0 ||
      (!udp && listen(fd_, 16) != 0) ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
    throw std::runtime_error(fmt::format("loopback listener: {}", std::strerror(errno)));
  }
  port_ = ntohs(sin.sin_port);
}

LoopbackListener::~LoopbackListener() { close(fd_); }

bool LoopbackListener::Received() {
  if (udp_) {
    char buf[16];
    return recv(fd_, buf, sizeof buf, MSG_DONTWAIT) >= 0;
  }
  int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return false;
  close(c);
  return true;
}

void Skip(const std::string& reason) { std::cout << "TRACEJAIL-SKIP: " << reason << std::endl; }

bool TwoCpus(const std::string& why_needed) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 2) return true;
  Skip("this machine gives the tests one CPU: " + why_needed);
  return false;
}

}  // namespace harness
