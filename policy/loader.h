// Loads a policy from JSON text or a file, validating every key. Errors throw PolicyError with a
// location (file:line:column for syntax, file#/json/pointer for meaning) and what to do about it.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"

namespace policy {

// Why a policy was refused. A document with several errors is refused once with all of them
// (errors(), in document order); what() is them joined by newlines.
class PolicyError : public std::runtime_error {
 public:
  explicit PolicyError(const std::string& message)
      : std::runtime_error(message), errors_{message} {}
  explicit PolicyError(std::vector<std::string> errors)
      : std::runtime_error(Join(errors)), errors_(std::move(errors)) {}
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  static std::string Join(const std::vector<std::string>& lines) {
    std::string out;
    for (const std::string& line : lines) out += (out.empty() ? "" : "\n") + line;
    return out;
  }
  std::vector<std::string> errors_;
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
