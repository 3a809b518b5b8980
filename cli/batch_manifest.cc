#include "cli/batch_manifest.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/escape.h"
#include "policy/limits.h"

namespace cli {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLine = 16 * 1024 * 1024;  // a line holds inline code and files
constexpr std::size_t kMaxId = 128;
constexpr std::array<std::string_view, 4> kLangs{"python", "python3", "sh", "bash"};
constexpr std::array<std::string_view, 12> kKeys{"id",        "command", "lang",   "code",
                                                 "code_file", "level",   "policy", "mode",
                                                 "limits",    "files",   "env",    "comment"};

bool IdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

// Empty when `id` may name a directory of its own in the output; otherwise why not.
std::string IdProblem(const std::string& id) {
  if (id.empty()) return "the id is empty";
  if (id.size() > kMaxId) return fmt::format("the id is longer than {} characters", kMaxId);
  if (id.front() == '.' || id.front() == '-') return "the id may not start with '.' or '-'";
  if (!std::all_of(id.begin(), id.end(), IdChar)) {
    return "the id may hold only letters, digits, '.', '_' and '-'";
  }
  if (id.ends_with(".partial")) return "the id may not end in \".partial\" (batch's own)";
  return {};
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

std::string Quoted(std::string_view s) { return "\"" + base::EscapeBytes(std::string(s)) + "\""; }

// Fills `t` from one parsed line; throws std::invalid_argument saying what is wrong.
void FromJson(const json& j, const std::string& base_dir, BatchTask& t) {
  if (!j.is_object()) throw std::invalid_argument("a task is a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw std::invalid_argument(
          fmt::format("unknown key {} (keys: id, command, lang, code, "
                      "code_file, level, policy, mode, limits, files, env)",
                      Quoted(key)));
    }
  }
  auto text = [&](const char* key) -> std::string {
    if (!j.contains(key)) return {};
    if (!j[key].is_string())
      throw std::invalid_argument(fmt::format("\"{}\" must be a string", key));
    return j[key].get<std::string>();
  };
  if (j.contains("command")) {
    const json& c = j["command"];
    if (!c.is_array() || c.empty()) {
      throw std::invalid_argument("\"command\" must be a non-empty array of strings");
    }
    for (const auto& word : c) {
      if (!word.is_string()) throw std::invalid_argument("\"command\" holds a non-string");
      t.command.push_back(word.get<std::string>());
    }
    if (t.command.front().empty()) throw std::invalid_argument("the command's program is empty");
  }
  t.lang = text("lang");
  t.code = text("code");
  t.code_file = Resolve(base_dir, text("code_file"));
  if (!t.command.empty() && !t.lang.empty()) {
    throw std::invalid_argument("a task has \"command\" or \"lang\", not both");
  }
  if (t.command.empty() && t.lang.empty()) {
    throw std::invalid_argument("a task needs \"command\" (an argv) or \"lang\" with its code");
  }
  if (!t.lang.empty()) {
    if (std::find(kLangs.begin(), kLangs.end(), t.lang) == kLangs.end()) {
      throw std::invalid_argument(
          fmt::format("unknown lang {} (python, sh, bash)", Quoted(t.lang)));
    }
    if (j.contains("code") == j.contains("code_file")) {
      throw std::invalid_argument("a \"lang\" task needs \"code\" or \"code_file\", one of them");
    }
  } else if (j.contains("code") || j.contains("code_file")) {
    throw std::invalid_argument("\"code\" and \"code_file\" go with \"lang\", not \"command\"");
  }
  t.level = text("level");
  t.policy_file = Resolve(base_dir, text("policy"));
  if (!t.level.empty() && !t.policy_file.empty()) {
    throw std::invalid_argument("a task has \"level\" or \"policy\", not both");
  }
  t.mode = text("mode");
  if (!t.mode.empty() && t.mode != "enforce" && t.mode != "audit") {
    throw std::invalid_argument(fmt::format("unknown mode {} (enforce or audit)", Quoted(t.mode)));
  }
  if (j.contains("limits")) {
    const json& limits = j["limits"];
    if (!limits.is_object()) throw std::invalid_argument("\"limits\" must be an object");
    for (const auto& [key, value] : limits.items()) {
      std::optional<policy::LimitKind> kind = policy::LimitFromKey(key);
      if (!kind) {
        std::string names;
        for (const auto& info : policy::kLimitInfo) {
          names += (names.empty() ? "" : ", ") + std::string(info.key);
        }
        throw std::invalid_argument(
            fmt::format("unknown limit {} (limits: {})", Quoted(key), names));
      }
      const policy::LimitInfo& info = policy::InfoOf(*kind);
      policy::ParsedLimit parsed = policy::ParseLimitValue(info.unit, value);
      if (!parsed.error.empty()) {
        throw std::invalid_argument(fmt::format("limit {}: {}", key, parsed.error));
      }
      t.limits.emplace_back(
          key, parsed.value ? policy::FormatLimit(info.unit, *parsed.value) : std::string("off"));
    }
  }
  if (j.contains("files")) {
    const json& files = j["files"];
    if (!files.is_object()) throw std::invalid_argument("\"files\" must be an object");
    for (const auto& [name, value] : files.items()) {
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
          name.find('\0') != std::string::npos || name.find('=') != std::string::npos) {
        throw std::invalid_argument(fmt::format(
            "file name {}: one name in the work dir (no '/', '=', \".\" or \"..\")", Quoted(name)));
      }
      BatchFile f{name, {}, {}};
      if (value.is_string()) {
        f.content = value.get<std::string>();
      } else if (value.is_object() && value.size() == 1 && value.contains("path") &&
                 value["path"].is_string() && !value["path"].get<std::string>().empty()) {
        f.path = Resolve(base_dir, value["path"].get<std::string>());
      } else {
        throw std::invalid_argument(
            fmt::format("file {}: its content as a string, or {{\"path\": FILE}}", Quoted(name)));
      }
      t.files.push_back(std::move(f));
    }
  }
  if (j.contains("env")) {
    const json& env = j["env"];
    if (!env.is_object()) throw std::invalid_argument("\"env\" must be an object");
    for (const auto& [name, value] : env.items()) {
      if (name.empty() || name.find('=') != std::string::npos || !value.is_string()) {
        throw std::invalid_argument(
            fmt::format("env {}: a NAME without '=' and a string value", Quoted(name)));
      }
      t.env.emplace_back(name, value.get<std::string>());
    }
  }
}

}  // namespace

