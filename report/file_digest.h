// The SHA-256 of a file's contents, read through a descriptor the caller opened, bounded: what
// the forensic records of executed images and dropped files carry (docs/forensics.md). Can copy
// what it reads to another descriptor on the way (--collect), so a file is read once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace report {

struct FileDigest {
  std::string sha256;      // hex, of the first `read` bytes; empty when nothing could be hashed
  std::uint64_t read = 0;  // bytes read (and copied)
  bool complete = false;   // the whole file was read: `sha256` is the file's
  std::string error;       // why not complete: a read or write error, or the bound
};

// Reads `fd` from offset 0 with pread (the descriptor's offset is not moved) until its end or
// `max_bytes`, hashing it, and writes the same bytes to `copy_to` when it is not -1.
FileDigest DigestFd(int fd, std::uint64_t max_bytes, int copy_to = -1);

// A file mode's permission bits as four octal digits ("0755", "4755").
std::string ModeText(mode_t mode);

}  // namespace report
