// Seeded mutation fuzzing: hostile events files and policy texts never crash a tool, and hostile
// tracee memory and registers decode within bounds (the decoder cases below). Each case here
// starts from real input (tests/data/events-fixture.jsonl, the presets), mutates it a few
// thousand times with a fixed seed (a failure names its round, so it reproduces), and runs every
// consumer on the result: the reader, the analysis and all five renderers, stats, verify, learn
// and the live view for events; the loader for policies, where PolicyError is the only way out.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/escape.h"
#include "base/path.h"
#include "fakes.h"
#include "policy/loader.h"
#include "policy/presets.h"
#include "report/analysis.h"
#include "report/event_reader.h"
#include "report/hash_chain.h"
#include "report/learn.h"
#include "report/live_view.h"
#include "syscalls/table.h"
#include "syscalls/xlat.h"
#include "tracer/decode.h"
#include "tracer/memory.h"
#include "tracer/pin.h"
#include "tracer/process_memory.h"
#include "tracer/sockaddr.h"

namespace {

using nlohmann::json;

std::vector<std::string> FixtureLines() {
  std::ifstream in(std::string(TEST_DATA_DIR) + "/events-fixture.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() > 5);
  return lines;
}

// A value of a random kind, often not the kind the field had.
json RandomValue(std::mt19937_64& rng) {
  switch (rng() % 12) {
    case 0:
      return nullptr;
    case 1:
      return static_cast<bool>(rng() % 2);
    case 2:
      return -static_cast<std::int64_t>(rng() % 100000) - 1;
    case 3:
      return rng();
    case 4:
      return 1e308 * static_cast<double>(rng() % 3);
    case 5:
      return std::string("now");
    case 6:
      return std::string(static_cast<std::size_t>(rng() % 5000), '\xff');
    case 7:
      return json::array({1, "x", nullptr});
    case 8:
      return json::object({{"x", json::array()}});
    case 9:
      return json::array();
    case 10:
      return json::object();
    default:
      return std::string("\xe2\x80\xae\x1b[31m");  // bidi override and an escape sequence
  }
}

// Replaces one value somewhere in `j` (any depth) with a random one, or removes a key.
void MutateValue(json& j, std::mt19937_64& rng) {
  json* at = &j;
  for (int depth = 0; depth < 6; ++depth) {
    if (!(at->is_object() || at->is_array()) || at->empty() || rng() % 3 == 0) break;
    auto it = at->begin();
    std::advance(it, static_cast<long>(rng() % at->size()));
    if (at->is_object() && rng() % 8 == 0) {
      at->erase(it.key());
      return;
    }
    at = &*it;
  }
  *at = RandomValue(rng);
}

std::string MutateLine(const std::string& line, std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0: {  // bytes flipped
      std::string s = line;
      for (int i = 0; i < 3 && !s.empty(); ++i) {
        s[rng() % s.size()] = static_cast<char>(rng() % 256);
      }
      return s;
    }
    case 1:  // cut
      return line.substr(0, rng() % (line.size() + 1));
    case 2:  // deep nesting
      return std::string(static_cast<std::size_t>(rng() % 200000), '[') + "1";
    default: {
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded()) return line;
      for (int i = 0; i < 1 + static_cast<int>(rng() % 3); ++i) MutateValue(j, rng);
      return j.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
}

void RunEveryConsumer(const std::string& text) {
  std::istringstream in(text);
  report::EventsRead read = report::ReadEventsFile(in);
  report::Analysis a = report::Analyze(read.records);
  // Text for people carries no control byte from the file (a newline is layout).
  for (const std::string& shown :
       {report::RenderText(a), report::RenderMarkdown(a), report::RenderHtml(a, "fuzz")}) {
    CHECK(std::none_of(shown.begin(), shown.end(), [](char c) {
      return (static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f;
    }));
  }
  // The JSON written piece by piece is one valid document.
  CHECK_FALSE(json::parse(report::RenderJson(a), nullptr, false).is_discarded());
  CHECK_FALSE(json::parse(report::RenderSarif(a, "intact"), nullptr, false).is_discarded());
  (void)report::RenderStatsText(report::AggregateRuns({{"fuzz", a}}));
  std::istringstream again(text);
  (void)report::VerifyChain(again);
  report::Learner learner;
  learner.AddRun(read.records, policy::DefaultVariables());
  (void)learner.Draft({});
  for (const json& r : read.records) {
    if (report::LiveWants(r, report::LiveFilter::kAll)) (void)report::FormatLive(r, {});
  }
}

}  // namespace

TEST_CASE("fuzz: mutated events files never crash a consumer", "[fuzz]") {
  const std::vector<std::string> lines = FixtureLines();
  constexpr int kRounds = 1500;
  for (int round = 0; round < kRounds; ++round) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(round) * 7919 + 1);
    std::string text;
    std::size_t victim = rng() % lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      text += (i == victim || rng() % 10 == 0 ? MutateLine(lines[i], rng) : lines[i]) + "\n";
    }
    CAPTURE(round);
    REQUIRE_NOTHROW(RunEveryConsumer(text));
  }
}

TEST_CASE("fuzz: the reader bounds a huge line and deep nesting", "[fuzz]") {
  std::string text = std::string(report::kMaxEventLine + 10, 'x') + "\n" +
                     std::string(1000000, '{') + "\n" + R"({"type":"x","time":"now"})" + "\n";
  std::istringstream in(text);
  report::EventsRead read = report::ReadEventsFile(in);
  CHECK(read.records.empty());
  REQUIRE(read.problems.size() == 3);
  CHECK(read.problems[0].line == 1);
  CHECK_THAT(read.problems[0].what, Catch::Contains("longer than"));
  CHECK_THAT(read.problems[1].what, Catch::Contains("nested deeper"));
  CHECK_THAT(read.problems[2].what, Catch::Contains("\"time\" must be a number"));
  std::istringstream chain(text);
  report::VerifyResult v = report::VerifyChain(chain);
  CHECK_FALSE(v.ok());
}

TEST_CASE("fuzz: mutated policies are loaded or refused with a PolicyError", "[fuzz]") {
  std::vector<std::string> texts;
  for (const char* name : {"basic", "standard", "strict", "maximum"}) {
    std::optional<std::string_view> text = policy::PresetText(name);
    REQUIRE(text.has_value());
    texts.emplace_back(*text);
  }
  const policy::Variables vars = policy::DefaultVariables();
  constexpr int kRounds = 800;
  for (int round = 0; round < kRounds; ++round) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(round) * 104729 + 3);
    std::string text = texts[rng() % texts.size()];
    switch (rng() % 4) {
      case 0:
        for (int i = 0; i < 4; ++i) text[rng() % text.size()] = static_cast<char>(rng() % 256);
        break;
      case 1:
        text = text.substr(0, rng() % text.size());
        break;
      default: {
        json j = json::parse(text, nullptr, false);
        if (j.is_discarded()) break;
        for (int i = 0; i < 1 + static_cast<int>(rng() % 3); ++i) MutateValue(j, rng);
        text = j.dump(-1, ' ', false, json::error_handler_t::replace);
      }
    }
    CAPTURE(round);
    try {
      (void)policy::LoadPolicyText(text, "fuzz.json", vars);
    } catch (const policy::PolicyError&) {
      // refused, with a location: the documented way out
    }
  }
  SUCCEED("every mutated policy was loaded or refused with a PolicyError");
}

// ---------------------------------------------------------------------------------------------
// Decoders: everything that turns tracee-controlled bytes and registers into decoded arguments,
// through the fake tracee of fakes.h (no ptrace). Each round has its own seed (printed with a
// failure, with how to rerun that round alone: TRACEJAIL_FUZZ_SEED=N TRACEJAIL_FUZZ_ROUND=R;
// TRACEJAIL_FUZZ_SCALE=K runs K times the rounds, TRACEJAIL_FUZZ_MAX_FAILURES=M reports up to M
// failing rounds per case instead of 3).
// Covered, with properties checked against byte models, not just "did not crash":
//  - ReadCString / ReadExact on random page layouts, short and strict readers, small chunks:
//    exactly the model's result, the cap respected, no read outside [addr, addr + max); and
//    through ProcessMemory, the live reader, on this process's own read-write, PROT_NONE and
//    unmapped pages;
//  - ParseSockaddr, AddressText, AddressJson on every family (AF_INET, AF_INET6 and its 24-byte
//    form, AF_UNIX paths, abstract names and unterminated sun_path, AF_NETLINK, AF_PACKET,
//    AF_UNSPEC, unknown) and every length: fields as the bytes say, renderings valid UTF-8
//    without control characters;
//  - every xlat renderer on random bits: the text parses back to the value;
//  - EscapeBytes on hostile bytes: valid UTF-8, no control or bidi characters, reversible;
//  - Decode, RenderArgs and PlanPins on every row of the syscall table with hostile arguments:
//    paths and strings with control bytes and invalid UTF-8, unterminated at an unmapped page,
//    longer than PATH_MAX; argv/envp with huge counts, unreadable entries and arrays running
//    into unmapped memory; sockaddrs of every family with short, huge, negative and junk-high
//    addrlen; msghdr and mmsghdr vectors (iovecs are not decoded); open_how with tails; integer
//    arguments the decoder dereferences (ioctl, fcntl, capget, adjtimex), ids at the int edges.
//    Checked: every read lies within what the kernel reads for those registers
//    (FakeMemory::allowed); paths, strings, argv/envp and open_how errors exactly as the bytes
//    say, with the documented caps and "...(truncated)" / "...(unreadable)" markers; socket
//    destinations and errors as the kernel reads them (an int addrlen, msg_namelen cut to
//    sockaddr_storage, vlen to UIO_MAXIOV, a send's empty name naming none), unix paths decided
//    resolved; the rendered arguments, note and address text dump as strict UTF-8 with no
//    control characters; pin plans fit their slot and point into it.
// The ASan/UBSan build runs a quarter of the rounds, for memory errors and signed overflow.
namespace {

namespace xlat = syscalls::xlat;
using tjtest::FakeContext;
using tjtest::FakeMemory;
using tracer::StringStatus;
using Args = std::array<std::uint64_t, 6>;

std::uint64_t EnvNumber(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

std::uint64_t BaseSeed() {
  static const std::uint64_t seed = EnvNumber("TRACEJAIL_FUZZ_SEED", 0x74726163656a6c31ULL);
  return seed;
}

// The rounds a case runs: [0, rounds times TRACEJAIL_FUZZ_SCALE), or only TRACEJAIL_FUZZ_ROUND.
// The ASan/UBSan build (Debug, some 30 times slower) runs a quarter of them: CTest gives a test
// 120 s.
struct Rounds {
  int begin, end;
};
Rounds Scaled(int rounds) {
#if defined(__SANITIZE_ADDRESS__)
  rounds /= 4;
#endif
  static const std::uint64_t scale = EnvNumber("TRACEJAIL_FUZZ_SCALE", 1);
  static const std::uint64_t only = EnvNumber("TRACEJAIL_FUZZ_ROUND", ~std::uint64_t{0});
  if (only != ~std::uint64_t{0}) return {static_cast<int>(only), static_cast<int>(only) + 1};
  return {0, rounds * static_cast<int>(std::max<std::uint64_t>(scale, 1))};
}

// The seed of one round of one case: splitmix64 of the base seed, the case and the round.
std::uint64_t RoundSeed(std::uint64_t which, int round) {
  std::uint64_t z = BaseSeed() + which * 0x9e3779b97f4a7c15ULL +
                    static_cast<std::uint64_t>(round) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// What a round found wrong; reported once per round (Catch assertions per property would cost
// more than the decoding).
struct Problems {
  std::vector<std::string> list;
  void Add(std::string what) {
    if (list.size() < 6) list.push_back(std::move(what));
  }
  std::string Text() const {
    std::string out;
    for (const auto& p : list) out += "\n  - " + p;
    return out;
  }
};

#define FUZZ_EXPECT(problems, cond, ...)                                                \
  do {                                                                                  \
    if (!(cond)) (problems).Add(fmt::format("{}: ", #cond) + fmt::format(__VA_ARGS__)); \
  } while (0)

// Reports a round's problems with what reproduces it; gives up on a case after a few rounds.
bool Report(const Problems& p, std::string_view what, std::uint64_t seed, int round,
            int& failures) {
  if (p.list.empty()) return true;
  FAIL_CHECK(
      fmt::format("{}: round {} (seed {:#x}; rerun it alone with TRACEJAIL_FUZZ_SEED={:#x} "
                  "TRACEJAIL_FUZZ_ROUND={}):{}",
                  what, round, seed, BaseSeed(), round, p.Text()));
  static const std::uint64_t max_failures = EnvNumber("TRACEJAIL_FUZZ_MAX_FAILURES", 3);
  return static_cast<std::uint64_t>(++failures) < max_failures;
}

std::string Shown(std::string_view bytes) {
  std::string s = base::EscapeBytes(bytes.substr(0, 80));
  if (bytes.size() > 80) s += fmt::format("...({} bytes)", bytes.size());
  return s;
}

// Strict UTF-8 (nlohmann's default handler throws on invalid UTF-8), no C0 control or DEL.
bool CleanText(std::string_view s) {
  try {
    (void)json(std::string(s)).dump();
  } catch (const json::exception&) {
    return false;
  }
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7f;
  });
}

// Every string in `j` (keys too) is clean and at most `max_len` bytes; arrays have at most
// `max_items`. Returns the first offender, or "".
std::string FirstDirty(const json& j, std::size_t max_len, std::size_t max_items) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (!CleanText(s)) return "unclean string " + Shown(s);
    if (s.size() > max_len) return fmt::format("string of {} bytes", s.size());
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (!CleanText(k)) return "unclean key " + Shown(k);
      if (std::string bad = FirstDirty(v, max_len, max_items); !bad.empty()) return k + ": " + bad;
    }
  } else if (j.is_array()) {
    if (j.size() > max_items) return fmt::format("array of {} items", j.size());
    for (const auto& v : j) {
      if (std::string bad = FirstDirty(v, max_len, max_items); !bad.empty()) return bad;
    }
  }
  return "";
}

