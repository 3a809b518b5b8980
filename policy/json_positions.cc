#include "policy/json_positions.h"

#include <algorithm>
#include <vector>

namespace policy {
namespace {

class Indexer {
 public:
  explicit Indexer(std::string_view text) : s_(text) {}

  PositionMap Run() {
    SkipSpace();
    Value("");
    return std::move(map_);
  }

 private:
  void Advance() {
    if (i_ >= s_.size()) return;
    if (s_[i_] == '\n') {
      ++line_;
      col_ = 1;
    } else if ((static_cast<unsigned char>(s_[i_]) & 0xc0) != 0x80) {
      ++col_;  // count characters, not UTF-8 continuation bytes
    }
    ++i_;
  }
  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      Advance();
    }
  }
  std::string String() {
    std::string out;
    Advance();  // opening quote
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
        Advance();
        char e = s_[i_];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;  // keys with \u escapes are rare here
        Advance();
        continue;
      }
      out += s_[i_];
      Advance();
    }
    Advance();  // closing quote
    return out;
  }
  void Value(const std::string& pointer) {
    map_[pointer] = {line_, col_};
    if (i_ >= s_.size()) return;
    char c = s_[i_];
    if (c == '{') {
      Advance();
      SkipSpace();
      while (i_ < s_.size() && s_[i_] != '}') {
        TextPosition key_pos{line_, col_};
        std::string key = String();
        map_["key:" + pointer + "/" + key] = key_pos;
        SkipSpace();
        Advance();  // ':'
        SkipSpace();
        Value(pointer + "/" + key);
        SkipSpace();
        if (i_ < s_.size() && s_[i_] == ',') {
          Advance();
          SkipSpace();
        }
      }
      Advance();
    } else if (c == '[') {
      Advance();
      SkipSpace();
      std::size_t index = 0;
      while (i_ < s_.size() && s_[i_] != ']') {
        Value(pointer + "/" + std::to_string(index++));
        SkipSpace();
        if (i_ < s_.size() && s_[i_] == ',') {
          Advance();
          SkipSpace();
        }
      }
      Advance();
    } else if (c == '"') {
      String();
    } else {
      while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' &&
             s_[i_] != '\n' && s_[i_] != '\t' && s_[i_] != '\r') {
        Advance();
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  int line_ = 1;
  int col_ = 1;
  PositionMap map_;
};

}  // namespace

PositionMap IndexPositions(std::string_view text) { return Indexer(text).Run(); }

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace policy
