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

TEST_CASE("JudgeSample: any oracle makes an escape, no final line is an error", "[selftest]") {
  auto v = cli::JudgeSample("try 1\nBLOCKED: openat -> EACCES\n", "TOKEN", "MARK", 0);
  CHECK_FALSE(v.escaped);
  CHECK_FALSE(v.error);
  CHECK(v.final_line == "BLOCKED: openat -> EACCES");
  CHECK(cli::JudgeSample("ESCAPED: via x\n", "TOKEN", "MARK", 0).escaped);
  // The sample says BLOCKED but the secret's token or the listener says otherwise.
  v = cli::JudgeSample("read TOKEN\nBLOCKED: nothing\n", "TOKEN", "MARK", 0);
  CHECK(v.escaped);
  CHECK(v.why.find("token") != std::string::npos);
  CHECK(cli::JudgeSample("MARK\nBLOCKED\n", "TOKEN", "MARK", 0).escaped);
  v = cli::JudgeSample("BLOCKED\n", "TOKEN", "MARK", 2);
  CHECK(v.escaped);
  CHECK(v.why.find("2 time") != std::string::npos);
  v = cli::JudgeSample("Segmentation fault\n", "TOKEN", "MARK", 0);
  CHECK(v.error);
  CHECK_FALSE(v.escaped);
  CHECK(cli::JudgeSample("", "TOKEN", "MARK", 0).error);
}
