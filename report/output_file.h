// Writing what tracejail produces (results, reports, drafts) so that a failure is never silent:
// every byte written, flushed and synced, or an error that says what failed. Large reports are
// written as they are rendered (Spill), so they are never whole in memory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace report {

// An output file being written: `path` replaced (created with `mode`; a regular file that exists
// is given `mode` too), or stdout when `path` is empty. Each call gives nullopt on success or
// what failed ("cannot write FILE: No space left on device"); after a failure, writes are
// refused with the same error.
class OutputFile {
 public:
  OutputFile() = default;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  std::optional<std::string> Open(const std::string& path, mode_t mode = 0600);
  std::optional<std::string> Write(std::string_view text);
  std::optional<std::string> Close();  // synced to disk before it says success
  // A Spill (below) that writes each piece here; a failure is kept and Close reports it.
  std::function<void(std::string&)> AsSpill() {
    return [this](std::string& chunk) {
      (void)Write(chunk);
      chunk.clear();
    };
  }

 private:
  std::optional<std::string> Fail(int err);

  int fd_ = -1;
  bool stdout_ = false;
  std::string shown_;
  std::optional<std::string> error_;
};

// The whole of `text` in one go.
std::optional<std::string> WriteOutput(const std::string& path, std::string_view text,
                                       mode_t mode = 0600);

// A renderer appends to a string and, at points where that is cheap, hands it to a Spill once it
// holds kSpillBytes: the spill writes it out and empties it. No spill: the string keeps it all.
using Spill = std::function<void(std::string&)>;
inline constexpr std::size_t kSpillBytes = std::size_t{1} << 20;
inline void MaybeSpill(std::string& out, const Spill& spill) {
  if (spill && out.size() >= kSpillBytes) spill(out);
}

}  // namespace report
