#include "cli/selftest_command.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/escape.h"
#include "base/unique_fd.h"
#include "cli/escape_suite.h"
#include "cli/exit_codes.h"
#include "cli/install_dirs.h"
#include "policy/glob.h"
#include "report/analysis.h"
#include "report/record.h"

namespace cli {
namespace {

namespace fs = std::filesystem;

std::string RandomHex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (getrandom(raw.data(), raw.size(), 0) != static_cast<ssize_t>(raw.size())) {
    throw std::runtime_error(fmt::format("getrandom: {}", std::strerror(errno)));
  }
  std::string hex;
  for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
  return hex;
}

// The selftest's world: a secret, a decoy, a forbidden program, a scratch directory, and a
// protected directory whose file the policy lets samples read but not change.
class World {
 public:
  World() {
    std::string tmpl = "/tmp/tracejail-selftest-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error(fmt::format("mkdtemp {}: {}", tmpl, std::strerror(errno)));
    }
    dir = tmpl;
    chmod(dir.c_str(), 0755);  // a tracee running as another user must reach the decoy
    token = "tracejail-selftest-secret-" + RandomHex(12);
    marker = "forbidden-program-ran-" + RandomHex(8);
    fs::create_directories(dir + "/secret");
    fs::create_directories(dir + "/forbidden");
    fs::create_directories(dir + "/scratch");
    secret = dir + "/secret/secret.txt";
    Write(secret, token + "\n", 0644);
    decoy = dir + "/decoy.txt";
    Write(decoy, "an ordinary file\n", 0644);
    forbidden = dir + "/forbidden/forbidden";
    Write(forbidden, "#!/bin/sh\necho FORBIDDEN-PROGRAM-RAN " + marker + "\n", 0755);
    protected_dir = dir + "/protected";
    protected_file = protected_dir + "/protected.txt";
    ResetProtected();
  }
  ~World() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Recreates the protected directory and its file as they were before the previous sample:
  // content, mode, owner and the attribute "user.tj-protected" (samples change all of these).
  void ResetProtected() const {
    std::error_code ec;
    fs::remove_all(protected_dir, ec);
    if (ec || !fs::create_directories(protected_dir, ec)) {
      throw std::runtime_error(fmt::format("cannot recreate {}: {}", protected_dir,
                                           ec ? ec.message() : "it is still there"));
    }
    chmod(protected_dir.c_str(), 0755);
    Write(protected_file, "a protected file: samples may read it, not change it\n", 0644);
    // Where the filesystem has no user attributes, the samples that remove it say ENODATA or
    // ENOTSUP.
    setxattr(protected_file.c_str(), "user.tj-protected", "selftest", 8, 0);
  }

  std::string dir, token, marker, secret, decoy, forbidden, protected_dir, protected_file;

 private:
  static void Write(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
  }
};

