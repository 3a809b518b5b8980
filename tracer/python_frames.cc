#include "tracer/python_frames.h"

#include <dirent.h>
#include <elfutils/libdwfl.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/escape.h"
#include "base/python_code.h"
#include "base/python_layout.h"
#include "tracer/process_memory.h"

namespace tracer {
namespace {

// At most this many interpreters (subinterpreters) are looked at.
constexpr std::size_t kMaxInterpreters = 64;
// The most of a struct the walk reads at once: a code object's header up to co_code_adaptive,
// a frame's up to owner, a str object's up to its characters.
constexpr std::size_t kMaxHeader = 256;
// The frames stop when their names pass this many bytes (64 frames of 4096-character names
// would make a reply of megabytes).
constexpr std::size_t kMaxPythonText = 64 * 1024;

class Walker {
 public:
  Walker(MemoryReader& mem, const PythonSymbols& symbols, const base::PythonLayout& layout)
      : mem_(mem), sym_(symbols), layout_(layout) {}

  std::optional<std::uint64_t> Pointer(std::uint64_t addr) {
    std::uint64_t value = 0;
    if (!ReadExact(mem_, addr, &value, sizeof value)) return std::nullopt;
    return value;
  }

  // The thread state to walk and a note saying which it is when it is not the stopped thread's.
  std::optional<std::uint64_t> ThreadState(const PythonThreads& threads, std::string& note) {
    std::map<std::uint64_t, std::uint64_t> by_tid;  // native_thread_id -> thread state
    std::size_t states = 0;
    std::set<std::uint64_t> seen;
    auto interp = Pointer(sym_.runtime + layout_.runtime_interpreters_head);
    for (std::size_t i = 0; interp && *interp != 0 && i < kMaxInterpreters; ++i) {
      if (!seen.insert(*interp).second) break;
      auto ts = Pointer(*interp + layout_.interp_threads_head);
      while (ts && *ts != 0 && states < kMaxPythonThreadStates) {
        if (!seen.insert(*ts).second) break;
        ++states;
        if (auto tid = Pointer(*ts + layout_.tstate_native_thread_id)) by_tid.emplace(*tid, *ts);
        ts = Pointer(*ts + layout_.tstate_next);
      }
      interp = Pointer(*interp + layout_.interp_next);
    }
    if (auto it = by_tid.find(threads.tid); it != by_tid.end()) return it->second;
    if (threads.creator != 0) {
      if (auto it = by_tid.find(threads.creator); it != by_tid.end()) {
        note = fmt::format(
            "the Python stack of thread {}, which created this process (it has not exec'd yet "
            "and runs on that thread's memory or a copy of it)",
            threads.creator);
        return it->second;
      }
    }
    if (threads.creator == 0 && threads.parent_threads) {
      if (auto found = ByParent(by_tid, threads.parent_threads(), note)) return found;
    }
    if (by_tid.size() == 1) {
      note = fmt::format(
          "the Python stack of the interpreter's only thread state (thread {}); thread {} has "
          "none",
          by_tid.begin()->first, threads.tid);
      return by_tid.begin()->second;
    }
    note = states == 0 ? std::string(
                             "the interpreter has no thread states (not started, or "
                             "finalizing)")
                       : fmt::format("none of the interpreter's {} thread states is thread {}",
                                     states, threads.tid);
    return std::nullopt;
  }

  // The creator among the parent process's threads that have a Python thread state: the only
  // one, or the only stopped one.
  static std::optional<std::uint64_t> ByParent(const std::map<std::uint64_t, std::uint64_t>& by_tid,
                                               const std::vector<ParentThread>& parent,
                                               std::string& note) {
    std::vector<ParentThread> python, stopped;
    for (const ParentThread& t : parent) {
      if (by_tid.count(t.tid) == 0) continue;
      python.push_back(t);
      if (t.stopped) stopped.push_back(t);
    }
    const std::vector<ParentThread>& pick = python.size() == 1 ? python : stopped;
    if (pick.size() != 1) return std::nullopt;
    note = fmt::format(
        "the Python stack of thread {} of the parent process, which {}created this process "
        "(it has not exec'd yet and runs on that thread's memory or a copy of it)",
        pick[0].tid, python.size() == 1 ? "" : "is stopped and so ");
    return by_tid.at(pick[0].tid);
  }

