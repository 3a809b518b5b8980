#include "report/hash_chain.h"

#include <openssl/evp.h>

#include <array>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

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

VerifyResult VerifyChain(std::istream& in) {
  VerifyResult r;
  std::string line;
  std::string prev_hash(kGenesisHash);
  std::uint64_t expected_seq = 1;
  bool ended = false;
  while (std::getline(in, line)) {
    ++r.lines;
    auto problem = [&](const std::string& what) {
      r.problems.push_back(fmt::format("line {}: {}", r.lines, what));
    };
    if (ended) {
      problem("a record after the closing log_end record (appended)");
      ended = false;
    }
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      problem("not a JSON object (edited or corrupted)");
      prev_hash = Sha256Hex(line);
      continue;
    }
    std::string claimed = j.value("prev_hash", "");
    if (claimed != prev_hash) {
      problem(r.lines == 1
                  ? "the first record does not start the chain (lines removed before it?)"
                  : fmt::format("chain broken: line {} was edited, or lines were inserted, "
                                "removed or reordered before this one",
                                r.lines - 1));
    }
    if (j.contains("seq") && j["seq"].is_number_unsigned()) {
      auto seq = j["seq"].get<std::uint64_t>();
      if (seq != expected_seq) {
        problem(
            seq < expected_seq
                ? fmt::format("seq {} repeats or goes back (expected {}): inserted or reordered",
                              seq, expected_seq)
                : fmt::format("seq jumps from {} to {}: {} record(s) removed", expected_seq - 1,
                              seq, seq - expected_seq));
      }
      expected_seq = seq + 1;
    }
    if (j.value("type", "") == "log_end") {
      ended = true;
      if (j.value("records", std::uint64_t{0}) != r.lines - 1) {
        problem(fmt::format("log_end counts {} records, the file has {} before it",
                            j.value("records", std::uint64_t{0}), r.lines - 1));
      }
    }
    prev_hash = Sha256Hex(line);
  }
  if (!ended) {
    r.problems.push_back(fmt::format(
        "the file ends after line {} without its log_end record (cut short, or tracejail "
        "did not finish)",
        r.lines));
  }
  return r;
}

}  // namespace report
