#include "tracer/dynamic_loader.h"

#include <algorithm>
#include <array>

namespace tracer {
namespace {

// glibc's ld.so options that take a value (elf/rtld.c); the others are flags.
constexpr std::array<std::string_view, 7> kWithValue = {
    "--library-path",        "--preload",          "--audit", "--argv0", "--inhibit-rpath",
    "--glibc-hwcaps-prefix", "--glibc-hwcaps-mask"};

}  // namespace

bool IsDynamicLoader(std::string_view exe) {
  std::string_view base = exe.substr(exe.rfind('/') + 1);
  return base.starts_with("ld-linux") || base.starts_with("ld-musl-") || base == "ld.so" ||
         (base.starts_with("ld-") && base.find(".so") != std::string_view::npos);
}

std::optional<std::string> LoaderProgram(const std::vector<std::string>& argv) {
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    if (a == "--") return i + 1 < argv.size() ? std::optional(argv[i + 1]) : std::nullopt;
    if (!a.starts_with("--")) return argv[i];
    if (a.find('=') != std::string_view::npos) continue;  // --option=value
    if (std::find(kWithValue.begin(), kWithValue.end(), a) != kWithValue.end()) ++i;
  }
  return std::nullopt;
}

}  // namespace tracer
