// Writing what tracejail produces (results, reports, drafts) so that a failure is never silent:
// every byte written, flushed and synced, or an error that says what failed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace report {

// Writes `text` to `path`, replacing it (created with `mode`; a regular file that exists is
// given `mode` too), or to stdout when `path` is empty. nullopt on success, else what failed
// ("cannot write FILE: No space left on device").
std::optional<std::string> WriteOutput(const std::string& path, std::string_view text,
                                       mode_t mode = 0600);

}  // namespace report
