// Conversion between tracejail policies and the Docker/OCI seccomp profile format
// (defaultAction, defaultErrnoRet, architectures, syscalls[].names/action/errnoRet/args).
// What has no OCI form (path and network rules, tree-relative checks) is reported in `notes`,
// never dropped silently. docs/policy.md lists what round-trips.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"

namespace policy {

struct Conversion {
  nlohmann::json document;
  std::vector<std::string> notes;  // what could not be carried over, one line each
};

// OCI profile text -> tracejail policy document (extends "basic": files and network open,
// escape primitives denied). Throws PolicyError on malformed profiles.
Conversion ImportOci(std::string_view text, std::string_view origin);

// tracejail policy -> OCI profile.
Conversion ExportOci(const Policy& policy);

}  // namespace policy
