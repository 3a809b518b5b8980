#include "cli/selftest_command.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/escape_suite.h"
#include "cli/exit_codes.h"
#include "report/analysis.h"
#include "report/escape.h"
#include "tracer/unique_fd.h"

namespace cli {
namespace {

namespace fs = std::filesystem;
using tracer::UniqueFd;

std::string RandomHex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (getrandom(raw.data(), raw.size(), 0) != static_cast<ssize_t>(raw.size())) {
    throw std::runtime_error(fmt::format("getrandom: {}", std::strerror(errno)));
  }
  std::string hex;
  for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
  return hex;
}

// The selftest's world: a secret, a decoy, a forbidden program, a scratch directory.
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
  }
  ~World() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  std::string dir, token, marker, secret, decoy, forbidden;

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
  static UniqueFd Bind(int type, int port) {
    UniqueFd fd(socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
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
  static UniqueFd BindUnix(int type, const std::string& path) {
    UniqueFd fd(socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
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
    const UniqueFd* fds[6] = {&tcp_[0], &udp_[0], &tcp_[1], &udp_[1], &ux_[0], &ux_[1]};
    return fds[i]->get();
  }
  // Takes everything queued on the ready slots (the sockets do not block). Holds mu_.
  void Take(pollfd* fds) {
    for (int i = 0; i < 6; ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      bool denied = i != 2 && i != 3;
      for (;;) {
        if (i % 2 == 0) {
          UniqueFd c(accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC));
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

  UniqueFd tcp_[2], udp_[2], ux_[2], stop_r_, stop_w_;
  int port_[2] = {0, 0};
  std::mutex mu_;
  unsigned hits_ = 0;  // guarded by mu_
  std::thread thread_;
};

std::string PolicyFor(const std::string& level, const World& w, int decoy_port,
                      const Listeners& l) {
  nlohmann::json all = {"read", "write", "create", "delete", "exec", "chmod", "chown"};
  nlohmann::json p = {{"version", 1},
                      {"name", "selftest-" + level},
                      {"description", "the selftest's world: " + level +
                                          ", the secret and the forbidden program "
                                          "denied, the decoy listener allowed"},
                      {"extends", level},
                      // The race samples spin flipper threads for their whole run; strict's
                      // CPU limit (60 s for the tree) would end them on a slow or loaded machine
                      // (a sanitizer build) before they finish, and the CPU limit is no defence
                      // against any technique here.
                      {"limits", {{"cpu", "off"}}},
                      {"files",
                       {{"rules",
                         {{{"id", "selftest-secret"},
                           {"path", w.dir + "/secret"},
                           {"access", all},
                           {"action", "deny"}},
                          {{"id", "selftest-secret"},
                           {"path", w.dir + "/secret/**"},
                           {"access", all},
                           {"action", "deny"}},
                          {{"id", "selftest-forbidden"},
                           {"path", w.dir + "/forbidden/**"},
                           {"access", {"read", "exec"}},
                           {"action", "deny"}},
                          {{"id", "selftest-scratch"},
                           {"path", w.dir + "/scratch"},
                           {"access", {"read", "write", "create", "delete"}},
                           {"action", "allow"}}}}}},
                      {"network",
                       {{"rules",
                         {{{"id", "selftest-decoy"},
                           {"cidr", "127.0.0.1/32"},
                           {"ports", std::to_string(decoy_port)},
                           {"verbs", {"connect", "send"}},
                           {"action", "allow"}},
                          {{"id", "selftest-unix"},
                           {"unix", l.unix_stream},
                           {"verbs", {"connect", "send"}},
                           {"action", "deny"}},
                          {{"id", "selftest-unix"},
                           {"unix", l.unix_dgram},
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
  std::vector<nlohmann::json> denials;  // events with a deny/kill decision (or would-be)
};

Outcome RunSample(const std::string& self, const std::vector<std::string>& command,
                  const std::string& policy, const std::string& events,
                  const std::vector<std::pair<std::string, std::string>>& env, int timeout_s) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  UniqueFd rd(p[0]), wr(p[1]);
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
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
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
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    pollfd pfd{rd.get(), POLLIN, 0};
    if (left <= 0 || poll(&pfd, 1, static_cast<int>(left)) == 0) {
      out.timed_out = true;
      kill(pid, SIGKILL);  // PTRACE_O_EXITKILL takes the tree with it
      break;
    }
    ssize_t n = read(rd.get(), buf, sizeof buf);
    if (n <= 0) break;
    if (out.output.size() < (1u << 20)) out.output.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(events);
  std::size_t bad = 0;
  for (auto& e : report::ReadEvents(in, bad)) {
    if (!e.contains("decision")) continue;
    const auto& d = e["decision"];
    if (d.value("action", "allow") != "allow" || d.contains("would")) out.denials.push_back(e);
  }
  return out;
}

// "tracer: selftest-secret, escapes/default" or "kernel: ENOSYS" (no event: the kernel refused).
std::string BlockedBy(const Outcome& o, const std::string& final_line) {
  std::map<std::string, int> rules;
  for (const auto& e : o.denials) {
    std::string rule = e["decision"].value("rule", "?");
    if (auto open = rule.rfind(" ("); open != std::string::npos && rule.ends_with(")")) {
      rule = rule.substr(open + 2, rule.size() - open - 3);  // the rule's id
    } else if (auto hash = rule.find("#/"); hash != std::string::npos) {
      rule = rule.substr(hash + 2);
    }
    ++rules[rule];
  }
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
  for (const auto& e : o.denials) ++types[e.value("type", "?")];
  std::string text;
  for (const auto& [t, n] : types) text += fmt::format("{}{} x{}", text.empty() ? "" : ", ", t, n);
  return text.empty() ? "-" : text;
}

std::string DefaultSamplesDir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  // build/cli/tracejail -> build/samples/escapes
  return (self.parent_path().parent_path() / "samples" / "escapes").string();
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
  cmd->add_option("--level", args.level, "standard, strict, or all (both; the default)")
      ->check(CLI::IsMember({"standard", "strict", "all"}));
  cmd->add_option("--samples", args.samples,
                  "the built escape suite (default: samples/escapes beside this build's cli/)");
  cmd->add_option("--only", args.only, "run only these techniques (ids)");
  cmd->add_flag("--json", args.json, "print the results as one JSON document");
  cmd->add_flag("--explain", args.explain, "print each technique's explanation under its row");
  cmd->add_option("--timeout", args.timeout_s, "seconds allowed per sample (default 120)")
      ->check(CLI::Range(1, 3600));
}

int Selftest(const SelftestArgs& args) {
  std::error_code ec;
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  std::string dir = args.samples.empty() ? DefaultSamplesDir() : args.samples;
  std::vector<EscapeSample> samples;
  try {
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
  if (args.level != "strict") levels.push_back("standard");
  if (args.level != "standard") levels.push_back("strict");

  World world;
  Listeners listeners(world.dir);
  std::vector<std::pair<std::string, std::string>> env = {
      {"TJ_SECRET", world.secret},
      {"TJ_SECRET_DIR", world.dir + "/secret"},
      {"TJ_DECOY", world.decoy},
      {"TJ_LISTEN", fmt::format("127.0.0.1:{}", listeners.denied_port())},
      {"TJ_DECOY_ADDR", fmt::format("127.0.0.1:{}", listeners.decoy_port())},
      {"TJ_FORBIDDEN", world.forbidden},
      {"TJ_SCRATCH", world.dir + "/scratch"},
      {"TJ_UNIX_LISTEN", listeners.unix_stream},
      {"TJ_UNIX_DGRAM", listeners.unix_dgram}};

  nlohmann::json results = nlohmann::json::array();
  int failures = 0;
  if (!args.json) {
    fmt::print("tracejail selftest: {} techniques from {}\n", samples.size(), dir);
    fmt::print("secret {} (denied), listener 127.0.0.1:{} (denied), decoy 127.0.0.1:{} (allowed)\n",
               world.secret, listeners.denied_port(), listeners.decoy_port());
  }
  for (const auto& level : levels) {
    std::string policy = PolicyFor(level, world, listeners.decoy_port(), listeners);
    int blocked = 0, escaped = 0, skipped = 0, errors = 0;
    if (!args.json) {
      fmt::print("\n== {}\n  {:<22} {:<8} {:<44} {}\n", level, "technique", "result", "blocked by",
                 "events");
    }
    for (const auto& s : samples) {
      nlohmann::json r = {{"id", s.id},     {"class", s.klass},     {"title", s.title},
                          {"level", level}, {"covered", s.covered}, {"source", s.source}};
      std::string result, by, events;
      bool needs_root = std::find(s.needs.begin(), s.needs.end(), "root") != s.needs.end();
      if (needs_root && geteuid() != 0) {
        result = "skipped";
        by = "needs root";
        ++skipped;
      } else {
        fs::remove_all(world.dir + "/scratch", ec);
        fs::create_directories(world.dir + "/scratch", ec);
        std::string events_file = world.dir + "/events-" + s.id + "-" + level + ".jsonl";
        unsigned before = listeners.hits();
        Outcome o = RunSample(self, s.command, policy, events_file, env, args.timeout_s);
        unsigned hits = listeners.hits() - before;
        if (o.status == kExitUnavailable) {
          result = "skipped";
          by = "a layer of this level is unavailable on this machine (exit 119)";
          ++skipped;
        } else {
          SampleVerdict v = JudgeSample(o.output, world.token, world.marker, hits);
          bool covered = level == "strict" || s.covered == "standard";
          if (v.escaped) {
            result = covered ? "ESCAPED" : "escaped";
            by = v.why + (covered ? "" : " (not covered at this level)");
            ++escaped;
            if (covered) ++failures;
          } else if (v.error || o.timed_out) {
            result = "ERROR";
            by = o.timed_out
                     ? fmt::format("no end after {} s", args.timeout_s)
                     : fmt::format("no final BLOCKED:/ESCAPED: line (tracejail exit {})", o.status);
            ++errors;
            ++failures;
          } else {
            result = "blocked";
            by = BlockedBy(o, v.final_line);
            ++blocked;
          }
          events = EventsText(o);
          r["final_line"] = report::EscapeBytes(v.final_line);
          r["listener_hits"] = hits;
          r["exit_status"] = o.status;
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
  if (args.json) fmt::print("{}\n", nlohmann::json{{"results", results}}.dump(2));
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