// TCP and UDP on 127.0.0.1 for the denied listener and the allowed decoy; counts what reaches
// the denied one. Its own thread, stopped through a pipe.
class Listeners {
 public:
  explicit Listeners(const std::string& dir)
      : unix_stream(dir + "/unix.sock"), unix_dgram(dir + "/unix.dgram") {
    ux_[0] = BindUnix(SOCK_STREAM, unix_stream);
    ux_[1] = BindUnix(SOCK_DGRAM, unix_dgram);
    for (int i = 0; i < 2; ++i) {
      // UDP on the TCP listener's port number, which another program may hold: then another
      // ephemeral port.
      for (int attempt = 0;; ++attempt) {
        tcp_[i] = Bind(SOCK_STREAM, 0);
        port_[i] = PortOf(tcp_[i].get());
        try {
          udp_[i] = Bind(SOCK_DGRAM, port_[i]);
          break;
        } catch (const std::runtime_error&) {
          if (attempt == 20) throw;
        }
      }
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    stop_r_.Reset(p[0]);
    stop_w_.Reset(p[1]);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Listeners() {
    char c = 0;
    (void)!write(stop_w_.get(), &c, 1);
    thread_.join();
  }
  Listeners(const Listeners&) = delete;
  Listeners& operator=(const Listeners&) = delete;

  std::string unix_stream, unix_dgram;  // denied unix sockets (their paths)

  int denied_port() const { return port_[0]; }
  int decoy_port() const { return port_[1]; }
  // What reached a denied listener so far, including what the kernel has queued and the
  // listener thread has not taken yet (a loopback connect or send is queued before it returns).
  unsigned hits() {
    std::lock_guard lock(mu_);
    pollfd fds[6];
    for (int i = 0; i < 6; ++i) fds[i] = {Fd(i), POLLIN, 0};
    while (poll(fds, 6, 0) > 0) Take(fds);
    return hits_;
  }

 private:
  static base::UniqueFd Bind(int type, int port) {
    base::UniqueFd fd(socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!fd.valid() || bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        (type == SOCK_STREAM && listen(fd.get(), 512) != 0)) {
      throw std::runtime_error(
          fmt::format("cannot listen on 127.0.0.1:{}: {}", port, std::strerror(errno)));
    }
    return fd;
  }
  static base::UniqueFd BindUnix(int type, const std::string& path) {
    base::UniqueFd fd(socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (!fd.valid() || bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        (type == SOCK_STREAM && listen(fd.get(), 64) != 0)) {
      throw std::runtime_error(fmt::format("cannot bind {}: {}", path, std::strerror(errno)));
    }
    chmod(path.c_str(), 0666);
    return fd;
  }
  static int PortOf(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
  }
  // Slot i of the poll set: even slots accept (stream), odd ones receive (datagrams); all but
  // the decoy's (2, 3) are denied.
  int Fd(int i) const {
    const base::UniqueFd* fds[6] = {&tcp_[0], &udp_[0], &tcp_[1], &udp_[1], &ux_[0], &ux_[1]};
    return fds[i]->get();
  }
  // Takes everything queued on the ready slots (the sockets do not block). Holds mu_.
  void Take(pollfd* fds) {
    for (int i = 0; i < 6; ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      bool denied = i != 2 && i != 3;
      for (;;) {
        if (i % 2 == 0) {
          base::UniqueFd c(accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC));
          if (!c.valid()) break;
        } else {
          char buf[2048];
          if (recv(fds[i].fd, buf, sizeof buf, MSG_DONTWAIT) < 0) break;
        }
        if (denied) ++hits_;
      }
    }
  }
  void Loop() {
    pollfd fds[7];
    for (int i = 0; i < 6; ++i) fds[i] = {Fd(i), POLLIN, 0};
    fds[6] = {stop_r_.get(), POLLIN, 0};
    for (;;) {
      if (poll(fds, 7, -1) < 0 && errno != EINTR) return;
      if (fds[6].revents != 0) return;
      std::lock_guard lock(mu_);
      Take(fds);
    }
  }

  base::UniqueFd tcp_[2], udp_[2], ux_[2], stop_r_, stop_w_;
  int port_[2] = {0, 0};
  std::mutex mu_;
  unsigned hits_ = 0;  // guarded by mu_
  std::thread thread_;
};

// A process outside the traced tree, the target of the "other processes" techniques:
// samples/escapes/outside_process (not a sample itself), started with a random token in its argv
// and environment. Samples get its pid, never the token: the token in a sample's output shows
// that it read the process's /proc entries. It blocks every signal and has a second thread.
class OutsideProcess {
 public:
  OutsideProcess(const std::string& program, const std::string& token) {
    if (access(program.c_str(), X_OK) != 0) {
      error = program + " is not built";
      return;
    }
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    base::UniqueFd in_r(in[0]), in_w(in[1]);
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    base::UniqueFd out_r(out[0]), out_w(out[1]);
    std::string arg0 = program, arg1 = token, env0 = "TJ_OUTSIDE_TOKEN=" + token;
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    char* envp[] = {env0.data(), nullptr};
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid_ == 0) {
      // Async-signal-safe calls only. Its own process group, so nothing a sample aims at the
      // group reaches the selftest; it dies with the selftest.
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(in_r.get(), STDIN_FILENO);
      dup2(out_w.get(), STDOUT_FILENO);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, STDERR_FILENO);
      execve(argv[0], argv, envp);
      _exit(127);
    }
    in_r.Reset();
    out_w.Reset();
    stdin_ = std::move(in_w);
    char ready[7] = {};
    pollfd pfd{out_r.get(), POLLIN, 0};
    if (poll(&pfd, 1, 10000) != 1 || read(out_r.get(), ready, 6) != 6 ||
        std::string_view(ready) != "ready\n") {
      error = program + " did not start";
      Stop();
    }
  }
  ~OutsideProcess() { Stop(); }
  OutsideProcess(const OutsideProcess&) = delete;
  OutsideProcess& operator=(const OutsideProcess&) = delete;