// ---- byte models of tracee memory (the oracle: what the kernel would see) -------------------

struct ModelString {
  StringStatus status = StringStatus::kOk;
  std::string bytes;
};

// `peek(addr)`: the byte at addr, or nullopt where nothing can be read.
template <typename Peek>
ModelString ModelCStringOf(const Peek& peek, std::uint64_t addr, std::size_t max) {
  ModelString m;
  for (std::size_t i = 0; i < max; ++i) {
    std::optional<std::uint8_t> b = peek(addr + i);
    if (!b) return {StringStatus::kFault, m.bytes};
    if (*b == 0) return m;
    m.bytes.push_back(static_cast<char>(*b));
  }
  m.status = StringStatus::kTruncated;
  return m;
}

template <typename Peek>
std::optional<std::string> ModelBytesOf(const Peek& peek, std::uint64_t addr, std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    std::optional<std::uint8_t> b = peek(addr + i);
    if (!b) return std::nullopt;
    out[i] = static_cast<char>(*b);
  }
  return out;
}

ModelString ModelCString(const FakeMemory& mem, std::uint64_t addr, std::size_t max) {
  return ModelCStringOf([&](std::uint64_t at) { return mem.Peek(at); }, addr, max);
}

std::optional<std::string> ModelBytes(const FakeMemory& mem, std::uint64_t addr, std::size_t n) {
  return ModelBytesOf([&](std::uint64_t at) { return mem.Peek(at); }, addr, n);
}

template <typename T>
std::optional<T> ModelValue(const FakeMemory& mem, std::uint64_t addr) {
  std::optional<std::string> bytes = ModelBytes(mem, addr, sizeof(T));
  if (!bytes) return std::nullopt;
  T v;
  std::memcpy(&v, bytes->data(), sizeof v);
  return v;
}

// execve's argv/envp as documented: at most kMaxArgvEntries entries of kMaxArgBytes bytes.
tracer::StringList ModelStringArray(const FakeMemory& mem, std::uint64_t addr) {
  tracer::StringList list;
  if (addr == 0) return list;
  for (std::size_t i = 0;; ++i) {
    std::optional<std::uint64_t> ptr = ModelValue<std::uint64_t>(mem, addr + 8 * i);
    if (!ptr) {
      list.fault = true;
      break;
    }
    if (*ptr == 0) break;
    if (i == tracer::kMaxArgvEntries) {
      list.truncated = true;
      break;
    }
    ModelString s = ModelCString(mem, *ptr, tracer::kMaxArgBytes);
    if (s.status == StringStatus::kFault) {
      list.fault = true;
      break;
    }
    if (s.status == StringStatus::kTruncated) list.truncated = true;
    list.items.push_back(std::move(s.bytes));
  }
  return list;
}

json RenderedList(const tracer::StringList& list) {
  json arr = json::array();
  for (const auto& s : list.items) arr.push_back(base::EscapeBytes(s));
  if (list.fault) {
    arr.push_back("...(unreadable)");
  } else if (list.truncated) {
    arr.push_back("...(truncated)");
  }
  return arr;
}

struct MsgHdr {  // struct msghdr on x86-64
  std::uint64_t name;
  std::uint32_t namelen, pad;
  std::uint64_t iov, iovlen, control, controllen;
  std::int32_t flags, pad2;
};
static_assert(sizeof(MsgHdr) == 56);
constexpr std::size_t kMMsgHdrSize = 64;  // struct mmsghdr: msghdr, msg_len, padding

// msg_name as the kernel reads it (__copy_msghdr): a negative length fails, a longer one is cut
// to sockaddr_storage.
void AllowName(FakeMemory& mem, std::uint64_t name, std::uint32_t namelen) {
  if (name == 0 || static_cast<std::int32_t>(namelen) < 0) return;
  mem.Allow(name, std::min<std::size_t>(namelen, tracer::kMaxSockaddr));
}

// Everything the kernel could read for these registers. The decoder may read as much, never
// more: strings to PATH_MAX, a sockaddr to its (int) addrlen, a msghdr and its name, vlen
// (unsigned int, at most UIO_MAXIOV) mmsghdrs and their names, argv/envp to the documented caps,
// open_how to its size, and up to 8 bytes at an integer argument (ioctl's and fcntl's arg,
// capget's header, adjtimex's timex).
void AllowKernelReads(const syscalls::SyscallRow& row, const Args& a, FakeMemory& mem) {
  using syscalls::Role;
  mem.confined = true;  // a call that reads nothing may read nothing
  for (std::size_t i = 0; i < row.args.size(); ++i) {
    const std::uint64_t v = a[i];
    const std::uint64_t next = i + 1 < a.size() ? a[i + 1] : 0;
    switch (row.args[i].role) {
      case Role::kPath:
      case Role::kString:
        mem.Allow(v, tracer::kMaxPath);
        break;
      case Role::kSockAddr:
        if (static_cast<std::uint32_t>(next) <= tracer::kMaxSockaddr) {
          mem.Allow(v, static_cast<std::uint32_t>(next));
        }
        break;
      case Role::kMsgHdr:
        mem.Allow(v, sizeof(MsgHdr));
        if (auto msg = ModelValue<MsgHdr>(mem, v)) AllowName(mem, msg->name, msg->namelen);
        break;
      case Role::kMMsgHdr: {
        std::size_t n = std::min<std::size_t>(static_cast<std::uint32_t>(next), tracer::kMaxMMsg);
        mem.Allow(v, n * kMMsgHdrSize);
        for (std::size_t k = 0; k < n; ++k) {
          auto msg = ModelValue<MsgHdr>(mem, v + k * kMMsgHdrSize);
          if (!msg) break;
          AllowName(mem, msg->name, msg->namelen);
        }
        break;
      }
      case Role::kArgv:
      case Role::kEnvp:
        mem.Allow(v, 8 * (tracer::kMaxArgvEntries + 1));
        for (std::size_t k = 0; k < tracer::kMaxArgvEntries; ++k) {
          auto ptr = ModelValue<std::uint64_t>(mem, v + 8 * k);
          if (!ptr || *ptr == 0) break;
          mem.Allow(*ptr, tracer::kMaxArgBytes);
        }
        break;
      case Role::kOpenHow:
        if (next >= 24 && next <= 4096) mem.Allow(v, next);
        break;
      case Role::kPtr:
      case Role::kHex:
      case Role::kMsgFlags:
      case Role::kInt:
        mem.Allow(v, 8);
        break;
      default:
        break;
    }
  }
}

// ---- hostile inputs ----------------------------------------------------------------------

// Pieces of hostile names: path syntax, terminal escapes, invalid UTF-8 (lone continuation and
// high bytes, overlongs, surrogates, beyond U+10FFFF), valid but dangerous UTF-8 (bidi override,
// C1 CSI, line separator, BOM), backslashes that look like escapes, glob characters, /proc.
constexpr std::string_view kPieces[] = {"/",
                                        "/",
                                        "..",
                                        ".",
                                        "//",
                                        "etc",
                                        "tmp",
                                        "a",
                                        "passwd",
                                        "/proc/",
                                        "self",
                                        "1",
                                        "4300",
                                        "/mem",
                                        "/fd/3",
                                        "/dev/pts/",
                                        "123456789",
                                        "\x1b[31m",
                                        "\x1b]0;t\x07",
                                        "\n",
                                        "\r",
                                        "\t",
                                        "\x7f",
                                        "\x01",
                                        "\xff",
                                        "\xfe",
                                        "\x80",
                                        "\xc0\x80",
                                        "\xed\xa0\x80",
                                        "\xf4\x90\x80\x80",
                                        "\xe2\x80\xae",
                                        "\xc2\x9b",
                                        "\xe2\x80\xa8",
                                        "\xef\xbb\xbf",
                                        "\xc3\xa9",
                                        "\xe6\x97\xa5",
                                        "\xf0\x9f\x98\x80",
                                        "\\",
                                        "\\x41",
                                        "\\\\",
                                        "*",
                                        "?",
                                        "[",
                                        "{",
                                        "$",
                                        "%s",
                                        "\"",
                                        "'"};

std::string HostileBytes(std::mt19937_64& rng, std::size_t len) {
  std::string s;
  while (s.size() < len) {
    if (rng() % 4 == 0) {
      s.push_back(static_cast<char>(1 + rng() % 255));  // never a NUL
    } else {
      s += kPieces[rng() % std::size(kPieces)];
    }
  }
  s.resize(len);
  return s;
}

std::size_t HostileLength(std::mt19937_64& rng) {
  switch (rng() % 20) {
    case 0:
      return 0;
    case 1:
    case 2:
      return tracer::kMaxPath - 3 + rng() % 6;  // around PATH_MAX, and around kMaxArgBytes
    case 3:
      return tracer::kMaxPath + rng() % 6000;
    case 4:
    case 5:
      return 40 + rng() % 300;
    default:
      return 1 + rng() % 40;
  }
}

