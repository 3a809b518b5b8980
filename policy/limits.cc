#include "policy/limits.h"

#include "policy/capabilities.h"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>

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

// A unit after a number, lower-cased (units are case-insensitive: "1GB", "1gb" and "1Gb" are the
// same; in a size "b" is always bytes). `rank` orders the parts of a compound duration.
struct Suffix {
  std::string_view text;
  std::uint64_t factor;
  int rank = 0;
};

constexpr std::uint64_t kKi = 1024, kMi = kKi * kKi, kGi = kMi * kKi, kTi = kGi * kKi;
// Binary units (KiB = 1024 bytes), and the single letters K, M, G, T as their short forms;
// decimal units (kB = 1000 bytes) as SI and disk and network sizes use them.
constexpr std::array<Suffix, 14> kSizeSuffixes{{
    {"", 1},
    {"b", 1},
    {"k", kKi},
    {"kib", kKi},
    {"kb", 1000},
    {"m", kMi},
    {"mib", kMi},
    {"mb", 1'000'000},
    {"g", kGi},
    {"gib", kGi},
    {"gb", 1'000'000'000},
    {"t", kTi},
    {"tib", kTi},
    {"tb", 1'000'000'000'000},
}};

// A duration may be compound, its parts from the largest unit down ("1h30m", "1m30s",
// "2s500ms"); a bare number is seconds, alone.
constexpr std::array<Suffix, 6> kTimeSuffixes{{
    {"", 1000, 0},
    {"ms", 1, 1},
    {"s", 1000, 2},
    {"m", 60'000, 3},
    {"min", 60'000, 3},
    {"h", 3'600'000, 4},
}};

constexpr std::array<Suffix, 1> kCountSuffixes{{{"", 1}}};

std::string Forms(LimitUnit unit) {
  switch (unit) {
    case LimitUnit::kMilliseconds:
      return "a number of seconds or a string such as \"2s\", \"500ms\", \"3m\", \"1m30s\", "
             "\"1h\", or \"off\"";
    case LimitUnit::kBytes:
      return "a number of bytes or a string such as \"256MiB\" or \"64M\" (binary: KiB, MiB, "
             "GiB, TiB = 1024^n), \"100MB\" or \"1GB\" (decimal: kB, MB, GB, TB = 1000^n), or "
             "\"off\"";
    case LimitUnit::kCount:
      return "a positive integer or \"off\"";
  }
  return {};
}

std::span<const Suffix> SuffixesOf(LimitUnit unit) {
  switch (unit) {
    case LimitUnit::kMilliseconds:
      return kTimeSuffixes;
    case LimitUnit::kBytes:
      return kSizeSuffixes;
    case LimitUnit::kCount:
      return kCountSuffixes;
  }
  return {};
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

// number [space...] unit, repeated for durations. Whole numbers times a unit are exact; a
// fraction is rounded to the nearest unit of the limit (byte, millisecond). Everything is
// computed in 128 bits and must end in [1, 2^63).
ParsedLimit ParseLimitText(LimitUnit unit, std::string_view text) {
  if (text == "off" || text == "none" || text == "unlimited") return {};
  auto error = [&](std::string_view what) {
    return ParsedLimit{std::nullopt, fmt::format("{} (expected {})", what, Forms(unit))};
  };
  auto unreadable = [&] { return error(fmt::format("cannot read \"{}\"", text)); };
  auto out_of_range = [&] { return error(fmt::format("\"{}\" is out of range", text)); };
  constexpr unsigned __int128 kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::size_t kFractionDigits = 18;  // the digits past these are ignored

  unsigned __int128 total = 0;
  int last_rank = std::numeric_limits<int>::max();
  bool too_large = false;
  std::size_t i = 0;
  do {
    std::size_t start = i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    std::string_view whole = text.substr(start, i - start);
    std::string_view fraction;
    bool has_point = i < text.size() && text[i] == '.';
    if (has_point) {
      std::size_t f = ++i;
      while (i < text.size() && IsDigit(text[i])) ++i;
      fraction = text.substr(f, i - f);
    }
    if (whole.empty() && fraction.empty()) return unreadable();  // "", "-1", ".", "M", "1m "
    if (unit == LimitUnit::kCount && has_point) {
      return error(fmt::format("\"{}\" is not a whole number", text));
    }
    while (i < text.size() && text[i] == ' ') ++i;  // "1 G"
    std::size_t u = i;
    while (i < text.size() && IsLetter(text[i])) ++i;
    std::string name(text.substr(u, i - u));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const Suffix* suffix = nullptr;
    for (const Suffix& s : SuffixesOf(unit)) {
      if (s.text == name) suffix = &s;
    }
    if (suffix == nullptr) return unreadable();
    bool alone = start == 0 && i == text.size();
    // A bare number only alone; one part for sizes and counts; duration parts from the
    // largest unit down, each unit once.
    if (name.empty() && !alone) return unreadable();
    if (unit != LimitUnit::kMilliseconds && i != text.size()) return unreadable();
    if (suffix->rank >= last_rank) return unreadable();
    last_rank = suffix->rank;

    std::uint64_t w = 0;
    if (!whole.empty()) {
      auto [ptr, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
      if (ec == std::errc::result_out_of_range) {
        too_large = true;
      } else if (ec != std::errc() || ptr != whole.data() + whole.size()) {
        return unreadable();
      }
    }
    unsigned __int128 part = static_cast<unsigned __int128>(w) * suffix->factor;
    if (!fraction.empty()) {
      std::string_view digits = fraction.substr(0, kFractionDigits);
      std::uint64_t f = 0, scale = 1;
      for (char c : digits) {
        f = f * 10 + static_cast<std::uint64_t>(c - '0');
        scale *= 10;
      }
      part += (static_cast<unsigned __int128>(f) * suffix->factor + scale / 2) / scale;
    }
    total += part;
    if (total > kMax) too_large = true;
    if (too_large) total = kMax + 1;  // still read the rest: garbage says "cannot read"
  } while (i < text.size());
  if (too_large || total == 0) return out_of_range();
  return {static_cast<std::uint64_t>(total), {}};
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