  // The frames from `frame` outwards; stops at the first unreadable or implausible one (note).
  void Frames(std::uint64_t frame, std::size_t max_frames, PythonStack& out) {
    std::set<std::uint64_t> seen;
    std::size_t steps = 0;
    for (; frame != 0; ++steps) {
      if (out.frames.size() >= max_frames || steps >= 4 * max_frames || text_ > kMaxPythonText) {
        out.note = fmt::format("cut at {} Python frames", out.frames.size());
        return;
      }
      if (!seen.insert(frame).second) {
        out.note = "the frame chain loops back on itself: cut there";
        return;
      }
      std::array<std::uint8_t, kMaxHeader> head{};
      const std::size_t head_len = layout_.frame_owner + 1u;
      if (head_len > head.size() || !ReadExact(mem_, frame, head.data(), head_len)) {
        out.note = fmt::format("cannot read a Python frame at {:#x}", frame);
        return;
      }
      const std::uint64_t code = Word(head, layout_.frame_code);
      const std::uint64_t prev_instr = Word(head, layout_.frame_prev_instr);
      const std::uint64_t previous = Word(head, layout_.frame_previous);
      const int owner = static_cast<signed char>(head[layout_.frame_owner]);
      frame = previous;
      if (owner == layout_.owner_cstack) continue;  // an entry shim, no Python code
      if (!Frame(code, prev_instr, owner, out)) return;
    }
  }

 private:
  struct Code {
    std::string file, function;
    int first_line = 0, first_traceable = 0;
    std::vector<std::uint8_t> table;
  };

  // A field of a header read into a buffer (0 for a field past its end: a row's mistake).
  template <typename T>
  static T Field(std::span<const std::uint8_t> bytes, std::size_t at) {
    T value = 0;
    if (at + sizeof value <= bytes.size()) std::memcpy(&value, bytes.data() + at, sizeof value);
    return value;
  }
  static std::uint64_t Word(std::span<const std::uint8_t> bytes, std::size_t at) {
    return Field<std::uint64_t>(bytes, at);
  }
  static std::int32_t Int(std::span<const std::uint8_t> bytes, std::size_t at) {
    return Field<std::int32_t>(bytes, at);
  }

  bool TypeIs(std::uint64_t object, std::uint64_t type) {
    if (type == 0) return true;  // the symbol was not found: nothing to check against
    auto actual = Pointer(object + layout_.object_type);
    return actual && *actual == type;
  }

  // A str object's text, escaped and bounded; nullopt when it is not a readable compact str.
  std::optional<std::string> Str(std::uint64_t object) {
    std::array<std::uint8_t, kMaxHeader> head{};
    const std::size_t head_len = layout_.unicode_state + 4u;
    if (object == 0 || head_len > head.size() || !ReadExact(mem_, object, head.data(), head_len)) {
      return std::nullopt;
    }
    if (sym_.unicode_type != 0 && Word(head, layout_.object_type) != sym_.unicode_type) {
      return std::nullopt;
    }
    const auto length = static_cast<std::int64_t>(Word(head, layout_.unicode_length));
    const auto state = static_cast<std::uint32_t>(Int(head, layout_.unicode_state));
    auto shape = base::PythonStrShapeOf(layout_, state, length, kMaxPythonString);
    if (!shape) return std::nullopt;
    std::vector<std::uint8_t> data(shape->chars * shape->kind);
    if (!data.empty() && !ReadExact(mem_, object + shape->data_offset, data.data(), data.size())) {
      return std::nullopt;
    }
    auto text = base::PythonStrUtf8(data, shape->kind, shape->chars);
    if (!text) return std::nullopt;
    return base::EscapeBytes(*text) + (shape->cut ? "..." : "");
  }