std::uint64_t RandomWord(std::mt19937_64& rng) {
  switch (rng() % 11) {
    case 0:
      return 0;
    case 1:
      return rng() % 64;
    case 2:
      return static_cast<std::uint64_t>(-static_cast<std::int64_t>(1 + rng() % 200));
    case 3:
      return std::uint64_t{1} << (rng() % 64);
    case 4:
      return rng();
    case 5:
      return rng() & 0xffffffffu;
    case 6:
      return static_cast<std::uint64_t>(
          static_cast<std::int64_t>(static_cast<std::int32_t>(rng())));
    case 7: {
      constexpr std::uint64_t kEdges[] = {
          0x7fffffff,        0x80000000,     0xffffffff,           0xffffffff80000000ULL,
          ~std::uint64_t{0}, 0x100000000ULL, 0x7fffffffffffffffULL};
      return kEdges[rng() % std::size(kEdges)];
    }
    case 8:
      return (rng() << 32) | (rng() % 300);  // junk above the int the kernel reads
    default: {
      std::uint64_t v = 0;
      for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i) v |= 1ULL << (rng() % 32);
      return v;
    }
  }
}

// Lays objects out in a fake address space, each in pages of its own between unmapped pages,
// so that an object placed "at the edge" ends exactly where readable memory ends.
class Arena {
 public:
  Arena(FakeMemory& mem, std::mt19937_64& rng) : mem_(mem), rng_(rng) {}

  // `bytes` at a random offset of fresh pages (filled with zeros or garbage), or ending at the
  // last byte before an unmapped page.
  std::uint64_t Place(std::string_view bytes, bool at_edge) {
    std::size_t offset = at_edge ? 0 : rng_() % 128;
    std::size_t pages = std::max<std::size_t>(1, (bytes.size() + offset + 4095) / 4096);
    std::uint64_t base = next_;
    next_ += (pages + 1 + rng_() % 2) * 4096;  // at least one unmapped page after
    auto fill = static_cast<std::uint8_t>(rng_() % 3 == 0 ? 0 : 1 + rng_() % 255);
    for (std::size_t p = 0; p < pages; ++p) mem_.MapPage(base + p * 4096, fill);
    std::uint64_t addr = at_edge ? base + pages * 4096 - bytes.size() : base + offset;
    mem_.Write(addr, bytes);
    return addr;
  }

  // A NUL-terminated string, or (sometimes) one without its NUL before garbage or the edge.
  std::uint64_t PlaceString(std::string_view s) {
    switch (rng_() % 8) {
      case 0:
        return Place(s, true);  // unterminated at the edge: a fault
      case 1:
        return Place(s, false);  // unterminated: runs into the page's fill
      case 2:
        return Place(std::string(s) + '\0', true);
      default:
        return Place(std::string(s) + '\0', false);
    }
  }

  // Somewhere nothing is mapped (or NULL, or far outside user space).
  std::uint64_t Unmapped() {
    switch (rng_() % 5) {
      case 0:
        return 0;
      case 1:
        return 0x40000000 + rng_() % 0x1000000;  // far beyond every region
      case 2:
        return 0xfffffffffffff000ULL + rng_() % 4096;
      case 3:
        return 0xdead0000ULL + rng_() % 64;
      default:
        return rng_() | (1ULL << 63);
    }
  }

 private:
  FakeMemory& mem_;
  std::mt19937_64& rng_;
  std::uint64_t next_ = 0x10000000;
};

std::string SockaddrBytes(std::mt19937_64& rng) {
  auto family_bytes = [](int family) {
    auto f = static_cast<sa_family_t>(family);
    return std::string(reinterpret_cast<const char*>(&f), sizeof f);
  };
  std::string b;
  switch (rng() % 10) {
    case 0:
    case 1: {
      sockaddr_in in{};
      in.sin_family = AF_INET;
      in.sin_port = static_cast<std::uint16_t>(rng());
      in.sin_addr.s_addr =
          rng() % 3 == 0 ? htonl(INADDR_LOOPBACK) : static_cast<std::uint32_t>(rng());
      b = tjtest::BytesOf(in);
      break;
    }
    case 2:
    case 3: {
      sockaddr_in6 in6{};
      in6.sin6_family = AF_INET6;
      in6.sin6_port = static_cast<std::uint16_t>(rng());
      for (auto& byte : in6.sin6_addr.s6_addr) byte = static_cast<std::uint8_t>(rng());
      if (rng() % 3 == 0) {  // IPv4-mapped
        std::memset(in6.sin6_addr.s6_addr, 0, 10);
        in6.sin6_addr.s6_addr[10] = in6.sin6_addr.s6_addr[11] = 0xff;
      }
      b = tjtest::BytesOf(in6);
      if (rng() % 4 == 0) b.resize(24);  // RFC 2133, no scope id
      break;
    }
    case 4:
    case 5:
    case 6: {
      b = family_bytes(AF_UNIX);
      switch (rng() % 5) {
        case 0:  // abstract: a NUL, then any bytes, NULs included
          b += '\0';
          for (std::size_t i = 0, n = rng() % 107; i < n; ++i)
            b += static_cast<char>(rng() % 4 ? rng() : 0);
          break;
        case 1:  // unterminated sun_path filling the whole of it
          b += HostileBytes(rng, 108);
          break;
        case 2:  // unnamed
          break;
        default:
          b += HostileBytes(rng, rng() % 110) + '\0';
      }
      break;
    }
    case 7:
      b = family_bytes(rng() % 2 ? AF_NETLINK : AF_PACKET);
      for (int i = 0; i < 18; ++i) b += static_cast<char>(rng());
      break;
    case 8:
      b = family_bytes(AF_UNSPEC);
      for (int i = 0; i < 14; ++i) b += static_cast<char>(rng());
      break;
    default:
      b = family_bytes(static_cast<int>(rng() % 65536));
      for (std::size_t i = 0, n = rng() % 40; i < n; ++i) b += static_cast<char>(rng());
  }
  if (rng() % 4 == 0) {  // garbage after the address, up to and past sockaddr_storage
    for (std::size_t i = 0, n = rng() % 160; i < n; ++i) b += static_cast<char>(rng());
  }
  if (rng() % 10 == 0) b.resize(rng() % (b.size() + 1));  // cut short
  return b;
}

// An addrlen: the bytes' own length, short, long, negative, or an int with junk above it (the
// kernel reads an int).
std::uint64_t SockLen(std::mt19937_64& rng, std::size_t actual) {
  switch (rng() % 8) {
    case 0:
      return rng() % 140;
    case 1:
      return RandomWord(rng);
    case 2:
      return (rng() << 32) | std::min<std::size_t>(actual, tracer::kMaxSockaddr);
    case 3:
      return (rng() << 32) | (rng() % 129);
    default:
      return actual;
  }
}

// What a round sets up: the context, the arguments, and the rows' objects in memory.
class CallBuilder {
 public:
  CallBuilder(FakeContext& ctx, std::mt19937_64& rng)
      : ctx_(ctx), rng_(rng), arena_(ctx.mem, rng) {}

  std::uint64_t String() {
    switch (rng_() % 12) {
      case 0:
        return arena_.Unmapped();
      default: {
        std::string s = HostileBytes(rng_, HostileLength(rng_));
        if (rng_() % 10 == 0) {  // a resolution error the kernel would report
          constexpr int kErrors[] = {ENOENT, ELOOP, EACCES, ENOTDIR, ENAMETOOLONG, EXDEV};
          ctx_.resolve_errors[s] = kErrors[rng_() % std::size(kErrors)];
        }
        return arena_.PlaceString(s);
      }
    }
  }

