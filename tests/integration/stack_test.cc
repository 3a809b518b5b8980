// Stack traces on events (--stack, tracer/stack_unwinder.h): a denied connect two calls deep in
// a sample built with debug information shows libc's connect, then do_connect and main at
// their source lines; --stack off and --stack all; the hostile side (a stripped program, a
// program that smashed its own stack) gets a note or fewer frames, never a stuck run.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "harness.h"

namespace {

// The line of samples/stack_connect.c that holds `marker` (1-based), 0 when none does.
int LineOf(const std::string& marker) {
  std::ifstream in(std::string(SAMPLES_DIR) + "/../../samples/stack_connect.c");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find("// @" + marker) != std::string::npos) return n;
  }
  return 0;
}

std::string DenyPort(harness::TempDir& dir, int port, const std::string& level = "basic") {
  return dir.File("policy.json", R"({"version": 1, "extends": ")" + level + R"(",
      "network": {"rules": [{"cidr": "127.0.0.1/32", "ports": ")" +
                                     std::to_string(port) + R"(",
      "verbs": ["connect"], "action": "deny"}]}})");
}

// The index of the first frame whose function is `fn`, or -1.
int FrameOf(const nlohmann::json& frames, const std::string& fn) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].value("function", "") == fn) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

TEST_CASE("a denied connect carries its stack with do_connect and main at their source lines",
          "[stack]") {
  const int connect_line = LineOf("CONNECT"), call_line = LineOf("CALL");
  if (connect_line == 0) {
    harness::Skip("samples/stack_connect.c is not beside the build tree (" SAMPLES_DIR ")");
    return;
  }
  harness::LoopbackListener listener;
  harness::TempDir dir;
  for (const char* mode : {"audit", "enforce"}) {
    CAPTURE(mode);
    auto r = harness::Run(
        {harness::Sample("stack_connect"), std::to_string(listener.port())},
        {.tracejail_args = {"--policy", DenyPort(dir, listener.port()), "--mode", mode}});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    auto denied = r.Events("permission_denied", "connect");
    REQUIRE(denied.size() == 1);
    const nlohmann::json& stack = denied[0]["stack"];
    INFO(stack.dump(2));
    REQUIRE(stack.is_object());
    CHECK_FALSE(stack.contains("note"));
    const nlohmann::json& frames = stack["frames"];
    REQUIRE(frames.size() >= 3);
    // The innermost frame is the libc wrapper that made the call.
    CHECK(frames[0].value("module", "").find("libc") != std::string::npos);
    const int inner = FrameOf(frames, "do_connect"), outer = FrameOf(frames, "main");
    REQUIRE(inner > 0);
    REQUIRE(outer == inner + 1);
    CHECK(frames[inner].value("file", "").ends_with("stack_connect.c"));
    CHECK(frames[inner].value("line", 0) == connect_line);
    CHECK(frames[outer].value("line", 0) == call_line);
    CHECK(frames[outer].value("module", "").ends_with("/stack_connect"));
    CHECK(frames[inner]["pc"].get<std::string>().starts_with("0x"));
    // Audit mode let the connect through; enforce denied it.
    if (std::string(mode) == "enforce") CHECK(r.out == "CONNECT errno=13\n");
  }
}

TEST_CASE("stacks are left out with --stack off and put on allowed calls with --stack all",
          "[stack]") {
  harness::LoopbackListener listener;
  harness::TempDir dir;
  std::string policy = DenyPort(dir, listener.port());
  std::vector<std::string> cmd{harness::Sample("stack_connect"), std::to_string(listener.port())};
  auto off = harness::Run(cmd, {.tracejail_args = {"--policy", policy, "--stack", "off"}});
  INFO(off.err);
  REQUIRE(off.Events("permission_denied", "connect").size() == 1);
  for (const auto& e : off.events) CHECK_FALSE(e.contains("stack"));
  // All: audit mode records every allowed call, each with a stack.
  auto all = harness::Run(
      cmd, {.tracejail_args = {"--policy", policy, "--stack", "all", "--mode", "audit"}});
  INFO(all.err);
  std::size_t allowed = 0;
  for (const auto& e : all.events) {
    if (e["decision"].value("action", "") != "allow" || !e.contains("syscall")) continue;
    ++allowed;
    CHECK(e.contains("stack"));
  }
  CHECK(allowed > 0);
  auto bad = harness::Run(cmd, {.tracejail_args = {"--stack", "some"}});
  CHECK(bad.status == 120);
  CHECK(bad.err.find("--stack") != std::string::npos);
}

TEST_CASE("a call made with the stack pointer aimed at nothing gets a short stack or a note",
          "[stack]") {
  // rsp and rbp point into the unmapped first page when the connect is made: the unwinder
  // stops there (or says why it could not start), the call is still denied, the run ends.
  harness::TempDir dir;
  harness::LoopbackListener listener;
  auto r =
      harness::Run({harness::Sample("stack_connect"), std::to_string(listener.port()), "wreck"},
                   {.tracejail_args = {"--policy", DenyPort(dir, listener.port())}});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.out.starts_with("CONNECT errno="));
  CHECK(r.out != "CONNECT errno=0\n");
  auto denied = r.Events("permission_denied", "connect");
  REQUIRE(denied.size() == 1);
  const nlohmann::json& stack = denied[0]["stack"];
  INFO(stack.dump(2));
  REQUIRE(stack.is_object());
  CHECK((stack["frames"].size() <= 2 || stack.contains("note")));
  CHECK(FrameOf(stack["frames"], "main") < 0);
  CHECK_FALSE(listener.Received());
}

TEST_CASE("a denied call from Python carries the interpreter's native stack", "[stack]") {
  harness::TempDir dir;
  harness::LoopbackListener listener;
  std::string script = dir.File("connect.py",
                                "import socket\n"
                                "s = socket.socket()\n"
                                "try:\n"
                                "    s.connect(('127.0.0.1', " +
                                    std::to_string(listener.port()) +
                                    "))\n"
                                    "except OSError as e:\n"
                                    "    print('DENIED', e.errno)\n");
  auto r = harness::Run({"python3", script},
                        {.tracejail_args = {"--policy", DenyPort(dir, listener.port())}});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.out.find("DENIED") != std::string::npos);
  auto denied = r.Events("permission_denied", "connect");
  REQUIRE(denied.size() == 1);
  const nlohmann::json& stack = denied[0]["stack"];
  INFO(stack.dump(2));
  REQUIRE(stack.is_object());
  REQUIRE(stack["frames"].size() >= 2);
  // The socket module's C function that made the call, somewhere under the libc wrapper.
  bool in_python = false;
  for (const auto& f : stack["frames"]) {
    const std::string module = f.value("module", "");
    if (module.find("python3") != std::string::npos ||
        module.find("_socket") != std::string::npos) {
      in_python = true;
    }
  }
  CHECK(in_python);
  CHECK_FALSE(listener.Received());
}
