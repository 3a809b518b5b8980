// Path patterns of the policy language, compiled once and matched without a regex engine.
//
//   literal     "/etc/ssh"         /etc/ssh
//   *           "/home/*/.ssh"     any characters within one component (never "/")
//   ?           "/tmp/?.txt"       one character within a component
//   [...]       "/dev/tty[0-9]"    one character from a set; [!...] or [^...] negates
//   **          "/src/**/*.c"      as a whole component: zero or more components, so
//                                  "/a/**/b" matches "/a/b", "/a/x/b", "/a/x/y/b"
// Every pattern names files and directories, and a directory includes everything below it:
// "/etc/ssh" matches /etc/ssh/ssh_config, "/home/*/.ssh" matches /home/bob/.ssh/id_rsa.
// A component that starts with "." is matched by wildcards like any other (dotfiles are not
// special). Paths are absolute and normalised; anonymous objects ("pipe:[12]") match nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

class PathPattern {
 public:
  // Returns nullopt and sets `error` when the pattern is malformed (relative, unterminated [,
  // "**" inside a component).
  static std::optional<PathPattern> Compile(std::string_view pattern, std::string* error);

  bool Matches(std::string_view path) const;

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
    std::string text;  // literal text, or the wildcard pattern of one component
  };

  bool MatchFrom(std::size_t pi, std::vector<std::string_view>& parts, std::size_t si) const;

  std::string text_;
  std::string anchor_;
  bool literal_ = true;
  int specificity_ = 0;
  std::vector<Component> components_;
};

// Matches one component against a wildcard pattern (*, ?, [...]); exposed for tests.
bool MatchComponent(std::string_view pattern, std::string_view name);

}  // namespace policy
