// Which argument of an interpreter's command line names the script it runs: "python3 -u x.py a"
// -> "x.py", "sh -e run.sh" -> "run.sh", "perl -I lib t.pl" -> "t.pl"; none for "python3 -c
// CODE", "sh -c CMD", "node -e CODE" or an interpreter reading its standard input. The tracer
// hashes that file beside the executed image (docs/forensics.md, "What ran"). Pure: from the
// executable's name and argv alone, with one table row per interpreter family.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace report {

// The index into `argv` of the script `exe` (a path or a name) runs, or nullopt when `exe` is no
// interpreter the table knows, or its options say the program comes from elsewhere.
std::optional<std::size_t> ScriptArgument(std::string_view exe,
                                          const std::vector<std::string>& argv);

}  // namespace report
