#include "report/hash_chain.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include <fmt/format.h>

#include "report/event_reader.h"
#include "report/record_fields.h"

namespace report {

std::string Sha256Hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

namespace {

// A field's value when it has the type given, else the fallback: the chain is checked on any
// file, whatever its records hold (strings: StringMember).
std::optional<std::uint64_t> CountField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data(), &len);
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

VerifyResult VerifyChain(std::istream& in, const ChainHash& hash) {
  VerifyResult r;
  std::string line;
  std::string prev_hash(kGenesisHash);
  std::uint64_t expected_seq = 1;
  bool ended = false;
  bool too_long = false;
  while (ReadBoundedLine(in, line, too_long)) {
    ++r.lines;
    auto problem = [&](const std::string& what) {
      r.problems.push_back(fmt::format("line {}: {}", r.lines, what));
    };
    if (ended) {
      problem("a record after the closing log_end record (appended)");
      ended = false;
    }
    if (too_long) {
      // Its hash cannot be recomputed from what was kept: the next line's link fails too.
      problem(
          fmt::format("longer than {} MiB (not a record tracejail writes)", kMaxEventLine >> 20));
      prev_hash.clear();
      continue;
    }
    nlohmann::json j;
    if (NestingDepth(line, kMaxEventDepth) <= kMaxEventDepth) {
      j = nlohmann::json::parse(line, nullptr, false);
    } else {
      j = nlohmann::json(nlohmann::json::value_t::discarded);
    }
    if (j.is_discarded() || !j.is_object()) {
      problem("not a JSON object (edited or corrupted)");
      prev_hash = hash(line);
      continue;
    }
    if (StringMember(j, "prev_hash") != prev_hash) {
      problem(r.lines == 1
                  ? "the first record does not start the chain (lines removed before it?)"
                  : fmt::format("chain broken: line {} was edited, or lines were inserted, "
                                "removed or reordered before this one",
                                r.lines - 1));
    }
    if (std::optional<std::uint64_t> seq = CountField(j, "seq")) {
      if (*seq != expected_seq) {
        problem(
            *seq < expected_seq
                ? fmt::format("seq {} repeats or goes back (expected {}): inserted or reordered",
                              *seq, expected_seq)
                : fmt::format("seq jumps from {} to {}: {} record(s) removed", expected_seq - 1,
                              *seq, *seq - expected_seq));
      }
      expected_seq = *seq + 1;
    } else if (j.contains("seq")) {
      problem("seq is not a non-negative integer (edited)");
    }
    if (StringMember(j, "type") == "log_end") {
      ended = true;
      if (std::string chain = StringMember(j, "chain"); !chain.empty() && chain != hash.name()) {
        problem(fmt::format("the file says its chain is {}, checked here as {}: {}", chain,
                            hash.name(),
                            hash.keyed() ? "verify it without --key"
                                         : "verify it with --key FILE, the key of the run"));
      }
      std::optional<std::uint64_t> records = CountField(j, "records");
      if (records.value_or(UINT64_MAX) != r.lines - 1) {
        problem(fmt::format("log_end counts {} records, the file has {} before it",
                            records ? std::to_string(*records) : std::string("no"), r.lines - 1));
      }
    }
    prev_hash = hash(line);
  }
  r.final_hash = prev_hash;
  if (!ended) {
    r.problems.push_back(fmt::format(
        "the file ends after line {} without its log_end record (cut short, or tracejail "
        "did not finish)",
        r.lines));
  }
  return r;
}

}  // namespace report