  // Still running? (a zombie keeps its pid until reaped here, so the pid is never reused)
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      error = fmt::format("it died ({}) during an earlier sample",
                          WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                              : fmt::format("exit {}", WEXITSTATUS(status)));
      pid_ = -1;
    }
    return pid_ > 0;
  }
  pid_t pid() const { return pid_; }

  std::string error;  // why it is not running

 private:
  void Stop() {
    stdin_.Reset();  // end of file: it exits by itself
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }

  pid_t pid_ = -1;
  base::UniqueFd stdin_;
};

// A pseudo-terminal for the samples that attack the terminal (needs: tty): tracejail gets its
// slave as controlling terminal and stdin. The selftest keeps the master (drained while the sample
// runs) and a slave descriptor of its own, in raw mode, through which it reads afterwards whatever
// a sample pushed into the terminal's input queue (TIOCSTI and the like).
struct Pty {
  base::UniqueFd master, slave;
  std::string slave_path;

  static std::optional<Pty> Open(std::string& error) {
    Pty p;
    p.master.Reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    char name[128];
    if (!p.master.valid() || grantpt(p.master.get()) != 0 || unlockpt(p.master.get()) != 0 ||
        ptsname_r(p.master.get(), name, sizeof name) != 0) {
      error = fmt::format("no pseudo-terminal: {}", std::strerror(errno));
      return std::nullopt;
    }
    p.slave_path = name;
    p.slave.Reset(open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    termios t{};
    if (!p.slave.valid() || tcgetattr(p.slave.get(), &t) != 0) {
      error = fmt::format("cannot open {}: {}", name, std::strerror(errno));
      return std::nullopt;
    }
    cfmakeraw(&t);  // what is injected is readable at once, line or not, and not echoed
    tcsetattr(p.slave.get(), TCSANOW, &t);
    fcntl(p.master.get(), F_SETFL, O_NONBLOCK);
    return p;
  }
  // Everything waiting in the terminal's input queue.
  std::string TakeInput() const {
    std::string bytes;
    char buf[4096];
    for (ssize_t n; bytes.size() < 65536 && (n = read(slave.get(), buf, sizeof buf)) > 0;) {
      bytes.append(buf, static_cast<std::size_t>(n));
    }
    return bytes;
  }
};

std::string PolicyFor(const std::string& level, const World& w, int denied_port, int decoy_port,
                      const Listeners& l) {
  nlohmann::json all = {"read", "write", "create", "delete", "exec", "chmod", "chown"};
  // Rules name the world's paths exactly, as every rule built from a path must (EscapeGlob).
  std::string dir = policy::EscapeGlob(w.dir);
  std::string protected_dir = policy::EscapeGlob(w.protected_dir);
  nlohmann::json p = {{"version", 1},
                      {"name", "selftest-" + level},
                      {"description", "the selftest's world: " + level +
                                          ", the secret, the forbidden program and the "
                                          "listener denied, the protected directory read-only, "
                                          "the decoy listener allowed"},
                      {"extends", level},
                      // The race samples spin flipper threads for their whole run; strict's
                      // CPU limit (60 s for the tree) would end them on a slow or loaded machine
                      // (a sanitizer build) before they finish, and the CPU limit is no defence
                      // against any technique here.
                      {"limits", {{"cpu", "off"}}},
                      {"files",
                       {{"rules",
                         {{{"id", "selftest-secret"},
                           {"path", dir + "/secret"},
                           {"access", all},
                           {"action", "deny"}},
                          {{"id", "selftest-secret"},
                           {"path", dir + "/secret/**"},
                           {"access", all},
                           {"action", "deny"}},
                          {{"id", "selftest-forbidden"},
                           {"path", dir + "/forbidden/**"},
                           {"access", {"read", "exec"}},
                           {"action", "deny"}},
                          {{"id", "selftest-scratch"},
                           {"path", dir + "/scratch"},
                           {"access", {"read", "write", "create", "delete"}},
                           {"action", "allow"}},
                          // Readable (maximum's default would kill), never changed: the path
                          // names the directory and everything below it.
                          {{"id", "selftest-protected"},
                           {"path", protected_dir},
                           {"access", {"read"}},
                           {"action", "allow"}},
                          {{"id", "selftest-protected"},
                           {"path", protected_dir},
                           {"access", {"write", "create", "delete", "chmod", "chown"}},
                           {"action", "deny"}}}}}},
                      // The denied listener by its own addresses, at every level (basic's
                      // default allows the network): the addresses that reach it under other
                      // names (0.0.0.0, ::, mapped) are the alias-net technique.
                      {"network",
                       {{"rules",
                         {{{"id", "selftest-listener"},
                           {"cidr", "127.0.0.1/32"},
                           {"ports", std::to_string(denied_port)},
                           {"verbs", {"connect", "send"}},
                           {"action", "deny"}},
                          {{"id", "selftest-listener"},
                           {"cidr", "::1/128"},
                           {"ports", std::to_string(denied_port)},
                           {"verbs", {"connect", "send"}},
                           {"action", "deny"}},
                          {{"id", "selftest-decoy"},
                           {"cidr", "127.0.0.1/32"},
                           {"ports", std::to_string(decoy_port)},
                           {"verbs", {"connect", "send"}},
                           {"action", "allow"}},
                          {{"id", "selftest-unix"},
                           {"unix", policy::EscapeGlob(l.unix_stream)},
                           {"verbs", {"connect", "send"}},
                           {"action", "deny"}},
                          {{"id", "selftest-unix"},
                           {"unix", policy::EscapeGlob(l.unix_dgram)},
                           {"verbs", {"connect", "send"}},
                           {"action", "deny"}}}}}}};
  std::string path = w.dir + "/policy-" + level + ".json";
  std::ofstream(path) << p.dump(2) << "\n";
  return path;
}

struct Outcome {
  std::string output;  // stdout of the sample
  int status = -1;     // tracejail's exit status
  bool timed_out = false;
  std::vector<report::Event> denials;  // events with a deny/kill decision (or would-be)
  std::string injected;                // what waited in the terminal's input queue (with a pty)
};

// Runs one sample under `tracejail run`. With a pty, tracejail starts in a new session with the
// pty's slave as controlling terminal and stdin (stdout stays the capture pipe).
Outcome RunSample(const std::string& self, const std::vector<std::string>& command,
                  const std::string& policy, const std::string& events,
                  const std::vector<std::pair<std::string, std::string>>& env, int timeout_s,
                  const Pty* pty) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  base::UniqueFd rd(p[0]), wr(p[1]);
  std::vector<std::string> argv = {self,       "run",  "--policy",    policy,
                                   "--events", events, "--no-summary"};
  for (const auto& [k, v] : env) {
    argv.push_back("--keep-env");
    argv.push_back(k);
  }
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const char* tty = pty != nullptr ? pty->slave_path.c_str() : nullptr;
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    if (tty != nullptr) {
      setsid();
      int t = open(tty, O_RDWR);
      if (t < 0 || ioctl(t, TIOCSCTTY, 0) != 0) _exit(kExitInternal);
      dup2(t, STDIN_FILENO);
      if (t > STDERR_FILENO) close(t);
    }
    dup2(wr.get(), STDOUT_FILENO);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    execv(self.c_str(), cargv.data());
    _exit(kExitInternal);
  }
  wr.Reset();
  Outcome out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  char buf[65536];
  // The pty's master is drained (its output dropped) so that a sample writing to its terminal
  // never blocks; -1 once it has nothing more to give (poll ignores it then).
  int master = pty != nullptr ? pty->master.get() : -1;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd pfd[2] = {{rd.get(), POLLIN, 0}, {master, POLLIN, 0}};
    if (left <= 0 || poll(pfd, 2, static_cast<int>(left)) == 0) {
      out.timed_out = true;
      kill(pid, SIGKILL);  // PTRACE_O_EXITKILL takes the tree with it
      break;
    }
    if (pfd[1].revents != 0 && read(master, buf, sizeof buf) <= 0 && errno != EAGAIN) master = -1;
    if (pfd[0].revents == 0) continue;
    ssize_t n = read(rd.get(), buf, sizeof buf);
    if (n <= 0) break;
    if (out.output.size() < (1u << 20)) out.output.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (pty != nullptr) out.injected = pty->TakeInput();
  std::ifstream in(events);
  report::ForEachTypedRecord(in, [&out](report::Record&& r) {
    report::Event* e = std::get_if<report::Event>(&r);
    if (e != nullptr && (e->action != policy::Action::kAllow || e->would)) {
      out.denials.push_back(std::move(*e));
    }
  });
  return out;
}

