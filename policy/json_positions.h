// Line and column of every value in a JSON document, by JSON pointer ("/files/rules/3/action"),
// and of every object key under "key:" + the pointer of its value ("key:/files/rules/3/acess"),
// so that policy errors found after parsing can still say file:line:column. Call only on text
// that nlohmann::json already parsed (it assumes well-formed JSON and bounded depth).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace policy {

struct TextPosition {
  int line = 0;  // 1-based
  int column = 0;
};

using PositionMap = std::unordered_map<std::string, TextPosition>;

PositionMap IndexPositions(std::string_view text);

// Edit distance, for "did you mean" suggestions.
std::size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace policy
