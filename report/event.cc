#include "report/event.h"

#include "policy/names.h"

namespace report {

nlohmann::json ToJson(const Event& e) {
  nlohmann::json j;
  j["type"] = policy::Name(e.type);
  j["severity"] = policy::Name(e.severity);
  j["seq"] = e.seq;
  j["time"] = e.time;
  j["pid"] = e.pid;
  j["tid"] = e.tid;
  j["exe"] = e.exe;
  if (e.syscall) {
    j["syscall"] = {
        {"name", e.syscall->name}, {"nr", e.syscall->number}, {"arch", e.syscall->arch}};
    j["raw_args"] = e.raw_args;
  }
  j["args"] = e.args.is_null() ? nlohmann::json::object() : e.args;
  nlohmann::json decision = {{"action", policy::Name(e.action)}, {"rule", e.rule}};
  if (e.would) decision["would"] = policy::Name(*e.would);
  if (e.error != 0) decision["errno"] = policy::ErrnoName(e.error);
  if (!e.primitive.empty()) decision["primitive"] = e.primitive;
  if (!e.capability.empty()) decision["capability"] = e.capability;
  j["decision"] = decision;
  if (!e.tip.is_null()) j["tip"] = e.tip;
  j["race_free"] = e.race_free;
  if (!e.race.is_null()) j["race"] = e.race;
  if (!e.message.empty()) j["message"] = e.message;
  return j;
}

}  // namespace report