// The id of the rule behind a decision: "selftest-secret", "escapes/default".
std::string RuleId(const report::Event& e) {
  const std::string& rule = e.rule;
  if (auto open = rule.rfind(" ("); open != std::string::npos && rule.ends_with(")")) {
    return rule.substr(open + 2, rule.size() - open - 3);
  }
  if (auto hash = rule.find("#/"); hash != std::string::npos) return rule.substr(hash + 2);
  return rule;
}

// At maximum the first violation kills the tree, so the sample prints no final line: the run
// was stopped when tracejail says so (exit 122) and its events hold the kill. "" otherwise.
std::string KilledBy(const Outcome& o) {
  if (o.status != kExitKilledByPolicy) return "";
  std::string rules;
  for (const auto& e : o.denials) {
    if (e.action != policy::Action::kKill) continue;
    std::string rule = RuleId(e);
    if (rules.find(rule) == std::string::npos) rules += (rules.empty() ? "" : ", ") + rule;
  }
  return rules.empty() ? "" : "killed by policy: " + rules;
}

// "tracer: selftest-secret, escapes/default" or "kernel: ENOSYS" (no event: the kernel refused).
std::string BlockedBy(const Outcome& o, const std::string& final_line) {
  std::map<std::string, int> rules;
  for (const auto& e : o.denials) ++rules[RuleId(e)];
  if (!rules.empty()) {
    std::string text = "tracer:";
    for (const auto& [rule, n] : rules) text += " " + rule;
    return text;
  }
  std::string errnos;
  for (std::size_t i = final_line.find('E'); i != std::string::npos;
       i = final_line.find('E', i + 1)) {
    std::size_t j = i + 1;
    while (j < final_line.size() && std::isupper(static_cast<unsigned char>(final_line[j]))) ++j;
    std::string word = final_line.substr(i, j - i);
    if (word.size() >= 4 &&
        (i == 0 || !std::isalnum(static_cast<unsigned char>(final_line[i - 1]))) &&
        errnos.find(word) == std::string::npos) {
      errnos += (errnos.empty() ? " " : ", ") + word;
    }
    i = j;
  }
  return "kernel or layers:" + (errnos.empty() ? std::string(" (no event)") : errnos);
}

