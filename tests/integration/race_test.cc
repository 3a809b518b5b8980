// Filesystem races at every enforcing level: a process outside the traced tree swaps two
// symlinks (renameat2 RENAME_EXCHANGE) while the traced program opens or executes through one of
// them. The tracer's check sees one target, the kernel's walk may see the other; the kernel must
// never act on the denied one (docs/security.md, "Filesystem races"). The same techniques from
// inside the tree are the escape suite's race_symlink_* samples.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "harness.h"

namespace {

constexpr const char* kLevels[] = {"basic", "standard", "strict", "maximum"};

// `race_walk ARGS...`, run natively (outside any tracejail) until destroyed; the constructor
// returns once it printed `ready` (FLIPPING: it has swapped once; SERVING: it listens).
class OutsideProcess {
 public:
  OutsideProcess(const std::vector<std::string>& args, const std::string& ready) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::string sample = harness::Sample("race_walk");
      std::vector<char*> argv{sample.data()};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(sample.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = out[0];
    std::string line;
    char c = 0;
    while (read(out_, &c, 1) == 1 && c != '\n') line += c;
    REQUIRE(line == ready);
  }
  ~OutsideProcess() { Finish(); }
  // Ends it (SIGTERM) and returns what it printed after its ready line.
  std::string Finish() {
    std::string rest;
    if (pid_ < 0) return rest;
    kill(pid_, SIGTERM);
    char buf[256];
    for (ssize_t n; (n = read(out_, buf, sizeof buf)) > 0;)
      rest.append(buf, static_cast<std::size_t>(n));
    int status = 0;
    waitpid(pid_, &status, 0);
    close(out_);
    pid_ = -1;
    return rest;
  }
  OutsideProcess(const OutsideProcess&) = delete;
  OutsideProcess& operator=(const OutsideProcess&) = delete;

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

std::string Identity(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

std::string Policy(const harness::TempDir& dir, const std::string& level,
                   const std::string& rules) {
  // No CPU limit: the flipper outside and the loop inside keep both CPUs busy.
  return dir.File("p-" + level + ".json", R"({"version": 1, "extends": ")" + level +
                                              R"(", "limits": {"cpu": "off", "timeout": "100s"},
                  "files": {"rules": [)" + rules +
                                              "]}}");
}

void CheckNoSecret(const harness::Result& r, const std::string& level) {
  INFO(level << ": " << r.out << r.err);
  CHECK(r.out.find("GOT SECRET") == std::string::npos);
  if (std::string(level) == "maximum") {
    // The first denial kills the tree: the run ends with 122 whatever the program printed.
    CHECK((r.status == 122 || r.out.find("WALK ") != std::string::npos));
  } else {
    CHECK(r.status == 0);
    CHECK(r.out.find(" secret=0") != std::string::npos);
  }
}

// It says FLIPPING after its first swap: the race is running before the victim starts.
struct OutsideFlipper : OutsideProcess {
  OutsideFlipper(const std::string& dir, const std::string& a, const std::string& b)
      : OutsideProcess({"flip", dir, a, b}, "FLIPPING") {}
};

}  // namespace

TEST_CASE("an outside process swapping a final symlink never lets an open reach a denied file",
          "[race]") {
  harness::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/sec");
  std::filesystem::create_directories(dir.path() + "/swap");
  std::string decoy = dir.File("decoy.txt", "decoy\n");
  std::string secret = dir.File("sec/secret.txt", "SECRET\n");
  std::filesystem::create_symlink(decoy, dir.path() + "/swap/fa");
  std::filesystem::create_symlink(secret, dir.path() + "/swap/fb");
  OutsideFlipper flipper(dir.path() + "/swap", "fa", "fb");
  for (const char* level : kLevels) {
    CAPTURE(level);
    std::string policy =
        Policy(dir, level,
               R"({"path": ")" + dir.path() + R"(/sec/**", "access": ["read"], "action": "deny"})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({harness::Sample("race_walk"), "open", dir.path() + "/swap/fa",
                           Identity(secret), harness::Iterations(20000)},
                          o);
    CheckNoSecret(r, level);
    if (std::string(level) == "basic" || std::string(level) == "standard") {
      CHECK(r.out.find(" opened=0 ") == std::string::npos);  // the race really ran
    }
  }
}

TEST_CASE(
    "an outside process swapping a directory for a symlink never lets an open reach a "
    "denied file",
    "[race]") {
  // The checked path has no symlink in it (swap/d is a directory at the check); the swap puts a
  // symlink to the denied directory in its place before the kernel walks it.
  harness::TempDir dir;
  for (const char* d : {"/sec", "/swap/d"}) std::filesystem::create_directories(dir.path() + d);
  std::string secret = dir.File("sec/data.txt", "SECRET\n");
  dir.File("swap/d/data.txt", "mine\n");
  std::filesystem::create_directory_symlink(dir.path() + "/sec", dir.path() + "/swap/l");
  OutsideFlipper flipper(dir.path() + "/swap", "d", "l");
  for (const char* level : kLevels) {
    CAPTURE(level);
    std::string policy =
        Policy(dir, level,
               R"({"path": ")" + dir.path() + R"(/sec/**", "access": ["read"], "action": "deny"})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({harness::Sample("race_walk"), "open", dir.path() + "/swap/d/data.txt",
                           Identity(secret), harness::Iterations(20000)},
                          o);
    CheckNoSecret(r, level);
  }
}

TEST_CASE("an outside process swapping the program under an exec gets the process killed",
          "[race]") {
  harness::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/bin");
  std::filesystem::create_directories(dir.path() + "/swap");
  std::string allowed = dir.path() + "/bin/ok";
  std::string forbidden = dir.path() + "/bin/forbidden";
  std::filesystem::copy_file("/bin/true", allowed);
  std::filesystem::copy_file("/bin/false", forbidden);  // exits 1: "other"
  std::filesystem::create_symlink(allowed, dir.path() + "/swap/xa");
  std::filesystem::create_symlink(forbidden, dir.path() + "/swap/xb");
  OutsideFlipper flipper(dir.path() + "/swap", "xa", "xb");
  for (const char* level : {"basic", "standard"}) {  // strict and up run nothing but the command
    CAPTURE(level);
    std::string policy = Policy(
        dir, level, R"({"path": ")" + forbidden + R"(", "access": ["exec"], "action": "deny"})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r =
        harness::Run({harness::Sample("race_walk"), "exec", dir.path() + "/swap/xa", "2000"}, o);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find(" other=0 ") != std::string::npos);  // the forbidden program never ran
    CHECK(r.out.find("WALK ran=0 ") == std::string::npos);
    // Each exec the swap won was killed before its first instruction, and says why.
    for (const auto& e : r.Events("escape_attempt")) {
      CHECK(e["decision"].value("rule", "") == "builtin:exec-race");
      CHECK(e["decision"].value("action", "") == "kill");
    }
  }
}

TEST_CASE("a task that stops again at once does not starve the others", "[race][core]") {
  // waitpid(-1) reports the newest tracee first; at strict every task is a tracee of the PID
  // namespace's init, so a flipper that stops on every renameat2 used to win every round and
  // the opener, older, never got its turn (the run reached its timeout). The loop now takes
  // every stop already reported, in order, every few stops.
  harness::TempDir dir;
  for (const char* d : {"/sec", "/swap"}) std::filesystem::create_directories(dir.path() + d);
  std::string secret = dir.File("sec/secret.txt", "SECRET\n");
  std::string decoy = dir.File("decoy.txt", "decoy\n");
  std::filesystem::create_symlink(decoy, dir.path() + "/swap/fa");
  std::filesystem::create_symlink(secret, dir.path() + "/swap/fb");
  for (const char* level : {"standard", "strict"}) {
    CAPTURE(level);
    std::string policy = Policy(
        dir, level,
        R"({"path": ")" + dir.path() +
            R"(/sec/**", "access": ["read"], "action": "deny"},
        {"path": ")" +
            dir.path() + R"(/swap", "access": ["write", "create", "delete"], "action": "allow"},
        {"path": ")" +
            harness::Sample("race_walk") + R"(", "access": ["exec"], "action": "allow"})");
    std::string walk = harness::Sample("race_walk");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    // The opener starts first, so the flipper is the newer tracee.
    auto r = harness::Run({"/bin/sh", "-c",
                           walk + " open " + dir.path() + "/swap/fa " + Identity(secret) + " " +
                               harness::Iterations(5000) + " & opener=$!; " + walk + " flip " +
                               dir.path() + "/swap fa fb >/dev/null & wait $opener; kill $!; wait"},
                          o);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("WALK ") != std::string::npos);
    CHECK(r.out.find(" secret=0") != std::string::npos);
  }
}

TEST_CASE(
    "an outside process swapping a socket's symlink never connects the tree to a denied "
    "daemon",
    "[race]") {
  harness::TempDir dir;
  for (const char* d : {"/sock", "/daemon", "/swap"}) {
    std::filesystem::create_directories(dir.path() + d);
  }
  std::string ok = dir.path() + "/sock/ok.sock", daemon = dir.path() + "/daemon/d.sock";
  OutsideProcess ok_server({"serve", ok, "O"}, "SERVING");
  OutsideProcess daemon_server({"serve", daemon, "D"}, "SERVING");
  std::filesystem::create_symlink(ok, dir.path() + "/swap/ca");
  std::filesystem::create_symlink(daemon, dir.path() + "/swap/cb");
  OutsideFlipper flipper(dir.path() + "/swap", "ca", "cb");
  for (const std::string level : {"basic", "standard"}) {  // strict and up: no host sockets
    CAPTURE(level);
    std::string policy =
        dir.File("p-" + level + ".json", R"({"version": 1, "extends": ")" + level +
                                             R"(", "limits": {"cpu": "off", "timeout": "100s"},
        "network": {"rules": [{"unix": ")" + ok +
                                             R"(", "verbs": ["connect"], "action": "allow"}]}})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({harness::Sample("race_walk"), "connect", dir.path() + "/swap/ca",
                           harness::Iterations(20000)},
                          o);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("GOT DAEMON") == std::string::npos);
    CHECK(r.out.find(" daemon=0") != std::string::npos);
    CHECK(r.out.find("WALK connected=0 ") == std::string::npos);  // the race really ran
    // Each connect the swap won is disconnected and reported; those the tracer saw going to
    // the daemon were denied (the `daemons` rule).
    std::size_t raced = 0;
    for (const auto& e : r.Events("escape_attempt")) {
      if (e["decision"].value("rule", "") == "builtin:connect-race") {
        ++raced;
        CHECK(e["decision"].value("errno", "") == "ECONNREFUSED");
      }
    }
    if (raced > 0) {
      CHECK(r.out.find(" ECONNREFUSED=" + std::to_string(raced)) != std::string::npos);
    } else {
      CHECK(r.out.find("ECONNREFUSED") == std::string::npos);
    }
  }
}

namespace {

// 20,000 sends with `how` (sendto, sendmsg, sendmmsg) through a symlink an outside process
// keeps swapping between an allowed receiver and a denied one, at basic and standard (strict
// and up: no host sockets).
void SendRace(const char* how) {
  harness::TempDir dir;
  for (const char* d : {"/ok", "/daemon", "/swap"}) {
    std::filesystem::create_directories(dir.path() + d);
  }
  std::string ok = dir.path() + "/ok/r.sock", daemon = dir.path() + "/daemon/r.sock";
  OutsideProcess ok_receiver({"receive", ok}, "RECEIVING");
  OutsideProcess daemon_receiver({"receive", daemon}, "RECEIVING");
  std::filesystem::create_symlink(ok, dir.path() + "/swap/sa");
  std::filesystem::create_symlink(daemon, dir.path() + "/swap/sb");
  OutsideFlipper flipper(dir.path() + "/swap", "sa", "sb");
  std::size_t sent = 0;
  for (const std::string level : {"basic", "standard"}) {
    CAPTURE(level, how);
    std::string policy =
        dir.File("p-" + level + ".json", R"({"version": 1, "extends": ")" + level +
                                             R"(", "limits": {"cpu": "off", "timeout": "100s"},
        "network": {"rules": [{"unix": ")" + ok +
                                             R"(", "verbs": ["send"], "action": "allow"}]}})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({harness::Sample("race_walk"), "send", dir.path() + "/swap/sa",
                           harness::Iterations(20000), how},
                          o);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("WALK sent=0 ") == std::string::npos);  // the race really ran
    std::size_t at = r.out.find("WALK sent=");
    REQUIRE(at != std::string::npos);
    sent += std::stoul(r.out.substr(at + 10));
    // The sends the check saw going to the daemon were denied.
    CHECK(r.out.find(" EACCES=") != std::string::npos);
  }
  // The daemon received nothing; the allowed receiver got every datagram that was sent.
  CHECK(daemon_receiver.Finish() == "RECEIVED 0\n");
  CHECK(ok_receiver.Finish() == "RECEIVED " + std::to_string(sent) + "\n");
}

}  // namespace

TEST_CASE(
    "an outside process swapping a socket's symlink never lets sendto reach a denied "
    "receiver",
    "[race]") {
  SendRace("sendto");
}

TEST_CASE(
    "an outside process swapping a socket's symlink never lets sendmsg reach a denied "
    "receiver",
    "[race]") {
  SendRace("sendmsg");
}

TEST_CASE(
    "an outside process swapping a socket's symlink never lets sendmmsg reach a denied "
    "receiver",
    "[race]") {
  SendRace("sendmmsg");
}

TEST_CASE(
    "an outside process swapping a directory for a symlink never connects the tree to a denied "
    "daemon and the swap is reported",
    "[race]") {
  harness::TempDir dir;
  for (const char* d : {"/daemon", "/swap/da"}) {
    std::filesystem::create_directories(dir.path() + d);
  }
  std::string ok = dir.path() + "/swap/da/s.sock";
  OutsideProcess ok_server({"serve", ok, "O"}, "SERVING");
  OutsideProcess daemon_server({"serve", dir.path() + "/daemon/s.sock", "D"}, "SERVING");
  std::filesystem::create_symlink(dir.path() + "/daemon", dir.path() + "/swap/db");
  OutsideFlipper flipper(dir.path() + "/swap", "da", "db");
  for (const std::string level : {"basic", "standard"}) {
    CAPTURE(level);
    std::string policy =
        dir.File("p-" + level + ".json", R"({"version": 1, "extends": ")" + level +
                                             R"(", "limits": {"cpu": "off", "timeout": "100s"},
        "network": {"rules": [{"unix": ")" + dir.path() +
                                             "/swap/da/s.sock" +
                                             R"(", "verbs": ["connect"], "action": "allow"}]}})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r =
        harness::Run({harness::Sample("race_walk"), "connect", ok, harness::Iterations(20000)}, o);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("GOT DAEMON") == std::string::npos);
    CHECK(r.out.find(" daemon=0") != std::string::npos);
    CHECK(r.out.find("WALK connected=0 ") == std::string::npos);
    // A swap between the check and the anchor's open fails the call with ELOOP, reported as a
    // path race; every such connect is one the program saw fail.
    std::size_t raced = 0;
    for (const auto& e : r.Events("escape_attempt")) {
      if (e["decision"].value("rule", "") == "builtin:path-race") {
        ++raced;
        CHECK(e["decision"].value("errno", "") == "ELOOP");
        CHECK(e["race_free"] == true);
      }
    }
    if (raced > 0) CHECK(r.out.find(" ELOOP=" + std::to_string(raced)) != std::string::npos);
  }
}

TEST_CASE(
    "an outside process swapping a directory for a symlink never leaves the tree a socket bound "
    "in a denied directory",
    "[race]") {
  harness::TempDir dir;
  for (const char* d : {"/sec", "/swap/da"}) std::filesystem::create_directories(dir.path() + d);
  std::filesystem::create_symlink(dir.path() + "/sec", dir.path() + "/swap/db");
  OutsideFlipper flipper(dir.path() + "/swap", "da", "db");
  for (const std::string level : {"basic", "standard"}) {  // strict and up: Landlock as well
    CAPTURE(level);
    std::string policy = Policy(
        dir, level,
        R"({"path": ")" + dir.path() +
            R"(/sec/**", "access": ["read", "write", "create", "delete"], "action": "deny"})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({harness::Sample("race_walk"), "bind", dir.path() + "/swap/da/" + level,
                           harness::Iterations(20000), dir.path() + "/sec"},
                          o);
    INFO(r.out << r.err);
    // The program never sees a bind that made its file in the denied directory succeed: the
    // first one the swap wins kills it at the bind's exit, and the file is removed.
    CHECK(r.out.find("GOT SECRET") == std::string::npos);
    std::size_t raced = 0, removed = 0;
    for (const auto& e : r.Events("escape_attempt")) {
      std::string rule = e["decision"].value("rule", "");
      if (rule == "builtin:bind-race") {
        ++raced;
        if (e.value("message", "").find("was removed") != std::string::npos) ++removed;
      }
      CHECK(e["race_free"] == true);
    }
    CHECK(raced <= 1);
    CHECK((raced == 1 ? r.status == 137 : r.status == 0));
    std::size_t left = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/sec")) {
      (void)entry;
      ++left;
    }
    CHECK(removed == raced);
    CHECK(left == 0);
    if (raced == 0) CHECK(r.out.find("WALK bound=0 ") == std::string::npos);  // the race ran
  }
}

TEST_CASE("every allowed unix bind connect and send event says race_free", "[race]") {
  harness::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/out");
  std::filesystem::create_directories(dir.path() + "/own");
  std::string stream = dir.path() + "/out/s.sock", dgram = dir.path() + "/out/d.sock";
  OutsideProcess server({"serve", stream, "O"}, "SERVING");
  OutsideProcess receiver({"receive", dgram}, "RECEIVING");
  for (const std::string level : {"basic", "standard", "strict"}) {
    CAPTURE(level);
    // Allowed, and recorded: each allowed call becomes an event.
    std::string policy = dir.File("p-" + level + ".json", R"({"version": 1, "extends": ")" + level +
                                                              R"(",
        "files": {"rules": [{"path": ")" + dir.path() + R"(/own/**", "access": ["create"],
                             "action": "allow", "event": "suspicious_behavior", "severity": "info"}]},
        "network": {"rules": [{"unix": ")" + dir.path() + R"(/out/*.sock",
                               "verbs": ["connect", "send"], "action": "allow",
                               "event": "suspicious_behavior", "severity": "info"}]}})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    std::string script =
        "import socket\n"
        "b = socket.socket(socket.AF_UNIX)\n"
        "b.bind('" +
        dir.path() + "/own/" + level +
        ".sock')\n"
        "print('bound', b.getsockname() == '" +
        dir.path() + "/own/" + level +
        ".sock')\n"
        "try:\n"
        "  c = socket.socket(socket.AF_UNIX)\n"
        "  c.connect('" +
        stream +
        "')\n"
        "  print('connected', c.recv(1))\n"
        "  d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
        "  d.sendto(b'x', '" +
        dgram +
        "')\n"
        "  d.sendmsg([b'y'], [], 0, '" +
        dgram +
        "')\n"
        "  print('sent')\n"
        "except OSError as e:\n"
        "  print('network', e.errno)\n";
    auto r = harness::Run({"python3", "-c", script}, o);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.starts_with("bound True\n"));
    std::size_t allowed = 0;
    for (const auto& e : r.Events("suspicious_behavior")) {
      if (e["decision"].value("action", "") != "allow") continue;
      ++allowed;
      INFO(e.dump());
      CHECK(e["race_free"] == true);
    }
    if (level == "strict") {
      CHECK(allowed >= 1);  // the bind; host sockets are out of reach
    } else {
      CHECK(r.out == "bound True\nconnected b'O'\nsent\n");
      CHECK(allowed >= 4);  // bind, connect, sendto, sendmsg
    }
  }
}

TEST_CASE("inotify_add_watch is decided and anchored on what the kernel watches", "[race]") {
  harness::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/sec");
  std::string secret = dir.File("sec/file", "SECRET\n");
  std::filesystem::create_symlink(secret, dir.path() + "/link");
  // A watch through the symlink follows it (denied: metadata of sec/); with IN_DONT_FOLLOW it
  // is the symlink's own (allowed), a different watch from one on the secret.
  std::string script =
      "import ctypes, os\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "fd = libc.inotify_init1(0)\n"
      "link = b'" +
      dir.path() +
      "/link'\n"
      "w1 = libc.inotify_add_watch(fd, link, 4)\n"
      "e1 = ctypes.get_errno()\n"
      "w2 = libc.inotify_add_watch(fd, link, 4 | 0x02000000)\n"
      "w3 = libc.inotify_add_watch(fd, b'" +
      dir.path() +
      "', 4)\n"
      "print(w1, os.strerror(e1) if w1 < 0 else '', w2 > 0, w3 > 0 and w3 != w2)\n";
  for (const char* level : {"basic", "standard", "strict"}) {  // maximum: the host's /tmp is hidden
    CAPTURE(level);
    std::string policy = Policy(
        dir, level,
        R"({"path": ")" + dir.path() + R"(/sec/**", "access": ["metadata"], "action": "deny"})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({"python3", "-c", script}, o);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "-1 Permission denied True True\n");
    auto denied = r.Events("permission_denied", "inotify_add_watch");
    REQUIRE(denied.size() == 1);
    CHECK(denied[0]["race_free"] == true);
  }
}

TEST_CASE("final names with a trailing slash or a dot do under tracejail what they do natively",
          "[race]") {
  harness::TempDir dir;
  std::string script = std::string(TEST_DATA_DIR) + "/final_names.py";
  std::filesystem::create_directories(dir.path() + "/native");
  auto native = harness::RunNative({"python3", script, dir.path() + "/native"});
  REQUIRE(native.status == 0);
  for (const char* level : {"basic", "standard", "strict"}) {
    CAPTURE(level);
    std::string work = dir.path() + "/" + level;
    std::filesystem::create_directories(work);
    // A metadata rule makes the metadata reads stop (and be anchored) as well.
    std::string policy = Policy(dir, level,
                                R"({"path": ")" + dir.path() +
                                    R"(/elsewhere/**", "access": ["metadata"], "action": "deny"},
           {"path": ")" + work + R"(/**", "access": ["read", "write", "create", "delete", "chmod",
            "metadata"], "action": "allow", "event": "suspicious_behavior", "severity": "info"})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({"python3", script, work}, o);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == native.out);
    // The allowed calls on the names under test are race-free.
    for (const auto& e : r.Events("suspicious_behavior")) {
      std::string args = e["args"].dump();
      if (args.find(work) == std::string::npos || args.find("AT_EMPTY_PATH") != std::string::npos) {
        continue;
      }
      INFO(e.dump());
      CHECK(e["race_free"] == true);
    }
  }
}

TEST_CASE("a change made through a descriptor says whether another task could swap it", "[race]") {
  harness::TempDir dir;
  std::string file = dir.File("f", "x\n");
  std::string policy = Policy(dir, "standard",
                              R"({"path": ")" + dir.path() +
                                  R"(/**", "access": ["read", "chmod"], "action": "allow",
                                  "event": "suspicious_behavior", "severity": "info"})");
  harness::Options o;
  o.tracejail_args = {"--policy", policy};
  // One fchmod alone, one while a second thread shares the descriptor table.
  auto r = harness::Run({"python3", "-c",
                         "import os, threading\n"
                         "fd = os.open('" +
                             file +
                             "', os.O_RDONLY)\n"
                             "os.fchmod(fd, 0o640)\n"
                             "ev = threading.Event()\n"
                             "t = threading.Thread(target=ev.wait)\n"
                             "t.start()\n"
                             "os.fchmod(fd, 0o600)\n"
                             "ev.set()\n"
                             "t.join()\n"},
                        o);
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  auto changes = r.Events("suspicious_behavior", "fchmod");
  REQUIRE(changes.size() == 2);
  CHECK(changes[0]["race_free"] == true);
  CHECK(changes[1]["race_free"] == true);
  CHECK_THAT(changes[1]["race"]["filesystem"].get<std::string>(),
             Catch::Contains("held stopped from the check to the call's exit"));
}

TEST_CASE("a signal ends an anchored send blocked on a full unix socket as it does natively",
          "[race]") {
  harness::TempDir dir;
  for (const char* level : {"basic", "standard", "strict"}) {  // maximum: no socket() at all
    CAPTURE(level);
    // Before anchored calls ran under the program's signal mask, the blocked send never ended.
    std::string policy = dir.File(std::string("p-") + level + ".json",
                                  std::string(R"({"version": 1, "extends": ")") + level + R"(",
        "limits": {"timeout": "60s"},
        "files": {"rules": [{"path": ")" +
                                      dir.path() + R"(/**",
                             "access": ["read", "write", "create", "delete"], "action": "allow"}]},
        "network": {"rules": [{"unix": ")" +
                                      dir.path() + R"(/r.sock",
                               "verbs": ["bind", "connect", "send"], "action": "allow"}]}})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({harness::Sample("unix_block"), dir.path()}, o);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("EINTR ok\nRESTART ok\nTHREAD ok\n") != std::string::npos);
    CHECK(r.out.find("FAIL") == std::string::npos);
  }
}

namespace {

std::string ModeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return std::to_string(st.st_mode & 07777);
}

// Every `builtin:path-race` event is an anchored call that met a symlink swapped in after the
// check (ELOOP) or an anchor swapped under its number; the others are policy denials.
std::size_t PathRaces(const harness::Result& r) {
  std::size_t n = 0;
  for (const auto& e : r.Events("escape_attempt")) {
    if (e["decision"].value("rule", "") == "builtin:path-race") ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("a thread pointing a descriptor at another file never lets a call on it reach that file",
          "[race]") {
  harness::TempDir dir;
  for (const char* d : {"/sec", "/ok"}) std::filesystem::create_directories(dir.path() + d);
  std::string secret = dir.File("sec/file", "SECRET\n");
  std::string mine = dir.File("ok/file", "mine\n");
  // The attack works natively: the fchmod meant for one file lands on the other (it needs the
  // swapper to run beside the calls, which a loaded machine may delay: a few runs at most).
  chmod(secret.c_str(), 0640);
  for (int run = 0; run < 10 && ModeOf(secret) != std::to_string(0604); ++run) {
    auto native =
        harness::RunNative({harness::Sample("race_walk"), "fdchmod", mine, secret, "20000"});
    INFO(native.out << native.err);
    REQUIRE(native.status == 0);
  }
  CHECK(ModeOf(secret) == std::to_string(0604));
  chmod(secret.c_str(), 0640);
  const std::string before = ModeOf(secret);
  for (const char* level : {"basic", "standard", "strict"}) {
    for (const char* same_cpu : {"auto", "off"}) {
      CAPTURE(level, same_cpu);
      std::string policy = Policy(dir, level,
                                  R"({"path": ")" + dir.path() +
                                      R"(/sec/*", "access": ["write", "chmod", "chown"],
                                      "action": "deny"})");
      harness::Options o;
      o.tracejail_args = {"--policy", policy, "--same-cpu", same_cpu};
      auto r = harness::Run(
          {harness::Sample("race_walk"), "fdchmod", mine, secret, harness::Iterations(5000)}, o);
      INFO(r.out << r.err);
      CHECK(r.status == 0);
      CHECK(ModeOf(secret) == before);
      CHECK(r.out.find("WALK done=0 ") == std::string::npos);  // the allowed ones ran
      // Every refusal is the policy's (the secret) or a descriptor changed before it was held.
      // With the tree on two CPUs the swapper runs beside the calls: some are refused. (On one
      // CPU it may only run while the calls are held, and then every call is on the allowed
      // file: nothing to refuse.)
      if (std::string(same_cpu) == "off") CHECK(!r.events.empty());
      for (const auto& e : r.events) {
        CHECK(e["race_free"] == true);
        std::string rule = e["decision"].value("rule", "");
        if (rule.starts_with("builtin:")) CHECK(rule == "builtin:fd-race");
      }
    }
  }
}

TEST_CASE(
    "an outside process swapping a directory for a symlink never lets chmod or unlink reach a "
    "denied file",
    "[race]") {
  harness::TempDir dir;
  for (const char* d : {"/sec", "/swap/da"}) std::filesystem::create_directories(dir.path() + d);
  std::string secret = dir.File("sec/file", "SECRET\n");
  std::string victim = dir.File("sec/victim", "keep me\n");
  chmod(secret.c_str(), 0640);
  std::string before = ModeOf(secret);
  dir.File("swap/da/file", "decoy\n");
  dir.File("swap/da/victim", "decoy\n");
  std::filesystem::create_symlink(dir.path() + "/sec", dir.path() + "/swap/db");
  OutsideFlipper flipper(dir.path() + "/swap", "da", "db");
  for (const char* level : kLevels) {
    CAPTURE(level);
    std::string policy = Policy(dir, level,
                                R"({"path": ")" + dir.path() +
                                    R"(/sec/**", "access": ["read", "write", "create", "delete",
                                    "chmod", "chown"], "action": "deny"})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    for (const char* op : {"chmod", "unlink"}) {
      CAPTURE(op);
      auto r = harness::Run({harness::Sample("race_walk"), op,
                             dir.path() + "/swap/da/" + (op[0] == 'c' ? "file" : "victim"),
                             harness::Iterations(20000)},
                            o);
      INFO(r.out << r.err);
      CHECK(ModeOf(secret) == before);
      CHECK(std::filesystem::exists(victim));
      if (std::string(level) == "maximum") {
        CHECK((r.status == 122 || r.out.find("WALK ") != std::string::npos));
        continue;
      }
      CHECK(r.status == 0);
      CHECK(r.out.find("WALK ") != std::string::npos);
      if (op[0] == 'c') CHECK(r.out.find("WALK done=0 ") == std::string::npos);  // it ran
      // A race the swap won at the kernel's walk is refused and reported, never run.
      std::size_t raced = PathRaces(r);
      if (raced > 0) {
        CHECK(r.out.find(" ELOOP=" + std::to_string(raced)) != std::string::npos);
      } else {
        CHECK(r.out.find("ELOOP") == std::string::npos);
      }
    }
  }
}

TEST_CASE(
    "a thread swapping another file under an anchor's descriptor number never redirects the call",
    "[race]") {
  harness::TempDir dir;
  for (const char* d : {"/sec", "/ok"}) std::filesystem::create_directories(dir.path() + d);
  std::string secret = dir.File("sec/file", "SECRET\n");
  chmod(secret.c_str(), 0640);
  std::string before = ModeOf(secret);
  dir.File("ok/file", "mine\n");
  for (const char* level : {"basic", "standard", "strict"}) {
    CAPTURE(level);
    // The directory itself may be opened (O_PATH): only its files are protected.
    std::string policy = Policy(dir, level,
                                R"({"path": ")" + dir.path() +
                                    R"(/sec/*", "access": ["write", "chmod", "chown"],
                                    "action": "deny"})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({harness::Sample("race_walk"), "fdswap", dir.path() + "/ok/file",
                           dir.path() + "/sec", harness::Iterations(20000)},
                          o);
    INFO(r.out << r.err);
    CHECK(ModeOf(secret) == before);
    if (r.out.find("WALK ") == std::string::npos) {
      // Caught: the anchor was not the file the thread opened when the call came to run.
      CHECK(PathRaces(r) >= 1);
      CHECK(r.status != 0);
    } else {
      CHECK(r.status == 0);
    }
  }
}

TEST_CASE(
    "an outside process swapping a directory for a symlink never lets a stat read a file whose "
    "metadata is denied",
    "[race]") {
  harness::TempDir dir;
  for (const char* d : {"/sec", "/swap/da"}) std::filesystem::create_directories(dir.path() + d);
  std::string secret = dir.File("sec/file", "SECRET\n");
  dir.File("swap/da/file", "decoy\n");
  std::filesystem::create_symlink(dir.path() + "/sec", dir.path() + "/swap/db");
  OutsideFlipper flipper(dir.path() + "/swap", "da", "db");
  for (const char* level : {"basic", "standard"}) {
    CAPTURE(level);
    std::string policy = Policy(
        dir, level,
        R"({"path": ")" + dir.path() + R"(/sec/**", "access": ["metadata"], "action": "deny"})");
    harness::Options o;
    o.tracejail_args = {"--policy", policy};
    auto r = harness::Run({harness::Sample("race_walk"), "stat", dir.path() + "/swap/da/file",
                           Identity(secret), harness::Iterations(20000)},
                          o);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out.find("GOT SECRET") == std::string::npos);
    CHECK(r.out.find(" secret=0") != std::string::npos);
    CHECK(r.out.find("WALK done=0 ") == std::string::npos);  // the race really ran
    std::size_t raced = PathRaces(r);
    if (raced > 0) {
      CHECK(r.out.find(" ELOOP=" + std::to_string(raced)) != std::string::npos);
    } else {
      CHECK(r.out.find("ELOOP") == std::string::npos);
    }
  }
}
