#include "policy/glob.h"

#include <fmt/format.h>

#include "base/path.h"

namespace policy {
namespace {

// What a backslash may make literal: the wildcards, the bracket syntax, the loader's ${NAME}, the
// backslash itself, and the braces that may one day mean alternatives.
constexpr std::string_view kEscapable = "\\*?[]{}$!^-";
constexpr std::string_view kEscapableList = "\\ * ? [ ] { } $ ! ^ -";  // for messages
// What EscapeGlob escapes: what means something outside a bracket, and what pairs with it. "!",
// "^" and "-" mean something only inside [...], which EscapeGlob never writes, so names with a
// dash stay readable.
constexpr std::string_view kReserved = "\\*?[]{}$";
constexpr std::string_view kWildcards = "*?[";

// One character of a pattern: a backslash and the character it escapes are one unit.
struct Unit {
  char c = 0;
  bool escaped = false;
  std::size_t next = 0;  // where the next unit starts
};

// Patterns reaching here have been checked (CheckEscapes): a backslash is never last. (One that
// is, in a pattern nobody checked, stands for itself.)
Unit At(std::string_view p, std::size_t i) {
  if (p[i] == '\\' && i + 1 < p.size()) return {p[i + 1], true, i + 2};
  return {p[i], false, i + 1};
}

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

// Printable for a message: a control byte, NUL or non-ASCII byte is shown as \xNN.
std::string Shown(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u >= 0x7f ? fmt::format("\\x{:02x}", u) : std::string(1, c);
}

// `path`: "/" separates names (PathPattern), so "\/" gets its own message; in an abstract
// socket name "/" is an ordinary character and needs no escape either.
bool CheckEscapes(std::string_view p, std::string* error, bool path) {
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '\\') continue;
    if (i + 1 == p.size()) {
      return Fail(error, "a trailing \"\\\" escapes nothing (write \"\\\\\" for a backslash)");
    }
    char next = p[++i];
    if (next == '/' && path) {
      return Fail(error, "\"\\/\": a name cannot contain \"/\" (a \"/\" always separates names)");
    }
    if (kEscapable.find(next) == std::string_view::npos) {
      return Fail(error, fmt::format("\"\\{0}\" is not an escape: a backslash makes only one of "
                                     "{1} literal (write \"{0}\" alone, or \"\\\\{0}\" for a "
                                     "backslash followed by \"{0}\")",
                                     Shown(next), kEscapableList));
    }
  }
  return true;
}

// Matches a bracket expression at pattern[pi] ('[' already seen at pi); returns the index after
// it, or npos when it is malformed. `matched` receives whether `c` is in the set. Inside, "\c" is
// the character c: "[\]\-]" is the set of "]" and "-".
std::size_t MatchClass(std::string_view p, std::size_t pi, char c, bool& matched) {
  std::size_t i = pi + 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) ++i;
  bool in = false;
  bool first = true;
  while (i < p.size()) {
    Unit lo = At(p, i);
    if (!lo.escaped && lo.c == ']' && !first) {
      matched = in != negate;
      return lo.next;
    }
    first = false;
    i = lo.next;
    // A range: an unescaped "-" between two characters, the second not the closing "]".
    if (i + 1 < p.size() && p[i] == '-') {
      Unit hi = At(p, i + 1);
      if (hi.escaped || hi.c != ']') {
        if (c >= lo.c && c <= hi.c) in = true;
        i = hi.next;
        continue;
      }
    }
    if (c == lo.c) in = true;
  }
  return std::string_view::npos;
}

bool CheckBrackets(std::string_view p, std::string* error) {
  for (std::size_t i = 0; i < p.size();) {
    Unit u = At(p, i);
    if (u.escaped || u.c != '[') {
      i = u.next;
      continue;
    }
    bool ignored = false;
    i = MatchClass(p, i, 'a', ignored);
    if (i == std::string_view::npos) {
      return Fail(error, "unterminated \"[\" in pattern (write \"\\[\" for a literal \"[\")");
    }
  }
  return true;
}

// "**" as two wildcards in a row, not "\**" or "*\*".
bool HasAnyDepth(std::string_view part) {
  bool star = false;
  for (std::size_t i = 0; i < part.size();) {
    Unit u = At(part, i);
    bool is_star = !u.escaped && u.c == '*';
    if (star && is_star) return true;
    star = is_star;
    i = u.next;
  }
  return false;
}

// The characters a pattern spells out: "\*" is one, as is "*".
int UnitCount(std::string_view p) {
  int n = 0;
  for (std::size_t i = 0; i < p.size(); i = At(p, i).next) ++n;
  return n;
}

std::string Unescaped(std::string_view p) {
  std::string out;
  for (std::size_t i = 0; i < p.size();) {
    Unit u = At(p, i);
    out += u.c;
    i = u.next;
  }
  return out;
}

}  // namespace

