#include "report/json_text.h"

namespace report {

std::string DumpJson(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void JsonText::Newline(std::size_t levels) {
  out_ += '\n';
  out_.append((static_cast<std::size_t>(depth_) + levels) * 2, ' ');
}

void JsonText::Next(std::string_view key) {
  if (stack_.empty()) return;
  Level& top = stack_.back();
  if (!top.empty) out_ += ',';
  top.empty = false;
  Newline(stack_.size());
  if (top.close == '}') out_ += DumpJson(nlohmann::json(std::string(key)), -1) + ": ";
}

void JsonText::Open(char bracket, std::string_view key) {
  Next(key);
  out_ += bracket;
  stack_.push_back({bracket == '{' ? '}' : ']', true});
}

void JsonText::Close() {
  Level top = stack_.back();
  stack_.pop_back();
  if (!top.empty) Newline(stack_.size());
  out_ += top.close;
}

void JsonText::Value(const nlohmann::json& value, std::string_view key) {
  Next(key);
  std::string text = DumpJson(value);
  // A dumped value has no raw line break inside a string (JSON escapes them), so every '\n' is
  // a line of the layout, indented to where the value sits.
  const std::string indent((static_cast<std::size_t>(depth_) + stack_.size()) * 2, ' ');
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out_.append(text, start, nl + 1 - start);
    out_ += indent;
    start = nl + 1;
  }
  out_.append(text, start);
  MaybeSpill(out_, spill_);
}

}  // namespace report
