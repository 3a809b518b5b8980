#include <catch2/catch.hpp>

#include "policy/policy.h"

TEST_CASE("NormalizePath collapses dots and slashes", "[policy]") {
  CHECK(policy::NormalizePath("/a//b/./c/../d/") == "/a/b/d");
  CHECK(policy::NormalizePath("/../..") == "/");
}
