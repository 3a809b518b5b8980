// Prints the offsets tracejail's table of CPython layouts (base/python_layout.cc) holds, taken
// from the interpreter's own internal headers, one "name value" line each. Built against every
// CPython whose headers CMake finds (tests/CMakeLists.txt); the unit test "the CPython layout
// table matches the installed headers" compares its output with the table, and a new version's
// row is written from its output (docs/forensics.md, "Python frames").
//   cc -DPy_BUILD_CORE -I/usr/include/python3.X tests/probes/python_layout_probe.c
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SHOW(name, value) printf("%s %lu\n", name, (unsigned long)(value))

// The lowest bit a bit-field of PyASCIIObject.state occupies, found by setting it.
#define STATE_BIT(field, value)                                          \
  do {                                                                   \
    PyASCIIObject o;                                                     \
    memset(&o, 0, sizeof o);                                             \
    o.state.field = value;                                               \
    uint32_t bits = 0;                                                   \
    memcpy(&bits, (char *)&o + offsetof(PyASCIIObject, state), 4);       \
    SHOW("unicode_" #field "_shift", __builtin_ctz(bits));               \
  } while (0)

int main(void) {
  SHOW("version", PY_VERSION_HEX);
  SHOW("runtime_interpreters_head", offsetof(_PyRuntimeState, interpreters.head));
  SHOW("interp_next", offsetof(PyInterpreterState, next));
  SHOW("interp_threads_head", offsetof(PyInterpreterState, threads.head));
  SHOW("tstate_next", offsetof(PyThreadState, next));
  SHOW("tstate_native_thread_id", offsetof(PyThreadState, native_thread_id));
  SHOW("tstate_cframe", offsetof(PyThreadState, cframe));
  SHOW("cframe_current_frame", offsetof(_PyCFrame, current_frame));
  SHOW("frame_code", offsetof(_PyInterpreterFrame, f_code));
  SHOW("frame_previous", offsetof(_PyInterpreterFrame, previous));
  SHOW("frame_prev_instr", offsetof(_PyInterpreterFrame, prev_instr));
  SHOW("frame_owner", offsetof(_PyInterpreterFrame, owner));
  SHOW("object_type", offsetof(PyObject, ob_type));
  SHOW("code_filename", offsetof(PyCodeObject, co_filename));
  SHOW("code_name", offsetof(PyCodeObject, co_name));
  SHOW("code_qualname", offsetof(PyCodeObject, co_qualname));
  SHOW("code_firstlineno", offsetof(PyCodeObject, co_firstlineno));
  SHOW("code_linetable", offsetof(PyCodeObject, co_linetable));
  SHOW("code_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable));
  SHOW("code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
  SHOW("codeunit_size", sizeof(_Py_CODEUNIT));
  SHOW("bytes_size", offsetof(PyVarObject, ob_size));
  SHOW("bytes_data", offsetof(PyBytesObject, ob_sval));
  SHOW("unicode_length", offsetof(PyASCIIObject, length));
  SHOW("unicode_state", offsetof(PyASCIIObject, state));
  SHOW("unicode_ascii_data", sizeof(PyASCIIObject));
  SHOW("unicode_compact_data", sizeof(PyCompactUnicodeObject));
  STATE_BIT(kind, 7);
  STATE_BIT(compact, 1);
  STATE_BIT(ascii, 1);
  SHOW("owner_generator", FRAME_OWNED_BY_GENERATOR);
#if PY_VERSION_HEX >= 0x030C0000
  SHOW("owner_cstack", FRAME_OWNED_BY_CSTACK);
#endif
  return 0;
}
