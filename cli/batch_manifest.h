// `tracejail batch`'s manifest: JSON Lines, one task a line, parsed without running anything.
//
//   {"id": "t1", "command": ["python3", "x.py"], "level": "standard",
//    "limits": {"timeout": "30s", "memory": "256MiB"}, "files": {"x.py": "print(1)"}}
//   {"id": "t2", "lang": "python", "code": "print(2)", "policy": "policies/course.json"}
//   {"id": "t3", "lang": "sh", "code_file": "submissions/t3.sh", "mode": "audit"}
//
// Keys: id (required: letters, digits, '.', '_', '-', at most 128, not starting with '.' or
// '-'), command (an argv) or lang (python, sh, bash) with code or code_file, level or policy,
// mode (enforce or audit), limits (run's limit names: cpu, memory, processes, file_size,
// open_files, disk, timeout, output), files ({NAME: CONTENT} or {NAME: {"path": FILE}}: copied
// into the task's private work dir, where the command starts), env ({NAME: VALUE}). Relative
// paths are taken from the manifest's directory. An unknown key is an error, as in a policy.
//
// One bad line never stops the batch: it becomes a task that fails with the reason. Every
// non-blank line counts for the shards, valid or not, so `--shard K/N` slices are disjoint and
// cover the manifest whatever it holds.
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cli {

struct BatchFile {
  std::string name;     // in the work dir: one path component
  std::string content;  // inline, or
  std::string path;     // a file to copy (resolved)
};

struct BatchTask {
  std::size_t index = 0;  // among the manifest's non-blank lines, from 0: the shard key
  std::size_t line = 0;   // in the manifest, from 1
  std::string id;         // "line-N" when the line has no usable id
  std::vector<std::string> command;
  std::string lang;       // with code or code_file, instead of command
  std::string code;       // inline
  std::string code_file;  // resolved
  std::string level;
  std::string policy_file;                                  // resolved
  std::string mode;                                         // empty: run's default (enforce)
  std::vector<std::pair<std::string, std::string>> limits;  // run's --NAME VALUE, validated
  std::vector<BatchFile> files;
  std::vector<std::pair<std::string, std::string>> env;
  std::string error;  // non-empty: the line is not a task that can run, and why
};

// Every non-blank line of `in`, in order; `base_dir` resolves relative paths. Throws only for a
// manifest that cannot be read at all (std::runtime_error saying why).
std::vector<BatchTask> ParseManifest(std::istream& in, const std::string& base_dir);

struct Shard {
  std::size_t k = 0;  // 0 .. n-1
  std::size_t n = 1;
  bool Holds(std::size_t index) const { return index % n == k; }
};
// "K/N" with 0 <= K < N <= 100000; nullopt and `error` otherwise.
std::optional<Shard> ParseShard(const std::string& text, std::string& error);

// The argv of the `tracejail run` or `tracejail exec` that runs `task`, writing into `dir`
// (events.jsonl, result.json). `source` is the file holding a lang task's code.
std::vector<std::string> TaskArgv(const BatchTask& task, const std::string& self,
                                  const std::string& dir, const std::string& source);

// What a lang task's code file is called (its extension tells nothing to exec; kept readable).
std::string SourceName(const std::string& lang);

}  // namespace cli
