// Python-level stacks on events (tracer/python_frames.h): a denied os.system in a script run by
// Debian's /usr/bin/python3 shows the script's file, the line of the call and the nested
// functions on the way, read from the interpreter beside the native frames; so does every other
// supported CPython installed here (pyenv's, when present). A program that is not Python gets
// no Python stack; a Python the table does not hold gets a note.
#include <glob.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness.h"

namespace {

// Paths matching `pattern` (glob(3)), sorted.
std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

// pyenv's interpreters of the versions `minor` matches ("1[12]"), when pyenv is installed.
std::vector<std::string> PyenvPythons(const std::string& minor) {
  const char* home = std::getenv("HOME");
  const char* root = std::getenv("PYENV_ROOT");
  std::string dir = root != nullptr ? root : std::string(home != nullptr ? home : "/") + "/.pyenv";
  return Glob(dir + "/versions/3." + minor + ".*/bin/python3." + minor);
}

// Denies running the shell, so os.system's child is stopped at its exec of /bin/sh.
std::string DenyShell(harness::TempDir& dir) {
  return dir.File("policy.json", R"({"version": 1, "extends": "basic",
      "files": {"rules": [{"path": "/bin/sh", "access": ["exec"], "action": "deny"}]}})");
}

constexpr const char* kScript =
    "import os\n"
    "\n"
    "def outer():\n"
    "    def inner():\n"
    "        return os.system('true')\n"  // line 5
    "    return inner()\n"                // line 6
    "\n"
    "print('STATUS', outer() != 0)\n";  // line 8

nlohmann::json Frame(const std::string& file, int line, const std::string& function) {
  return {{"file", file}, {"function", function}, {"line", line}};
}

}  // namespace

TEST_CASE("a denied os.system from Python shows the script's file line and nested functions",
          "[stack][python]") {
  harness::TempDir dir;
  const std::string script = dir.File("nested.py", kScript);
  const std::string policy = DenyShell(dir);
  std::vector<std::string> pythons{"/usr/bin/python3"};
  for (const auto& p : PyenvPythons("1[12]")) pythons.push_back(p);
  for (const std::string& python : pythons) {
    CAPTURE(python);
    auto r = harness::Run({python, script}, {.tracejail_args = {"--policy", policy}});
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "STATUS True\n");
    auto denied = r.Events("permission_denied", "execve");
    REQUIRE(denied.size() == 1);
    const nlohmann::json& stack = denied[0]["stack"];
    INFO(stack.dump(2));
    REQUIRE(stack.is_object());
    CHECK_FALSE(stack["frames"].empty());  // the native stack stays beside it
    REQUIRE(stack.contains("python"));
    const nlohmann::json& frames = stack["python"];
    REQUIRE(frames.size() == 3);
    CHECK(frames[0] == Frame(script, 5, "outer.<locals>.inner"));
    CHECK(frames[1] == Frame(script, 6, "outer"));
    CHECK(frames[2] == Frame(script, 8, "<module>"));
    // The exec was made by the child system() forked, on the interpreter thread's memory.
    CHECK(stack.value("python_note", "").find("which created this process") != std::string::npos);
  }
}

TEST_CASE("a denied subprocess started from a worker thread shows that thread's Python stack",
          "[stack][python]") {
  harness::TempDir dir;
  const std::string script = dir.File("worker.py",
                                      "import subprocess, threading\n"
                                      "\n"
                                      "class Worker:\n"
                                      "    def run(self):\n"
                                      "        try:\n"
                                      "            subprocess.run(['/bin/sh', '-c', 'true'])\n"
                                      "        except OSError as e:\n"
                                      "            print('DENIED', e.errno)\n"
                                      "\n"
                                      "def main():\n"
                                      "    t = threading.Thread(target=Worker().run)\n"
                                      "    t.start()\n"
                                      "    t.join()\n"
                                      "\n"
                                      "main()\n");
  auto r =
      harness::Run({"/usr/bin/python3", script}, {.tracejail_args = {"--policy", DenyShell(dir)}});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.out == "DENIED 13\n");
  auto denied = r.Events("permission_denied", "execve");
  REQUIRE(denied.size() == 1);
  const nlohmann::json& stack = denied[0]["stack"];
  INFO(stack.dump(2));
  REQUIRE(stack.contains("python"));
  // subprocess.py's own frames first, then the worker's method at the line of the call, and
  // nothing of the main thread (which is in t.join(), called from main).
  bool worker = false;
  for (const auto& f : stack["python"]) {
    if (f.value("file", "") != script) continue;
    CHECK(f.value("function", "") != "main");
    if (f == Frame(script, 6, "Worker.run")) worker = true;
  }
  CHECK(worker);
  CHECK(stack.value("python_note", "").find("created this process") != std::string::npos);
}

