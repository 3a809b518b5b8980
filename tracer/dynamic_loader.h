// The dynamic loader run as a program ("ld.so PROGRAM ARGS..."): which program it will load.
// An exec rule on PROGRAM would otherwise be sidestepped (../shared/FIELD.md, class 9): the
// kernel only ever sees ld.so being executed. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracer {

// Whether `exe` (an absolute path) is a dynamic loader: ld-linux*.so*, ld-musl-*.so*, ld.so.
bool IsDynamicLoader(std::string_view exe);

// The program ld.so will load, given its argv (argv[0] is ld.so itself): the first argument that
// is not one of its options (and their values). nullopt when there is none (ld.so --help,
// --list with nothing, or no arguments).
std::optional<std::string> LoaderProgram(const std::vector<std::string>& argv);

}  // namespace tracer
