// MITRE ATT&CK: which techniques an event shows. One table (attack.cc, kAttackTable) maps what
// tracejail names (escape techniques of report/explain.h, escape primitives, built-in rules,
// access kinds, event types) and what an event touches (credential and persistence files,
// interpreters and download tools) to ATT&CK technique ids. Events carry the ids in "attack"
// (docs/events.md), the reports show them (HTML, JSON, SARIF tags). docs/attack.md lists the
// table. Pure.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "report/event.h"

namespace report {

// What a row of the table is keyed by.
enum class AttackKey : unsigned char {
  kTechnique,  // an escape technique id of report/explain.h ("clone-flags")
  kPrimitive,  // an escape primitive (policy `escapes` key, event decision.primitive)
  kRule,       // a built-in rule id ("builtin:exec-race"); generic rows carry no ids
  kAccess,     // an access kind a denied path call asked for ("chmod")
  kEventType,  // an event type ("resource_limit_exceeded")
  kPath,       // a glob (fnmatch, '*' crosses '/') on a path the call names
  kProgram,    // a program's base name (fnmatch) executed or denied execution
};
std::string_view Name(AttackKey k);

struct AttackRow {
  AttackKey key;
  std::string_view match;
  std::string_view ids;  // ATT&CK technique ids, space-separated ("T1552.001 T1003.008")
};
// A row's ids, split.
std::vector<std::string_view> IdsOf(const AttackRow& row);

struct AttackTechnique {
  std::string_view id;
  std::string_view name;  // "Escape to Host"
};

// The table, in order; and the ATT&CK names of every id it uses.
std::span<const AttackRow> AttackTable();
std::span<const AttackTechnique> AttackNames();
// The ATT&CK name of an id, or "" when the table does not use it.
std::string_view AttackName(std::string_view id);

// The technique ids an event shows (each once, in table order), computed from the event:
// denials (or would-be denials), escape attempts, suspicious behaviour and limits by their
// technique, primitive, rule, access and the paths they name; any event executing a shell,
// interpreter or download tool by the program. Empty for ordinary allowed events.
std::vector<std::string> AttackIdsFor(const Event& e);
// The ids an event records ("attack"), or, for files written before events carried them, the
// ones AttackIdsFor computes.
std::vector<std::string> AttackOf(const Event& e);

// "https://attack.mitre.org/techniques/T1552/001/"
std::string AttackUrl(std::string_view id);

}  // namespace report