std::string EventsText(const Outcome& o) {
  std::map<std::string, int> types;
  for (const auto& e : o.denials) ++types[std::string(policy::Name(e.type))];
  std::string text;
  for (const auto& [t, n] : types) text += fmt::format("{}{} x{}", text.empty() ? "" : ", ", t, n);
  return text.empty() ? "-" : text;
}

// A directory that may hold the escape suite, and what it is ("installed", "build tree",
// "--samples"), which the selftest's first line says.
struct SamplesPlace {
  std::string dir;
  const char* what;
};

// Where the escape suite may be, in the order searched when --samples is not given: the
// installed suite (LIBEXECDIR/tracejail/escapes, found from this binary's directory), then the
// build tree's (build/cli/tracejail -> build/samples/escapes). Only from the binary, never from
// the current directory, so that an installed tracejail cannot pick up a build tree's suite.
std::vector<SamplesPlace> DefaultSamplesPlaces() {
  std::error_code ec;
  fs::path bin = fs::read_symlink("/proc/self/exe", ec).parent_path();
  fs::path installed = kInstalledSamplesDir;
  if (installed.is_relative()) installed = bin / installed;
  return {{installed.lexically_normal().string(), "installed"},
          {(bin.parent_path() / "samples" / "escapes").string(), "build tree"}};
}

