// Path patterns of the policy language, compiled once and matched without a regex engine.
//
//   literal     "/etc/ssh"         /etc/ssh
//   *           "/home/*/.ssh"     any characters within one component (never "/")
//   ?           "/tmp/?.txt"       one character within a component
//   [...]       "/dev/tty[0-9]"    one character from a set; [!...] or [^...] negates
//   **          "/src/**/*.c"      as a whole component: zero or more components, so
//                                  "/a/**/b" matches "/a/b", "/a/x/b", "/a/x/y/b"
//   \c          "/srv/a\*b"        the character c itself: "\*" is a literal "*" (also inside
//                                  [...]); c must be one of \ * ? [ ] { } $ ! ^ -
// Every pattern names files and directories, and a directory includes everything below it:
// "/etc/ssh" matches /etc/ssh/ssh_config, "/home/*/.ssh" matches /home/bob/.ssh/id_rsa.
// A component that starts with "." is matched by wildcards like any other (dotfiles are not
// special). Paths are absolute and normalised; anonymous objects ("pipe:[12]") match nothing.
//
// A backslash before any other character, a trailing backslash and "\/" are errors, not literal
// characters: a pattern that does not say exactly what it matches fails to load instead of
// matching something its writer did not mean, and characters that may gain a meaning later
// ("{a,b}") can be escaped today. EscapeGlob turns any name into the pattern of exactly it;
// whatever turns a path seen at run time into a pattern (tips, learn, policy merge) goes through
// it, so a file named "**" is never taken for every file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

class PathPattern {
 public:
  // Returns nullopt and sets `error` when the pattern is malformed (relative, unterminated [,
  // "**" inside a component, a backslash that escapes nothing it may).
  static std::optional<PathPattern> Compile(std::string_view pattern, std::string* error);

  bool Matches(std::string_view path) const;

  // A literal: the path it names, unescaped and normalised ("/a/\*" names "/a/*"); otherwise the
  // pattern as written.
  const std::string& text() const { return text_; }
  bool is_literal() const { return literal_; }
  // The longest directory that every matching path lies in ("/home" for "/home/*/.ssh"); for a
  // literal, the literal itself. Used to index rules.
  const std::string& anchor() const { return anchor_; }
  // Ordering for the conflict rule: more literal characters is more specific.
  int specificity() const { return specificity_; }

 private:
  struct Component {
    enum Kind { kLiteral, kWild, kAnyDepth } kind;
    std::string text;  // the name (unescaped), or the wildcard pattern of one component
  };

  bool MatchFrom(std::size_t pi, std::vector<std::string_view>& parts, std::size_t si) const;

  std::string text_;
  std::string anchor_;
  bool literal_ = true;
  int specificity_ = 0;
  std::vector<Component> components_;
};

// Matches one component against a wildcard pattern (*, ?, [...], \c); for patterns that
// CheckComponentPattern accepts (abstract socket names) or that are part of a compiled PathPattern.
bool MatchComponent(std::string_view pattern, std::string_view name);

// Checks a pattern matched by MatchComponent alone (an abstract socket name: "/" is an ordinary
// character there): every backslash escapes a metacharacter and every "[" is closed.
bool CheckComponentPattern(std::string_view pattern, std::string* error);

// The pattern that matches exactly `literal` (and, for a path, everything below it): every
// character the pattern language reserves (\ * ? [ ] { } $) gets a backslash. "/" is kept: it
// separates components in a path and is an ordinary character in an abstract socket name.
std::string EscapeGlob(std::string_view literal);

// The name a pattern without wildcards stands for ("/a/\*" -> "/a/*"); nullopt when it has an
// unescaped wildcard (* ? [) or a malformed escape. Variables (${NAME}) are not expanded.
std::optional<std::string> UnescapeGlob(std::string_view pattern);

// Where the first wildcard (* ? [) that no backslash makes literal is, or npos.
std::size_t FirstWildcard(std::string_view pattern);
inline bool HasWildcard(std::string_view pattern) {
  return FirstWildcard(pattern) != std::string_view::npos;
}

}  // namespace policy
