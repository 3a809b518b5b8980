#include "report/learn.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <regex>
#include <string_view>

#include <fmt/format.h>

#include "base/escape.h"
#include "policy/glob.h"
#include "report/event_reader.h"

namespace report {
namespace {

using json = nlohmann::json;
using policy::EscapeGlob;
using policy::HasWildcard;
using policy::UnescapeGlob;
using policy::Variables;

// Prefixes that tools put before a random part: tempfile, autoconf, gcc, pip, multiprocessing.
constexpr std::array<std::string_view, 9> kTempPrefixes{
    "tmp", "tmp_", "tmp-", "conf", "cc", "pip-", "pymp-", "tracejail-", "systemd-private-"};

bool AllDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

struct Classes {
  int digits = 0;
  bool upper = false, lower = false, other = false;
};

Classes Count(std::string_view s) {
  Classes c;
  for (unsigned char ch : s) {
    if (std::isdigit(ch)) {
      ++c.digits;
    } else if (std::isupper(ch)) {
      c.upper = true;
    } else if (std::islower(ch)) {
      c.lower = true;
    } else if (ch != '_' && ch != '-') {
      c.other = true;
    }
  }
  return c;
}

// The tail tempfile, mkstemp and friends generate: 6 or more characters of [A-Za-z0-9_-] with
// at least two digits, or with both cases ("k3j2x9", "J31A69", "5XkT8e"). "1plus" is not one.
bool RandomLooking(std::string_view s) {
  Classes c = Count(s);
  return s.size() >= 6 && !c.other && (c.digits >= 2 || (c.upper && c.lower));
}

// The pattern learnt for one name seen in a path: the name escaped, or a glob where it looks
// temporary (only the random part becomes "*"; the rest stays escaped). `parent`: the pattern up
// to this component ("/proc" for "/proc/1234").
std::string GlobComponent(const std::string& parent, const std::string& c) {
  // A pid under /proc, or a long counter; short numbers are versions ("gcc/12", "python3.11").
  if (AllDigits(c) && (parent == "/proc" || c.size() >= 4)) return "*";
  std::size_t dot = c.find('.', 1);
  std::string base = dot == std::string::npos ? c : c.substr(0, dot);
  std::string ext = dot == std::string::npos ? "" : c.substr(dot);
  bool counter_ext = ext.size() >= 5 && AllDigits(std::string_view(ext).substr(1));  // app.12345
  std::string ext_pattern = counter_ext ? ".*" : EscapeGlob(ext);
  for (std::string_view prefix : kTempPrefixes) {
    if (base.size() > prefix.size() && base.starts_with(prefix) &&
        RandomLooking(std::string_view(base).substr(prefix.size()))) {
      return EscapeGlob(prefix) + "*" + ext_pattern;
    }
  }
  // No known prefix: only a name random from end to end: 8 or more characters, both cases and
  // at least two digits ("aB3dE9xQ"), which library names ("libQt5Core") are not.
  Classes k = Count(base);
  if (base.size() >= 8 && !k.other && k.upper && k.lower && k.digits >= 2) return "*" + ext_pattern;
  return EscapeGlob(base) + ext_pattern;
}

// One component of a learnt pattern: a variable ("${HOME}") or a wildcard stays as it is; a name
// may become a glob.
std::string GlobPatternComponent(const std::string& parent, const std::string& component) {
  if (component.starts_with("${")) return component;
  auto name = UnescapeGlob(component);
  return name ? GlobComponent(parent, *name) : component;
}

// The pattern of exactly `path` (a name as seen, not a pattern), with the longest variable whose
// value prefixes it written as that variable: "${HOME}/a\*b" for "/home/u/a*b". The variable is
// left unescaped (the loader expands it, escaping its value); the rest of the path is escaped.
std::string Substitute(const std::string& path, const Variables& vars) {
  std::vector<std::pair<std::string, std::string>> order;
  for (const char* name : {"WORKDIR", "TMPDIR", "HOME", "CWD"}) {
    auto it = vars.find(name);
    if (it != vars.end() && it->second.size() > 1) order.emplace_back(name, it->second);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  for (const auto& [name, value] : order) {
    if (path == value || path.starts_with(value + "/")) {
      return "${" + name + "}" + EscapeGlob(std::string_view(path).substr(value.size()));
    }
  }
  return EscapeGlob(path);
}

std::string Example(const Event& event) {
  return event.exe.empty() ? event.message : event.message + " by " + event.exe;
}

std::string Parent(const std::string& p) {
  std::size_t slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

// "needed 12 time(s) in 2 of 3 run(s)"
std::pair<std::uint64_t, int> ParseNotes(const std::string& notes) {
  static const std::regex re(R"(needed (\d+) time\(s\) in (\d+) of)");
  std::smatch m;
  if (std::regex_search(notes, m, re)) {
    return {std::stoull(m[1]), std::stoi(m[2])};
  }
  return {1, 1};
}

std::string Notes(std::uint64_t count, std::size_t runs, int total, const std::string& example) {
  return fmt::format("needed {} time(s) in {} of {} run(s); e.g. {}", count, runs, total,
                     example.substr(0, 300));
}

}  // namespace

std::string GlobTemporaryName(const std::string& pattern) {
  std::string out;
  std::size_t i = 0;
  // Every "/" of a pattern separates components: a name cannot hold one, and "\/" is no escape.
  while (i < pattern.size()) {
    std::size_t j = pattern.find('/', i);
    if (j == std::string::npos) j = pattern.size();
    std::string comp = pattern.substr(i, j - i);
    std::string parent = pattern.substr(0, i > 0 ? i - 1 : 0);
    out += GlobPatternComponent(parent, comp);
    if (j < pattern.size()) out += "/";
    i = j + 1;
  }
  return pattern.starts_with("/") && !out.starts_with("/") ? "/" + out : out;
}

void Learner::AddFile(const std::string& pattern, const std::string& access, std::uint64_t count,
                      int run, const std::string& example) {
  Seen& s = files_[pattern][access];
  s.count += count;
  s.runs.insert(run);
  if (s.example.empty()) s.example = example;
}

void Learner::AddNet(const json& rule, std::uint64_t count, int run, const std::string& example) {
  json key = rule;
  key.erase("notes");
  key.erase("id");
  Seen& s = net_[key.dump()];
  s.count += count;
  s.runs.insert(run);
  if (s.example.empty()) s.example = example;
}

void Learner::AddRun(const std::vector<json>& events, const Variables& run_vars) {
  BeginRun(run_vars);
  for (const auto& record : events) {
    std::string why;
    std::optional<Record> r = ToRecord(record, why);
    if (const Event* e = r ? AsEvent(*r) : nullptr) Add(*e);
  }
}

void Learner::BeginRun(const Variables& run_vars) {
  run_ = runs_++;
  run_vars_ = run_vars;
}

namespace {

// Calls the kernel fails with EEXIST when the name they make exists, whatever the policy.
constexpr std::string_view kFailOnExisting[] = {
    "mkdir", "mkdirat", "mknod", "mknodat", "symlink", "symlinkat", "link", "linkat", "bind"};

// Whether `e` made the name `path` and the tracer saw that it existed before the call, which
// then failed with EEXIST (`mkdir -p` on an existing directory): a "create" rule for it is not
// needed, and would allow creating anything of that name. Decided from what the tracer saw when
// the call was made ("exists" of the path argument), not from the file system after the run,
// when the program's own mkdir has made every name exist.
bool ExistedBefore(const Event& e, const std::string& path) {
  if (!e.syscall || std::find(std::begin(kFailOnExisting), std::end(kFailOnExisting),
                              e.syscall->name) == std::end(kFailOnExisting)) {
    return false;
  }
  if (!e.args.is_object()) return false;
  for (const auto& [name, value] : e.args.items()) {
    std::optional<PathArg> arg = AsPathArg(value);
    // The tip's path and the argument's are the same name; whether the tip's went through
    // EscapeBytes depends on who wrote it, so both spellings match.
    if (arg && arg->exists.value_or(false) && arg->access.find("create") != std::string::npos &&
        (arg->resolved == path || arg->resolved == base::EscapeBytes(path))) {
      return true;
    }
  }
  return false;
}

}  // namespace

void Learner::Add(const Event& e) {
  if (run_ < 0 || !e.tip.is_object()) return;
  if (Effective(e) == policy::Action::kAllow) return;  // only what the base refused
  const int run = run_;
  const Tip tip = TipOf(e);
  const std::string example = Example(e);
  for (const TipFileRule& r : tip.files) {
    // A tip names its path as the pattern of exactly that path (EscapeGlob). One that is not
    // such a pattern is not learnt: what it would allow cannot be told, and a rule missing
    // from a draft shows up as a denial, where a rule too wide would not show up at all.
    auto path = UnescapeGlob(r.path);
    if (!path) continue;
    std::string pattern = GlobTemporaryName(Substitute(*path, run_vars_));
    for (const std::string& kind : r.access) {
      if (kind == "create" && ExistedBefore(e, *path)) continue;
      AddFile(pattern, kind, 1, run, example);
    }
  }
  for (const json& r : tip.network_rules) AddNet(r, 1, run, example);
  for (const std::string& f : tip.families) families_.insert(f);
  for (const std::string& name : tip.syscalls) {
    Seen& seen = syscalls_[name];
    ++seen.count;
    seen.runs.insert(run);
    if (seen.example.empty()) seen.example = example;
  }
  for (const std::string& name : tip.escapes) {
    std::string note = name + ": " + example;
    if (std::find(escape_notes_.begin(), escape_notes_.end(), note) == escape_notes_.end()) {
      escape_notes_.push_back(note);
    }
  }
}

void Learner::AddDraft(const json& draft) {
  static const std::regex runs_re(R"(from (\d+) run)");
  std::smatch m;
  std::string desc = draft.value("description", "");
  int n = std::regex_search(desc, m, runs_re) ? std::stoi(m[1]) : 1;
  // Escape attempts listed for review stay listed.
  std::size_t listed = desc.find("NOT allowed here:");
  if (listed != std::string::npos) {
    static const std::regex item_re(R"(\[([^\]]*)\])");
    std::string rest = desc.substr(listed);
    for (std::sregex_iterator it(rest.begin(), rest.end(), item_re), end; it != end; ++it) {
      std::string note = (*it)[1];
      if (std::find(escape_notes_.begin(), escape_notes_.end(), note) == escape_notes_.end()) {
        escape_notes_.push_back(note);
      }
    }
  }
  int first = runs_;
  runs_ += n;
  auto runs_of = [&](int k) {
    std::vector<int> r;
    for (int i = 0; i < std::min(k, n); ++i) r.push_back(first + i);
    return r;
  };
  if (draft.contains("files")) {
    for (const auto& r : draft["files"].value("rules", json::array())) {
      auto [count, in_runs] = ParseNotes(r.value("notes", ""));
      std::string notes = r.value("notes", "");
      std::string example =
          notes.find("e.g. ") != std::string::npos ? notes.substr(notes.find("e.g. ") + 5) : "";
      // The count belongs to the rule, not to each of its kinds: it goes to the first kind.
      bool first_kind = true;
      for (const auto& a : r.value("access", json::array())) {
        for (int run : runs_of(in_runs)) {
          AddFile(r.value("path", ""), a.get<std::string>(), run == first && first_kind ? count : 0,
                  run, example);
        }
        first_kind = false;
      }
    }
  }
  if (draft.contains("syscalls")) {
    for (const auto& r : draft["syscalls"].value("rules", json::array())) {
      auto [count, in_runs] = ParseNotes(r.value("notes", ""));
      for (const auto& name : r.value("names", json::array())) {
        Seen& seen = syscalls_[name.get<std::string>()];
        seen.count += count;
        for (int run : runs_of(in_runs)) seen.runs.insert(run);
      }
    }
  }
  if (draft.contains("network")) {
    for (const auto& r : draft["network"].value("rules", json::array())) {
      auto [count, in_runs] = ParseNotes(r.value("notes", ""));
      for (int run : runs_of(in_runs)) AddNet(r, run == first ? count : 0, run, "");
    }
    for (const auto& f : draft["network"].value("families", json::array())) {
      families_.insert(f.get<std::string>());
    }
  }
}

json Learner::Draft(const LearnOptions& o) const {
  // Reads: many names in one directory become "dir/**". Patterns are escaped, so the directory
  // part of one is already a pattern of exactly that directory ("/" is never escaped) and "/**"
  // goes after it as the only wildcard.
  std::map<std::string, std::map<std::string, Seen>> files = files_;
  std::map<std::string, std::vector<std::string>> reads_by_dir;
  for (const auto& [pattern, kinds] : files) {
    if (kinds.contains("read") && !HasWildcard(pattern)) {
      reads_by_dir[Parent(pattern)].push_back(pattern);
    }
  }
  for (const auto& [dir, names] : reads_by_dir) {
    if (names.size() < o.read_dir_threshold || dir == "/") continue;
    Seen merged;
    for (const auto& name : names) {
      const Seen& s = files[name]["read"];
      merged.count += s.count;
      merged.runs.insert(s.runs.begin(), s.runs.end());
      if (merged.example.empty()) merged.example = s.example;
      files[name].erase("read");
      if (files[name].empty()) files.erase(name);
    }
    Seen& into = files[dir + "/**"]["read"];
    into.count += merged.count;
    into.runs.insert(merged.runs.begin(), merged.runs.end());
    if (into.example.empty()) into.example = merged.example;
  }

  json rules = json::array();
  for (const auto& [pattern, kinds] : files) {
    json access = json::array();
    Seen total;
    for (const auto& [kind, s] : kinds) {
      access.push_back(kind);
      total.count += s.count;
      total.runs.insert(s.runs.begin(), s.runs.end());
      if (total.example.empty()) total.example = s.example;
    }
    rules.push_back({{"id", "learnt"},
                     {"path", pattern},
                     {"access", access},
                     {"action", "allow"},
                     {"notes", Notes(total.count, total.runs.size(), runs_, total.example)}});
  }
  json net_rules = json::array();
  for (const auto& [key, s] : net_) {
    json r = json::parse(key);
    r["id"] = "learnt";
    r["notes"] = Notes(s.count, s.runs.size(), runs_, s.example);
    net_rules.push_back(r);
  }

  json syscall_rules = json::array();
  for (const auto& [name, s] : syscalls_) {
    syscall_rules.push_back({{"id", "learnt"},
                             {"names", {name}},
                             {"action", "allow"},
                             {"notes", Notes(s.count, s.runs.size(), runs_, s.example)}});
  }
  std::string command = o.command.substr(0, 200);
  std::string desc = fmt::format(
      "DRAFT learnt by tracejail from {} run(s) of `{}`{}. It extends {} with what those runs "
      "needed and nothing else; review every rule before relying on it.",
      runs_, command, o.date.empty() ? "" : " on " + o.date, o.base);
  if (!escape_notes_.empty()) {
    desc += fmt::format(" {} escape attempt(s) were seen and are NOT allowed here:",
                        escape_notes_.size());
    for (const auto& n : escape_notes_) desc += " [" + n.substr(0, 200) + "]";
  }
  json draft = {
      {"version", 1}, {"name", "learnt draft"}, {"description", desc}, {"extends", o.base}};
  if (!rules.empty()) draft["files"] = {{"rules", rules}};
  if (!syscall_rules.empty()) draft["syscalls"] = {{"rules", syscall_rules}};
  if (!net_rules.empty() && o.namespaces_without_net) {
    draft["description"] =
        desc + fmt::format(
                   " It leaves out the network namespace of {}: in it, every connection "
                   "fails, whatever the network rules allow.",
                   o.base);
    draft["isolation"] = {{"namespaces", *o.namespaces_without_net}};
  }
  if (!net_rules.empty() || !families_.empty()) {
    draft["network"] = json::object();
    if (!families_.empty()) draft["network"]["families"] = families_;
    if (!net_rules.empty()) draft["network"]["rules"] = net_rules;
  }
  return draft;
}

}  // namespace report