  std::uint64_t StringArray() {
    if (rng_() % 10 == 0) return arena_.Unmapped();
    std::size_t count;
    switch (rng_() % 10) {
      case 0:
        count = tracer::kMaxArgvEntries - 2 + rng_() % 5;
        break;
      case 1:
        count = 300 + rng_() % 3000;
        break;
      default:
        count = rng_() % 6;
    }
    // A few distinct strings, shared by the entries of long arrays.
    std::vector<std::uint64_t> pool;
    for (std::size_t i = 0, n = std::min<std::size_t>(count, 6); i < n; ++i)
      pool.push_back(String());
    std::string ptrs;
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t p = pool.empty() ? 0 : pool[rng_() % pool.size()];
      if (rng_() % 50 == 0) p = arena_.Unmapped();
      ptrs += tjtest::BytesOf(p);
    }
    const bool terminated = rng_() % 6 != 0;  // otherwise the array runs into unmapped memory
    if (terminated) ptrs += tjtest::BytesOf(std::uint64_t{0});
    if (!terminated && !ptrs.empty() && rng_() % 2) {
      ptrs.resize(ptrs.size() - 1 - rng_() % 7);  // a pointer cut by the edge
    }
    return arena_.Place(ptrs, !terminated || rng_() % 3 == 0);
  }

  std::uint64_t Sockaddr() {
    if (rng_() % 10 == 0) return arena_.Unmapped();
    std::string b = SockaddrBytes(rng_);
    last_sockaddr_len_ = b.size();
    if (b.size() > 2 && b[0] == AF_UNIX && b[1] == 0 && b[2] != '\0' && rng_() % 4 == 0) {
      constexpr int kErrors[] = {ENOENT, ELOOP, EACCES, ENOTDIR};
      ctx_.resolve_errors[b.substr(2, b.find('\0', 2) - 2)] = kErrors[rng_() % std::size(kErrors)];
    }
    return arena_.Place(b, rng_() % 3 == 0);
  }

  MsgHdr Msg() {
    MsgHdr m{};
    m.name = rng_() % 6 == 0 ? 0 : Sockaddr();
    m.namelen = static_cast<std::uint32_t>(
        m.name == 0 && rng_() % 2 ? 0 : SockLen(rng_, last_sockaddr_len_));
    m.iov = RandomWord(rng_);
    m.iovlen = RandomWord(rng_);
    m.control = RandomWord(rng_);
    m.controllen = RandomWord(rng_);
    m.flags = static_cast<std::int32_t>(rng_());
    return m;
  }

  std::uint64_t MsgHdrPtr() {
    if (rng_() % 10 == 0) return arena_.Unmapped();
    std::string b = tjtest::BytesOf(Msg());
    if (rng_() % 8 == 0) b.resize(rng_() % b.size());  // cut by the edge
    return arena_.Place(b, rng_() % 3 == 0);
  }

  // Returns the vector and sets `vlen`.
  std::uint64_t MMsgVector(std::uint64_t& vlen) {
    std::size_t count = rng_() % 8 == 0 ? tracer::kMaxMMsg - 2 + rng_() % 5 : rng_() % 5;
    std::vector<MsgHdr> distinct;
    for (std::size_t i = 0, n = std::min<std::size_t>(count, 4); i < n; ++i)
      distinct.push_back(Msg());
    std::string b;
    for (std::size_t i = 0; i < count; ++i) {
      b += tjtest::BytesOf(distinct[rng_() % distinct.size()]);
      b += std::string(kMMsgHdrSize - sizeof(MsgHdr), '\0');
    }
    switch (rng_() % 5) {
      case 0:
        vlen = RandomWord(rng_);
        break;
      case 1:
        vlen = (rng_() << 32) | count;
        break;
      case 2:
        vlen = count + 1 + rng_() % 3;  // past the end
        break;
      default:
        vlen = count;
    }
    if (rng_() % 10 == 0) return arena_.Unmapped();
    return arena_.Place(b, rng_() % 2 == 0);
  }

  // Sets `size`.
  std::uint64_t OpenHow(std::uint64_t& size) {
    std::uint64_t words[3] = {rng_() % 2 ? RandomWord(rng_) : rng_() & 0x7fffff, RandomWord(rng_),
                              rng_() % 2 ? rng_() % 0x40 : RandomWord(rng_)};
    std::string b(reinterpret_cast<const char*>(words), sizeof words);
    switch (rng_() % 8) {
      case 0:
        size = rng_() % 24;
        break;
      case 1:
        size = 4096 + rng_() % 3;
        break;
      case 2:
        size = RandomWord(rng_);
        break;
      case 3:
        size = 24 + rng_() % 4073;
        break;
      default:
        size = 24;
    }
    if (size > 24 && size <= 4200) {
      std::string tail(size - 24, '\0');
      if (rng_() % 3 == 0 && !tail.empty()) tail[rng_() % tail.size()] = '\x01';
      b += tail;
    }
    if (rng_() % 8 == 0) b.resize(rng_() % b.size());  // the edge cuts it
    if (rng_() % 10 == 0) return arena_.Unmapped();
    return arena_.Place(b, rng_() % 2 == 0);
  }

  // A pid, process group or flag as an int32, often at an edge.
  std::int32_t Int32() {
    constexpr std::int32_t kInts[] = {0, 1, 2, -1, INT32_MIN, INT32_MAX, 4242, -4242, 4300};
    return rng_() % 8 == 0 ? static_cast<std::int32_t>(rng_()) : kInts[rng_() % std::size(kInts)];
  }

  std::uint64_t Int32s(std::initializer_list<std::int32_t> values) {
    std::string b;
    for (std::int32_t v : values) b += tjtest::BytesOf(v);
    if (rng_() % 8 == 0) b.resize(rng_() % b.size());  // cut by the edge
    return arena_.Place(b, rng_() % 2 == 0);
  }

  // What an integer argument the decoder dereferences points at: random bytes, or int32s a
  // decoder looks for (an f_owner_ex, a capget header, FIOSETOWN's pid, FIOASYNC's flag).
  std::uint64_t Blob() {
    std::string b;
    if (rng_() % 2) {
      constexpr std::int32_t kInts[] = {0,         1,    2,          -1,        -2,
                                        INT32_MIN, 4242, -4242,      4300,      INT32_MIN + 1,
                                        INT32_MAX, 1,    0x20080522, 0x19980330};
      for (int i = 0; i < 4; ++i) b += tjtest::BytesOf(kInts[rng_() % std::size(kInts)]);
    } else {
      for (std::size_t i = 0, n = 1 + rng_() % 16; i < n; ++i)
        b += static_cast<char>(rng_() % 3 ? rng_() : 0);
    }
    return arena_.Place(b, rng_() % 2 == 0);
  }

  Args Build(const syscalls::SyscallRow& row) {
    using syscalls::Role;
    Args a{};
    for (auto& v : a) v = RandomWord(rng_);
    for (std::size_t i = 0; i < row.args.size(); ++i) {
      std::uint64_t& v = a[i];
      std::uint64_t* next = i + 1 < a.size() ? &a[i + 1] : nullptr;
      switch (row.args[i].role) {
        case Role::kPath:
        case Role::kString:
          v = rng_() % 20 == 0 ? RandomWord(rng_) : String();
          break;
        case Role::kDirFd:
        case Role::kFd:
        case Role::kFdPath: {
          constexpr std::uint64_t kFds[] = {
              static_cast<std::uint64_t>(AT_FDCWD), 0, 1, 3, 5, 6, 7, 8, 99};
          v = rng_() % 5 == 0 ? RandomWord(rng_) : kFds[rng_() % std::size(kFds)];
          if (v == static_cast<std::uint64_t>(AT_FDCWD) && rng_() % 4 == 0) v &= 0xffffffff;
          break;
        }
        case Role::kSockAddr:
          v = Sockaddr();
          if (next != nullptr) *next = SockLen(rng_, last_sockaddr_len_);
          break;
        case Role::kSockLen:
          break;  // set with its address
        case Role::kMsgHdr:
          v = MsgHdrPtr();
          break;
        case Role::kMMsgHdr:
          if (next != nullptr) v = MMsgVector(*next);
          ++i;  // the count is set
          break;
        case Role::kArgv:
        case Role::kEnvp:
          v = StringArray();
          break;
        case Role::kOpenHow:
          if (next != nullptr) v = OpenHow(*next);
          ++i;
          break;
        case Role::kPid: {
          constexpr std::uint64_t kPids[] = {4242,
                                             4243,
                                             4300,
                                             0,
                                             1,
                                             static_cast<std::uint64_t>(-1),
                                             static_cast<std::uint64_t>(-4242),
                                             0x80000000};
          v = rng_() % 3 == 0 ? RandomWord(rng_) : kPids[rng_() % std::size(kPids)];
          break;
        }
        case Role::kPtr:
        case Role::kHex:
        case Role::kInt:
          if (rng_() % 4 == 0) v = Blob();  // an argument the decoder dereferences
          break;
        default:
          break;
      }
    }
    // Requests and commands the decoders look for, now and then.
    if (row.name == "ioctl" && rng_() % 2) {
      constexpr std::uint64_t kRequests[] = {0x5412, 0x5452,     0x8901,     0x8902,     0x5401,
                                             0x5414, 0x40086602, 0x80086601, 0xc0185879, 0x94094};
      a[1] = kRequests[rng_() % std::size(kRequests)] | (rng_() % 4 == 0 ? rng_() << 32 : 0);
    }
    if (row.name == "fcntl" && rng_() % 4 != 0) {
      a[1] = std::array<std::uint64_t, 4>{4, 8, 15, 16}[rng_() % 4];
    }
    // The structures they read: FIOSETOWN's pid, F_SETOWN_EX's {type, pid}, capget's
    // {version, pid}, with ids at the edges.
    if (row.name == "ioctl" && rng_() % 2) a[2] = Int32s({Int32()});
    if (row.name == "fcntl" && rng_() % 2) {
      a[2] = Int32s({static_cast<std::int32_t>(rng_() % 4), Int32()});
    }
    if (row.name == "capget" && rng_() % 2) a[0] = Int32s({0x20080522, Int32()});
    return a;
  }

 private:
  FakeContext& ctx_;
  std::mt19937_64& rng_;
  Arena arena_;
  std::size_t last_sockaddr_len_ = 0;
};

int ExpectedHowErrno(const FakeMemory& mem, std::uint64_t how, std::uint64_t size) {
  if (size < 24) return EINVAL;
  if (size > 4096) return E2BIG;
  std::optional<std::string> bytes = ModelBytes(mem, how, static_cast<std::size_t>(size));
  if (!bytes) return EFAULT;
  if (std::any_of(bytes->begin() + 24, bytes->end(), [](char c) { return c != 0; })) return E2BIG;
  return 0;
}

bool SameAddress(const policy::SocketAddress& a, const policy::SocketAddress& b) {
  if (a.family != b.family || a.abstract != b.abstract || a.unnamed != b.unnamed) return false;
  if (a.family == AF_INET || a.family == AF_INET6) return a.ip == b.ip && a.port == b.port;
  return a.unix_path == b.unix_path;
}

// A socket address as the kernel reads `len` bytes of it at `addr` (len already checked
// against sockaddr_storage, or cut to it for msg_name): the errno the call fails with, or the
// address decided (none: no address, as with a NULL pointer or a send's empty name).
struct ExpectedName {
  int error = 0;
  std::optional<policy::SocketAddress> addr;
  std::string bytes;
};

ExpectedName ExpectName(const FakeContext& ctx, std::uint64_t addr, std::uint32_t len, bool send) {
  ExpectedName e;
  if (addr == 0) return e;
  if (static_cast<std::int32_t>(len) < 0) return {EINVAL, std::nullopt, {}};
  std::size_t n = std::min<std::size_t>(len, tracer::kMaxSockaddr);
  // A send's 0-byte name is no destination: sendmsg drops it (__copy_msghdr), and every
  // protocol ignores or refuses sendto's (unix and netlink send to the peer, TCP ignores it,
  // UDP fails); connect and bind fail with EINVAL.
  if (n == 0 && send) return e;
  std::optional<std::string> bytes = ModelBytes(ctx.mem, addr, n);
  if (!bytes) return {EFAULT, std::nullopt, {}};
  auto parsed = tracer::ParseSockaddr(
      std::span(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()));
  if (!parsed) return {EINVAL, std::nullopt, {}};
  if (send && parsed->family == AF_UNSPEC && n >= sizeof(sockaddr_in)) {
    std::string v4 = bytes->substr(0, sizeof(sockaddr_in));  // udp_sendmsg takes it as AF_INET
    v4[0] = static_cast<char>(AF_INET);
    v4[1] = 0;
    parsed = tracer::ParseSockaddr(
        std::span(reinterpret_cast<const std::uint8_t*>(v4.data()), v4.size()));
  }
  if (parsed->family == AF_UNIX && !parsed->abstract && !parsed->unnamed) {
    if (auto it = ctx.resolve_errors.find(parsed->unix_path); it != ctx.resolve_errors.end()) {
      return {it->second, std::nullopt, {}};
    }
    const std::string raw = parsed->unix_path;  // decided as resolved (FakeContext::Resolve)
    parsed->unix_path = base::NormalizePath(raw.starts_with('/') ? raw : ctx.cwd + "/" + raw);
  }
  e.addr = parsed;
  e.bytes = *bytes;
  return e;
}

