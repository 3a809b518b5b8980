#include "cli/escape_suite.h"

#include <algorithm>
#include <sstream>

namespace cli {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The text of a comment line: "/* x", " * x", "# x" -> "x"; nullopt when the block has ended.
std::optional<std::string_view> CommentText(std::string_view line, bool python) {
  line = Trim(line);
  if (python) {
    if (!line.starts_with('#')) return std::nullopt;
    if (line.starts_with("#!")) return std::string_view{};
    line.remove_prefix(1);
    return Trim(line);
  }
  if (line.starts_with("*/")) return std::nullopt;
  if (line.starts_with("/*")) {
    line.remove_prefix(2);
  } else if (line.starts_with('*')) {
    line.remove_prefix(1);
  } else {
    return std::nullopt;
  }
  bool ends = line.ends_with("*/");
  if (ends) line.remove_suffix(2);
  return Trim(line);
}

// Bytes as text: printable ASCII as is, the rest as \n, \t or \xNN.
std::string Printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u >= 0x7f || c == '\\' || c == '"') {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int LevelRank(std::string_view level) {
  for (std::size_t i = 0; i < kSelftestLevels.size(); ++i) {
    if (kSelftestLevels[i] == level) return static_cast<int>(i);
  }
  return -1;
}

bool CoveredAt(std::string_view covered, std::string_view level) {
  int c = LevelRank(covered);
  return c >= 0 && LevelRank(level) >= c;
}

std::optional<EscapeSample> ParseEscapeHeader(std::string_view source, std::string& error) {
  bool python = source.starts_with("#");
  std::istringstream in{std::string(source)};
  EscapeSample s;
  bool found = false;
  std::string* paragraph = nullptr;
  std::string needs;
  for (std::string raw; std::getline(in, raw);) {
    auto text = CommentText(raw, python);
    if (!text) {
      if (found) break;
      continue;
    }
    if (!found) {
      found = *text == "tracejail-escape";
      continue;
    }
    // Labelled fields; Technique and Defence are paragraphs that continue on later lines.
    const std::pair<std::string_view, std::string*> fields[] = {
        {"id:", &s.id},           {"class:", &s.klass}, {"title:", &s.title},
        {"covered:", &s.covered}, {"needs:", &needs},   {"Technique:", &s.technique},
        {"Defence:", &s.defence}};
    bool matched = false;
    for (const auto& [key, target] : fields) {
      if (!text->starts_with(key)) continue;
      *target = std::string(Trim(text->substr(key.size())));
      paragraph = key == "Technique:" || key == "Defence:" ? target : nullptr;
      matched = true;
      break;
    }
    if (matched) continue;
    if (text->empty()) {
      paragraph = nullptr;
    } else if (paragraph != nullptr) {
      *paragraph += " " + std::string(*text);
    }
  }
  if (!found) return std::nullopt;
  std::istringstream words(needs);
  for (std::string w; words >> w;) {
    if (w != "nothing") s.needs.push_back(w);
  }
  for (const auto& [value, name] :
       {std::pair{&s.id, "id"}, std::pair{&s.title, "title"}, std::pair{&s.technique, "Technique"},
        std::pair{&s.defence, "Defence"}}) {
    if (value->empty()) {
      error = std::string("the tracejail-escape header has no ") + name;
      return std::nullopt;
    }
  }
  if (LevelRank(s.covered) < 0) {
    error = "covered: must be basic, standard, strict or maximum, not " + s.covered;
    return std::nullopt;
  }
  return s;
}

SampleVerdict JudgeSample(std::string_view output, const Oracles& oracles) {
  SampleVerdict v;
  std::size_t end = output.find_last_not_of("\r\n ");
  if (end != std::string_view::npos) {
    std::size_t start = output.rfind('\n', end);
    v.final_line =
        std::string(output.substr(start == std::string_view::npos ? 0 : start + 1,
                                  end + 1 - (start == std::string_view::npos ? 0 : start + 1)));
  }
  bool escaped_line = v.final_line.starts_with("ESCAPED");
  v.error = !escaped_line && !v.final_line.starts_with("BLOCKED");
  std::vector<std::string> why;
  if (escaped_line) why.emplace_back("the sample says so");
  auto shows = [&](std::string_view what) {
    return !what.empty() && output.find(what) != std::string_view::npos;
  };
  if (shows(oracles.secret_token)) why.emplace_back("the secret's token is in its output");
  if (shows(oracles.outside_token)) {
    why.emplace_back("the outside process's token is in its output");
  }
  if (shows(oracles.forbidden_marker)) why.emplace_back("the forbidden program ran");
  if (oracles.listener_hits > 0) {
    why.push_back("the denied listener was reached " + std::to_string(oracles.listener_hits) +
                  " time(s)");
  }
  if (!oracles.injected.empty()) {
    why.push_back(std::to_string(oracles.injected.size()) +
                  " byte(s) pushed into the terminal's input (\"" +
                  Printable(oracles.injected.substr(0, 32)) + "\")");
  }
  v.escaped = !why.empty();
  for (std::size_t i = 0; i < why.size(); ++i) v.why += (i ? "; " : "") + why[i];
  return v;
}

}  // namespace cli
