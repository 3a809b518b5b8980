// Where CPython keeps what a Python-level stack needs, per interpreter version: the offsets of
// the fields tracer/python_frames.cc follows from `_PyRuntime` to each frame's code object, and
// the layouts of the bytes and str objects it reads. The numbers come from the interpreter's own
// internal headers through tests/probes/python_layout_probe.c; the unit test "the CPython layout
// table matches the installed headers" compares every row it can with that probe, so a row
// cannot drift from the headers unnoticed. docs/forensics.md says how a version is added.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace base {

struct PythonLayout {
  std::uint32_t version;  // PY_VERSION_HEX of the major.minor it serves, patch and level zero
  std::string_view name;  // "3.11"
  // _PyRuntimeState
  std::uint16_t runtime_interpreters_head;
  // PyInterpreterState
  std::uint16_t interp_next, interp_threads_head;
  // PyThreadState
  std::uint16_t tstate_next, tstate_native_thread_id, tstate_cframe;
  // _PyCFrame
  std::uint16_t cframe_current_frame;
  // _PyInterpreterFrame
  std::uint16_t frame_code, frame_previous, frame_prev_instr, frame_owner;
  // PyObject
  std::uint16_t object_type;
  // PyCodeObject
  std::uint16_t code_filename, code_name, code_qualname, code_firstlineno, code_linetable,
      code_firsttraceable, code_adaptive, codeunit_size;
  // PyBytesObject: ob_size and ob_sval
  std::uint16_t bytes_size, bytes_data;
  // PyASCIIObject: length, state; where a compact ASCII string's characters start
  // (sizeof(PyASCIIObject)) and where other compact strings' start
  // (sizeof(PyCompactUnicodeObject)); the lowest bit of state's kind, compact and ascii fields.
  std::uint16_t unicode_length, unicode_state, unicode_ascii_data, unicode_compact_data;
  std::uint8_t unicode_kind_shift, unicode_compact_shift, unicode_ascii_shift;
  // The frame owner of a generator's frame (FRAME_OWNED_BY_GENERATOR: never "incomplete").
  std::uint8_t owner_generator;
  // A frame owner that is no Python code (3.12's FRAME_OWNED_BY_CSTACK entry shims), or -1.
  int owner_cstack;
};

// The row for an interpreter whose Py_Version is `version_hex` (any patch release and release
// level of a listed major.minor), or nullptr.
const PythonLayout* PythonLayoutFor(std::uint32_t version_hex);

// "3.11.2" (with "a1", "b2", "rc1" for a pre-release) for a PY_VERSION_HEX.
std::string PythonVersionText(std::uint32_t version_hex);

// The versions the table serves, for messages: "3.11, 3.12".
std::string PythonLayoutVersions();

// The row's value of a field named as the probe prints it ("frame_code"), to compare the table
// with tests/probes/python_layout_probe.c; nullopt for a name the row does not hold.
std::optional<std::uint32_t> PythonLayoutField(const PythonLayout& layout, std::string_view name);

}  // namespace base
