// Bad input gets one clear line on stderr and a documented exit status, never a hang.
#include <catch2/catch.hpp>

#include "harness.h"

using harness::Run;

TEST_CASE("a command that does not exist exits 127", "[cli]") {
  auto r = Run({"tracejail-no-such-command"});
  CHECK(r.status == 127);
  CHECK(r.err ==
        "tracejail: tracejail-no-such-command: command not found (searched "
        "PATH=/usr/local/bin:/usr/bin:/bin)\n");
}

TEST_CASE("a path that does not exist is no such file and no PATH search", "[cli]") {
  auto r = Run({"/nonexistent/program"});
  CHECK(r.status == 127);
  CHECK(r.err == "tracejail: /nonexistent/program: no such file\n");
  r = Run({"./nonexistent-program"});
  CHECK(r.status == 127);
  CHECK(r.err == "tracejail: ./nonexistent-program: no such file\n");
}

TEST_CASE("a command that cannot be executed exits 126", "[cli]") {
  auto r = Run({"/etc/hostname"});
  CHECK(r.status == 126);
  CHECK(r.err.find("cannot execute") != std::string::npos);
}

TEST_CASE("a missing policy file exits 121", "[cli]") {
  auto r = Run({"/bin/true"}, {.tracejail_args = {"--policy", "/nonexistent.json"}});
  CHECK(r.status == 121);
  CHECK(r.err.find("cannot read policy file /nonexistent.json") != std::string::npos);
}

TEST_CASE("an invalid policy names the place and exits 121", "[cli]") {
  harness::TempDir dir;
  std::string p = dir.File("bad.json", "{\n  \"version\": 1,\n  \"files\": {\"rules\": [\n");
  auto r = Run({"/bin/true"}, {.tracejail_args = {"--policy", p}});
  CHECK(r.status == 121);
  CHECK(r.err.find(p + ":4:") != std::string::npos);

  std::string typo = dir.File("typo.json", R"({"version": 1, "files": {"rulez": []}})");
  r = Run({"/bin/true"}, {.tracejail_args = {"--policy", typo}});
  CHECK(r.status == 121);
  CHECK(r.err.find("unknown key \"rulez\"") != std::string::npos);
}

TEST_CASE("no command is a usage error", "[cli]") {
  auto r = Run({}, {.events = false});
  CHECK(r.status == 120);
  CHECK(r.err.find("no command given") != std::string::npos);
}

TEST_CASE("an unknown option is a usage error", "[cli]") {
  auto r = Run({"/bin/true"}, {.tracejail_args = {"--frobnicate"}, .events = false});
  CHECK(r.status == 120);
}

TEST_CASE("the environment is scrubbed", "[cli]") {
  setenv("TRACEJAIL_TEST_SECRET", "leak", 1);
  auto r = Run({"/usr/bin/env"}, {.tracejail_args = {"--env", "GIVEN=1"}});
  unsetenv("TRACEJAIL_TEST_SECRET");
  CHECK(r.out.find("TRACEJAIL_TEST_SECRET") == std::string::npos);
  CHECK(r.out.find("GIVEN=1\n") != std::string::npos);
  CHECK(r.out.find("PATH=/usr/local/bin:/usr/bin:/bin\n") != std::string::npos);
}

TEST_CASE("run --env takes one value so -- ends the options and the command keeps its own",
          "[cli]") {
  auto r = Run({"/bin/sh", "-c", "echo \"$A\""}, {.tracejail_args = {"--env", "A=1"}});
  CHECK(r.status == 0);
  CHECK(r.out == "1\n");
  CHECK(r.err.empty());

  // Every repeatable option, each given twice, then the command and its flags.
  setenv("TRACEJAIL_TEST_KEPT", "kept", 1);
  setenv("TRACEJAIL_TEST_KEPT2", "kept2", 1);
  r = Run({"/bin/sh", "-c", "echo \"$A $B $TRACEJAIL_TEST_KEPT $TRACEJAIL_TEST_KEPT2\""},
          {.tracejail_args = {"--env", "A=1", "--env", "B=2", "--keep-env", "TRACEJAIL_TEST_KEPT",
                              "--keep-env", "TRACEJAIL_TEST_KEPT2", "--cap-drop", "ALL",
                              "--cap-add", "CHOWN", "--cap-add", "KILL"}});
  unsetenv("TRACEJAIL_TEST_KEPT");
  unsetenv("TRACEJAIL_TEST_KEPT2");
  CHECK(r.status == 0);
  CHECK(r.out == "1 2 kept kept2\n");
}

