// Writing a large JSON document piece by piece, as dump(2) would print it, so that a report
// with a hundred thousand entries is never a whole nlohmann::json tree in memory (about twenty
// times the size of its text). Values are dumped one at a time; strings that are not UTF-8 are
// replaced (U+FFFD), never thrown on.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/output_file.h"

namespace report {

class JsonText {
 public:
  // Appends to `out`; every line after the first is indented by `depth` levels (to nest the
  // document inside another one).
  // `spill` (report/output_file.h) is offered the text after each value.
  explicit JsonText(std::string& out, int depth = 0, Spill spill = {})
      : out_(out), depth_(depth), spill_(std::move(spill)) {}

  // Starts an object ('{') or array ('['), as the member `key` when inside an object.
  void Open(char bracket, std::string_view key = {});
  void Close();
  // One member (inside an object, with its key) or element (inside an array, key empty).
  void Value(const nlohmann::json& value, std::string_view key = {});

 private:
  void Next(std::string_view key);
  void Newline(std::size_t levels);

  std::string& out_;
  int depth_;
  Spill spill_;
  struct Level {
    char close;
    bool empty;
  };
  std::vector<Level> stack_;
};

// value.dump(2) without throwing on bytes that are not UTF-8.
std::string DumpJson(const nlohmann::json& value, int indent = 2);

}  // namespace report
