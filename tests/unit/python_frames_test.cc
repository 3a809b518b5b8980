// The Python stack walk (tracer/python_frames.h) over a fake interpreter laid out in a fake
// address space with the 3.11 row of base/python_layout.h: the frames, which thread state is
// walked, and hostile memory (loops, wrong types, huge lengths, unknown versions) giving a note
// or fewer frames, never a hang.
#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/python_layout.h"
#include "fakes.h"
#include "tracer/python_frames.h"

namespace {

constexpr std::uint64_t kCodeType = 0x10000, kStrType = 0x10100, kBytesType = 0x10200;
constexpr std::uint64_t kVersion = 0x11000, kRuntime = 0x12000, kInterp = 0x13000;

// One fake CPython 3.11 process: symbols, one interpreter, thread states, frames and code.
struct FakePython {
  const base::PythonLayout& l = *base::PythonLayoutFor(0x030B02F0);
  tjtest::FakeMemory mem;
  tracer::PythonSymbols symbols{.runtime = kRuntime,
                                .version = kVersion,
                                .code_type = kCodeType,
                                .unicode_type = kStrType,
                                .bytes_type = kBytesType,
                                .module = "/usr/bin/python3.11"};
  std::uint64_t next = 0x100000;  // where the next object goes

  FakePython() {
    mem.WriteValue<std::uint64_t>(kVersion, 0x030B02F0);
    mem.WriteValue<std::uint64_t>(kRuntime + l.runtime_interpreters_head, kInterp);
    mem.WriteValue<std::uint64_t>(kInterp + l.interp_next, 0);
    mem.WriteValue<std::uint64_t>(kInterp + l.interp_threads_head, 0);
  }
  std::uint64_t Take(std::size_t size) {
    const std::uint64_t at = next;
    next += (size + 0xFFF) / 0x1000 * 0x1000 + 0x1000;
    mem.WriteValue<std::uint64_t>(at, 1);  // ob_refcnt: maps the first page
    return at;
  }
  // A compact ASCII str; `length` is what its header claims (default: the truth).
  std::uint64_t Str(const std::string& ascii, std::optional<std::int64_t> length = {}) {
    const std::uint64_t at = Take(l.unicode_ascii_data + ascii.size());
    mem.WriteValue<std::uint64_t>(at + l.object_type, kStrType);
    mem.WriteValue<std::int64_t>(at + l.unicode_length,
                                 length.value_or(static_cast<std::int64_t>(ascii.size())));
    mem.WriteValue<std::uint32_t>(at + l.unicode_state, (1u << l.unicode_kind_shift) |
                                                            (1u << l.unicode_compact_shift) |
                                                            (1u << l.unicode_ascii_shift));
    mem.Write(at + l.unicode_ascii_data, ascii);
    return at;
  }
  // A code object whose every code unit `u` is on line first_line + 1 + u (no-column entries).
  std::uint64_t Code(const std::string& file, const std::string& function, int first_line,
                     int units = 8) {
    std::string table;
    for (int u = 0; u < units; ++u) table += "\xE8\x02";  // one unit, line + 1
    const std::uint64_t bytes = Take(l.bytes_data + table.size());
    mem.WriteValue<std::uint64_t>(bytes + l.object_type, kBytesType);
    mem.WriteValue<std::int64_t>(bytes + l.bytes_size, static_cast<std::int64_t>(table.size()));
    mem.Write(bytes + l.bytes_data, table);
    const std::uint64_t at = Take(l.code_adaptive + 2u * static_cast<unsigned>(units));
    mem.WriteValue<std::uint64_t>(at + l.object_type, kCodeType);
    mem.WriteValue<std::uint64_t>(at + l.code_filename, Str(file));
    mem.WriteValue<std::uint64_t>(at + l.code_name, Str(function));
    mem.WriteValue<std::uint64_t>(at + l.code_qualname, Str(function));
    mem.WriteValue<std::int32_t>(at + l.code_firstlineno, first_line);
    mem.WriteValue<std::int32_t>(at + l.code_firsttraceable, 0);
    mem.WriteValue<std::uint64_t>(at + l.code_linetable, bytes);
    return at;
  }
  // A frame of `code` at code unit `unit` (so on line first_line + 1 + unit).
  std::uint64_t Frame(std::uint64_t code, int unit, std::uint64_t previous, char owner = 0) {
    const std::uint64_t at = Take(l.frame_owner + 1u);
    mem.WriteValue<std::uint64_t>(at + l.frame_code, code);
    mem.WriteValue<std::uint64_t>(at + l.frame_previous, previous);
    mem.WriteValue<std::uint64_t>(at + l.frame_prev_instr,
                                  code + l.code_adaptive + 2u * static_cast<unsigned>(unit));
    mem.WriteValue<char>(at + l.frame_owner, owner);
    return at;
  }
  // A thread state for native thread `tid` running `frame`, put at the head of the list.
  std::uint64_t Thread(std::uint64_t tid, std::uint64_t frame) {
    const std::uint64_t cframe = Take(16);
    mem.WriteValue<std::uint64_t>(cframe + l.cframe_current_frame, frame);
    const std::uint64_t at = Take(l.tstate_native_thread_id + 8u);
    std::uint64_t head = 0;
    REQUIRE(tracer::ReadExact(mem, kInterp + l.interp_threads_head, &head, sizeof head));
    mem.WriteValue<std::uint64_t>(at + l.tstate_next, head);
    mem.WriteValue<std::uint64_t>(at + l.tstate_native_thread_id, tid);
    mem.WriteValue<std::uint64_t>(at + l.tstate_cframe, cframe);
    mem.WriteValue<std::uint64_t>(kInterp + l.interp_threads_head, at);
    return at;
  }
  tracer::PythonStack Walk(std::uint64_t tid, std::uint64_t creator = 0) {
    return tracer::WalkPythonStack(mem, symbols, {tid, creator, {}});
  }
};

std::string Names(const tracer::PythonStack& stack) {
  std::string out;
  for (const auto& f : stack.frames) {
    out += f.value("function", "") + ":" + std::to_string(f.value("line", 0)) + " ";
  }
  return out;
}

}  // namespace