std::vector<BatchTask> ParseManifest(std::istream& in, const std::string& base_dir) {
  std::vector<BatchTask> tasks;
  std::map<std::string, std::size_t> seen;  // id -> line
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (std::all_of(line.begin(), line.end(),
                    [](unsigned char c) { return std::isspace(c) != 0; })) {
      continue;
    }
    BatchTask t;
    t.index = tasks.size();
    t.line = number;
    try {
      if (line.size() > kMaxLine) {
        throw std::invalid_argument(fmt::format("the line is longer than {} MiB", kMaxLine >> 20));
      }
      json j = json::parse(line);
      if (j.is_object() && j.contains("id") && j["id"].is_string()) {
        std::string id = j["id"].get<std::string>();
        if (std::string why = IdProblem(id); !why.empty()) {
          throw std::invalid_argument(fmt::format("id {}: {}", Quoted(id), why));
        }
        t.id = id;
        if (auto [at, fresh] = seen.emplace(id, number); !fresh) {
          t.id.clear();
          throw std::invalid_argument(
              fmt::format("id {} is already the task on line {}", Quoted(id), at->second));
        }
      } else if (!j.is_object() || !j.contains("id")) {
        throw std::invalid_argument("a task needs an \"id\"");
      } else {
        throw std::invalid_argument("\"id\" must be a string");
      }
      FromJson(j, base_dir, t);
    } catch (const json::exception& e) {
      t.error = fmt::format("not JSON: {}", e.what());
    } catch (const std::invalid_argument& e) {
      t.error = e.what();
    }
    if (!t.error.empty()) t.id.clear();
    tasks.push_back(std::move(t));
  }
  if (in.bad()) throw std::runtime_error("the manifest could not be read to its end");
  // A bad line is named by its line, so that it has a place in the summary; never the name of
  // a task (which may come later in the file).
  for (auto& t : tasks) {
    if (!t.error.empty()) {
      t.id = fmt::format("line-{}", t.line);
      while (!seen.emplace(t.id, t.line).second) t.id += "_";
    }
  }
  return tasks;
}

std::optional<Shard> ParseShard(const std::string& text, std::string& error) {
  auto slash = text.find('/');
  auto number = [](std::string_view s) -> std::optional<std::size_t> {
    if (s.empty() || s.size() > 6 ||
        !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return std::nullopt;
    }
    return std::stoul(std::string(s));
  };
  if (slash != std::string::npos) {
    auto k = number(std::string_view(text).substr(0, slash));
    auto n = number(std::string_view(text).substr(slash + 1));
    if (k && n && *n >= 1 && *n <= 100000 && *k < *n) return Shard{*k, *n};
  }
  error = fmt::format(
      "--shard {}: expected K/N with 0 <= K < N <= 100000 (K counts from 0, as "
      "SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX do)",
      Quoted(text));
  return std::nullopt;
}

std::string SourceName(const std::string& lang) {
  return lang == "python" || lang == "python3" ? "source.py" : "source.sh";
}

std::vector<std::string> TaskArgv(const BatchTask& task, const std::string& self,
                                  const std::string& dir, const std::string& source) {
  std::vector<std::string> argv{self, task.lang.empty() ? "run" : "exec"};
  if (!task.lang.empty()) argv.insert(argv.end(), {"--lang", task.lang});
  argv.insert(argv.end(), {"-q", "--no-summary", "--hide-output", "--events", dir + "/events.jsonl",
                           "--result", dir + "/result.json"});
  if (!task.level.empty()) argv.insert(argv.end(), {"--level", task.level});
  if (!task.policy_file.empty()) argv.insert(argv.end(), {"--policy", task.policy_file});
  if (!task.mode.empty()) argv.insert(argv.end(), {"--mode", task.mode});
  for (const auto& [key, value] : task.limits) {
    std::string flag = "--" + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    argv.insert(argv.end(), {flag, value});
  }
  for (const auto& f : task.files) argv.insert(argv.end(), {"--file", f.name + "=" + f.path});
  for (const auto& [name, value] : task.env) {
    argv.insert(argv.end(), {"--env", name + "=" + value});
  }
  if (task.lang.empty()) {
    argv.emplace_back("--");
    argv.insert(argv.end(), task.command.begin(), task.command.end());
  } else {
    argv.push_back(source);
  }
  return argv;
}

}  // namespace cli
