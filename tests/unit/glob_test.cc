// policy/glob.h: path patterns (literal prefixes, *, ?, [...], **, backslash escapes), their
// anchors and specificity, component matching, and EscapeGlob's exact patterns.
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "base/path.h"
#include "policy/glob.h"
#include "policy/policy.h"

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

// ---------------------------------------------------------------------------------------------
// Escapes: a backslash makes the next character literal (docs/policy.md, Escapes).

TEST_CASE("PathPattern: a backslash makes every metacharacter literal", "[policy][glob][escape]") {
  struct Case {
    const char* pattern;
    const char* path;
    bool match;
  };
  const Case cases[] = {
      // "\*": the name "*", not any name.
      {R"(/home/\*)", "/home/*", true},
      {R"(/home/\*)", "/home/*/x", true},  // a literal covers what is below it
      {R"(/home/\*)", "/home/bob", false},
      {R"(/a\*b)", "/a*b", true},
      {R"(/a\*b)", "/axb", false},
      {R"(/a\*b)", "/ab", false},
      // "\*\*": the name "**", not every depth.
      {R"(/home/\*\*)", "/home/**", true},
      {R"(/home/\*\*)", "/home/other/secret", false},
      {R"(/home/\*\*)", "/home", false},
      {R"(/home/\*\*/x)", "/home/**/x", true},
      {R"(/home/\*\*/x)", "/home/a/x", false},
      // "\?": the name "?", not any one character.
      {R"(/tmp/\?)", "/tmp/?", true},
      {R"(/tmp/\?)", "/tmp/a", false},
      // "\[" and "\]": brackets, not a set.
      {R"(/dev/tty\[0-9\])", "/dev/tty[0-9]", true},
      {R"(/dev/tty\[0-9\])", "/dev/tty5", false},
      {R"(/x/\[)", "/x/[", true},
      {R"(/x/\])", "/x/]", true},
      // "\{", "\}" and "\$": the characters themselves.
      {R"(/x/\{a,b\})", "/x/{a,b}", true},
      {R"(/x/\{a,b\})", "/x/a", false},
      {R"(/x/\${HOME})", "/x/${HOME}", true},
      {R"(/x/\$)", "/x/$", true},
      // "\\": one backslash.
      {R"(/x/a\\b)", "/x/a\\b", true},
      {R"(/x/a\\b)", "/x/ab", false},
      {R"(/x/\\)", "/x/\\", true},
      // "\!", "\^", "\-": the characters, outside a set as inside one.
      {R"(/x/\!\^\-)", "/x/!^-", true},
      // Escapes beside live wildcards: only the escaped character is literal.
      {R"(/x/\**)", "/x/*abc", true},
      {R"(/x/\**)", "/x/abc", false},
      {R"(/x/*\*)", "/x/abc*", true},
      {R"(/x/*\*)", "/x/abc", false},
      {R"(/x/\?*)", "/x/?", true},
      {R"(/x/\?*)", "/x/a", false},
      {R"(/x/?\?)", "/x/a?", true},
      {R"(/x/?\?)", "/x/ab", false},
      {R"(/x/\\*)", "/x/\\anything", true},  // an escaped backslash, then a wildcard
      {R"(/x/\\*)", "/x/anything", false},
      {R"(/\*\*/**)", "/**/a/b", true},
      {R"(/\*\*/**)", "/etc/a", false},
      // Inside a set: "\]", "\-", "\!", "\^", "\\" and "\[" are members.
      {R"(/x/[\]a])", "/x/]", true},
      {R"(/x/[\]a])", "/x/a", true},
      {R"(/x/[\]a])", "/x/b", false},
      {R"(/x/[a\-z])", "/x/-", true},
      {R"(/x/[a\-z])", "/x/m", false},  // not a range
      {R"(/x/[\!a])", "/x/!", true},    // not a negation
      {R"(/x/[\!a])", "/x/b", false},
      {R"(/x/[\^a])", "/x/^", true},
      {R"(/x/[\\])", "/x/\\", true},
      {R"(/x/[\[])", "/x/[", true},
      {R"(/x/[\*])", "/x/*", true},
      {R"(/x/[\*])", "/x/a", false},
      {R"(/x/[!\]])", "/x/a", true},
      {R"(/x/[!\]])", "/x/]", false},
      {R"(/x/[\!-\-])", "/x/+", true},  // a range from "!" to "-"
      {R"(/x/[\!-\-])", "/x/a", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern, c.path);
    CHECK(Pattern(c.pattern).Matches(c.path) == c.match);
  }
}