// One decoded call against the byte model. `mem` has its allowed reads set.
void CheckDecoded(const syscalls::SyscallRow& row, const Args& a, FakeContext& ctx,
                  const tracer::DecodedCall& out, Problems& p) {
  using syscalls::Role;
  const FakeMemory& mem = ctx.mem;
  FUZZ_EXPECT(p, mem.stray_reads == 0,
              "{} read(s) outside what the kernel reads, first [{:#x}, {:#x})", mem.stray_reads,
              mem.first_stray.begin, mem.first_stray.end);
  FUZZ_EXPECT(p, out.row == &row && out.args == a && out.request.syscall == row.name, "identity");
  FUZZ_EXPECT(p, out.request.path_count >= 0 && out.request.path_count <= 2, "{}",
              out.request.path_count);
  const bool path_kind = row.kind == syscalls::Kind::kOpen || row.kind == syscalls::Kind::kPaths ||
                         row.kind == syscalls::Kind::kExec;
  for (int n = 0; path_kind && n < std::min(out.request.path_count, 2); ++n) {
    const std::string& raw = out.paths[static_cast<std::size_t>(n)].raw;
    FUZZ_EXPECT(p, raw.size() < tracer::kMaxPath && raw.find('\0') == std::string::npos,
                "path {} raw {}", n, Shown(raw));
  }
  FUZZ_EXPECT(p, out.addr_bytes.size() <= tracer::kMaxSockaddr, "{}", out.addr_bytes.size());
  FUZZ_EXPECT(p, out.msghdr_bytes.empty() || out.msghdr_bytes.size() == sizeof(MsgHdr), "{}",
              out.msghdr_bytes.size());
  FUZZ_EXPECT(p, out.request.more_net.size() <= tracer::kMaxMMsg, "{}",
              out.request.more_net.size());
  FUZZ_EXPECT(p, CleanText(out.note), "note {}", Shown(out.note));
  if (out.addr) {
    std::string text = tracer::AddressText(*out.addr);
    FUZZ_EXPECT(p, CleanText(text), "address text {}", Shown(text));
  }
  // A unix socket path is decided as the resolver resolved it (absolute, canonical), never as
  // the tracee wrote it: rules name absolute paths.
  if (out.early_errno == 0 && out.request.net) {
    std::vector<const policy::NetAccess*> nets{&*out.request.net};
    for (const auto& more : out.request.more_net) nets.push_back(&more);
    for (const policy::NetAccess* net : nets) {
      if (!net->addr || net->addr->family != AF_UNIX || net->addr->abstract || net->addr->unnamed) {
        continue;
      }
      const std::string& path = net->addr->unix_path;
      FUZZ_EXPECT(p, path.starts_with('/') && base::NormalizePath(path) == path,
                  "unix socket decided as {}", Shown(path));
    }
  }

  // Paths: open_how first (openat2), then each path exactly as the bytes say.
  int how_errno = 0;
  if (int h = syscalls::ArgOf(row, Role::kOpenHow); h >= 0) {
    auto hi = static_cast<std::size_t>(h);
    how_errno = ExpectedHowErrno(mem, a[hi], a[hi + 1]);
    if (how_errno != 0) {
      FUZZ_EXPECT(p, out.early_errno == how_errno && out.request.path_count == 0,
                  "open_how size {:#x}: errno {} (expected {})", a[hi + 1], out.early_errno,
                  how_errno);
    } else {
      auto flags = ModelValue<std::uint64_t>(mem, a[hi]);
      FUZZ_EXPECT(p, flags && out.open_flags == *flags, "open_how flags {:#x}", out.open_flags);
    }
  }
  if (path_kind && how_errno == 0 && syscalls::ArgOf(row, Role::kFdPath) < 0) {
    for (int n = 0; n < 2; ++n) {
      int i = syscalls::ArgOf(row, Role::kPath, n);
      if (i < 0) break;
      std::uint64_t v = a[static_cast<std::size_t>(i)];
      ModelString m = v == 0 && row.null_path_is_fd ? ModelString{}
                      : v == 0                      ? ModelString{StringStatus::kFault, {}}
                                                    : ModelCString(mem, v, tracer::kMaxPath);
      if (n < out.request.path_count) {
        FUZZ_EXPECT(
            p,
            m.status == StringStatus::kOk && out.paths[static_cast<std::size_t>(n)].raw == m.bytes,
            "path {} decoded as {}, bytes say {}", n,
            Shown(out.paths[static_cast<std::size_t>(n)].raw), Shown(m.bytes));
      } else if (n == out.request.path_count) {
        // The first path not decoded: the kernel's error for it.
        if (m.status == StringStatus::kFault) {
          FUZZ_EXPECT(p, out.early_errno == EFAULT, "unreadable path {}: errno {}", n,
                      out.early_errno);
        } else if (m.status == StringStatus::kTruncated) {
          FUZZ_EXPECT(p, out.early_errno == ENAMETOOLONG, "path {} too long: errno {}", n,
                      out.early_errno);
        } else {
          FUZZ_EXPECT(p, out.early_errno != 0, "path {} {} not decoded and no errno", n,
                      Shown(m.bytes));
        }
      }
    }
  }

  // argv and envp exactly as the model reads them, caps and markers included.
  tracer::StringList want_argv, want_envp;
  if (row.kind == syscalls::Kind::kExec) {
    if (int i = syscalls::ArgOf(row, Role::kArgv); i >= 0) {
      want_argv = ModelStringArray(mem, a[static_cast<std::size_t>(i)]);
    }
    if (int i = syscalls::ArgOf(row, Role::kEnvp); i >= 0) {
      want_envp = ModelStringArray(mem, a[static_cast<std::size_t>(i)]);
    }
  }
  for (const auto& [got, want, name] :
       {std::tuple(&out.argv, &want_argv, "argv"), std::tuple(&out.envp, &want_envp, "envp")}) {
    FUZZ_EXPECT(p, got->items.size() <= tracer::kMaxArgvEntries, "{}: {} entries", name,
                got->items.size());
    FUZZ_EXPECT(
        p,
        got->items == want->items && got->truncated == want->truncated && got->fault == want->fault,
        "{}: {} entries truncated {} fault {}, model {} entries truncated {} fault {}", name,
        got->items.size(), got->truncated, got->fault, want->items.size(), want->truncated,
        want->fault);
    for (const auto& s : got->items) {
      FUZZ_EXPECT(p, s.size() <= tracer::kMaxArgBytes, "{} entry of {} bytes", name, s.size());
    }
  }

  // Socket addresses as the kernel reads them: connect/bind/sendto's (int addrlen), sendmsg's
  // msg_name, and every message's of sendmmsg.
  if (row.kind == syscalls::Kind::kNet && row.verb != policy::NetVerb::kSocket) {
    const bool send = row.verb == policy::NetVerb::kSend;
    std::vector<ExpectedName> named;  // the destinations decided, in order
    int want_errno = 0;
    bool msghdr_read = false;
    if (int s = syscalls::ArgOf(row, Role::kSockAddr); s >= 0) {
      auto si = static_cast<std::size_t>(s);
      if (a[si] != 0 && static_cast<std::uint32_t>(a[si + 1]) > tracer::kMaxSockaddr) {
        want_errno = EINVAL;
      } else {
        ExpectedName e = ExpectName(ctx, a[si], static_cast<std::uint32_t>(a[si + 1]), send);
        want_errno = e.error;
        if (e.addr) named.push_back(e);
      }
    } else if (int m = syscalls::ArgOf(row, Role::kMsgHdr); m >= 0) {
      std::optional<MsgHdr> msg = ModelValue<MsgHdr>(mem, a[static_cast<std::size_t>(m)]);
      msghdr_read = msg.has_value();
      if (!msg) {
        want_errno = EFAULT;
      } else {
        ExpectedName e = ExpectName(ctx, msg->name, msg->namelen, true);
        want_errno = e.error;
        if (e.addr) named.push_back(e);
      }
    } else if (int v = syscalls::ArgOf(row, Role::kMMsgHdr); v >= 0) {
      auto vi = static_cast<std::size_t>(v);
      std::size_t n =
          std::min<std::size_t>(static_cast<std::uint32_t>(a[vi + 1]), tracer::kMaxMMsg);
      for (std::size_t k = 0; k < n && want_errno == 0; ++k) {
        std::optional<MsgHdr> msg = ModelValue<MsgHdr>(mem, a[vi] + k * kMMsgHdrSize);
        if (!msg) {
          if (k == 0) want_errno = EFAULT;
          break;  // the kernel sends the messages before a bad one
        }
        if (k == 0) msghdr_read = true;
        ExpectedName e = ExpectName(ctx, msg->name, msg->namelen, true);
        want_errno = e.error;
        if (e.addr) named.push_back(e);
      }
    }
    FUZZ_EXPECT(p, out.early_errno == want_errno, "{}: errno {} (expected {})", row.name,
                out.early_errno, want_errno);
    if (want_errno == 0) {
      FUZZ_EXPECT(p, out.addr.has_value() == !named.empty(), "{}: address decided {}, expected {}",
                  row.name, out.addr.has_value(), !named.empty());
      FUZZ_EXPECT(p, out.msghdr_bytes.empty() != msghdr_read, "msghdr copy of {} bytes",
                  out.msghdr_bytes.size());
      if (out.addr && !named.empty()) {
        FUZZ_EXPECT(p, SameAddress(*out.addr, *named[0].addr), "{}: first address", row.name);
        FUZZ_EXPECT(p, out.addr_bytes == named[0].bytes, "{}: decided on {} bytes, expected {}",
                    row.name, out.addr_bytes.size(), named[0].bytes.size());
        // The others follow, then a connect for MSG_FASTOPEN.
        int flags = -1;
        for (std::size_t i = 0; i < row.args.size(); ++i) {
          if (row.args[i].name == "flags") flags = static_cast<int>(i);
        }
        const bool fastopen =
            send && flags >= 0 && (a[static_cast<std::size_t>(flags)] & MSG_FASTOPEN) != 0;
        const auto& more = out.request.more_net;
        FUZZ_EXPECT(p, more.size() == named.size() - 1 + (fastopen ? 1 : 0),
                    "{}: {} more destinations, expected {} ", row.name, more.size(),
                    named.size() - 1 + (fastopen ? 1 : 0));
        for (std::size_t k = 1; k < named.size() && k - 1 < more.size(); ++k) {
          FUZZ_EXPECT(p, more[k - 1].addr && SameAddress(*more[k - 1].addr, *named[k].addr),
                      "{}: destination {}", row.name, k);
        }
      }
    }
  }

  // The rendering.
  json j;
  try {
    j = tracer::RenderArgs(out, ctx);
  } catch (const std::exception& e) {
    p.Add(fmt::format("RenderArgs threw: {}", e.what()));
    return;
  }
  FUZZ_EXPECT(p, j.is_object(), "{}", j.type_name());
  try {
    (void)j.dump();  // strict UTF-8
  } catch (const json::exception& e) {
    p.Add(fmt::format("RenderArgs is not valid UTF-8: {}", e.what()));
  }
  // A string is at most PATH_MAX bytes escaped (4 bytes each), and a resolved path at most
  // twice that (a cwd of up to PATH_MAX and a relative path).
  std::string dirty = FirstDirty(j, 8 * tracer::kMaxPath + 32, tracer::kMaxArgvEntries + 1);
  FUZZ_EXPECT(p, dirty.empty(), "{}", dirty);
  int path_n = 0;
  for (std::size_t i = 0; i < row.args.size(); ++i) {
    const syscalls::Arg& arg = row.args[i];
    if (arg.role == Role::kNone) continue;
    const std::string key(arg.name);
    const std::uint64_t v = a[i];
    const std::string hex = fmt::format("{:#x}", v);
    if (!j.contains(key)) {
      // Only a mode open(2) does not read is left out.
      FUZZ_EXPECT(p, arg.role == Role::kMode, "argument {} not rendered", key);
      continue;
    }
    const json& r = j[key];
    switch (arg.role) {
      case Role::kPath:
        if (path_n < out.request.path_count) {
          FUZZ_EXPECT(p,
                      r.is_object() &&
                          r.value("raw", json()) ==
                              base::EscapeBytes(out.paths[static_cast<std::size_t>(path_n)].raw),
                      "{}: {}", key, r.dump(-1, ' ', false, json::error_handler_t::replace));
        } else {
          FUZZ_EXPECT(p, r == hex, "{} not decoded: {}", key,
                      r.dump(-1, ' ', false, json::error_handler_t::replace));
        }
        ++path_n;
        break;
      case Role::kString: {
        ModelString m =
            v == 0 ? ModelString{StringStatus::kFault, {}} : ModelCString(mem, v, tracer::kMaxPath);
        json want = m.status == StringStatus::kFault
                        ? json(hex)
                        : json(base::EscapeBytes(m.bytes) +
                               (m.status == StringStatus::kTruncated ? "...(truncated)" : ""));
        FUZZ_EXPECT(p, r == want, "{}: {} (model {})", key,
                    r.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 100),
                    want.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 100));
        break;
      }
      case Role::kArgv:
        FUZZ_EXPECT(p, r == RenderedList(want_argv), "argv rendered with {} items", r.size());
        break;
      case Role::kEnvp:
        FUZZ_EXPECT(p, r == RenderedList(want_envp), "envp rendered with {} items", r.size());
        break;
      case Role::kSockAddr:
      case Role::kMsgHdr:
      case Role::kMMsgHdr:
        FUZZ_EXPECT(p, out.addr ? r == tracer::AddressJson(*out.addr) : r == hex, "{}", key);
        break;
      default:
        break;
    }
  }

  // What argument pinning would write for it (only allowed calls are pinned).
  if (out.early_errno == 0) {
    const std::uint64_t slot =
        tracer::PinSpace::Address(static_cast<int>(a[0] % syscalls::kPinSlots));
    tracer::PinPlan plan = tracer::PlanPins(out, slot);
    FUZZ_EXPECT(p, plan.bytes.size() <= syscalls::kPinSlotSize, "pin plan of {} bytes",
                plan.bytes.size());
    for (const auto& [reg, value] : plan.registers) {
      FUZZ_EXPECT(p, reg >= 0 && reg < 6, "register {}", reg);
      if (reg < 0 || reg >= 6) continue;
      Role role = row.args[static_cast<std::size_t>(reg)].role;
      bool pointer = plan.syscall != -1 ? (reg == 1 || reg == 2)
                                        : role == Role::kPath || role == Role::kSockAddr ||
                                              role == Role::kMsgHdr || role == Role::kMMsgHdr ||
                                              role == Role::kOpenHow;
      if (plan.as_sendmsg && reg == 2) pointer = false;  // sendmsg's flags
      if (!pointer) continue;
      FUZZ_EXPECT(p, value >= slot && value < slot + plan.bytes.size(),
                  "register {} = {:#x} outside the slot [{:#x}, +{})", reg, value, slot,
                  plan.bytes.size());
      if (role == Role::kPath && plan.syscall == -1 && value >= slot &&
          value < slot + plan.bytes.size()) {
        auto nul = plan.bytes.find('\0', value - slot);
        FUZZ_EXPECT(p, nul != std::string::npos && nul - (value - slot) < tracer::kMaxPath,
                    "pinned path {} unterminated or too long", reg);
      }
    }
    if (int s = syscalls::ArgOf(row, Role::kSockAddr); s >= 0 && plan.syscall == -1) {
      for (const auto& [reg, value] : plan.registers) {
        if (reg == s + 1) FUZZ_EXPECT(p, value <= tracer::kMaxSockaddr, "pinned addrlen {}", value);
      }
    }
  }
}

}  // namespace

