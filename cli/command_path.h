// Finds the program to run the way execvp would, before anything is forked, so a missing or
// non-executable command is a clear error rather than a traced failure.
#pragma once

#include <string>

namespace cli {

struct CommandLookup {
  std::string path;  // empty when not found
  int error = 0;     // ENOENT: not found; EACCES: found but not executable
};

CommandLookup FindCommand(const std::string& name, const std::string& search_path);

}  // namespace cli
