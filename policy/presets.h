// The isolation-level presets: none, basic, standard, strict, maximum. Each is a complete
// policy document in the ordinary format (`tracejail policy show LEVEL` prints it), so users
// can read, diff and extend them.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace policy {

struct Preset {
  std::string_view name;
  std::string_view summary;
  std::string_view text;
};

std::span<const Preset> Presets();
std::optional<std::string_view> PresetText(std::string_view name);

inline constexpr std::string_view kDefaultPreset = "standard";

}  // namespace policy
