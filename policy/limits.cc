#include "policy/limits.h"

#include "policy/capabilities.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace policy {

namespace {

constexpr std::array<LimitInfo, kLimitCount> kTable{{
    {LimitKind::kCpu, "cpu", LimitUnit::kMilliseconds, "CPU time per process",
     "RLIMIT_CPU: SIGXCPU at the limit, SIGKILL one second later"},
    {LimitKind::kMemory, "memory", LimitUnit::kBytes, "memory of the whole process tree",
     "cgroup memory limit (OOM kill); RLIMIT_AS per process when no cgroup is usable"},
    {LimitKind::kProcesses, "processes", LimitUnit::kCount,
     "processes and threads of the whole tree",
     "cgroup pids limit (fork fails with EAGAIN); RLIMIT_NPROC when no cgroup is usable"},
    {LimitKind::kFileSize, "file_size", LimitUnit::kBytes, "size of any file written",
     "RLIMIT_FSIZE: SIGXFSZ, then EFBIG"},
    {LimitKind::kOpenFiles, "open_files", LimitUnit::kCount, "open file descriptors per process",
     "RLIMIT_NOFILE: EMFILE"},
    {LimitKind::kDisk, "disk", LimitUnit::kBytes, "space in the private work dir",
     "size of the work dir's tmpfs: ENOSPC"},
    {LimitKind::kTimeout, "timeout", LimitUnit::kMilliseconds, "wall-clock time of the run",
     "tracejail's timer: the whole tree is killed"},
    {LimitKind::kOutput, "output", LimitUnit::kBytes, "captured stdout and stderr (each)",
     "tracejail keeps the first bytes; the rest is counted and dropped"},
}};

// Every limit once, in the enum's order (LimitInfoOf indexes by kind): checked when it builds.
constexpr bool InKindOrder() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (kTable[i].kind != static_cast<LimitKind>(i)) return false;
  }
  return true;
}
static_assert(InKindOrder());

}  // namespace

const std::array<LimitInfo, kLimitCount> kLimitInfo = kTable;

const std::array<NamespaceInfo, kNamespaceCount> kNamespaceInfo{{
    {Namespace::kPid, "pid", CLONE_NEWPID, "CLONE_NEWPID"},
    {Namespace::kIpc, "ipc", CLONE_NEWIPC, "CLONE_NEWIPC"},
    {Namespace::kUts, "uts", CLONE_NEWUTS, "CLONE_NEWUTS"},
    {Namespace::kMount, "mount", CLONE_NEWNS, "CLONE_NEWNS"},
    {Namespace::kNet, "net", CLONE_NEWNET, "CLONE_NEWNET"},
    {Namespace::kUser, "user", CLONE_NEWUSER, "CLONE_NEWUSER"},
}};

const LimitInfo& InfoOf(LimitKind kind) { return kLimitInfo[static_cast<std::size_t>(kind)]; }

std::optional<LimitKind> LimitFromKey(std::string_view key) {
  for (const auto& info : kLimitInfo) {
    if (info.key == key) return info.kind;
  }
  return std::nullopt;
}

std::optional<Namespace> NamespaceFromName(std::string_view name) {
  for (const auto& info : kNamespaceInfo) {
    if (info.name == name) return info.ns;
  }
  return std::nullopt;
}

namespace {

struct Suffix {
  std::string_view text;
  double factor;
};

constexpr std::array<Suffix, 11> kSizeSuffixes{{
    {"", 1},
    {"b", 1},
    {"k", 1024.0},
    {"kib", 1024.0},
    {"m", 1024.0 * 1024},
    {"mib", 1024.0 * 1024},
    {"g", 1024.0 * 1024 * 1024},
    {"gib", 1024.0 * 1024 * 1024},
    {"t", 1024.0 * 1024 * 1024 * 1024},
    {"tib", 1024.0 * 1024 * 1024 * 1024},
    {"kb", 1024.0},
}};

constexpr std::array<Suffix, 6> kTimeSuffixes{{
    {"", 1000},
    {"s", 1000},
    {"ms", 1},
    {"m", 60'000},
    {"min", 60'000},
    {"h", 3'600'000},
}};

constexpr std::array<Suffix, 1> kCountSuffixes{{{"", 1}}};

std::string Forms(LimitUnit unit) {
  switch (unit) {
    case LimitUnit::kMilliseconds:
      return "a number of seconds or a string such as \"2s\", \"500ms\", \"3m\", or \"off\"";
    case LimitUnit::kBytes:
      return "a number of bytes or a string such as \"256MiB\", \"64M\", \"1G\", or \"off\"";
    case LimitUnit::kCount:
      return "a positive integer or \"off\"";
  }
  return {};
}

// A whole number times an integral factor stays exact; a fraction goes through a double.
template <std::size_t N>
ParsedLimit Scale(const std::string& number, std::string_view suffix,
                  const std::array<Suffix, N>& table, LimitUnit unit, std::string_view text) {
  std::string lower(suffix);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  constexpr std::uint64_t kMax =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  ParsedLimit out_of_range{std::nullopt,
                           fmt::format("\"{}\" is out of range (expected {})", text, Forms(unit))};
  for (const auto& s : table) {
    if (s.text != lower) continue;
    if (number.find('.') == std::string::npos) {
      std::uint64_t whole = 0, v = 0;
      auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), whole);
      if (ec != std::errc() ||
          __builtin_mul_overflow(whole, static_cast<std::uint64_t>(s.factor), &v) || v > kMax) {
        return out_of_range;
      }
      if (v == 0) return out_of_range;
      return {v, {}};
    }
    double v = std::strtod(number.c_str(), nullptr) * s.factor;
    if (!(v >= 1) || !(v < 9223372036854775808.0)) return out_of_range;  // [1, 2^63)
    return {static_cast<std::uint64_t>(std::llround(v)), {}};
  }
  return {std::nullopt, fmt::format("cannot read \"{}\" (expected {})", text, Forms(unit))};
}

}  // namespace