TEST_CASE("PathPattern: escaped literals: text and anchor are the names",
          "[policy][glob][escape]") {
  policy::PathPattern stars = Pattern(R"(/home/\*\*)");
  CHECK(stars.is_literal());
  CHECK(stars.text() == "/home/**");
  CHECK(stars.anchor() == "/home/**");
  CHECK(stars.specificity() == Pattern("/home/ab").specificity());
  CHECK(Pattern(R"(/a\[1\]/b/)").text() == "/a[1]/b");  // unescaped, then normalised

  policy::PathPattern wild = Pattern(R"(/srv/a\*b/\[x\]/*.c)");
  CHECK_FALSE(wild.is_literal());
  CHECK(wild.text() == R"(/srv/a\*b/\[x\]/*.c)");
  CHECK(wild.anchor() == "/srv/a*b/[x]");
  // An escaped character counts once, like the character it stands for.
  CHECK(Pattern(R"(/srv/a\*b/*.c)").specificity() == Pattern("/srv/axb/*.c").specificity());
}

TEST_CASE("PathPattern: a backslash that escapes nothing it may is a load error",
          "[policy][glob][escape]") {
  struct Case {
    std::string pattern;
    const char* needle;
  };
  const Case cases[] = {
      {R"(/a/\d)", R"("\d" is not an escape)"},
      {R"(/a/\d)", R"(write "d" alone)"},
      {R"(/a/b\)", "trailing"},
      {R"(/a/\\\)", "trailing"},
      {R"(/a\/b)", "cannot contain \"/\""},
      {R"(/a/\.)", "not an escape"},
      {R"(/a/\ b)", "not an escape"},
      {R"(/a/*\n)", "not an escape"},   // a wildcard elsewhere changes nothing
      {R"(/a/[\d])", "not an escape"},  // nor does a set
      {std::string("/a/\\\x01", 5), R"("\\x01")"},
      {R"(/a/\***)", "\"**\" must be a whole component"},  // a literal "*", then "**"
      {R"(/a/\\**)", "\"**\" must be a whole component"},
      {R"(/a/[x)", "unterminated"},
      {R"(/a/[x\])", "unterminated"},  // "\]" does not close a set
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern);
    std::string error;
    CHECK_FALSE(policy::PathPattern::Compile(c.pattern, &error));
    CHECK_THAT(error, Catch::Contains(c.needle));
  }
  // Escapes that only look like errors.
  for (const char* ok : {R"(/a/\\d)", R"(/a/\\)", R"(/a/\**)", R"(/a/*\*)", R"(/a/[\]])"}) {
    CAPTURE(ok);
    std::string error;
    CHECK(policy::PathPattern::Compile(ok, &error));
  }
}

TEST_CASE("MatchComponent: escapes", "[policy][glob][escape]") {
  struct Case {
    const char* pattern;
    const char* name;
    bool match;
  };
  const Case cases[] = {
      {R"(\*)", "*", true},      {R"(\*)", "a", false},      {R"(\?)", "?", true},
      {R"(\?)", "a", false},     {R"(\[a\])", "[a]", true},  {R"(\[a\])", "a", false},
      {R"(a\\)", "a\\", true},   {R"(\*x*)", "*xyz", true},  {R"(\*x*)", "axyz", false},
      {R"(*\*)", "ab*", true},   {R"(*\*)", "ab", false},    {R"(a/\*)", "a/*", true},
      {R"(a/\*)", "a/b", false}, {R"(\$\{\})", "${}", true}, {R"(x[\-])", "x-", true},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern, c.name);
    CHECK(policy::MatchComponent(c.pattern, c.name) == c.match);
  }
  std::string error;
  CHECK(policy::CheckComponentPattern(R"(abstract-\*[0-9]/x\\)", &error));
  CHECK_FALSE(policy::CheckComponentPattern(R"(a\b)", &error));
  CHECK_THAT(error, Catch::Contains("not an escape"));
  CHECK_FALSE(policy::CheckComponentPattern(R"(ab\)", &error));
  CHECK_THAT(error, Catch::Contains("trailing"));
  CHECK_FALSE(policy::CheckComponentPattern("a[b", &error));
  CHECK_THAT(error, Catch::Contains("unterminated"));
}

