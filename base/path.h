// Lexical path handling shared by every layer: no filesystem access, no policy.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace base {

// Normalises an absolute path lexically: collapses "//", ".", "..", drops a trailing "/".
std::string NormalizePath(std::string_view path);

// True when `path` equals `prefix` or lies below it (component-wise).
bool PathHasPrefix(std::string_view path, std::string_view prefix);

// The non-empty components of `path` ("/a//b/" gives "a", "b"), viewing into it.
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace base
