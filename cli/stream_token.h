// The token of a tcp event stream (`run --stream tcp:ADDRESS:PORT`, `watch --token-file`): where
// it is kept and how it is read. The wire protocol is report/stream_auth.h; docs/learn.md, "Who
// can watch", documents both.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

namespace cli {

// The token in FILE, for `watch --token-file` and a token the user supplies: a regular file
// (not a symlink) that only its owner can read or write (mode 600 or stricter), holding one
// token (report::CheckStreamToken) and at most one newline after it. nullopt with `why`.
std::optional<std::string> ReadStreamToken(const std::string& path, std::string& why);

// A run's tcp stream token and the file that holds it.
class StreamTokenFile {
 public:
  // `path` empty: a new token, written to a new private directory (mode 700) made under
  //   $XDG_RUNTIME_DIR when it is this user's, else under $TMPDIR or /tmp, as FILE "token".
  // `path` names nothing: a new token, written there (created exclusively, mode 600).
  // `path` names a file: that file holds the token (ReadStreamToken); it is the user's and is
  //   left as it is.
  // What tracejail created is removed when this object goes (the run's end). nullptr with `why`
  // when the file cannot be made or read.
  static std::unique_ptr<StreamTokenFile> Prepare(const std::string& path, std::string& why);
  ~StreamTokenFile();
  StreamTokenFile(const StreamTokenFile&) = delete;
  StreamTokenFile& operator=(const StreamTokenFile&) = delete;

  const std::string& token() const { return token_; }
  const std::string& path() const { return path_; }  // absolute
  const std::string& dir() const { return dir_; }    // the private directory made, or empty
  bool generated() const { return generated_; }      // tracejail made the token (and the file)

 private:
  StreamTokenFile() = default;
  std::string token_, path_, dir_;
  bool generated_ = false;
  dev_t dev_ = 0;  // the file tracejail created: removed only if still this one
  ino_t ino_ = 0;
};

}  // namespace cli
