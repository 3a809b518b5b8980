// Issue 14 with real traced programs: unknown syscall numbers, the capability sets per level,
// the terminal, signal owners, other processes' /proc entries, objects created outside the open
// family and the unspecified address. The attack side is the escape suite (`tracejail selftest`
// at every level); these check the defences' observable behaviour and their events.
#include <fcntl.h>
#include <linux/capability.h>
#include <pty.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "harness.h"

using harness::Run;
using harness::Sample;

namespace {

// "key=value" lines of a probe's output.
std::string Value(const std::string& out, const std::string& key) {
  auto at = out.find(key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  return out.substr(at, out.find('\n', at) - at);
}

std::uint64_t Hex(const std::string& s) { return s.empty() ? ~0ULL : std::stoull(s, nullptr, 16); }

std::uint64_t Bits(std::initializer_list<int> caps) {
  std::uint64_t m = 0;
  for (int c : caps) m |= 1ULL << c;
  return m;
}

// Runs tracejail with a pseudo-terminal as its controlling terminal and stdin; returns what
// the terminal showed (the command's output) and the exit status.
struct TtyRun {
  std::string screen;
  int status = -1;
};
TtyRun RunOnTerminal(const std::vector<std::string>& args) {
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) harness::ExecTracejail(args);
  TtyRun r;
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the last holder of the slave is gone
    r.screen.append(buf, static_cast<std::size_t>(n));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  close(master);
  return r;
}

}  // namespace

TEST_CASE("Kernel surface: an unknown syscall number fails with ENOSYS and is recorded",
          "[kernel_surface]") {
  for (const char* level : {"basic", "standard", "strict", "maximum"}) {
    CAPTURE(level);
    auto r = Run({Sample("kernel_probe"), "unknown"}, {.tracejail_args = {"--level", level}});
    if (r.status == 119) {
      WARN("skipped at " << level << ": an isolation layer is unavailable: " << r.err);
      continue;
    }
    CHECK(r.status == 0);
    for (const char* nr : {"470", "999", "5000", "156"}) {
      CAPTURE(nr);
      CHECK(Value(r.out, std::string("nr=") + nr + " errno") == "ENOSYS");
    }
    auto blocked = r.Events("syscall_blocked");
    int unknown = 0;
    for (const auto& e : blocked) {
      if (e["decision"].value("primitive", "") != "unknown_syscall") continue;
      ++unknown;
      CHECK(e["decision"]["action"] == "deny");
      CHECK(e["decision"]["errno"] == "ENOSYS");
      CHECK(e["syscall"]["arch"] == "x86_64");
      CHECK(e.contains("raw_args"));
    }
    CHECK(unknown == 3);  // 470, 999, 5000; _sysctl (156) is a table row failing in the kernel
  }
  SECTION("at none it runs, and is still recorded") {
    auto r = Run({Sample("kernel_probe"), "unknown"}, {.tracejail_args = {"--level", "none"}});
    CHECK(r.status == 0);
    int unknown = 0;
    for (const auto& e : r.events) {
      if (e.contains("decision") && e["decision"].value("primitive", "") == "unknown_syscall") {
        ++unknown;
        CHECK(e["decision"]["action"] == "allow");
      }
    }
    CHECK(unknown == 3);
  }
}