TEST_CASE("run --env without -- still takes one value and the command follows", "[cli]") {
  auto r = harness::Tool({"run", "--no-summary", "--env", "A=1", "/usr/bin/printenv", "A"});
  CHECK(r.status == 0);
  CHECK(r.out == "1\n");
}

TEST_CASE("the version flags -V and --version print the project version", "[cli]") {
  for (const char* flag : {"-V", "--version"}) {
    INFO(flag);
    auto r = harness::Tool({flag});
    CHECK(r.status == 0);
    CHECK(r.out == "tracejail " TRACEJAIL_VERSION "\n");
  }
}

TEST_CASE("an unknown command is named with the nearest one and exits 120", "[cli]") {
  auto r = harness::Tool({"rn", "--", "/bin/true"});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, Catch::Contains("unknown command \"rn\": did you mean run?"));
  CHECK(r.out.empty());

  r = harness::Tool({"bogus"});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, Catch::Contains("unknown command \"bogus\""));
  CHECK_THAT(r.err, Catch::Contains("run, exec"));
  CHECK_THAT(r.err, !Catch::Contains("A subcommand is required"));

  r = harness::Tool({"policy", "shwo", "strict"});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, Catch::Contains("unknown command \"policy shwo\": did you mean policy show?"));
}

TEST_CASE("the command's options before -- get a hint to put -- first", "[cli]") {
  auto r = harness::Tool({"run", "ls", "-l"});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, Catch::Contains("-l"));
  CHECK_THAT(r.err, Catch::Contains("tracejail run [OPTIONS] -- ls -l"));

  r = harness::Tool({"run", "--env", "A=1", "sh", "-c", "echo $A"});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, Catch::Contains("tracejail run [OPTIONS] -- sh -c 'echo $A'"));

  // A bad option before the command gets no such hint.
  r = harness::Tool({"run", "--frobnicate", "--", "/bin/true"});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, !Catch::Contains("Put --"));
}

TEST_CASE("an unknown level suggests the nearest and exits 120 like policy show", "[cli]") {
  auto r = Run({"/bin/true"}, {.tracejail_args = {"--level", "stict"}, .events = false});
  CHECK(r.status == 120);
  CHECK_THAT(r.err, Catch::Contains("unknown level \"stict\": did you mean strict?"));
  CHECK(r.out.empty());

  auto show = harness::Tool({"policy", "show", "stict"});
  CHECK(show.status == 120);
  CHECK_THAT(show.err, Catch::Contains("unknown level \"stict\": did you mean strict?"));

  auto far = Run({"/bin/true"}, {.tracejail_args = {"--level", "paranoid"}, .events = false});
  CHECK(far.status == 120);
  CHECK_THAT(far.err, !Catch::Contains("did you mean"));
  CHECK_THAT(far.err, Catch::Contains("none, basic, standard, strict, maximum"));
}

TEST_CASE("the events file is out of the command's reach, /dev/null as the events file is not",
          "[cli]") {
  harness::TempDir dir;
  std::string events = dir.path() + "/events.jsonl";
  harness::Options o;
  o.events = false;
  o.tracejail_args = {"--events", events};
  auto r = harness::Run({"/bin/sh", "-c", "echo forged > " + events + " || echo REFUSED"}, o);
  CHECK(r.out == "REFUSED\n");
  // Every line is still tracejail's (the denied call's own record names the word "forged").
  CHECK(harness::Slurp(events).find("\nforged\n") == std::string::npos);
  CHECK(harness::Slurp(events).rfind("forged\n", 0) == std::string::npos);
  // Nothing is written to /dev/null that could be forged: a program may use it as ever.
  o.tracejail_args = {"--events", "/dev/null"};
  r = harness::Run({"/bin/sh", "-c", "echo x > /dev/null && read l < /dev/null; echo rc=$?"}, o);
  CHECK(r.out == "rc=1\n");  // read at end of file
  CHECK(r.err.empty());
}
