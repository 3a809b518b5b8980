#include "report/run_diff.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "base/escape.h"
#include "report/artifacts.h"
#include "report/explain.h"

namespace report {
namespace {

std::string BaseName(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The endpoint a decoded address names, as the report's endpoints list spells it.
std::string EndpointOf(const AddressArg& a) {
  if (a.address) return fmt::format("{}:{}", *a.address, a.port.value_or(0));
  if (a.path) return "unix:" + *a.path;
  if (a.abstract) return "unix:@" + *a.abstract;
  return a.family.value_or("");
}

// What a call named: its paths ("/etc/shadow (read)") and addresses, space-separated; the
// syscall's name alone when it named neither.
std::string TargetOf(const Event& e) {
  std::string out;
  if (e.args.is_object()) {
    for (const auto& [key, value] : e.args.items()) {
      if (std::optional<PathArg> p = AsPathArg(value); p && (p->resolved || p->raw)) {
        out += fmt::format("{}{} ({})", out.empty() ? "" : " ", p->resolved.value_or(*p->raw),
                           p->access);
      } else if (std::optional<AddressArg> a = AsAddressArg(value)) {
        out += (out.empty() ? "" : " ") + EndpointOf(*a);
      }
    }
  }
  return out;
}

std::vector<std::string> Minus(const std::set<std::string>& x, const std::set<std::string>& y) {
  std::vector<std::string> out;
  std::set_difference(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(out));
  return out;
}

}  // namespace

void RunProfiler::Add(const Record& record) {
  const Event* ep = AsEvent(record);
  if (ep == nullptr) return;
  const Event& e = *ep;
  using policy::EventType;
  if (e.type == EventType::kProcessStart) {
    const LifecycleArgs a = LifecycleArgsOf(e);
    if (a.thread) return;
    ++p_.processes;
    parent_[e.pid] = a.parent_pid;
    program_.erase(e.pid);  // a recycled pid runs its parent's program until it execs
    return;
  }
  if (e.type == EventType::kProcessExec) {
    const LifecycleArgs a = LifecycleArgsOf(e);
    if (a.exe.empty()) return;
    p_.programs.insert(a.exe);
    // Who ran it: the program this process ran before (an exec replacing it), else its
    // parent's, else tracejail (the first command).
    std::string from = "(tracejail)";
    if (auto own = program_.find(e.pid); own != program_.end()) {
      from = own->second;
    } else if (auto parent = parent_.find(e.pid); parent != parent_.end()) {
      if (auto pp = program_.find(parent->second); pp != program_.end()) from = pp->second;
    }
    const std::string name = BaseName(a.exe);
    p_.exec_chain.insert(from + " -> " + name);
    program_[e.pid] = name;
    return;
  }
  if (std::optional<Artifact> f = DroppedOf(e)) {
    // The hash tells a file the new version writes differently; 16 hex digits are plenty.
    std::string how = ArtifactKindText(*f);
    if (!f->sha256.empty()) how += ", sha256 " + f->sha256.substr(0, 16);
    p_.dropped.insert(fmt::format("{} ({})", f->path, how));
    return;
  }
  if (IsLifecycle(e)) return;
  const std::string syscall = e.syscall ? e.syscall->name : "";
  if (e.args.is_object()) {
    for (const auto& [key, value] : e.args.items()) {
      if (std::optional<PathArg> p = AsPathArg(value); p && p->resolved) {
        p_.files.insert(fmt::format("{} ({})", *p->resolved, p->access));
      } else if (std::optional<AddressArg> a = AsAddressArg(value)) {
        p_.endpoints.insert(fmt::format("{} ({})", EndpointOf(*a), syscall));
      }
    }
  }
  if (e.type == EventType::kEscapeAttempt) {
    const Technique* t = TechniqueOf(e);
    std::string what = t != nullptr ? std::string(t->id) : syscall;
    if (!e.primitive.empty()) what += " (" + e.primitive + ")";
    p_.escapes.insert(what);
  }
  const policy::Action effective = Effective(e);
  if (effective != policy::Action::kAllow) {
    const std::string target = TargetOf(e);
    std::string what = std::string(policy::Name(effective)) + " " +
                       (syscall.empty() ? std::string(policy::Name(e.type)) : syscall);
    if (!target.empty()) what += " " + target;
    p_.denials.insert(what + " <- " + e.rule);
  }
}

bool RunDiff::different() const {
  return processes_a != processes_b ||
         std::any_of(sections.begin(), sections.end(),
                     [](const SetDiff& s) { return !s.only_a.empty() || !s.only_b.empty(); });
}

RunDiff DiffRuns(const RunProfile& a, const RunProfile& b) {
  RunDiff d;
  d.processes_a = a.processes;
  d.processes_b = b.processes;
  for (const auto& [name, member] :
       {std::pair{"files", &RunProfile::files}, std::pair{"endpoints", &RunProfile::endpoints},
        std::pair{"programs", &RunProfile::programs}, std::pair{"denials", &RunProfile::denials},
        std::pair{"escapes", &RunProfile::escapes},
        std::pair{"exec_chain", &RunProfile::exec_chain},
        std::pair{"dropped", &RunProfile::dropped}}) {
    d.sections.push_back({name, Minus(a.*member, b.*member), Minus(b.*member, a.*member)});
  }
  return d;
}

std::string RenderDiffText(const RunDiff& d, std::string_view a_name, std::string_view b_name) {
  if (!d.different()) return {};
  std::string out =
      fmt::format("--- {}\n+++ {}\n", base::DisplayText(a_name), base::DisplayText(b_name));
  for (const auto& s : d.sections) {
    if (s.only_a.empty() && s.only_b.empty()) continue;
    out += s.name + ":\n";
    for (const auto& x : s.only_a) out += "- " + base::DisplayText(x) + "\n";
    for (const auto& x : s.only_b) out += "+ " + base::DisplayText(x) + "\n";
  }
  if (d.processes_a != d.processes_b) {
    out += fmt::format("processes:\n- {}\n+ {}\n", d.processes_a, d.processes_b);
  }
  return out;
}

nlohmann::json DiffJson(const RunDiff& d, std::string_view a_name, std::string_view b_name) {
  nlohmann::json j = {{"schema_version", kSchemaVersion},
                      {"a", a_name},
                      {"b", b_name},
                      {"different", d.different()},
                      {"processes", {{"a", d.processes_a}, {"b", d.processes_b}}}};
  for (const auto& s : d.sections) {
    j[s.name] = {{"only_in_a", s.only_a}, {"only_in_b", s.only_b}};
  }
  return j;
}

}  // namespace report