TEST_CASE("fuzz: decoders: ReadCString and ReadExact read exactly what the bytes say",
          "[fuzz][decode]") {
  const Rounds rounds = Scaled(10000);
  int failures = 0;
  for (int round = rounds.begin; round < rounds.end; ++round) {
    const std::uint64_t seed = RoundSeed(1, round);
    std::mt19937_64 rng(seed);
    FakeMemory mem(rng() % 2 ? FakeMemory::Mode::kShortReads : FakeMemory::Mode::kStrict);
    // A few pages around 0x40000, each mapped or not, with sparse NULs.
    constexpr std::uint64_t kBase = 0x40000;
    for (std::uint64_t pg = 0; pg < 5; ++pg) {
      if (rng() % 4 == 0) continue;
      mem.MapPage(kBase + pg * 4096, static_cast<std::uint8_t>(1 + rng() % 255));
      for (std::size_t k = 0, n = rng() % 3; k < n; ++k) {
        mem.Write(kBase + pg * 4096 + rng() % 4096, std::string(1, '\0'));
      }
    }
    mem.max_chunk = rng() % 3 == 0 ? 1 + rng() % 300 : 0;
    const std::uint64_t addr = kBase + rng() % (5 * 4096);
    const std::size_t max = rng() % 4 == 0 ? rng() % 16 : rng() % 9000;
    mem.Allow(addr, max);
    Problems p;
    std::string got;
    StringStatus st = tracer::ReadCString(mem, addr, max, got);
    ModelString m = ModelCString(mem, addr, max);
    FUZZ_EXPECT(p, st == m.status, "status {} model {}", static_cast<int>(st),
                static_cast<int>(m.status));
    if (st != StringStatus::kFault)
      FUZZ_EXPECT(p, got == m.bytes, "{} vs {} bytes", got.size(), m.bytes.size());
    FUZZ_EXPECT(p, got.size() <= max, "{} bytes over a cap of {}", got.size(), max);
    FUZZ_EXPECT(p, mem.stray_reads == 0, "stray read [{:#x}, {:#x})", mem.first_stray.begin,
                mem.first_stray.end);

    const std::size_t len = rng() % 6000;
    mem.allowed.clear();
    mem.Allow(addr, len);
    std::string buf(len, '\0');
    bool ok = tracer::ReadExact(mem, addr, buf.data(), len);
    std::optional<std::string> want = ModelBytes(mem, addr, len);
    FUZZ_EXPECT(p, ok == want.has_value(), "ReadExact {} of {} bytes", ok, len);
    if (ok && want) FUZZ_EXPECT(p, buf == *want, "ReadExact bytes");
    FUZZ_EXPECT(p, mem.stray_reads == 0, "stray read [{:#x}, {:#x})", mem.first_stray.begin,
                mem.first_stray.end);
    if (!Report(p, "memory", seed, round, failures)) break;
  }
}

