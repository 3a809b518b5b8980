// Name <-> number tables the policy language and the events share: errno values, socket
// families, network verbs, access kinds, escape primitives. Data, not branches.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/decision.h"
#include "policy/operation.h"

namespace policy {

std::optional<int> ErrnoFromName(std::string_view name);  // "EACCES" -> 13
std::string ErrnoName(int err);                           // 13 -> "EACCES", 999 -> "errno 999"
// The inverse of ErrnoName for every name it gives ("ELOOP" from the C library's table,
// "errno 999"), as events files record them; nullopt for anything else.
std::optional<int> ErrnoFromRecordedName(std::string_view name);

std::optional<int> FamilyFromName(std::string_view name);  // "inet6" -> AF_INET6
std::string FamilyName(int family);                        // AF_UNIX -> "unix"

std::optional<NetVerb> VerbFromName(std::string_view name);
std::string_view Name(NetVerb v);

std::optional<Access> AccessFromName(std::string_view name);
std::string AccessNames(Access a);  // "read|write"

std::optional<Primitive> PrimitiveFromName(std::string_view name);
std::string_view Name(Primitive p);

std::optional<Action> ActionFromName(std::string_view name);
std::optional<EventType> EventTypeFromName(std::string_view name);
std::optional<Severity> SeverityFromName(std::string_view name);

// Every name of a table, for "did you mean" suggestions and listings.
std::vector<std::string> KnownErrnos();
std::vector<std::string> KnownFamilies();
std::vector<std::string> KnownPrimitives();  // without "none"
std::vector<std::string> KnownEventTypes();
std::vector<std::string> KnownAccessKinds();

}  // namespace policy
