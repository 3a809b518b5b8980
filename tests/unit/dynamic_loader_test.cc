// Which program the dynamic loader is told to run (tracer/dynamic_loader.h).
#include <catch2/catch.hpp>

#include "tracer/dynamic_loader.h"

using tracer::IsDynamicLoader;
using tracer::LoaderProgram;

TEST_CASE("IsDynamicLoader", "[dynamic-loader]") {
  CHECK(IsDynamicLoader("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"));
  CHECK(IsDynamicLoader("/lib/ld-musl-x86_64.so.1"));
  CHECK(IsDynamicLoader("/usr/lib64/ld-2.31.so"));
  CHECK_FALSE(IsDynamicLoader("/usr/bin/ld"));
  CHECK_FALSE(IsDynamicLoader("/usr/bin/ldd"));
  CHECK_FALSE(IsDynamicLoader("/usr/bin/python3"));
}

TEST_CASE("LoaderProgram skips ld.so's options and their values", "[dynamic-loader]") {
  using V = std::vector<std::string>;
  CHECK(LoaderProgram(V{"ld.so", "/bin/id", "-u"}) == "/bin/id");
  CHECK(LoaderProgram(V{"ld.so", "--library-path", "/x", "--preload", "a.so", "./prog"}) ==
        "./prog");
  CHECK(LoaderProgram(V{"ld.so", "--argv0", "name", "--inhibit-cache", "prog"}) == "prog");
  CHECK(LoaderProgram(V{"ld.so", "--library-path=/x", "prog"}) == "prog");
  CHECK(LoaderProgram(V{"ld.so", "--", "--weird-name"}) == "--weird-name");
  CHECK_FALSE(LoaderProgram(V{"ld.so", "--help"}));
  CHECK_FALSE(LoaderProgram(V{"ld.so"}));
  CHECK_FALSE(LoaderProgram(V{"ld.so", "--preload"}));  // the value is missing
}
