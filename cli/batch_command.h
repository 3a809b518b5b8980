// `tracejail batch MANIFEST --out DIR [--jobs N] [--shard K/N]`: every task of a manifest
// (cli/batch_manifest.h), N at a time, each a `tracejail run` or `tracejail exec` of its own
// into DIR/<id>/ (events.jsonl, result.json, report.txt, report.html, tracejail.log), then
// DIR/summary.json and DIR/index.html. A rerun skips the tasks whose record is complete
// (cli/batch_outputs.h) and redoes the others. `--merge [--from DIR]...` runs nothing: it
// gathers the shards' task directories into DIR and summarizes the whole manifest.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cli {

struct BatchArgs {
  std::string manifest;
  std::string out;
  int jobs = 0;  // 0: the CPUs this process may use
  std::string shard;
  bool merge = false;
  std::vector<std::string> from;  // --merge: other shards' output directories
  bool quiet = false;
};

void AddBatchOptions(CLI::App* cmd, BatchArgs& args);
// 0: every task of the manifest (or shard) has a complete record; 1: some failed, were invalid
// or (--merge) are missing; 120 a usage error; 128+N when signal N interrupted the batch.
int Batch(const BatchArgs& args);

}  // namespace cli
