// What every subcommand shares: how an error is said, and how a secret file is read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cli {

void Error(const std::string& msg);  // "tracejail: msg" on stderr

// The name in `names` nearest to `got` (at most two edits, and fewer than the name's length),
// for "did you mean" hints; empty when none is that close.
std::string Nearest(std::string_view got, const std::vector<std::string>& names);

// `unknown level "stict": did you mean strict? (levels: none, basic, ...)`, for --level and
// `policy show`; both exit kExitUsage (120): a bad word on the command line.
std::string UnknownLevel(std::string_view level);

// The key of a keyed events chain (--events-key, verify --key) or a stream token: a regular file
// of 1 to 4096 bytes that only its owner can read. nullopt with `why` otherwise.
std::optional<std::string> ReadKeyFile(const std::string& path, std::string& why);

}  // namespace cli