ParsedLimit ParseLimitText(LimitUnit unit, std::string_view text) {
  if (text == "off" || text == "none" || text == "unlimited") return {};
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  std::string number(text.substr(0, i));
  std::string_view suffix = text.substr(i);
  while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  char* end = nullptr;
  double value = number.empty() ? std::nan("") : std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || std::isnan(value)) {
    return {std::nullopt, fmt::format("cannot read \"{}\" (expected {})", text, Forms(unit))};
  }
  if (unit == LimitUnit::kCount && number.find('.') != std::string::npos) {
    return {std::nullopt,
            fmt::format("\"{}\" is not a whole number (expected {})", text, Forms(unit))};
  }
  switch (unit) {
    case LimitUnit::kMilliseconds:
      return Scale(number, suffix, kTimeSuffixes, unit, text);
    case LimitUnit::kBytes:
      return Scale(number, suffix, kSizeSuffixes, unit, text);
    case LimitUnit::kCount:
      return Scale(number, suffix, kCountSuffixes, unit, text);
  }
  return {};
}

ParsedLimit ParseLimitValue(LimitUnit unit, const nlohmann::json& v) {
  if (v.is_string()) return ParseLimitText(unit, v.get<std::string>());
  if (v.is_number()) {
    if (v.is_number_float() && unit == LimitUnit::kCount) {
      return {std::nullopt,
              fmt::format("{} is not a whole number (expected {})", v.dump(), Forms(unit))};
    }
    return ParseLimitText(unit,
                          v.is_number_float() ? fmt::format("{}", v.get<double>()) : v.dump());
  }
  return {std::nullopt, fmt::format("expected {}", Forms(unit))};
}

std::string FormatLimit(LimitUnit unit, std::uint64_t value) {
  switch (unit) {
    case LimitUnit::kMilliseconds:
      if (value % 3'600'000 == 0) return fmt::format("{}h", value / 3'600'000);
      if (value % 60'000 == 0) return fmt::format("{}m", value / 60'000);
      if (value % 1000 == 0) return fmt::format("{}s", value / 1000);
      return fmt::format("{}ms", value);
    case LimitUnit::kBytes:
      for (auto [div, name] : {std::pair{1ULL << 40, "TiB"}, std::pair{1ULL << 30, "GiB"},
                               std::pair{1ULL << 20, "MiB"}, std::pair{1ULL << 10, "KiB"}}) {
        if (value >= div && value % div == 0) return fmt::format("{}{}", value / div, name);
      }
      return fmt::format("{}B", value);  // exact: a rounded size would read back differently
    case LimitUnit::kCount:
      return fmt::format("{}", value);
  }
  return {};
}

nlohmann::json LimitsToJson(const Limits& limits) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& info : kLimitInfo) {
    auto v = limits.Get(info.kind);
    j[std::string(info.key)] =
        v ? nlohmann::json(FormatLimit(info.unit, *v)) : nlohmann::json("off");
  }
  return j;
}

nlohmann::json IsolationToJson(const IsolationWanted& iso) {
  nlohmann::json ns = nlohmann::json::array();
  for (const auto& info : kNamespaceInfo) {
    if (iso.Has(info.ns)) ns.push_back(info.name);
  }
  return {{"environment", iso.clean_environment ? "clean" : "inherit"},
          {"workdir", iso.private_workdir ? "private" : "none"},
          {"namespaces", ns},
          {"landlock", iso.landlock},
          {"read_only_root", iso.read_only_root},
          {"cgroups", iso.cgroups_required ? "required" : "preferred"},
          {"capabilities", iso.capabilities ? nlohmann::json(CapNames(*iso.capabilities))
                                            : nlohmann::json("inherit")}};
}

}  // namespace policy
