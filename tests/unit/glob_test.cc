// policy/glob.h: path patterns (literal prefixes, *, ?, [...], **), their anchors and
// specificity, and component matching.
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "policy/glob.h"

namespace {

policy::PathPattern Pattern(std::string_view text) {
  std::string error;
  auto p = policy::PathPattern::Compile(text, &error);
  INFO(error);
  REQUIRE(p);
  return *p;
}

}  // namespace

TEST_CASE("PathPattern: literal prefixes and wildcards", "[policy][glob]") {
  struct Case {
    const char* pattern;
    const char* path;
    bool match;
  };
  const Case cases[] = {
      // Literals: the path and everything below it, component-wise.
      {"/etc/ssh", "/etc/ssh", true},
      {"/etc/ssh", "/etc/ssh/sshd_config", true},
      {"/etc/ssh", "/etc/sshd", false},
      {"/etc//ssh/", "/etc/ssh/x", true},  // literals are normalised
      {"/", "/anything", true},
      // "*" and "?" stay within one component; a match covers everything below it.
      {"/home/*/.ssh", "/home/bob/.ssh", true},
      {"/home/*/.ssh", "/home/bob/.ssh/id_rsa", true},
      {"/home/*/.ssh", "/home/bob/.sshx", false},
      {"/home/*/.ssh", "/home/a/b/.ssh", false},
      {"/home/*", "/home/bob", true},
      {"/home/*", "/home/bob/notes.txt", true},
      {"/home/*", "/home", false},
      {"/home/*", "/home/.hidden", true},  // dotfiles are not special
      {"/tmp/?.txt", "/tmp/a.txt", true},
      {"/tmp/?.txt", "/tmp/ab.txt", false},
      {"/tmp/?.txt", "/tmp/a.txt/inside", true},
      {"/tmp/*.txt", "/tmp/.txt", true},
      // Character classes.
      {"/dev/tty[0-9]", "/dev/tty5", true},
      {"/dev/tty[0-9]", "/dev/ttyS", false},
      {"/dev/tty[!0-9]", "/dev/ttyS", true},
      {"/dev/tty[^0-9]", "/dev/tty5", false},
      {"/dev/[]x]", "/dev/]", true},  // "]" first in a class is literal
      // "**": zero or more whole components.
      {"/a/**", "/a", true},
      {"/a/**", "/a/b/c", true},
      {"/a/**", "/ab", false},
      {"/a/**/b", "/a/b", true},
      {"/a/**/b", "/a/x/y/b", true},
      {"/a/**/b", "/a/x/y/c", false},
      {"/**/*.pem", "/etc/ssl/private/k.pem", true},
      {"/**/*.pem", "/k.pem", true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern, c.path);
    CHECK(Pattern(c.pattern).Matches(c.path) == c.match);
  }
}

TEST_CASE("PathPattern: anchors, specificity and errors", "[policy][glob]") {
  CHECK(Pattern("/home/*/.ssh").anchor() == "/home");
  CHECK(Pattern("/etc/ssh/").anchor() == "/etc/ssh");
  CHECK(Pattern("/**/x").anchor() == "/");
  CHECK(Pattern("/etc/ssh").is_literal());
  CHECK_FALSE(Pattern("/etc/*").is_literal());
  // More literal characters: more specific.
  CHECK(Pattern("/home/alice/.ssh").specificity() > Pattern("/home/*/.ssh").specificity());
  CHECK(Pattern("/home/*/.ssh").specificity() > Pattern("/home/u").specificity());
  CHECK(Pattern("/etc/ssh").specificity() == 8);

  for (const char* bad :
       {"", "relative/path", "*", "/a/[bc", "/a**b", "/a/**x", "/a/*/../b", "/a/./*"}) {
    CAPTURE(bad);
    std::string error;
    CHECK_FALSE(policy::PathPattern::Compile(bad, &error));
    CHECK_FALSE(error.empty());
  }
  // A null error pointer is allowed.
  CHECK_FALSE(policy::PathPattern::Compile("rel", nullptr));
}

TEST_CASE("MatchComponent", "[policy][glob]") {
  struct Case {
    const char* pattern;
    const char* name;
    bool match;
  };
  const Case cases[] = {
      {"", "", true},           {"", "a", false},         {"*", "", true},
      {"*", "anything", true},  {"a*", "abc", true},      {"a*c", "abbbc", true},
      {"a*c", "abcd", false},   {"*.log", "x.log", true}, {"*.log", "x.log.1", false},
      {"*a*b*", "xaxbx", true}, {"?", "", false},         {"??", "ab", true},
      {"[abc]", "b", true},     {"[abc]", "d", false},    {"[a-c]x", "cx", true},
      {"[!a-c]", "d", true},    {"x[", "x[", false},      {"abstract-*", "abstract-1", true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern, c.name);
    CHECK(policy::MatchComponent(c.pattern, c.name) == c.match);
  }
}

// Fixed regression (policy/glob.cc PathPattern::Matches -> SplitPath): a wildcard pattern splits
// the path on
// "/" without checking that it is absolute, so "/*" and "/**" match the anonymous object names
// the resolver produces for magic links ("pipe:[123]", "anon_inode:[eventfd]") as if they were
// "/pipe:[123]", while the literal "/" (PathHasPrefix) does not. A rule's reach over anonymous
// objects thus depends on whether its pattern happens to contain a wildcard.
TEST_CASE("regression: glob: wildcard patterns do not match non-absolute names", "[policy][glob]") {
  CHECK_FALSE(Pattern("/").Matches("pipe:[123]"));  // the literal form, for comparison
  CHECK_FALSE(Pattern("/*").Matches("pipe:[123]"));
  CHECK_FALSE(Pattern("/**").Matches("anon_inode:[eventfd]"));
}