TEST_CASE("Kernel surface: each level's capability sets", "[kernel_surface]") {
  // CapBnd, CapPrm, CapEff of a root command (tracejail runs the tests as root).
  if (geteuid() != 0) {
    harness::Skip("needs root: an unprivileged command holds no capability anyway");
    return;
  }
  const std::uint64_t standard =
      Bits({CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SETPCAP,
            CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE});
  struct Case {
    const char* level;
    std::vector<std::string> extra;
    std::uint64_t expected;
  };
  const Case cases[] = {
      {"basic", {}, standard},
      {"standard", {}, standard},
      {"standard",
       {"--cap-drop", "ALL", "--cap-add", "CAP_CHOWN,kill"},
       Bits({CAP_CHOWN, CAP_KILL})},
      {"standard", {"--cap-add", "SYS_NICE"}, standard | Bits({CAP_SYS_NICE})},
      {"standard", {"--cap-add", "SYS_PTRACE"}, standard},  // never, at any level
  };
  for (const auto& c : cases) {
    CAPTURE(c.level, c.extra);
    std::vector<std::string> args = {"--level", c.level};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    auto r = Run({Sample("kernel_probe"), "caps"}, {.tracejail_args = args});
    REQUIRE(r.status == 0);
    for (const char* set : {"CapBnd", "CapPrm", "CapEff"}) {
      CAPTURE(set, r.out);
      CHECK(Hex(Value(r.out, set)) == c.expected);
    }
    CHECK(Hex(Value(r.out, "CapInh")) == 0);
    CHECK(Hex(Value(r.out, "CapAmb")) == 0);
  }
  SECTION("none keeps the caller's, less CAP_SYS_PTRACE") {
    auto r = Run({Sample("kernel_probe"), "caps"}, {.tracejail_args = {"--level", "none"}});
    REQUIRE(r.status == 0);
    std::uint64_t bnd = Hex(Value(r.out, "CapBnd"));
    CHECK((bnd & Bits({CAP_SYS_PTRACE})) == 0);
    CHECK((bnd & Bits({CAP_SYS_ADMIN})) != 0);
  }
  SECTION("the result lists the set in force") {
    harness::TempDir dir;
    std::string result = dir.path() + "/result.json";
    auto r = Run({Sample("kernel_probe"), "caps"},
                 {.tracejail_args = {"--level", "standard", "--result", result}});
    REQUIRE(r.status == 0);
    auto j = nlohmann::json::parse(harness::Slurp(result));
    bool found = false;
    for (const auto& l : j["layers"]) {
      if (l["layer"] != "capabilities") continue;
      found = true;
      CHECK(l["state"] == "active");
      CHECK(l["detail"].get<std::string>().find("CAP_CHOWN") != std::string::npos);
      CHECK(l["detail"].get<std::string>().find("CAP_SYS_ADMIN") == std::string::npos);
    }
    CHECK(found);
  }
  SECTION("the events file and its reports list the set in force") {
    harness::TempDir dir;
    std::string events = dir.path() + "/events.jsonl";
    auto r = Run({"/bin/true"},
                 {.tracejail_args = {"--level", "maximum", "--events", events}, .events = false});
    if (r.status == 119) return;  // maximum's namespaces are unavailable here
    REQUIRE(r.status == 0);
    auto text = harness::Tool({"report", events});
    CHECK(text.out.find("Capabilities in force: none") != std::string::npos);
    auto json = harness::Tool({"report", events, "--format", "json"});
    CHECK(nlohmann::json::parse(json.out)["capabilities"] == "none");
  }
  SECTION("an unknown name is a usage error") {
    auto r = Run({Sample("kernel_probe"), "caps"},
                 {.tracejail_args = {"--cap-add", "CAP_NOPE"}, .summary = true});
    CHECK(r.status == 120);
    CHECK(r.err.find("unknown capability") != std::string::npos);
  }
}

TEST_CASE("Kernel surface: the command has no controlling terminal unless --tty",
          "[kernel_surface]") {
  auto plain = RunOnTerminal(
      {"run", "--level", "standard", "--no-summary", "--", Sample("kernel_probe"), "tty"});
  CHECK(plain.status == 0);
  CHECK(Value(plain.screen, "session_leader").starts_with("1"));
  CHECK(Value(plain.screen, "dev_tty").starts_with("ENXIO"));

  auto kept = RunOnTerminal(
      {"run", "--level", "standard", "--tty", "--no-summary", "--", Sample("kernel_probe"), "tty"});
  CHECK(kept.status == 0);
  CHECK(Value(kept.screen, "dev_tty").starts_with("open"));
}

