// A plain-language listing of what a policy allows and denies, presets expanded, for
// `tracejail policy explain`.
#pragma once

#include <string>

#include "policy/policy.h"

namespace policy {

std::string DescribePolicy(const Policy& policy);

}  // namespace policy
