// Loads a policy from JSON text or a file, validating every key. Errors throw PolicyError with a
// location (file:line:column for syntax, file#/json/pointer for meaning) and what to do about it.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "policy/policy.h"

namespace policy {

class PolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Values substituted for ${NAME} in paths. Unknown variables are errors.
using Variables = std::map<std::string, std::string, std::less<>>;

// Variables taken from this process: CWD (getcwd), WORKDIR (= CWD until the run has a private
// work dir), HOME and TMPDIR (environment, /tmp default), COMMAND (the resolved command; a
// placeholder outside `run`).
Variables DefaultVariables();

inline constexpr std::size_t kMaxPolicyBytes = 4 * 1024 * 1024;

Policy LoadPolicyText(std::string_view text, std::string_view origin, const Variables& vars);
Policy LoadPolicyFile(const std::string& path, const Variables& vars);

// The built-in policy used when neither --policy nor --level is given: the "standard" preset.
std::string_view DefaultPolicyText();
Policy LoadDefaultPolicy(const Variables& vars);

// A preset by name (none, basic, standard, strict, maximum); nullopt for an unknown name.
std::optional<Policy> LoadPreset(std::string_view name, const Variables& vars);

// A preset name or a path to a policy file.
Policy LoadPolicySpec(const std::string& spec, const Variables& vars);

}  // namespace policy