TEST_CASE("Kernel surface: TIOCSTI is denied at every level but none, with or without --tty",
          "[kernel_surface]") {
  harness::TempDir dir;
  for (const char* level : {"basic", "standard", "strict", "maximum"}) {
    for (bool tty : {false, true}) {
      CAPTURE(level, tty);
      std::string events = dir.path() + "/events-" + level + (tty ? "-tty" : "") + ".jsonl";
      std::vector<std::string> args = {"run", "--level", level, "--no-summary", "--events", events};
      if (tty) args.push_back("--tty");
      args.insert(args.end(), {"--", Sample("kernel_probe"), "tiocsti"});
      auto r = RunOnTerminal(args);
      if (r.status == 119) continue;  // an isolation layer of this level is unavailable
      std::string log = harness::Slurp(events);
      CHECK(log.find("\"primitive\":\"terminal\"") != std::string::npos);
      if (std::string(level) == "maximum") {
        CHECK(r.status == 122);  // the first violation kills the tree
        continue;
      }
      CHECK(r.status == 0);
      CHECK(Value(r.screen, "tiocsti").starts_with("EPERM"));
      CHECK(Value(r.screen, "tiocsti_high").starts_with("EPERM"));
    }
  }
}

TEST_CASE("Kernel surface: a signal owner outside the tree is refused", "[kernel_surface]") {
  auto outside = Run({Sample("kernel_probe"), "owner", "1"});
  CHECK(Value(outside.out, "setown") == "EPERM");
  auto blocked = outside.Events("escape_attempt", "fcntl");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0]["decision"]["primitive"] == "signal_outside_tree");
  auto self = Run({Sample("kernel_probe"), "owner", "self"});
  CHECK(Value(self.out, "setown") == "0");
  CHECK(self.Events("escape_attempt").empty());
}

TEST_CASE("Kernel surface: another process's /proc entries are out of reach", "[kernel_surface]") {
  // pid 1 is outside every traced tree; its status and cmdline are readable natively as root.
  for (const char* entry : {"/proc/1/status", "/proc/1/cmdline", "/proc/1/task/1/comm"}) {
    CAPTURE(entry);
    auto r = Run({"/bin/cat", entry}, {.tracejail_args = {"--level", "basic"}});
    CHECK(r.status != 0);
    bool seen = false;
    for (const auto& e : r.events) {
      seen = seen || (e.contains("decision") &&
                      e["decision"].value("primitive", "") == "process_outside_tree");
    }
    CHECK(seen);
  }
  auto own = Run({"/bin/cat", "/proc/self/status"}, {.tracejail_args = {"--level", "basic"}});
  CHECK(own.status == 0);
  CHECK(own.out.find("Name:") != std::string::npos);
}

TEST_CASE("Kernel surface: objects created or changed outside the open family are decided",
          "[kernel_surface]") {
  harness::TempDir dir;
  std::string locked = dir.path() + "/locked";
  REQUIRE(mkdir(locked.c_str(), 0755) == 0);
  std::string file = dir.File("locked/file", "x\n");
  std::string policy = dir.File("policy.json", R"({"version": 1, "extends": "standard",
      "files": {"rules": [{"path": ")" + locked + R"(", "access": ["write", "create", "delete",
      "chmod", "chown"], "action": "deny"}]}})");
  const std::string script = R"(
import os, socket, sys
locked, f = sys.argv[1], sys.argv[2]
def attempt(name, fn):
    try:
        fn(); print(name + "=ok")
    except OSError as e:
        print(name + "=" + (os.strerror(e.errno) if e.errno else str(e)))