TEST_CASE("EscapeGlob and UnescapeGlob", "[policy][glob][escape]") {
  CHECK(policy::EscapeGlob("/etc/ssh") == "/etc/ssh");
  CHECK(policy::EscapeGlob("/usr/lib/x86_64-linux-gnu") == "/usr/lib/x86_64-linux-gnu");
  CHECK(policy::EscapeGlob("/home/**") == R"(/home/\*\*)");
  CHECK(policy::EscapeGlob(R"(/a?[b]{c}$d\e!^-)") == R"(/a\?\[b\]\{c\}\$d\\e!^-)");
  CHECK(policy::EscapeGlob("") == "");

  CHECK(policy::UnescapeGlob(R"(/home/\*\*)") == "/home/**");
  CHECK(policy::UnescapeGlob(R"(/a\?\[b\]\{c\}\$d\\e!^-\!\^\-)") == R"(/a?[b]{c}$d\e!^-!^-)");
  CHECK(policy::UnescapeGlob("/plain") == "/plain");
  CHECK(policy::UnescapeGlob("${HOME}/x") == "${HOME}/x");  // variables are not its business
  for (const char* not_exact :
       {"/home/*", "/home/**", "/a?", "/a[b]", R"(/a\d)", R"(/a\)", R"(/a\/b)", R"(/\\*)"}) {
    CAPTURE(not_exact);
    CHECK_FALSE(policy::UnescapeGlob(not_exact));
  }
  CHECK_FALSE(policy::HasWildcard(R"(/a\*\?\[)"));
  CHECK(policy::HasWildcard(R"(/a\\*)"));
  CHECK(policy::FirstWildcard(R"(/a\*b/c?)") == 7u);
}

namespace {

// A random byte string: mostly metacharacters and the characters near them, so that escapes,
// wildcards and sets are all exercised. `slash`: "/" may appear; NUL may always.
std::string RandomName(std::mt19937& rng, bool slash, std::size_t max_len = 8) {
  static const std::string kHot = "\\*?[]{}$!^-/.a";
  std::uniform_int_distribution<std::size_t> len(1, max_len);
  std::uniform_int_distribution<int> pick(0, 3);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> hot(0, kHot.size() - 1);
  std::string s;
  for (std::size_t n = len(rng); s.size() < n;) {
    char c = pick(rng) == 0 ? static_cast<char>(byte(rng)) : kHot[hot(rng)];
    if (c == '/' && !slash) continue;
    s += c;
  }
  return s;
}

// Strings near `s` that are not `s`: one byte dropped, changed or added, each metacharacter
// replaced by what it would match as a wildcard ("*" by "", "xy"; "?" by "x"; "[" by "x").
std::vector<std::string> NearMisses(const std::string& s) {
  std::vector<std::string> out{s + "x", "x" + s, s + "*", "*" + s};
  for (std::size_t i = 0; i < s.size(); ++i) {
    out.push_back(s.substr(0, i) + s.substr(i + 1));
    for (const char* with : {"x", "", "xy", "\\", "?", "*"}) {
      out.push_back(s.substr(0, i) + with + s.substr(i + 1));
    }
    out.push_back(s.substr(0, i) + "\\" + s.substr(i));
  }
  return out;
}

}  // namespace

TEST_CASE("EscapeGlob: the escaped name matches the name and nothing near it",
          "[policy][glob][escape]") {
  std::mt19937 rng(20261206u);
  for (int round = 0; round < 3000; ++round) {
    // One component (MatchComponent: abstract socket names may hold "/").
    std::string name = RandomName(rng, true);
    std::string pattern = policy::EscapeGlob(name);
    CAPTURE(round, name, pattern);
    REQUIRE(policy::CheckComponentPattern(pattern, nullptr));
    CHECK(policy::MatchComponent(pattern, name));
    CHECK(policy::UnescapeGlob(pattern) == name);
    CHECK_FALSE(policy::HasWildcard(pattern));
    for (const auto& miss : NearMisses(name)) {
      if (miss == name) continue;
      CAPTURE(miss);
      CHECK_FALSE(policy::MatchComponent(pattern, miss));
    }
  }
  for (int round = 0; round < 1500; ++round) {
    // A path of random names (never ".", ".." or empty: paths reach the matcher normalised).
    std::string path;
    std::uniform_int_distribution<int> depth(1, 4);
    for (int d = depth(rng); d > 0; --d) {
      std::string name;
      do {
        name = RandomName(rng, false, 6);
      } while (name == "." || name == "..");
      path += "/" + name;
    }
    std::string pattern = policy::EscapeGlob(path);
    CAPTURE(round, path, pattern);
    std::string error;
    auto compiled = policy::PathPattern::Compile(pattern, &error);
    INFO(error);
    REQUIRE(compiled);
    CHECK(compiled->is_literal());
    CHECK(compiled->text() == path);
    CHECK(compiled->Matches(path));
    CHECK(compiled->Matches(path + "/below"));
    std::size_t slash = path.rfind('/');
    std::string parent = slash == 0 ? "/" : path.substr(0, slash);
    std::string last = path.substr(slash + 1);
    std::vector<std::string> probes{parent, parent == "/" ? "/x" : parent + "/x",
                                    parent + "/other/secret"};
    for (const auto& miss : NearMisses(last)) {
      if (miss.empty() || miss.find('/') != std::string::npos) continue;
      probes.push_back((parent == "/" ? "" : parent) + "/" + miss);
    }
    for (const auto& probe : probes) {
      CAPTURE(probe);
      CHECK(compiled->Matches(probe) == base::PathHasPrefix(probe, path));
    }
  }
}