TEST_CASE("the Python stack walk gives file line and function of each frame innermost first",
          "[python]") {
  FakePython py;
  const std::uint64_t module = py.Frame(py.Code("/tmp/x.py", "<module>", 1), 2, 0);
  const std::uint64_t outer = py.Frame(py.Code("/tmp/x.py", "outer", 10), 4, module);
  const std::uint64_t inner =
      py.Frame(py.Code("/tmp/lib.py", "outer.<locals>.inner", 20), 0, outer);
  py.Thread(4242, inner);
  auto stack = py.Walk(4242);
  INFO(stack.frames.dump(2) << stack.note);
  CHECK(stack.note.empty());
  REQUIRE(stack.frames.size() == 3);
  CHECK(stack.frames[0] == nlohmann::json{{"file", "/tmp/lib.py"},
                                          {"function", "outer.<locals>.inner"},
                                          {"line", 21}});
  CHECK(Names(stack) == "outer.<locals>.inner:21 outer:15 <module>:4 ");
  CHECK(stack.frames[2]["file"] == "/tmp/x.py");
}

TEST_CASE("the stopped thread's Python state is walked then its creator's then the only one",
          "[python]") {
  FakePython py;
  py.Thread(100, py.Frame(py.Code("/a.py", "main_thread", 1), 0, 0));
  py.Thread(200, py.Frame(py.Code("/a.py", "worker", 1), 0, 0));
  auto own = py.Walk(200, 100);
  CHECK(Names(own) == "worker:2 ");
  CHECK(own.note.empty());
  // A vfork'd child (tid 300) that has not exec'd: its creator's stack, and a note says so.
  auto child = py.Walk(300, 100);
  CHECK(Names(child) == "main_thread:2 ");
  CHECK(child.note.find("thread 100, which created this process") != std::string::npos);
  auto unknown = py.Walk(300);
  CHECK(unknown.frames.empty());
  CHECK(unknown.note.find("none of the interpreter's 2 thread states is thread 300") !=
        std::string::npos);

  // The new process's call was stopped before its creator's vfork event was seen: the parent's
  // threads are looked at, and the only one of them with a thread state, or the only stopped
  // one, is taken.
  tracer::PythonThreads early{300, 0, [] {
                                return std::vector<tracer::ParentThread>{{100, false}, {200, true}};
                              }};
  auto parent = tracer::WalkPythonStack(py.mem, py.symbols, early);
  CHECK(Names(parent) == "worker:2 ");
  CHECK(parent.note.find("thread 200 of the parent process, which is stopped") !=
        std::string::npos);
  early.parent_threads = [] { return std::vector<tracer::ParentThread>{{100, false}, {7, true}}; };
  CHECK(Names(tracer::WalkPythonStack(py.mem, py.symbols, early)) == "main_thread:2 ");
  early.parent_threads = [] { return std::vector<tracer::ParentThread>{{100, true}, {200, true}}; };
  auto ambiguous = tracer::WalkPythonStack(py.mem, py.symbols, early);
  CHECK(ambiguous.frames.empty());
  CHECK(ambiguous.note.find("none of the interpreter's 2 thread states") != std::string::npos);

  FakePython one;
  one.Thread(100, one.Frame(one.Code("/b.py", "f", 1), 0, 0));
  auto only = one.Walk(555);
  CHECK(Names(only) == "f:2 ");
  CHECK(only.note.find("only thread state (thread 100)") != std::string::npos);
}

