// Tamper evidence for event files. Every JSON Lines record carries "prev_hash": the SHA-256 of
// the previous line exactly as written (its canonical form: nlohmann's compact dump, keys
// sorted), 64 zeros for the first. The last record is {"type": "log_end", "records": N, ...}.
// Editing, inserting, removing, reordering or cutting lines breaks the chain, and Verify says
// where and how.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace report {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string Sha256Hex(std::string_view bytes);
// HMAC-SHA-256 of `bytes` under `key`, hex.
std::string HmacSha256Hex(std::string_view key, std::string_view bytes);

// How a chain's links are made: SHA-256 of the previous line, or with a key (--events-key) its
// HMAC-SHA-256, which no one without the key can recompute for an edited file.
class ChainHash {
 public:
  explicit ChainHash(std::string key = {}) : key_(std::move(key)) {}
  std::string operator()(std::string_view line) const {
    return key_.empty() ? Sha256Hex(line) : HmacSha256Hex(key_, line);
  }
  bool keyed() const { return !key_.empty(); }
  std::string_view name() const { return keyed() ? "hmac-sha256" : "sha256"; }

 private:
  std::string key_;
};

struct VerifyResult {
  std::size_t lines = 0;
  std::vector<std::string> problems;  // "line 7: ..." in file order
  std::string final_hash;             // the link of the last line: the result's events_chain
  bool ok() const { return problems.empty(); }
};

VerifyResult VerifyChain(std::istream& in, const ChainHash& hash = ChainHash());

}  // namespace report
