#include "cli/command_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace cli {
namespace {

int Check(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EACCES;
  return access(path.c_str(), X_OK) == 0 ? 0 : EACCES;
}

}  // namespace

CommandLookup FindCommand(const std::string& name, const std::string& search_path) {
  if (name.empty()) return {"", ENOENT};
  if (name.find('/') != std::string::npos) {
    int e = Check(name);
    return {e == 0 ? name : "", e};
  }
  int best = ENOENT;
  std::size_t start = 0;
  while (start <= search_path.size()) {
    std::size_t end = search_path.find(':', start);
    if (end == std::string::npos) end = search_path.size();
    std::string_view dir = std::string_view(search_path).substr(start, end - start);
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate.append("/").append(name);
    int e = Check(candidate);
    if (e == 0) return {candidate, 0};
    if (e == EACCES) best = EACCES;
    start = end + 1;
  }
  return {"", best};
}

}  // namespace cli
