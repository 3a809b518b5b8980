// Which file the kernel will run when it executes a path: the file itself, or for a "#!" script
// the interpreter its first line names (through up to five scripts, as binfmt_script and
// BINPRM_MAX_RECURSION allow). The supervisor records it when an exec is allowed and checks it
// at the exec event, before the new program's first instruction: if a symlink or directory was
// swapped between the check and the exec, the image differs and the process is killed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace tracer {

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

// The interpreter a script's first bytes name ("#!/bin/sh -e" -> "/bin/sh"), or empty when they
// do not start with "#!" or name nothing.
std::string ShebangInterpreter(std::string_view head);

struct ExpectedImage {
  std::optional<FileId> id;  // nullopt: the file cannot be opened now (the exec would fail)
  std::string path;          // the image's path as opened (the script's interpreter, if any)
};

// `file` is the tracer's own descriptor (O_PATH is enough) for the file the exec was decided
// on; `root` is prefixed to absolute interpreter paths and `cwd` (a /proc/PID/cwd link) to
// relative ones. An invalid `file` gives no image.
ExpectedImage ImageOf(int file, const std::string& root, const std::string& cwd);

// Opens `path` (absolute, in the view of `root`: "" or a /proc/PID/root link) with O_PATH and
// no symlink followed anywhere (openat2 RESOLVE_NO_SYMLINKS, RESOLVE_IN_ROOT under `root`): the
// object the checked path names now, or -1. The caller owns the descriptor.
int OpenChecked(const std::string& root, const std::string& path);

// The image a process runs now (/proc/PID/exe), or nullopt.
std::optional<FileId> RunningImage(pid_t pid);

}  // namespace tracer
