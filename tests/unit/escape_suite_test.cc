// The selftest's pure half: sample headers and how a run is judged (cli/escape_suite.h).
#include <catch2/catch.hpp>

#include "cli/escape_suite.h"

TEST_CASE("ParseEscapeHeader reads the C and Python header blocks", "[selftest]") {
  std::string error;
  auto c = cli::ParseEscapeHeader(R"(/* tracejail-escape
 * id: path-symlink
 * class: path aliasing
 * title: a symlink to the secret
 * covered: standard
 * needs: secret listener
 *
 * Technique: make a link
 * and open it.
 * Defence: resolve it.
 */
#include <stdio.h>
)",
                                  error);
  REQUIRE(c);
  CHECK(c->id == "path-symlink");
  CHECK(c->klass == "path aliasing");
  CHECK(c->covered == "standard");
  CHECK(c->needs == std::vector<std::string>{"secret", "listener"});
  CHECK(c->technique == "make a link and open it.");
  CHECK(c->defence == "resolve it.");
  auto py = cli::ParseEscapeHeader(R"(#!/usr/bin/env python3
# tracejail-escape
# id: x
# title: t
# needs: nothing
# Technique: a
# Defence: b
print(1)
)",
                                   error);
  REQUIRE(py);
  CHECK(py->id == "x");
  CHECK(py->needs.empty());
  CHECK(py->covered == "strict");  // the default: only the strongest level must stop it
}

TEST_CASE("ParseEscapeHeader: no block, or an incomplete one", "[selftest]") {
  std::string error;
  CHECK_FALSE(cli::ParseEscapeHeader("/* a helper */\nint x;\n", error));
  CHECK(error.empty());
  CHECK_FALSE(cli::ParseEscapeHeader("/* tracejail-escape\n * id: x\n */\n", error));
  CHECK(error.find("title") != std::string::npos);
  CHECK_FALSE(cli::ParseEscapeHeader(
      "/* tracejail-escape\n * id: x\n * title: t\n * covered: never\n * Technique: a\n"
      " * Defence: b\n */\n",
      error));
  CHECK(error.find("covered") != std::string::npos);
}

TEST_CASE("ParseEscapeHeader accepts every selftest level in covered", "[selftest]") {
  for (std::string level : {"basic", "standard", "strict", "maximum"}) {
    std::string error;
    auto s = cli::ParseEscapeHeader(
        "/* tracejail-escape\n * id: x\n * title: t\n * covered: " + level +
            "\n * needs: outside tty\n * Technique: a\n" + " * Defence: b\n */\n",
        error);
    REQUIRE(s);
    CHECK(s->covered == level);
    CHECK(s->needs == std::vector<std::string>{"outside", "tty"});
  }
}

TEST_CASE("CoveredAt: a level covers what its header names and everything weaker", "[selftest]") {
  CHECK(cli::LevelRank("basic") == 0);
  CHECK(cli::LevelRank("maximum") == 3);
  CHECK(cli::LevelRank("all") == -1);
  CHECK(cli::CoveredAt("basic", "basic"));
  CHECK(cli::CoveredAt("basic", "maximum"));
  CHECK_FALSE(cli::CoveredAt("standard", "basic"));
  CHECK(cli::CoveredAt("standard", "standard"));
  CHECK(cli::CoveredAt("standard", "strict"));
  CHECK_FALSE(cli::CoveredAt("strict", "standard"));
  CHECK(cli::CoveredAt("strict", "maximum"));
  CHECK_FALSE(cli::CoveredAt("maximum", "strict"));
  CHECK(cli::CoveredAt("maximum", "maximum"));
  CHECK_FALSE(cli::CoveredAt("never", "maximum"));
  CHECK_FALSE(cli::CoveredAt("basic", "none"));
}

TEST_CASE("JudgeSample: any oracle makes an escape, no final line is an error", "[selftest]") {
  const cli::Oracles oracles{"TOKEN", "MARK", "OUTSIDE", 0, ""};
  auto v = cli::JudgeSample("try 1\nBLOCKED: openat -> EACCES\n", oracles);
  CHECK_FALSE(v.escaped);
  CHECK_FALSE(v.error);
  CHECK(v.final_line == "BLOCKED: openat -> EACCES");
  CHECK(cli::JudgeSample("ESCAPED: via x\n", oracles).escaped);
  // The sample says BLOCKED but the secret's token or the listener says otherwise.
  v = cli::JudgeSample("read TOKEN\nBLOCKED: nothing\n", oracles);
  CHECK(v.escaped);
  CHECK(v.why.find("secret's token") != std::string::npos);
  CHECK(cli::JudgeSample("MARK\nBLOCKED\n", oracles).escaped);
  auto hits = oracles;
  hits.listener_hits = 2;
  v = cli::JudgeSample("BLOCKED\n", hits);
  CHECK(v.escaped);
  CHECK(v.why.find("2 time") != std::string::npos);
  v = cli::JudgeSample("Segmentation fault\n", oracles);
  CHECK(v.error);
  CHECK_FALSE(v.escaped);
  CHECK(cli::JudgeSample("", oracles).error);
}

TEST_CASE("JudgeSample: the outside process's token and terminal input are escapes", "[selftest]") {
  const cli::Oracles oracles{"TOKEN", "MARK", "OUTSIDE", 0, ""};
  // /proc/PID/environ of the outside process, printed by a sample that calls itself blocked.
  auto v = cli::JudgeSample("environ: TJ_OUTSIDE_TOKEN=OUTSIDE\nBLOCKED: nothing\n", oracles);
  CHECK(v.escaped);
  CHECK_FALSE(v.error);
  CHECK(v.why.find("outside process's token") != std::string::npos);
  // Bytes a sample pushed into the terminal's input queue (TIOCSTI), shown escaped.
  auto tty = oracles;
  tty.injected = "#tj\n\x01";
  v = cli::JudgeSample("BLOCKED: TIOCSTI -> EPERM\n", tty);
  CHECK(v.escaped);
  CHECK(v.why.find("5 byte(s) pushed into the terminal's input (\"#tj\\n\\x01\")") !=
        std::string::npos);
  // Empty oracles never match.
  CHECK_FALSE(cli::JudgeSample("anything\nBLOCKED\n", cli::Oracles{}).escaped);
}