bool HasSamples(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto ext = entry.path().extension();
    if (ext == ".c" || ext == ".py") return true;
  }
  return false;
}

// The directory to run: --samples, else the first place of DefaultSamplesPlaces() that holds
// samples. Throws, naming every directory searched, when there is none.
SamplesPlace FindSamples(const std::string& given) {
  if (!given.empty()) return {given, "--samples"};
  std::vector<SamplesPlace> places = DefaultSamplesPlaces();
  std::string searched;
  for (const SamplesPlace& p : places) {
    if (HasSamples(p.dir)) return p;
    searched += fmt::format("\n  {} ({}: not there or no samples)", p.dir, p.what);
  }
  throw std::runtime_error(fmt::format(
      "no escape samples found; searched:{}\nInstall them (cmake --install BUILD_DIR, or the "
      ".deb), build them (cmake --build BUILD_DIR), or pass --samples DIR",
      searched));
}

std::vector<EscapeSample> LoadSamples(const std::string& dir) {
  std::vector<EscapeSample> out;
  std::vector<fs::path> sources;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto ext = entry.path().extension();
    if (ext == ".c" || ext == ".py") sources.push_back(entry.path());
  }
  if (ec || sources.empty()) {
    throw std::runtime_error(fmt::format(
        "no escape samples in {} (build them: cmake --build BUILD_DIR, or pass --samples DIR)",
        dir));
  }
  std::sort(sources.begin(), sources.end());
  for (const auto& src : sources) {
    std::ifstream in(src);
    std::stringstream text;
    text << in.rdbuf();
    std::string error;
    auto s = ParseEscapeHeader(text.str(), error);
    if (!s) {
      if (!error.empty()) throw std::runtime_error(src.string() + ": " + error);
      continue;  // a helper file, not a sample
    }
    s->source = src.filename().string();
    if (src.extension() == ".py") {
      s->command = {"/usr/bin/python3", src.string()};
    } else {
      fs::path bin = src;
      bin.replace_extension();
      if (access(bin.c_str(), X_OK) != 0) {
        throw std::runtime_error(
            fmt::format("{} is not built (cmake --build BUILD_DIR)", bin.string()));
      }
      s->command = {bin.string()};
    }
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace

void AddSelftestOptions(CLI::App* cmd, SelftestArgs& args) {
  cmd->add_option("--level", args.level,
                  "basic, standard, strict, maximum, or all (the four in that order; the default)")
      ->check(CLI::IsMember({"basic", "standard", "strict", "maximum", "all"}));
  cmd->add_option("--samples", args.samples,
                  fmt::format("the escape suite's directory (default: {} from this binary's "
                              "directory when installed, else samples/escapes of its build tree)",
                              kInstalledSamplesDir));
  cmd->add_option("--only", args.only, "run only these techniques (ids)");
  cmd->add_flag("--json", args.json, "print the results as one JSON document");
  cmd->add_flag("--explain", args.explain, "print each technique's explanation under its row");
  cmd->add_option("--timeout", args.timeout_s, "seconds allowed per sample (default 120)")
      ->check(CLI::Range(1, 3600));
}

int Selftest(const SelftestArgs& args) {
  std::error_code ec;
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  std::string dir, from;
  std::vector<EscapeSample> samples;
  try {
    SamplesPlace place = FindSamples(args.samples);
    dir = place.dir;
    from = place.what;
    samples = LoadSamples(dir);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tracejail: selftest: {}\n", e.what());
    return kExitUsage;
  }
  if (!args.only.empty()) {
    std::erase_if(samples, [&](const EscapeSample& s) {
      return std::find(args.only.begin(), args.only.end(), s.id) == args.only.end();
    });
  }
  std::vector<std::string> levels;
  for (auto level : kSelftestLevels) {
    if (args.level == "all" || args.level == level) levels.emplace_back(level);
  }

  World world;
  Listeners listeners(world.dir);
  std::string outside_token = "tracejail-selftest-outside-" + RandomHex(12);
  OutsideProcess outside((fs::path(dir) / "outside_process").string(), outside_token);
  std::vector<std::pair<std::string, std::string>> env = {
      {"TJ_SECRET", world.secret},
      {"TJ_SECRET_DIR", world.dir + "/secret"},
      {"TJ_DECOY", world.decoy},
      {"TJ_LISTEN", fmt::format("127.0.0.1:{}", listeners.denied_port())},
      {"TJ_DECOY_ADDR", fmt::format("127.0.0.1:{}", listeners.decoy_port())},
      {"TJ_FORBIDDEN", world.forbidden},
      {"TJ_SCRATCH", world.dir + "/scratch"},
      {"TJ_UNIX_LISTEN", listeners.unix_stream},
      {"TJ_UNIX_DGRAM", listeners.unix_dgram},
      {"TJ_PROTECTED", world.protected_file},
      {"TJ_PROTECTED_DIR", world.protected_dir}};
  if (outside.Running()) env.emplace_back("TJ_OUTSIDE_PID", std::to_string(outside.pid()));

  nlohmann::json results = nlohmann::json::array();
  int failures = 0;
  if (!args.json) {
    fmt::print("tracejail selftest: {} techniques from {} ({})\n", samples.size(), dir, from);
    fmt::print("secret {} (denied), listener 127.0.0.1:{} (denied), decoy 127.0.0.1:{} (allowed)\n",
               world.secret, listeners.denied_port(), listeners.decoy_port());
    fmt::print(
        "protected {} (read-only), outside process {}\n", world.protected_dir,
        outside.Running() ? fmt::format("pid {}", outside.pid()) : "not running: " + outside.error);
  }
  for (const auto& level : levels) {
    std::string policy =
        PolicyFor(level, world, listeners.denied_port(), listeners.decoy_port(), listeners);
    int blocked = 0, escaped = 0, skipped = 0, errors = 0;
    if (!args.json) {
      fmt::print("\n== {}\n  {:<22} {:<8} {:<44} {}\n", level, "technique", "result", "blocked by",
                 "events");
    }
    for (const auto& s : samples) {
      nlohmann::json r = {{"id", s.id},     {"class", s.klass},     {"title", s.title},
                          {"level", level}, {"covered", s.covered}, {"source", s.source}};
      std::string result, by, events;
      auto needs = [&](std::string_view what) {
        return std::find(s.needs.begin(), s.needs.end(), what) != s.needs.end();
      };
      std::optional<Pty> pty;
      std::string unavailable;
      if (needs("root") && geteuid() != 0) {
        unavailable = "needs root";
      } else if (needs("outside") && !outside.Running()) {
        unavailable = "needs the outside process: " + outside.error;
      } else if (needs("tty") && !(pty = Pty::Open(unavailable))) {
        unavailable = "needs a terminal: " + unavailable;
      }
      if (!unavailable.empty()) {
        result = "skipped";
        by = unavailable;
        ++skipped;
      } else {
        fs::remove_all(world.dir + "/scratch", ec);
        fs::create_directories(world.dir + "/scratch", ec);
        world.ResetProtected();
        std::string events_file = world.dir + "/events-" + s.id + "-" + level + ".jsonl";
        unsigned before = listeners.hits();
        Outcome o = RunSample(self, s.command, policy, events_file, env, args.timeout_s,
                              pty ? &*pty : nullptr);
        unsigned hits = listeners.hits() - before;
        if (o.status == kExitUnavailable) {
          result = "skipped";
          by = "a layer of this level is unavailable on this machine (exit 119)";
          ++skipped;
        } else {
          SampleVerdict v = JudgeSample(
              o.output, Oracles{world.token, world.marker, outside_token, hits, o.injected});
          bool covered = CoveredAt(s.covered, level);
          std::string killed = KilledBy(o);
          if (v.escaped) {
            result = covered ? "ESCAPED" : "escaped";
            by = v.why + (covered ? "" : " (not covered at this level)");
            ++escaped;
            if (covered) ++failures;
          } else if (o.timed_out) {
            result = "ERROR";
            by = fmt::format("no end after {} s", args.timeout_s);
            ++errors;
            ++failures;
          } else if (v.error && !killed.empty()) {
            result = "blocked";
            by = killed;
            ++blocked;
          } else if (v.error) {
            result = "ERROR";
            by = fmt::format("no final BLOCKED:/ESCAPED: line (tracejail exit {})", o.status);
            ++errors;
            ++failures;
          } else {
            result = "blocked";
            by = BlockedBy(o, v.final_line);
            ++blocked;
          }
          events = EventsText(o);
          r["final_line"] = base::EscapeBytes(v.final_line);
          r["listener_hits"] = hits;
          r["exit_status"] = o.status;
          if (pty) r["terminal_input"] = base::EscapeBytes(o.injected);
        }
      }
      r["result"] = result;
      r["blocked_by"] = by;
      r["events"] = events;
      results.push_back(r);
      if (!args.json) {
        fmt::print("  {:<22} {:<8} {:<44} {}\n", s.id, result, by, events);
        if (args.explain) {
          fmt::print("      technique: {}\n      defence:   {}\n", s.technique, s.defence);
        }
        std::fflush(stdout);
      }
    }
    if (!args.json) {
      fmt::print("  {}: {} blocked, {} escaped, {} skipped, {} errors\n", level, blocked, escaped,
                 skipped, errors);
    }
  }
  if (args.json) {
    nlohmann::json doc = {{"schema_version", report::kSchemaVersion}, {"results", results}};
    fmt::print("{}\n", doc.dump(2));
  }
  if (!args.json) {
    fmt::print("\n{}\n", failures == 0 ? "selftest passed: no technique got through where it is "
                                         "covered"
                                       : fmt::format("selftest FAILED: {} technique run(s) "
                                                     "escaped or failed",
                                                     failures));
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace cli