TEST_CASE("a hostile interpreter's memory gives a note or fewer frames never a hang", "[python]") {
  SECTION("a frame chain that loops") {
    FakePython py;
    const std::uint64_t code = py.Code("/x.py", "f", 1);
    const std::uint64_t a = py.Frame(code, 0, 0);
    const std::uint64_t b = py.Frame(code, 1, a);
    py.mem.WriteValue<std::uint64_t>(a + py.l.frame_previous, b);
    py.Thread(1, b);
    auto stack = py.Walk(1);
    CHECK(Names(stack) == "f:3 f:2 ");
    CHECK(stack.note.find("loops") != std::string::npos);
  }
  SECTION("a thread state list and an interpreter list that loop") {
    FakePython py;
    const std::uint64_t ts = py.Thread(1, 0);
    py.mem.WriteValue<std::uint64_t>(ts + py.l.tstate_next, ts);
    py.mem.WriteValue<std::uint64_t>(kInterp + py.l.interp_next, kInterp);
    auto stack = py.Walk(2, 3);
    CHECK(stack.frames.empty());
    CHECK_FALSE(stack.note.empty());
    CHECK(py.Walk(1).note == "the thread runs no Python code");
  }
  SECTION("a chain longer than the limit is cut") {
    FakePython py;
    const std::uint64_t code = py.Code("/x.py", "deep", 1);
    std::uint64_t frame = 0;
    for (int i = 0; i < 100; ++i) frame = py.Frame(code, 0, frame);
    py.Thread(1, frame);
    auto stack = py.Walk(1);
    CHECK(stack.frames.size() == tracer::kMaxPythonFrames);
    CHECK(stack.note == "cut at 64 Python frames");
  }
  SECTION("a frame whose code is not a code object, or unmapped") {
    FakePython py;
    const std::uint64_t good = py.Frame(py.Code("/x.py", "caller", 1), 0, 0);
    const std::uint64_t fake = py.Code("/x.py", "fake", 1);
    py.mem.WriteValue<std::uint64_t>(fake + py.l.object_type, kStrType);
    py.Thread(1, py.Frame(fake, 0, good));
    auto stack = py.Walk(1);
    CHECK(stack.frames.empty());
    CHECK(stack.note.find("is not a readable code object") != std::string::npos);
    FakePython unmapped;
    unmapped.Thread(1, unmapped.Frame(0xdead0000, 0, 0));
    CHECK(unmapped.Walk(1).note.find("not a readable code object") != std::string::npos);
    FakePython no_frame;
    no_frame.Thread(1, 0xbad00000);
    CHECK(no_frame.Walk(1).note.find("cannot read a Python frame at 0xbad00000") !=
          std::string::npos);
  }
  SECTION("names whose lengths lie, and escapes") {
    FakePython py;
    const std::uint64_t code = py.Code("/x.py", "f", 1);
    // The file name claims 2^40 characters; 5000 are there: 4096 are taken, and marked cut.
    py.mem.WriteValue<std::uint64_t>(code + py.l.code_filename,
                                     py.Str(std::string(5000, 'A'), std::int64_t{1} << 40));
    // The function name has a terminal escape sequence; its length is negative.
    py.mem.WriteValue<std::uint64_t>(code + py.l.code_qualname, py.Str("\x1b[31mred"));
    py.mem.WriteValue<std::uint64_t>(code + py.l.code_name, py.Str("n", -5));
    py.Thread(1, py.Frame(code, 0, 0));
    auto stack = py.Walk(1);
    REQUIRE(stack.frames.size() == 1);
    CHECK(stack.frames[0]["file"] == std::string(tracer::kMaxPythonString, 'A') + "...");
    CHECK(stack.frames[0]["function"] == "\\x1b[31mred");
    // Neither name is a str that can be read: "?".
    FakePython again;
    const std::uint64_t code2 = again.Code("/x.py", "f", 1);
    again.mem.WriteValue<std::uint64_t>(code2 + again.l.code_qualname, again.Str("q", -5));
    again.mem.WriteValue<std::uint64_t>(code2 + again.l.code_name, again.Str("n", -5));
    again.Thread(1, again.Frame(code2, 0, 0));
    auto bad = again.Walk(1);
    REQUIRE(bad.frames.size() == 1);
    CHECK(bad.frames[0]["function"] == "?");
  }
  SECTION("a location table that claims to be huge, or is missing") {
    FakePython py;
    const std::uint64_t code = py.Code("/x.py", "f", 1);
    std::uint64_t table = 0;
    REQUIRE(tracer::ReadExact(py.mem, code + py.l.code_linetable, &table, sizeof table));
    py.mem.WriteValue<std::int64_t>(table + py.l.bytes_size, std::int64_t{1} << 50);
    py.Thread(1, py.Frame(code, 0, 0));
    auto stack = py.Walk(1);
    REQUIRE(stack.frames.size() == 1);
    CHECK_FALSE(stack.frames[0].contains("line"));  // 64 KiB are not there to read
    CHECK(stack.frames[0]["function"] == "f");
  }
  SECTION("versions the table does not hold") {
    FakePython py;
    py.mem.WriteValue<std::uint64_t>(kVersion, 0x030D01F0);
    auto stack = py.Walk(1);
    CHECK(stack.frames.empty());
    CHECK(
        stack.note.starts_with("Python 3.13.1 is not supported (the supported versions are 3.11"));
    py.symbols.version = 0;
    CHECK(py.Walk(1).note.starts_with("/usr/bin/python3.11 has no Py_Version"));
  }
}
