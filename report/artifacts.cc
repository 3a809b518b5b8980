#include "report/artifacts.h"

#include <fmt/format.h>

#include "base/escape.h"
#include "report/record_fields.h"

namespace report {
namespace {

bool Flag(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

nlohmann::json ToJson(const Artifact& a) {
  nlohmann::json j = {{"path", a.path}, {"kind", a.kind}};
  if (!a.sha256.empty()) j["sha256"] = a.sha256;
  if (a.size) j["size"] = *a.size;
  if (!a.mode.empty()) j["mode"] = a.mode;
  if (a.created) j["created"] = true;
  if (a.removed) j["removed"] = true;
  if (!a.target.empty()) j["target"] = a.target;
  if (!a.collected.empty()) j["collected"] = a.collected;
  if (!a.note.empty()) j["note"] = a.note;
  return j;
}

Artifact ArtifactFromJson(const nlohmann::json& j, std::string kind) {
  Artifact a;
  if (!j.is_object()) return a;
  a.path = StringMember(j, "path");
  a.kind = StringMember(j, "kind");
  if (a.kind.empty()) a.kind = std::move(kind);
  a.sha256 = StringMember(j, "sha256");
  if (auto it = j.find("size"); it != j.end() && it->is_number_integer() &&
                                (it->is_number_unsigned() || it->get<std::int64_t>() >= 0)) {
    a.size = it->get<std::uint64_t>();
  }
  a.mode = StringMember(j, "mode");
  a.created = Flag(j, "created");
  a.removed = Flag(j, "removed");
  a.target = StringMember(j, "target");
  a.collected = StringMember(j, "collected");
  a.note = StringMember(j, "note");
  return a;
}

std::vector<Artifact> ExecutedOf(const Event& e) {
  std::vector<Artifact> out;
  if (e.type != policy::EventType::kProcessExec || !e.args.is_object()) return out;
  for (const char* key : {"image", "script"}) {
    auto it = e.args.find(key);
    if (it != e.args.end() && it->is_object()) out.push_back(ArtifactFromJson(*it, key));
  }
  return out;
}

std::optional<Artifact> DroppedOf(const Event& e) {
  if (e.type != policy::EventType::kFileDropped) return std::nullopt;
  return ArtifactFromJson(e.args, "file");
}

std::string ArtifactKindText(const Artifact& a) {
  std::string kind = a.kind;
  if (a.created) kind += ", created";
  if (a.removed) kind += ", removed";
  if (a.count > 1) kind += fmt::format(", ×{}", a.count);
  return kind;
}

std::string ArtifactNoteText(const Artifact& a) {
  std::string note;
  auto add = [&note](const std::string& part) { note += (note.empty() ? "" : "; ") + part; };
  if (!a.target.empty()) add("→ " + a.target);
  if (!a.collected.empty()) add("collected as " + a.collected);
  if (!a.note.empty()) add(a.note);
  return note;
}

std::string ArtifactLine(const Artifact& a) {
  std::string line = a.sha256.empty() ? std::string(64, '-') : a.sha256;
  line += a.size ? fmt::format(" {:>10}", *a.size) : fmt::format(" {:>10}", "?");
  line += " " + (a.mode.empty() ? std::string("----") : base::DisplayText(a.mode));
  line += " " + base::DisplayText(a.path);
  if (a.kind != "file" && a.kind != "image") line += " (" + base::DisplayText(a.kind) + ")";
  if (!a.target.empty()) line += " -> " + base::DisplayText(a.target);
  if (a.created) line += " [created]";
  if (a.removed) line += " [removed]";
  if (a.count > 1) line += fmt::format(" x{}", a.count);
  if (!a.collected.empty()) line += " collected as " + base::DisplayText(a.collected);
  if (!a.note.empty()) line += " (" + base::DisplayText(a.note) + ")";
  return line;
}

}  // namespace report
