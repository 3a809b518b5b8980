#include "policy/glob.h"

#include "policy/policy.h"

namespace policy {
namespace {

bool HasWildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// Matches a bracket expression at pattern[pi] ('[' already seen at pi); returns the index after
// it, or npos when it is malformed. `matched` receives whether `c` is in the set.
std::size_t MatchClass(std::string_view p, std::size_t pi, char c, bool& matched) {
  std::size_t i = pi + 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) ++i;
  bool in = false;
  bool first = true;
  while (i < p.size() && (p[i] != ']' || first)) {
    first = false;
    char lo = p[i];
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      char hi = p[i + 2];
      if (c >= lo && c <= hi) in = true;
      i += 3;
    } else {
      if (c == lo) in = true;
      ++i;
    }
  }
  if (i >= p.size()) return std::string_view::npos;
  matched = in != negate;
  return i + 1;
}

}  // namespace

bool MatchComponent(std::string_view p, std::string_view s) {
  // Iterative wildcard match with one backtracking point for the last '*'.
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
      continue;
    }
    if (pi < p.size() && p[pi] == '?') {
      ++pi;
      ++si;
      continue;
    }
    if (pi < p.size() && p[pi] == '[') {
      bool matched = false;
      std::size_t next = MatchClass(p, pi, s[si], matched);
      if (next != std::string_view::npos && matched) {
        pi = next;
        ++si;
        continue;
      }
    } else if (pi < p.size() && p[pi] == s[si]) {
      ++pi;
      ++si;
      continue;
    }
    if (star == std::string_view::npos) return false;
    pi = star + 1;
    si = ++mark;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::optional<PathPattern> PathPattern::Compile(std::string_view pattern, std::string* error) {
  auto fail = [&](std::string msg) -> std::optional<PathPattern> {
    if (error) *error = std::move(msg);
    return std::nullopt;
  };
  if (pattern.empty() || pattern[0] != '/') return fail("a path pattern must be absolute");
  PathPattern out;
  out.literal_ = !HasWildcard(pattern);
  if (out.literal_) {
    out.text_ = NormalizePath(pattern);
    out.anchor_ = out.text_;
    out.specificity_ = static_cast<int>(out.text_.size());
    return out;
  }
  out.text_ = std::string(pattern);
  out.anchor_ = "/";
  bool anchored = true;
  for (std::string_view part : SplitPath(pattern)) {
    if (part == "." || part == "..") return fail("\".\" and \"..\" are not allowed in a pattern");
    if (part == "**") {
      out.components_.push_back({Component::kAnyDepth, ""});
      anchored = false;
      continue;
    }
    if (part.find("**") != std::string_view::npos) {
      return fail("\"**\" must be a whole component (\"/a/**/b\", not \"/a**b\")");
    }
    if (HasWildcard(part)) {
      for (std::size_t i = 0; i < part.size(); ++i) {
        if (part[i] != '[') continue;
        bool ignored = false;
        std::size_t next = MatchClass(part, i, 'a', ignored);
        if (next == std::string_view::npos) return fail("unterminated \"[\" in pattern");
        i = next - 1;
      }
      out.components_.push_back({Component::kWild, std::string(part)});
      out.specificity_ += static_cast<int>(part.size()) - 1;
      anchored = false;
      continue;
    }
    out.components_.push_back({Component::kLiteral, std::string(part)});
    out.specificity_ += static_cast<int>(part.size()) + 1;
    if (anchored) {
      out.anchor_ =
          out.anchor_ == "/" ? "/" + std::string(part) : out.anchor_ + "/" + std::string(part);
    }
  }
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
  if (literal_) return PathHasPrefix(path, text_);
  if (path.empty() || path[0] != '/') return false;  // anonymous objects (pipe:[12]) are not paths
  std::vector<std::string_view> parts = SplitPath(path);
  return MatchFrom(0, parts, 0);
}

}  // namespace policy