s = socket.socket(socket.AF_UNIX)
attempt("bind", lambda: s.bind(locked + "/sock"))
attempt("mkfifo", lambda: os.mkfifo(locked + "/fifo"))
fd = os.open(f, os.O_RDONLY)
attempt("fchmod", lambda: os.fchmod(fd, 0o777))
attempt("fchown", lambda: os.fchown(fd, 0, 0))
attempt("fsetxattr", lambda: os.setxattr(fd, "user.tj", b"1"))
attempt("futimens", lambda: os.utime(fd, (0, 0)))
mine = sys.argv[3]
open(mine, "w").close()
attempt("setuid", lambda: os.chmod(mine, 0o4755))
attempt("setgid_create", lambda: os.close(os.open(mine + ".g", os.O_CREAT | os.O_WRONLY, 0o2755)))
attempt("filecaps", lambda: os.setxattr(mine, "security.capability", b"\x01\x00\x00\x02" + b"\x00" * 16))
attempt("plain_chmod", lambda: os.chmod(mine, 0o755))
)";
  std::string py = dir.File("probe.py", script);
  std::string mine = dir.path() + "/mine";
  auto r =
      Run({"/usr/bin/python3", py, locked, file, mine}, {.tracejail_args = {"--policy", policy}});
  CHECK(r.status == 0);
  for (const char* call : {"bind", "mkfifo", "fchmod", "fchown", "fsetxattr", "futimens"}) {
    CAPTURE(call, r.out);
    CHECK(Value(r.out, call) == "Permission denied");
  }
  // Files that would run with privileges for anyone on the host.
  for (const char* call : {"setuid", "setgid_create", "filecaps"}) {
    CAPTURE(call, r.out);
    CHECK(Value(r.out, call) == "Operation not permitted");
  }
  CHECK(Value(r.out, "plain_chmod") == "ok");
  struct stat st {};
  REQUIRE(stat(mine.c_str(), &st) == 0);
  CHECK((st.st_mode & (S_ISUID | S_ISGID)) == 0);
  CHECK(access((mine + ".g").c_str(), F_OK) != 0);
  REQUIRE(stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) != 0777);
  CHECK(access((locked + "/sock").c_str(), F_OK) != 0);
  CHECK(access((locked + "/fifo").c_str(), F_OK) != 0);
}

TEST_CASE("Kernel surface: 0.0.0.0 and other local aliases are decided as the loopback address",
          "[kernel_surface]") {
  harness::LoopbackListener listener;
  harness::TempDir dir;
  std::string port = std::to_string(listener.port());
  std::string policy = dir.File("policy.json", R"({"version": 1, "extends": "basic",
      "network": {"rules": [{"cidr": "127.0.0.1/32", "ports": ")" +
                                                   port + R"(",
      "verbs": ["connect", "send"], "action": "deny"}]}})");
  for (const char* host : {"0.0.0.0", "127.0.0.1"}) {
    CAPTURE(host);
    auto r = Run({Sample("connect_tcp"), host, port}, {.tracejail_args = {"--policy", policy}});
    CHECK(r.status != 0);
    CHECK_FALSE(r.Events("permission_denied", "connect").empty());
  }
  CHECK_FALSE(listener.Received());
}

TEST_CASE("Kernel surface: basic keeps the kernel's own settings, memory and log out of reach",
          "[kernel_surface]") {
  // Writes back the value already there: harmless even if the defence were gone.
  auto settings = Run({"/bin/sh", "-c",
                       "v=$(cat /proc/sys/kernel/core_pattern) && "
                       "printf '%s\\n' \"$v\" > /proc/sys/kernel/core_pattern && echo wrote"},
                      {.tracejail_args = {"--level", "basic"}});
  CHECK(settings.out.find("wrote") == std::string::npos);
  CHECK_FALSE(settings.Events("escape_attempt", "openat").empty());
  auto kmsg = Run({"/bin/sh", "-c", "head -c1 /dev/kmsg >/dev/null && echo read"},
                  {.tracejail_args = {"--level", "basic"}});
  CHECK(kmsg.out.find("read") == std::string::npos);
  // Reading settings is fine.
  auto read =
      Run({"/bin/cat", "/proc/sys/kernel/ostype"}, {.tracejail_args = {"--level", "basic"}});
  CHECK(read.status == 0);
  CHECK(read.out == "Linux\n");
}

TEST_CASE("Kernel surface: a daemon's unix socket is out of reach and the tree's own sockets work",
          "[kernel_surface]") {
  // An outside "daemon" (tmux, systemd, D-Bus would run commands on the sandbox's behalf).
  harness::TempDir dir;
  std::string daemon = dir.path() + "/daemon.sock";
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", daemon.c_str());
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listener, 8) == 0);
  const std::string script = R"(