std::size_t FirstWildcard(std::string_view p) {
  for (std::size_t i = 0; i < p.size();) {
    Unit u = At(p, i);
    if (!u.escaped && kWildcards.find(u.c) != std::string_view::npos) return i;
    i = u.next;
  }
  return std::string_view::npos;
}

std::string EscapeGlob(std::string_view literal) {
  std::string out;
  out.reserve(literal.size());
  for (char c : literal) {
    if (kReserved.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::optional<std::string> UnescapeGlob(std::string_view pattern) {
  if (!CheckEscapes(pattern, nullptr, false) || HasWildcard(pattern)) return std::nullopt;
  return Unescaped(pattern);
}

bool CheckComponentPattern(std::string_view pattern, std::string* error) {
  return CheckEscapes(pattern, error, false) && CheckBrackets(pattern, error);
}

bool MatchComponent(std::string_view p, std::string_view s) {
  // Iterative wildcard match with one backtracking point for the last '*'.
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      Unit u = At(p, pi);
      if (!u.escaped && u.c == '*') {
        star = pi;
        pi = u.next;
        mark = si;
        continue;
      }
      if (!u.escaped && u.c == '?') {
        pi = u.next;
        ++si;
        continue;
      }
      if (!u.escaped && u.c == '[') {
        bool matched = false;
        std::size_t next = MatchClass(p, pi, s[si], matched);
        if (next != std::string_view::npos && matched) {
          pi = next;
          ++si;
          continue;
        }
      } else if (u.c == s[si]) {
        pi = u.next;
        ++si;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    pi = star + 1;
    si = ++mark;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;  // a unit start: never an escaped "*"
  return pi == p.size();
}

std::optional<PathPattern> PathPattern::Compile(std::string_view pattern, std::string* error) {
  auto fail = [&](std::string msg) -> std::optional<PathPattern> {
    if (error) *error = std::move(msg);
    return std::nullopt;
  };
  if (pattern.empty() || pattern[0] != '/') return fail("a path pattern must be absolute");
  if (!CheckEscapes(pattern, error, true)) return std::nullopt;
  PathPattern out;
  out.literal_ = !HasWildcard(pattern);
  if (out.literal_) {
    out.text_ = base::NormalizePath(Unescaped(pattern));
    out.anchor_ = out.text_;
    out.specificity_ = static_cast<int>(out.text_.size());
    return out;
  }
  out.text_ = std::string(pattern);
  std::string anchor(1, '/');
  bool anchored = true;
  // "\/" is refused above, so every "/" separates components.
  for (std::string_view part : base::SplitPath(pattern)) {
    if (part == "." || part == "..") return fail("\".\" and \"..\" are not allowed in a pattern");
    if (part == "**") {
      out.components_.push_back({Component::kAnyDepth, ""});
      anchored = false;
      continue;
    }
    if (HasAnyDepth(part)) {
      return fail(
          "\"**\" must be a whole component (\"/a/**/b\", not \"/a**b\"; \"\\*\\*\" for a "
          "literal \"**\")");
    }
    if (HasWildcard(part)) {
      if (!CheckBrackets(part, error)) return std::nullopt;
      out.components_.push_back({Component::kWild, std::string(part)});
      out.specificity_ += UnitCount(part) - 1;
      anchored = false;
      continue;
    }
    std::string name = Unescaped(part);
    out.specificity_ += static_cast<int>(name.size()) + 1;
    if (anchored) anchor += (anchor.size() > 1 ? "/" : "") + name;
    out.components_.push_back({Component::kLiteral, std::move(name)});
  }
  out.anchor_ = std::move(anchor);
  return out;
}

bool PathPattern::MatchFrom(std::size_t pi, std::vector<std::string_view>& parts,
                            std::size_t si) const {
  while (pi < components_.size()) {
    const Component& c = components_[pi];
    if (c.kind == Component::kAnyDepth) {
      // Zero or more components: try every split (patterns are short; paths shallow).
      for (std::size_t k = si; k <= parts.size(); ++k) {
        if (MatchFrom(pi + 1, parts, k)) return true;
      }
      return false;
    }
    if (si >= parts.size()) return false;
    bool ok =
        c.kind == Component::kLiteral ? parts[si] == c.text : MatchComponent(c.text, parts[si]);
    if (!ok) return false;
    ++pi;
    ++si;
  }
  return true;  // the pattern matched a leading part: the path is it or lies below it
}

bool PathPattern::Matches(std::string_view path) const {
  if (literal_) return base::PathHasPrefix(path, text_);
  if (path.empty() || path[0] != '/') return false;  // anonymous objects (pipe:[12]) are not paths
  std::vector<std::string_view> parts = base::SplitPath(path);
  return MatchFrom(0, parts, 0);
}

}  // namespace policy