TEST_CASE("fuzz: decoders: ProcessMemory reads pages of this process as the bytes say",
          "[fuzz][decode]") {
  // The live reader (process_vm_readv, /proc/PID/mem for what that refuses) on real pages of
  // this process: read-write, PROT_NONE (readable through /proc/PID/mem only) and unmapped,
  // between unmapped guard pages.
  constexpr std::size_t kPages = 6;
  constexpr std::size_t kSize = kPages * tracer::kPageSize;
  tracer::ProcessMemory mem(getpid());
  const Rounds rounds = Scaled(1500);
  int failures = 0;
  for (int round = rounds.begin; round < rounds.end; ++round) {
    const std::uint64_t seed = RoundSeed(6, round);
    std::mt19937_64 rng(seed);
    void* map = mmap(nullptr, kSize + 2 * tracer::kPageSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(map != MAP_FAILED);
    auto* base = static_cast<std::uint8_t*>(map) + tracer::kPageSize;
    REQUIRE(munmap(map, tracer::kPageSize) == 0);
    REQUIRE(munmap(base + kSize, tracer::kPageSize) == 0);
    std::vector<std::optional<std::uint8_t>> model(kSize);
    for (std::size_t pg = 0; pg < kPages; ++pg) {
      std::uint8_t* page = base + pg * tracer::kPageSize;
      const std::uint64_t nul_every = 1 + rng() % 2000;
      for (std::size_t i = 0; i < tracer::kPageSize; ++i) {
        page[i] = rng() % nul_every == 0 ? 0 : static_cast<std::uint8_t>(1 + rng() % 255);
        model[pg * tracer::kPageSize + i] = page[i];
      }
      switch (rng() % 5) {
        case 0:
          REQUIRE(munmap(page, tracer::kPageSize) == 0);
          std::fill_n(model.begin() + static_cast<std::ptrdiff_t>(pg * tracer::kPageSize),
                      tracer::kPageSize, std::nullopt);
          break;
        case 1:
          REQUIRE(mprotect(page, tracer::kPageSize, PROT_NONE) == 0);
          break;
        default:
          break;
      }
    }
    const auto start = reinterpret_cast<std::uintptr_t>(base);
    auto peek = [&](std::uint64_t at) -> std::optional<std::uint8_t> {
      if (at < start || at - start >= kSize) return std::nullopt;
      return model[at - start];
    };
    const std::uint64_t addr = start + rng() % kSize;
    const std::size_t max = rng() % 4 == 0 ? rng() % 16 : rng() % 9000;
    const std::size_t len = rng() % 9000;
    Problems p;
    std::string got;
    StringStatus st = tracer::ReadCString(mem, addr, max, got);
    ModelString m = ModelCStringOf(peek, addr, max);
    FUZZ_EXPECT(p, st == m.status, "ReadCString at +{:#x} max {}: status {} model {}", addr - start,
                max, static_cast<int>(st), static_cast<int>(m.status));
    if (st != StringStatus::kFault && st == m.status) {
      FUZZ_EXPECT(p, got == m.bytes, "ReadCString {} vs {} bytes", got.size(), m.bytes.size());
    }
    std::string buf(len, '\0');
    bool ok = tracer::ReadExact(mem, addr, buf.data(), len);
    std::optional<std::string> want = ModelBytesOf(peek, addr, len);
    FUZZ_EXPECT(p, ok == want.has_value(), "ReadExact at +{:#x} of {} bytes: {}", addr - start, len,
                ok);
    if (ok && want) FUZZ_EXPECT(p, buf == *want, "ReadExact bytes");
    munmap(base, kSize);  // what is left of it
    if (!Report(p, "process memory", seed, round, failures)) break;
  }
}

TEST_CASE("fuzz: decoders: sockaddrs of every family and length parse as their bytes say",
          "[fuzz][decode]") {
  const Rounds rounds = Scaled(30000);
  int failures = 0;
  for (int round = rounds.begin; round < rounds.end; ++round) {
    const std::uint64_t seed = RoundSeed(2, round);
    std::mt19937_64 rng(seed);
    std::string b = SockaddrBytes(rng);
    if (b.size() > tracer::kMaxSockaddr) b.resize(tracer::kMaxSockaddr);  // as ReadSockaddr cuts it
    auto u8 = [&](std::size_t i) { return static_cast<std::uint8_t>(b[i]); };
    Problems p;
    std::optional<policy::SocketAddress> a;
    try {
      a = tracer::ParseSockaddr(
          std::span(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
    } catch (const std::exception& e) {
      p.Add(fmt::format("threw {}", e.what()));
    }
    const int family = b.size() >= 2 ? u8(0) | (u8(1) << 8) : -1;
    const bool too_short = b.size() < 2 || (family == AF_INET && b.size() < 16) ||
                           (family == AF_INET6 && b.size() < 24);
    FUZZ_EXPECT(p, a.has_value() == !too_short, "family {} of {} bytes", family, b.size());
    if (a) {
      FUZZ_EXPECT(p, a->family == family, "{}", a->family);
      std::array<std::uint8_t, 16> ip{};
      std::uint16_t port = 0;
      std::string path;
      bool abstract = false, unnamed = false;
      if (family == AF_INET) {
        std::memcpy(ip.data(), b.data() + 4, 4);
        port = static_cast<std::uint16_t>(u8(2) << 8 | u8(3));
      } else if (family == AF_INET6) {
        std::memcpy(ip.data(), b.data() + 8, 16);
        port = static_cast<std::uint16_t>(u8(2) << 8 | u8(3));
      } else if (family == AF_UNIX) {
        unnamed = b.size() == 2;
        abstract = b.size() > 2 && b[2] == '\0';
        path = abstract ? b.substr(3)
                        : b.substr(2, b.find('\0', 2) == std::string::npos ? std::string::npos
                                                                           : b.find('\0', 2) - 2);
      }
      FUZZ_EXPECT(p, a->ip == ip && a->port == port, "address fields of family {}", family);
      FUZZ_EXPECT(p, a->unix_path == path && a->abstract == abstract && a->unnamed == unnamed,
                  "unix {} abstract {} unnamed {}, bytes say {} {} {}", Shown(a->unix_path),
                  a->abstract, a->unnamed, Shown(path), abstract, unnamed);
      FUZZ_EXPECT(p, a->unix_path.size() <= tracer::kMaxSockaddr - 2, "{}", a->unix_path.size());
      std::string text = tracer::AddressText(*a);
      json j = tracer::AddressJson(*a);
      FUZZ_EXPECT(p, CleanText(text), "text {}", Shown(text));
      std::string dirty = FirstDirty(j, 4 * tracer::kMaxSockaddr, 0);
      FUZZ_EXPECT(p, dirty.empty(), "{}", dirty);
      FUZZ_EXPECT(p,
                  j.value("family", "") == xlat::SocketFamily(static_cast<std::uint64_t>(family)),
                  "family");
      if (family == AF_INET || family == AF_INET6) {
        std::array<std::uint8_t, 16> back{};
        FUZZ_EXPECT(p,
                    inet_pton(family, j.value("address", "").c_str(), back.data()) == 1 &&
                        back == ip && j.value("port", -1) == port,
                    "{}", j.dump());
      } else if (family == AF_UNIX) {
        std::string_view key = unnamed ? "unnamed" : abstract ? "abstract" : "path";
        FUZZ_EXPECT(p, j.size() == 2 && j.contains(key), "{}", j.dump());
        if (!unnamed)
          FUZZ_EXPECT(p, j[std::string(key)] == base::EscapeBytes(path), "{}", j.dump());
      } else {
        FUZZ_EXPECT(p, j.size() == 1, "{}", j.dump());
      }
    }
    if (!Report(p, "sockaddr of " + Shown(b), seed, round, failures)) break;
  }
}

namespace {

// Name tables of the kernel headers, for reading renderings back.
#define TJ_NAME(x) \
  { #x, static_cast < std::uint64_t>(x) }
const std::map<std::string, std::uint64_t> kOpenNames = {
    TJ_NAME(O_SYNC),     TJ_NAME(O_TMPFILE), TJ_NAME(O_CREAT),         TJ_NAME(O_EXCL),
    TJ_NAME(O_NOCTTY),   TJ_NAME(O_TRUNC),   TJ_NAME(O_APPEND),        TJ_NAME(O_NONBLOCK),
    TJ_NAME(O_DSYNC),    TJ_NAME(O_DIRECT),  {"O_LARGEFILE", 0100000}, TJ_NAME(O_DIRECTORY),
    TJ_NAME(O_NOFOLLOW), TJ_NAME(O_NOATIME), TJ_NAME(O_CLOEXEC),       TJ_NAME(O_PATH),
    {"O_ASYNC", FASYNC}};
const std::map<std::string, std::uint64_t> kAccNames = {TJ_NAME(O_RDONLY), TJ_NAME(O_WRONLY),
                                                        TJ_NAME(O_RDWR)};
const std::map<std::string, std::uint64_t> kAtNames = {
    TJ_NAME(AT_SYMLINK_NOFOLLOW),    TJ_NAME(AT_REMOVEDIR),          TJ_NAME(AT_SYMLINK_FOLLOW),
    TJ_NAME(AT_NO_AUTOMOUNT),        TJ_NAME(AT_EMPTY_PATH),         TJ_NAME(AT_EACCESS),
    {"AT_STATX_FORCE_SYNC", 0x2000}, {"AT_STATX_DONT_SYNC", 0x4000}, {"AT_RECURSIVE", 0x8000}};
const std::map<std::string, std::uint64_t> kTypeNames = {
    TJ_NAME(S_IFREG), TJ_NAME(S_IFDIR), TJ_NAME(S_IFCHR), TJ_NAME(S_IFBLK),
    TJ_NAME(S_IFIFO), TJ_NAME(S_IFLNK), TJ_NAME(S_IFSOCK)};
const std::map<std::string, std::uint64_t> kFamilyNames = {
    TJ_NAME(AF_UNSPEC),  TJ_NAME(AF_UNIX),      TJ_NAME(AF_INET),      TJ_NAME(AF_AX25),
    TJ_NAME(AF_IPX),     TJ_NAME(AF_APPLETALK), TJ_NAME(AF_INET6),     TJ_NAME(AF_KEY),
    TJ_NAME(AF_NETLINK), TJ_NAME(AF_PACKET),    TJ_NAME(AF_RDS),       TJ_NAME(AF_LLC),
    TJ_NAME(AF_CAN),     TJ_NAME(AF_TIPC),      TJ_NAME(AF_BLUETOOTH), TJ_NAME(AF_ALG),
    TJ_NAME(AF_VSOCK),   TJ_NAME(AF_XDP)};
const std::map<std::string, std::uint64_t> kSockTypeNames = {
    TJ_NAME(SOCK_STREAM),    TJ_NAME(SOCK_DGRAM), TJ_NAME(SOCK_RAW),   TJ_NAME(SOCK_RDM),
    TJ_NAME(SOCK_SEQPACKET), TJ_NAME(SOCK_DCCP),  TJ_NAME(SOCK_PACKET)};
const std::map<std::string, std::uint64_t> kSockBitNames = {TJ_NAME(SOCK_NONBLOCK),
                                                            TJ_NAME(SOCK_CLOEXEC)};
const std::map<std::string, std::uint64_t> kCloneNames = {TJ_NAME(CLONE_VM),
                                                          TJ_NAME(CLONE_FS),
                                                          TJ_NAME(CLONE_FILES),
                                                          TJ_NAME(CLONE_SIGHAND),
                                                          TJ_NAME(CLONE_PIDFD),
                                                          TJ_NAME(CLONE_PTRACE),
                                                          TJ_NAME(CLONE_VFORK),
                                                          TJ_NAME(CLONE_PARENT),
                                                          TJ_NAME(CLONE_THREAD),
                                                          TJ_NAME(CLONE_NEWNS),
                                                          TJ_NAME(CLONE_SYSVSEM),
                                                          TJ_NAME(CLONE_SETTLS),
                                                          TJ_NAME(CLONE_PARENT_SETTID),
                                                          TJ_NAME(CLONE_CHILD_CLEARTID),
                                                          TJ_NAME(CLONE_DETACHED),
                                                          TJ_NAME(CLONE_UNTRACED),
                                                          TJ_NAME(CLONE_CHILD_SETTID),
                                                          TJ_NAME(CLONE_NEWCGROUP),
                                                          TJ_NAME(CLONE_NEWUTS),
                                                          TJ_NAME(CLONE_NEWIPC),
                                                          TJ_NAME(CLONE_NEWUSER),
                                                          TJ_NAME(CLONE_NEWPID),
                                                          TJ_NAME(CLONE_NEWNET),
                                                          TJ_NAME(CLONE_IO)};
const std::map<std::string, std::uint64_t> kPtraceNames = {TJ_NAME(PTRACE_TRACEME),
                                                           TJ_NAME(PTRACE_PEEKTEXT),
                                                           TJ_NAME(PTRACE_PEEKDATA),
                                                           TJ_NAME(PTRACE_PEEKUSER),
                                                           TJ_NAME(PTRACE_POKETEXT),
                                                           TJ_NAME(PTRACE_POKEDATA),
                                                           TJ_NAME(PTRACE_POKEUSER),
                                                           TJ_NAME(PTRACE_CONT),
                                                           TJ_NAME(PTRACE_KILL),
                                                           TJ_NAME(PTRACE_SINGLESTEP),
                                                           TJ_NAME(PTRACE_GETREGS),
                                                           TJ_NAME(PTRACE_SETREGS),
                                                           TJ_NAME(PTRACE_ATTACH),
                                                           TJ_NAME(PTRACE_DETACH),
                                                           TJ_NAME(PTRACE_SYSCALL),
                                                           TJ_NAME(PTRACE_SETOPTIONS),
                                                           TJ_NAME(PTRACE_GETEVENTMSG),
                                                           TJ_NAME(PTRACE_GETSIGINFO),
                                                           TJ_NAME(PTRACE_SETSIGINFO),
                                                           TJ_NAME(PTRACE_SEIZE),
                                                           TJ_NAME(PTRACE_INTERRUPT),
                                                           TJ_NAME(PTRACE_LISTEN),
                                                           TJ_NAME(PTRACE_GET_SYSCALL_INFO)};
const std::map<std::string, std::uint64_t> kSeccompNames = {
    TJ_NAME(SECCOMP_SET_MODE_STRICT), TJ_NAME(SECCOMP_SET_MODE_FILTER),
    TJ_NAME(SECCOMP_GET_ACTION_AVAIL), TJ_NAME(SECCOMP_GET_NOTIF_SIZES)};
const std::map<std::string, std::uint64_t> kPrctlNames = {
    TJ_NAME(PR_SET_SECCOMP),  TJ_NAME(PR_GET_SECCOMP),   TJ_NAME(PR_SET_NO_NEW_PRIVS),
    TJ_NAME(PR_SET_DUMPABLE), TJ_NAME(PR_SET_PDEATHSIG), TJ_NAME(PR_SET_NAME)};
#undef TJ_NAME

std::vector<std::string> SplitBar(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t bar = s.find('|', start);
    parts.push_back(s.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) return parts;
    start = bar + 1;
  }
}

// A number as the renderers write one: "0x..." hex, or decimal (possibly negative).
std::optional<std::uint64_t> ParseNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  std::uint64_t v;
  if (s.starts_with("0x")) {
    if (s.size() == 2) return std::nullopt;
    v = std::strtoull(s.c_str() + 2, &end, 16);
  } else if (s[0] == '-') {
    v = static_cast<std::uint64_t>(std::strtoll(s.c_str(), &end, 10));
  } else {
    v = std::strtoull(s.c_str(), &end, 10);
  }
  if (errno != 0 || *end != '\0') return std::nullopt;
  return v;
}

std::optional<std::uint64_t> ParseSignal(const std::string& s) {
  if (s.starts_with("SIGRT_")) {
    auto n = ParseNumber(s.substr(6));
    if (!n || *n > static_cast<std::uint64_t>(SIGRTMAX - SIGRTMIN)) return std::nullopt;
    return *n + static_cast<std::uint64_t>(SIGRTMIN);
  }
  if (s.starts_with("SIG")) {
    for (int sig = 1; sig < 64; ++sig) {
      const char* abbrev = sigabbrev_np(sig);
      if (abbrev != nullptr && s.substr(3) == abbrev) return static_cast<std::uint64_t>(sig);
    }
    return std::nullopt;
  }
  return ParseNumber(s);
}

// Reads back Flags(): table names (each at most once) then at most one hex leftover, or "0".
std::optional<std::uint64_t> ParseFlags(const std::string& s,
                                        const std::map<std::string, std::uint64_t>& names) {
  if (s == "0") return 0;
  std::uint64_t v = 0;
  std::vector<std::string> parts = SplitBar(s);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (auto it = names.find(parts[i]); it != names.end()) {
      if ((v & it->second) == it->second) return std::nullopt;  // named twice
      v |= it->second;
    } else if (i + 1 == parts.size() && parts[i].starts_with("0x")) {
      auto n = ParseNumber(parts[i]);
      if (!n || *n == 0 || (*n & v) != 0) return std::nullopt;
      v |= *n;
    } else {
      return std::nullopt;
    }
  }
  return v;
}

std::optional<std::uint64_t> ParseEnum(const std::string& s,
                                       const std::map<std::string, std::uint64_t>& names) {
  if (auto it = names.find(s); it != names.end()) return it->second;
  auto n = ParseNumber(s);
  if (!n || s.starts_with("0x")) return std::nullopt;
  for (const auto& [name, value] : names) {
    if (value == *n) return std::nullopt;  // a known value must be named
  }
  return n;
}

// "A|B" -> ("A", "B"); ("A", "") when there is no bar.
std::pair<std::string, std::string> Head(const std::string& s) {
  std::size_t bar = s.find('|');
  if (bar == std::string::npos) return {s, ""};
  return {s.substr(0, bar), s.substr(bar + 1)};
}

}  // namespace

TEST_CASE("fuzz: decoders: flag and enum renderings of random bits read back to the value",
          "[fuzz][decode]") {
  const Rounds rounds = Scaled(20000);
  int failures = 0;
  for (int round = rounds.begin; round < rounds.end; ++round) {
    const std::uint64_t seed = RoundSeed(3, round);
    std::mt19937_64 rng(seed);
    const std::uint64_t v = RandomWord(rng);
    Problems p;
    auto check = [&](std::string_view what, const std::string& text,
                     std::optional<std::uint64_t> back, std::uint64_t want) {
      FUZZ_EXPECT(
          p,
          !text.empty() && text.size() <= 1024 && CleanText(text) &&
              std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; }),
          "{}({:#x}) = {}", what, want, Shown(text));
      FUZZ_EXPECT(p, back && *back == want, "{}({:#x}) = {} reads back as {:#x}", what, want, text,
                  back.value_or(0));
    };

    std::string open = xlat::OpenFlags(v);
    {
      auto [acc, rest] = Head(open);
      auto accv = ParseEnum(acc, kAccNames);
      auto restv = rest.empty() ? std::optional<std::uint64_t>(0) : ParseFlags(rest, kOpenNames);
      std::optional<std::uint64_t> back;
      if (accv && restv && *accv <= 3 && (*restv & 3) == 0 && !(rest == "0")) back = *accv | *restv;
      check("OpenFlags", open, back, v);
    }
    std::string at = xlat::AtFlags(v);
    check("AtFlags", at, ParseFlags(at, kAtNames), v);
    std::string mode = xlat::Mode(v);
    {
      auto [first, second] = Head(mode);
      std::string perm = second.empty() ? first : second;
      std::optional<std::uint64_t> back;
      if (perm.size() >= 4 && perm[0] == '0' &&
          perm.find_first_not_of("01234567") == std::string::npos) {
        std::uint64_t bits = std::strtoull(perm.c_str(), nullptr, 8);
        std::optional<std::uint64_t> type =
            second.empty() ? std::optional<std::uint64_t>(0) : ParseEnum(first, kTypeNames);
        if (type && (*type != 0) == !second.empty() && (*type & ~std::uint64_t{S_IFMT}) == 0) {
          back = *type | bits;
        }
      }
      check("Mode", mode, back, v & (S_IFMT | 07777));  // the kernel's umode_t bits
    }
    std::string family = xlat::SocketFamily(v);
    check("SocketFamily", family, ParseEnum(family, kFamilyNames), v);
    std::string type = xlat::SocketType(v);
    {
      auto [base, rest] = Head(type);
      auto basev = ParseEnum(base, kSockTypeNames);
      auto restv = rest.empty() ? std::optional<std::uint64_t>(0) : ParseFlags(rest, kSockBitNames);
      std::optional<std::uint64_t> back;
      if (basev && restv && *basev <= 0xf && (*restv & 0xf) == 0 && rest != "0")
        back = *basev | *restv;
      check("SocketType", type, back, v);
    }
    std::string clone = xlat::CloneFlags(v);
    {
      std::optional<std::uint64_t> back;
      std::vector<std::string> parts = SplitBar(clone);
      std::uint64_t sig = v & CSIGNAL;
      std::string bits_text;
      bool ok = true;
      if (sig != 0) {
        auto s = ParseSignal(parts.back());
        ok = s && *s == sig && !parts.back().starts_with("0x");
        parts.pop_back();
      }
      for (const auto& part : parts) bits_text += (bits_text.empty() ? "" : "|") + part;
      auto bits =
          bits_text.empty() ? std::optional<std::uint64_t>(0) : ParseFlags(bits_text, kCloneNames);
      if (ok && bits && (*bits & CSIGNAL) == 0 && !(bits_text == "0" && sig != 0))
        back = *bits | sig;
      check("CloneFlags", clone, back, v);
    }
    std::string ptrace = xlat::PtraceRequest(v);
    check("PtraceRequest", ptrace, ParseEnum(ptrace, kPtraceNames), v);
    std::string seccomp = xlat::SeccompOp(v);
    check("SeccompOp", seccomp, ParseEnum(seccomp, kSeccompNames), v);
    std::string prctl = xlat::PrctlOp(v);
    check("PrctlOp", prctl, ParseEnum(prctl, kPrctlNames), v);
    std::string sig = xlat::Signal(v);
    check("Signal", sig, ParseSignal(sig), v);

    // Flags() on a random table with composites: names only entries whose bits are all set.
    std::vector<xlat::Name> table;
    std::map<std::string, std::uint64_t> names;
    std::vector<std::string> storage(6);
    for (std::size_t i = 0; i < storage.size(); ++i) {
      storage[i] = fmt::format("F{}", i);
      std::uint64_t bits = rng() % 3 == 0 ? (rng() & rng() & 0xff) : 1ULL << (rng() % 10);
      table.push_back({bits, storage[i]});
      if (bits != 0 && !names.contains(storage[i])) names[storage[i]] = bits;
    }
    const std::uint64_t small = v & 0x3ff;
    std::string flags = xlat::Flags(small, table);
    std::uint64_t named = 0, hex = 0;
    bool ok = true;
    for (const auto& part : SplitBar(flags)) {
      if (auto it = names.find(part); it != names.end()) {
        ok = ok && (small & it->second) == it->second;
        named |= it->second;
      } else if (auto n = ParseNumber(part)) {
        hex |= *n;
      } else {
        ok = false;
      }
    }
    FUZZ_EXPECT(p, ok && (named | hex) == small && (named & hex) == 0, "Flags({:#x}) = {}", small,
                flags);
    if (!Report(p, fmt::format("value {:#x}", v), seed, round, failures)) break;
  }
}