  // The code object's names and location table, read once per code object.
  const Code* CodeAt(std::uint64_t addr) {
    if (auto it = codes_.find(addr); it != codes_.end()) return &it->second;
    if (!TypeIs(addr, sym_.code_type)) return nullptr;
    std::array<std::uint8_t, kMaxHeader> head{};
    const std::size_t head_len = layout_.code_adaptive;
    if (head_len > head.size() || !ReadExact(mem_, addr, head.data(), head_len)) return nullptr;
    Code code;
    code.file = Str(Word(head, layout_.code_filename)).value_or("?");
    auto function = Str(Word(head, layout_.code_qualname));
    if (!function) function = Str(Word(head, layout_.code_name));
    code.function = function.value_or("?");
    code.first_line = Int(head, layout_.code_firstlineno);
    code.first_traceable = Int(head, layout_.code_firsttraceable);
    const std::uint64_t table = Word(head, layout_.code_linetable);
    std::int64_t size = 0;
    if (table != 0 && TypeIs(table, sym_.bytes_type) &&
        ReadExact(mem_, table + layout_.bytes_size, &size, sizeof size) && size > 0) {
      code.table.resize(std::min<std::uint64_t>(static_cast<std::uint64_t>(size), kMaxLineTable));
      if (!ReadExact(mem_, table + layout_.bytes_data, code.table.data(), code.table.size())) {
        code.table.clear();
      }
    }
    if (codes_.size() >= kMaxPythonFrames) codes_.clear();  // bounded: at most one walk's worth
    return &codes_.emplace(addr, std::move(code)).first->second;
  }

  bool Frame(std::uint64_t code_addr, std::uint64_t prev_instr, int owner, PythonStack& out) {
    const Code* code = code_addr == 0 ? nullptr : CodeAt(code_addr);
    if (code == nullptr) {
      out.note =
          fmt::format("a Python frame's code at {:#x} is not a readable code object", code_addr);
      return false;
    }
    // The instruction the frame is at, in code units from the start of its bytecode.
    const std::int64_t index =
        static_cast<std::int64_t>(prev_instr - (code_addr + layout_.code_adaptive)) /
        static_cast<std::int64_t>(layout_.codeunit_size);
    // A frame still setting itself up (before its first traceable instruction) is left out, as
    // CPython's tracebacks leave it out.
    if (owner != layout_.owner_generator && index < code->first_traceable) return true;
    text_ += code->file.size() + code->function.size();
    nlohmann::json f = {{"file", code->file}, {"function", code->function}};
    auto line = base::PythonLineFor(code->table, code->first_line, index * layout_.codeunit_size);
    if (line && *line >= 0) f["line"] = *line;
    out.frames.push_back(std::move(f));
    return true;
  }

  MemoryReader& mem_;
  const PythonSymbols& sym_;
  const base::PythonLayout& layout_;
  std::map<std::uint64_t, Code> codes_;
  std::size_t text_ = 0;  // bytes of names in the frames so far
};

// The last number of the "NSpid:" line of /proc/TID/status: the id the thread has in its own
// PID namespace (what CPython stored as native_thread_id); `tid` itself when unreadable.
std::uint64_t NamespaceTid(pid_t tid) {
  std::ifstream in(fmt::format("/proc/{}/status", tid));
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("NSpid:")) continue;
    const std::size_t sp = line.find_last_of(" \t");
    const long id = std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return id > 0 ? static_cast<std::uint64_t>(id) : static_cast<std::uint64_t>(tid);
  }
  return static_cast<std::uint64_t>(tid);
}

// The value of a "Name:\tvalue" line of /proc/TID/status, or "".
std::string StatusField(pid_t tid, std::string_view name) {
  std::ifstream in(fmt::format("/proc/{}/status", tid));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(name) && line.size() > name.size() && line[name.size()] == ':') {
      const std::size_t at = line.find_first_not_of(" \t", name.size() + 1);
      return at == std::string::npos ? "" : line.substr(at);
    }
  }
  return "";
}

// The threads of process `pid`'s parent process (at most kMaxPythonThreadStates), each with its
// id in its own PID namespace and whether it is stopped ("t" or "T").
std::vector<ParentThread> ParentThreads(pid_t pid) {
  std::vector<ParentThread> out;
  const long ppid = std::strtol(StatusField(pid, "PPid").c_str(), nullptr, 10);
  if (ppid <= 0) return out;
  struct CloseDir {
    void operator()(DIR* d) const { closedir(d); }
  };
  std::unique_ptr<DIR, CloseDir> dir(opendir(fmt::format("/proc/{}/task", ppid).c_str()));
  if (dir == nullptr) return out;
  while (const dirent* entry = readdir(dir.get())) {
    if (out.size() >= kMaxPythonThreadStates) break;
    const long tid = std::strtol(entry->d_name, nullptr, 10);
    if (tid <= 0) continue;
    const std::string state = StatusField(static_cast<pid_t>(tid), "State");
    out.push_back(
        {NamespaceTid(static_cast<pid_t>(tid)), state.starts_with("t") || state.starts_with("T")});
  }
  return out;
}

