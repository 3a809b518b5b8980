// Tamper evidence for event files. Every JSON Lines record carries "prev_hash": the SHA-256 of
// the previous line exactly as written (its canonical form: nlohmann's compact dump, keys
// sorted), 64 zeros for the first. The last record is {"type": "log_end", "records": N, ...}.
// Editing, inserting, removing, reordering or cutting lines breaks the chain, and Verify says
// where and how.
#pragma once

#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace report {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string Sha256Hex(std::string_view bytes);

struct VerifyResult {
  std::size_t lines = 0;
  std::vector<std::string> problems;  // "line 7: ..." in file order
  bool ok() const { return problems.empty(); }
};

VerifyResult VerifyChain(std::istream& in);

}  // namespace report