namespace {

// The inverse of EscapeBytes: "\\" is a backslash, "\xHH" a byte, anything else itself.
std::optional<std::string> Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (i + 3 < s.size() && s[i + 1] == 'x' &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 3]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16));
      i += 3;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("fuzz: decoders: escaped tracee bytes are clean UTF-8 and reversible", "[fuzz][decode]") {
  const Rounds rounds = Scaled(20000);
  int failures = 0;
  constexpr std::string_view kDangerous[] = {"\xe2\x80\xae", "\xe2\x80\xab", "\xe2\x81\xa6",
                                             "\xe2\x80\x8f", "\xe2\x80\xa8", "\xef\xbb\xbf",
                                             "\xc2\x9b",     "\xc2\x85"};
  for (int round = rounds.begin; round < rounds.end; ++round) {
    const std::uint64_t seed = RoundSeed(4, round);
    std::mt19937_64 rng(seed);
    std::string bytes = HostileBytes(rng, rng() % 200);
    if (rng() % 4 == 0) bytes += std::string(1 + rng() % 3, '\0');
    Problems p;
    std::string e = base::EscapeBytes(bytes);
    FUZZ_EXPECT(p, CleanText(e), "{}", Shown(e));
    for (auto d : kDangerous)
      FUZZ_EXPECT(p, e.find(d) == std::string::npos, "kept a dangerous character");
    std::optional<std::string> back = Unescape(e);
    FUZZ_EXPECT(p, back && *back == bytes, "does not read back");
    FUZZ_EXPECT(p, e.size() <= 4 * bytes.size(), "{} bytes for {}", e.size(), bytes.size());
    if (!Report(p, "bytes " + Shown(bytes), seed, round, failures)) break;
  }
}

TEST_CASE("fuzz: decoders: every syscall row decodes hostile arguments within bounds",
          "[fuzz][decode]") {
  // Rows by what they decode: the table is half plain rows, which read nothing.
  using syscalls::Role;
  std::vector<const syscalls::SyscallRow*> all, exec, net, paths, structs, other;
  for (const syscalls::SyscallRow& row : syscalls::SyscallTable()) {
    all.push_back(&row);
    auto has = [&](std::initializer_list<Role> roles) {
      return std::any_of(row.args.begin(), row.args.end(), [&](const syscalls::Arg& arg) {
        return std::find(roles.begin(), roles.end(), arg.role) != roles.end();
      });
    };
    if (row.kind == syscalls::Kind::kExec || row.name == "openat2") {
      exec.push_back(&row);
    } else if (has({Role::kSockAddr, Role::kMsgHdr, Role::kMMsgHdr})) {
      net.push_back(&row);
    } else if (row.kind == syscalls::Kind::kIoctl || row.kind == syscalls::Kind::kFcntl ||
               row.kind == syscalls::Kind::kCapget || row.kind == syscalls::Kind::kAdjtime) {
      structs.push_back(&row);  // an integer argument is a pointer to a structure
    } else if (has({Role::kPath, Role::kString})) {
      paths.push_back(&row);
    } else if (row.kind != syscalls::Kind::kPlain) {
      other.push_back(&row);  // registers only: pids, groups, signals, flags
    }
  }
  REQUIRE(exec.size() == 3);  // execve, execveat, openat2
  REQUIRE(net.size() == 5);
  REQUIRE(structs.size() >= 4);
  REQUIRE(paths.size() > 50);
  const Rounds rounds = Scaled(50000);
  int failures = 0;
  for (int round = rounds.begin; round < rounds.end; ++round) {
    const std::uint64_t seed = RoundSeed(5, round);
    std::mt19937_64 rng(seed);
    const std::uint64_t pick = rng() % 20;
    const auto& from = pick < 3    ? exec
                       : pick < 7  ? net
                       : pick < 13 ? paths
                       : pick < 15 ? structs
                       : pick < 18 ? other
                                   : all;
    const syscalls::SyscallRow& row = *from[rng() % from.size()];
    FakeContext ctx;
    ctx.mem = FakeMemory(rng() % 2 ? FakeMemory::Mode::kShortReads : FakeMemory::Mode::kStrict);
    if (rng() % 4 == 0) ctx.mem.max_chunk = 1 + rng() % 64;
    ctx.pin_paths = rng() % 2 == 0;
    ctx.dir_fds = {{7, "/srv/data"}, {8, "/tmp/" + HostileBytes(rng, 1 + rng() % 30)}};
    if (rng() % 5 == 0) {  // the real resolver fails a cwd deeper than PATH_MAX
      ctx.cwd = "/" + HostileBytes(rng, std::min(HostileLength(rng), tracer::kMaxPath - 2));
    }
    ctx.pidfds = {{5, 4300}, {6, 1}};
    ctx.terminals = {{0, FakeContext::Terminal::kCallers}, {1, FakeContext::Terminal::kTerminal}};
    CallBuilder builder(ctx, rng);
    const Args args = builder.Build(row);
    AllowKernelReads(row, args, ctx.mem);

    Problems p;
    tracer::DecodedCall out;
    try {
      tracer::Decode(row, args, ctx, out);
      CheckDecoded(row, args, ctx, out, p);
    } catch (const std::exception& e) {
      p.Add(fmt::format("threw {}", e.what()));
    }
    if (!Report(p,
                fmt::format("{}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x})", row.name, args[0],
                            args[1], args[2], args[3], args[4], args[5]),
                seed, round, failures)) {
      break;
    }
  }
}