struct SymbolSearch {
  PythonSymbols found;
};

int SearchModule(Dwfl_Module* mod, void**, const char* name, Dwarf_Addr, void* arg) {
  auto* search = static_cast<SymbolSearch*>(arg);
  const std::string_view path = name != nullptr ? name : "";
  const std::string_view base = path.substr(path.find_last_of('/') + 1);
  if (!base.starts_with("python") && !base.starts_with("libpython")) return DWARF_CB_OK;
  const int count = dwfl_module_getsymtab(mod);
  PythonSymbols here;
  static constexpr std::pair<std::string_view, std::uint64_t PythonSymbols::*> kWanted[] = {
      {"_PyRuntime", &PythonSymbols::runtime},
      {"Py_Version", &PythonSymbols::version},
      {"PyCode_Type", &PythonSymbols::code_type},
      {"PyUnicode_Type", &PythonSymbols::unicode_type},
      {"PyBytes_Type", &PythonSymbols::bytes_type}};
  for (int i = 0; i < count; ++i) {
    GElf_Sym sym{};
    GElf_Addr addr = 0;
    const char* sym_name = dwfl_module_getsym_info(mod, i, &sym, &addr, nullptr, nullptr, nullptr);
    if (sym_name == nullptr || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
        sym.st_shndx == SHN_UNDEF) {
      continue;
    }
    for (const auto& [wanted, member] : kWanted) {
      if (sym_name == wanted) here.*member = addr;
    }
  }
  if (here.runtime == 0) return DWARF_CB_OK;
  here.module = base::EscapeBytes(path.substr(0, 512));
  search->found = std::move(here);
  return DWARF_CB_ABORT;
}

}  // namespace

PythonStack WalkPythonStack(MemoryReader& mem, const PythonSymbols& symbols,
                            const PythonThreads& threads, std::size_t max_frames) {
  PythonStack out;
  if (symbols.version == 0) {
    out.note = fmt::format(
        "{} has no Py_Version: a CPython older than 3.11, not supported (the "
        "supported versions are {})",
        symbols.module, base::PythonLayoutVersions());
    return out;
  }
  std::uint64_t version = 0;
  if (!ReadExact(mem, symbols.version, &version, sizeof version)) {
    out.note = "cannot read the interpreter's Py_Version";
    return out;
  }
  const base::PythonLayout* layout = base::PythonLayoutFor(static_cast<std::uint32_t>(version));
  if (layout == nullptr) {
    out.note = fmt::format("Python {} is not supported (the supported versions are {})",
                           base::PythonVersionText(static_cast<std::uint32_t>(version)),
                           base::PythonLayoutVersions());
    return out;
  }
  Walker walker(mem, symbols, *layout);
  auto tstate = walker.ThreadState(threads, out.note);
  if (!tstate) return out;
  auto cframe = walker.Pointer(*tstate + layout->tstate_cframe);
  auto frame = cframe && *cframe != 0 ? walker.Pointer(*cframe + layout->cframe_current_frame)
                                      : std::nullopt;
  if (!frame) {
    out.note = "cannot read the thread's current Python frame";
    return out;
  }
  std::string which = std::move(out.note);
  walker.Frames(*frame, max_frames, out);
  if (out.frames.empty() && out.note.empty()) out.note = "the thread runs no Python code";
  if (!which.empty()) out.note = out.note.empty() ? which : which + "; " + out.note;
  return out;
}

PythonSymbols FindPythonSymbols(Dwfl* dwfl) {
  SymbolSearch search;
  dwfl_getmodules(dwfl, SearchModule, &search, 0);
  return search.found;
}

void AddPythonStack(Dwfl* dwfl, pid_t pid, pid_t tid, pid_t creator, nlohmann::json& stack) {
  const PythonSymbols symbols = FindPythonSymbols(dwfl);
  if (symbols.runtime == 0) return;
  ProcessMemory mem(pid);
  PythonThreads threads{NamespaceTid(tid), creator > 0 ? NamespaceTid(creator) : 0, {}};
  if (creator <= 0) threads.parent_threads = [pid] { return ParentThreads(pid); };
  PythonStack python = WalkPythonStack(mem, symbols, threads);
  stack["python"] = std::move(python.frames);
  if (!python.note.empty()) stack["python_note"] = std::move(python.note);
}

}  // namespace tracer