TEST_CASE("a denied connect from Python names the line of the call in the interpreter's thread",
          "[stack][python]") {
  harness::TempDir dir;
  harness::LoopbackListener listener;
  const std::string script = dir.File("connect.py",
                                      "import socket\n"
                                      "s = socket.socket()\n"
                                      "try:\n"
                                      "    s.connect(('127.0.0.1', " +
                                          std::to_string(listener.port()) +
                                          "))\n"
                                          "except OSError as e:\n"
                                          "    print('DENIED', e.errno)\n");
  const std::string policy = dir.File("policy.json", R"({"version": 1, "extends": "basic",
      "network": {"rules": [{"cidr": "127.0.0.1/32", "ports": ")" +
                                                         std::to_string(listener.port()) +
                                                         R"(", "verbs": ["connect"],
      "action": "deny"}]}})");
  auto r = harness::Run({"/usr/bin/python3", script}, {.tracejail_args = {"--policy", policy}});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  auto denied = r.Events("permission_denied", "connect");
  REQUIRE(denied.size() == 1);
  const nlohmann::json& stack = denied[0]["stack"];
  INFO(stack.dump(2));
  REQUIRE(stack.contains("python"));
  CHECK(stack["python"] == nlohmann::json::array({Frame(script, 4, "<module>")}));
  CHECK_FALSE(stack.contains("python_note"));  // the stopped thread's own state
  CHECK_FALSE(listener.Received());
}

TEST_CASE("a program that is not Python has no Python stack or note", "[stack][python]") {
  harness::TempDir dir;
  harness::LoopbackListener listener;
  const std::string policy = dir.File("policy.json", R"({"version": 1, "extends": "basic",
      "network": {"rules": [{"cidr": "127.0.0.1/32", "ports": ")" +
                                                         std::to_string(listener.port()) +
                                                         R"(", "verbs": ["connect"],
      "action": "deny"}]}})");
  auto r = harness::Run({harness::Sample("stack_connect"), std::to_string(listener.port())},
                        {.tracejail_args = {"--policy", policy}});
  INFO(r.out << r.err);
  auto denied = r.Events("permission_denied", "connect");
  REQUIRE(denied.size() == 1);
  const nlohmann::json& stack = denied[0]["stack"];
  INFO(stack.dump(2));
  CHECK_FALSE(stack["frames"].empty());
  CHECK_FALSE(stack.contains("python"));
  CHECK_FALSE(stack.contains("python_note"));
}

TEST_CASE("a Python version the layout table does not hold gets native frames and a note",
          "[stack][python]") {
  std::vector<std::string> others = PyenvPythons("1[03]");
  for (const auto& p : Glob("/usr/bin/python3.[0-9]*")) {
    if (!p.ends_with("3.11") && !p.ends_with("3.12") && !p.ends_with("-config")) {
      others.push_back(p);
    }
  }
  if (others.empty()) {
    harness::Skip("no CPython 3.10 or 3.13 is installed (pyenv's, or /usr/bin/python3.X)");
    return;
  }
  harness::TempDir dir;
  const std::string script = dir.File("nested.py", kScript);
  const std::string policy = DenyShell(dir);
  for (const std::string& python : others) {
    CAPTURE(python);
    auto r = harness::Run({python, script}, {.tracejail_args = {"--policy", policy}});
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    auto denied = r.Events("permission_denied", "execve");
    REQUIRE(denied.size() == 1);
    const nlohmann::json& stack = denied[0]["stack"];
    INFO(stack.dump(2));
    CHECK_FALSE(stack["frames"].empty());
    CHECK(stack["python"] == nlohmann::json::array());
    const std::string note = stack.value("python_note", "");
    CHECK((note.find("is not supported") != std::string::npos ||
           note.find("has no Py_Version") != std::string::npos));
  }
}
