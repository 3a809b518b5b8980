#include "cli/common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/escape.h"
#include "base/unique_fd.h"
#include "policy/json_positions.h"
#include "policy/presets.h"

namespace cli {

void Error(const std::string& msg) {
  // Every line of a message with several (all the errors of a policy file) gets the prefix.
  std::size_t start = 0;
  while (true) {
    std::size_t end = msg.find('\n', start);
    std::string line = msg.substr(start, end == std::string::npos ? end : end - start);
    std::fprintf(stderr, "tracejail: %s\n", line.c_str());
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

std::string Nearest(std::string_view got, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = 3;  // at most two edits away
  for (const std::string& name : names) {
    std::size_t d = policy::EditDistance(got, name);
    if (d < best_distance && d < std::max<std::size_t>(name.size(), 2)) {
      best_distance = d;
      best = name;
    }
  }
  return best;
}

std::string UnknownLevel(std::string_view level) {
  std::vector<std::string> names;
  for (const auto& preset : policy::Presets()) names.emplace_back(preset.name);
  std::string near = Nearest(level, names);
  return fmt::format("unknown level \"{}\"{} (levels: {})", level,
                     near.empty() ? "" : fmt::format(": did you mean {}?", near),
                     fmt::join(names, ", "));
}

std::optional<std::string> ReadKeyFile(const std::string& path, std::string& why) {
  constexpr std::size_t kMaxKey = 4096;
  base::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  struct stat st {};
  if (!fd.valid() || fstat(fd.get(), &st) != 0) {
    why = fmt::format("{}: {}", base::EscapeBytes(path), std::strerror(errno));
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    why = fmt::format("{}: not a regular file", base::EscapeBytes(path));
    return std::nullopt;
  }
  if ((st.st_mode & 077) != 0) {
    why = fmt::format(
        "{}: readable by others (mode {:o}); a key or token must be the owner's alone "
        "(chmod 600)",
        base::EscapeBytes(path), st.st_mode & 07777);
    return std::nullopt;
  }
  std::string key(kMaxKey + 1, '\0');
  ssize_t n = read(fd.get(), key.data(), key.size());
  if (n <= 0 || static_cast<std::size_t>(n) > kMaxKey) {
    why = fmt::format("{}: a key must be 1 to {} bytes", base::EscapeBytes(path), kMaxKey);
    return std::nullopt;
  }
  key.resize(static_cast<std::size_t>(n));
  return key;
}

}  // namespace cli