import os, socket, sys
daemon, own = sys.argv[1], sys.argv[2]
def attempt(name, fn):
    try:
        fn(); print(name + "=ok")
    except OSError as e:
        print(name + "=" + os.strerror(e.errno))
attempt("daemon", lambda: socket.socket(socket.AF_UNIX).connect(daemon))
# Binding the daemon's path fails (it is taken): that must not make it the tree's own.
attempt("bind_taken", lambda: socket.socket(socket.AF_UNIX).bind(daemon))
attempt("daemon_again", lambda: socket.socket(socket.AF_UNIX).connect(daemon))
s = socket.socket(socket.AF_UNIX); s.bind(own); s.listen(1)
attempt("own", lambda: socket.socket(socket.AF_UNIX).connect(own))
a = socket.socket(socket.AF_UNIX); a.bind("\0tj-own-" + str(os.getpid())); a.listen(1)
attempt("own_abstract", lambda: socket.socket(socket.AF_UNIX).connect("\0tj-own-" + str(os.getpid())))
)";
  std::string py = dir.File("unix.py", script);
  for (const char* level : {"basic", "standard"}) {
    CAPTURE(level);
    std::string own = dir.path() + "/own-" + level + ".sock";
    auto r = Run({"/usr/bin/python3", py, daemon, own}, {.tracejail_args = {"--level", level}});
    CHECK(r.status == 0);
    CAPTURE(r.out);
    CHECK(Value(r.out, "daemon") == "Permission denied");
    CHECK(Value(r.out, "bind_taken") == "Address already in use");
    CHECK(Value(r.out, "daemon_again") == "Permission denied");
    CHECK(Value(r.out, "own") == "ok");
    CHECK(Value(r.out, "own_abstract") == "ok");
    bool escape = false;
    for (const auto& e : r.Events("escape_attempt", "connect")) {
      escape =
          escape || e["decision"]["rule"].get<std::string>().find("daemons") != std::string::npos;
    }
    CHECK(escape);
  }
  close(listener);
}

TEST_CASE("Kernel surface: writing to a set-user-ID file clears the bit (no CAP_FSETID)",
          "[kernel_surface]") {
  if (geteuid() != 0) {
    harness::Skip("needs root: only root's writes keep the bit natively");
    return;
  }
  harness::TempDir dir;
  std::string file = dir.File("suid", "#!/bin/sh\n");
  REQUIRE(chmod(file.c_str(), 04755) == 0);
  for (const char* level : {"basic", "standard"}) {
    CAPTURE(level);
    REQUIRE(chmod(file.c_str(), 04755) == 0);
    auto r = Run({"/bin/sh", "-c", "printf 'echo owned\\n' >> \"$0\"", file},
                 {.tracejail_args = {"--level", level}});
    CHECK(r.status == 0);
    struct stat st {};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & S_ISUID) == 0);
  }
}

TEST_CASE("Kernel surface: the host's System V IPC objects are out of reach at basic and standard",
          "[kernel_surface]") {
  if (geteuid() != 0) {
    harness::Skip("needs root: the IPC namespace is off for an unprivileged tracejail");
    return;
  }
  // An outside process's segment (this test is outside the tree).
  int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  REQUIRE(id >= 0);
  for (const char* level : {"basic", "standard"}) {
    CAPTURE(level);
    auto r = Run({"/usr/bin/python3", "-c",
                  "import ctypes, sys; libc = ctypes.CDLL(None, use_errno=True); "
                  "p = libc.shmat(int(sys.argv[1]), None, 0); "
                  "print('attached' if p not in (-1, 0xffffffffffffffff) else 'refused')",
                  std::to_string(id)},
                 {.tracejail_args = {"--level", level}});
    CHECK(r.status == 0);
    CHECK(r.out == "refused\n");
  }
  shmctl(id, IPC_RMID, nullptr);
}
