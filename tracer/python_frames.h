// The Python-level stack of a stopped CPython thread (file, line, function of each frame,
// innermost first), read from the interpreter's memory beside the native stack
// (tracer/stack_unwinder.h), in the same forked unwinding child.
//
// The path: `_PyRuntime` (a symbol of the python binary or libpython) -> interpreters -> thread
// states -> the one whose native_thread_id is the stopped thread (or, for a process made by
// vfork or fork that has not exec'd yet, the thread that made it: os.system, subprocess) ->
// _PyCFrame -> _PyInterpreterFrame chain -> code objects (co_filename, co_qualname, the location
// table for the line). The offsets are base/python_layout.h's table for the version in
// `Py_Version`; an unknown version gets a note and no Python frames. All of it is hostile
// memory: every read is bounded, every chain has a cycle check and a length limit, and a
// faked structure gives wrong frames or a note, never a crash or a hang.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tracer/memory.h"

struct Dwfl;

namespace tracer {

// Addresses of the interpreter's symbols in the process (0: not found).
struct PythonSymbols {
  std::uint64_t runtime = 0;       // _PyRuntime
  std::uint64_t version = 0;       // Py_Version (3.11 and later)
  std::uint64_t code_type = 0;     // PyCode_Type, to check that a frame's code is code
  std::uint64_t unicode_type = 0;  // PyUnicode_Type
  std::uint64_t bytes_type = 0;    // PyBytes_Type
  std::string module;              // the module that defines _PyRuntime (escaped)
};

// A thread of the parent process, as the tracee's PID namespace numbers it, and whether it is
// stopped (the one that made the process sits in its fork or vfork event stop).
struct ParentThread {
  std::uint64_t tid = 0;
  bool stopped = false;
};

// The threads whose Python stack is wanted, as the tracee's PID namespace numbers them: the
// stopped one, and the one that created its process (0: none known). The creator is not known
// yet when the new process's call was stopped before its creator's fork or vfork event was
// seen: then `parent_threads` (called only when needed) lists its parent process's threads.
struct PythonThreads {
  std::uint64_t tid = 0;
  std::uint64_t creator = 0;
  std::function<std::vector<ParentThread>()> parent_threads;
};

inline constexpr std::size_t kMaxPythonFrames = 64;
inline constexpr std::size_t kMaxPythonString = 4096;    // characters of a file or function name
inline constexpr std::size_t kMaxLineTable = 64 * 1024;  // bytes of a location table read
inline constexpr std::size_t kMaxPythonThreadStates = 1024;  // across all interpreters

struct PythonStack {
  nlohmann::json frames = nlohmann::json::array();  // [{"file", "line", "function"}, ...]
  std::string note;                                 // empty when there is nothing to say
};

// The walk itself, given the symbols and the memory: pure, so unit tests give it fakes.
PythonStack WalkPythonStack(MemoryReader& mem, const PythonSymbols& symbols,
                            const PythonThreads& threads,
                            std::size_t max_frames = kMaxPythonFrames);

// The interpreter's symbols among `dwfl`'s modules (only those named like python or libpython
// are searched); runtime == 0 when the process is not CPython.
PythonSymbols FindPythonSymbols(Dwfl* dwfl);

// Adds "python" (frames) and "python_note" to `stack` when the process `pid` is CPython:
// thread `tid` stopped, `creator` the thread that made its process (0: unknown). Nothing is
// added for a process that is not. Runs in the unwinding child.
void AddPythonStack(Dwfl* dwfl, pid_t pid, pid_t tid, pid_t creator, nlohmann::json& stack);

}  // namespace tracer
