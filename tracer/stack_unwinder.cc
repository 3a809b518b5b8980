#include "tracer/stack_unwinder.h"

#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cxxabi.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "base/escape.h"
#include "tracer/python_frames.h"

namespace tracer {
namespace {

// What the unwinding child may map beyond what it has at the fork: enough for the DWARF of a
// large program, not for a decompression bomb in a hostile one.
constexpr rlim_t kChildMemory = rlim_t{1} << 30;
// The most the child may write back (32 frames of bounded strings and 64 KiB of Python frames'
// names, escaped, fit easily).
constexpr std::size_t kMaxReply = 1024 * 1024;
// A tracee string in a frame (a module path, a symbol, a source file) is cut at this length.
constexpr std::size_t kMaxName = 512;

std::string Bounded(std::string_view s) {
  std::string out = base::EscapeText(s.substr(0, kMaxName));
  if (s.size() > kMaxName) out += "...";
  return out;
}

struct Target {
  pid_t pid;
  pid_t tid;
  pid_t creator;  // the thread that made the process, for its Python stack (0: unknown)
  user_regs_struct regs;
};

// The thread callbacks of libdwfl for a thread that is already stopped under ptrace by the
// supervisor (not by this process): its registers are given, its memory is read with
// process_vm_readv.
pid_t NextThread(Dwfl*, void* arg, void** thread_arg) {
  if (*thread_arg != nullptr) return 0;
  *thread_arg = arg;
  return static_cast<Target*>(arg)->tid;
}

bool GetThread(Dwfl*, pid_t tid, void* arg, void** thread_arg) {
  *thread_arg = arg;
  return tid == static_cast<Target*>(arg)->tid;
}

bool MemoryRead(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
  const auto* target = static_cast<const Target*>(arg);
  iovec local{result, sizeof *result};
  iovec remote{reinterpret_cast<void*>(addr), sizeof *result};
  return process_vm_readv(target->pid, &local, 1, &remote, 1, 0) ==
         static_cast<ssize_t>(sizeof *result);
}

bool SetInitialRegisters(Dwfl_Thread* thread, void* arg) {
  const user_regs_struct& r = static_cast<const Target*>(arg)->regs;
  // The x86_64 DWARF register numbers 0-16: rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8-r15,
  // and the return address column (rip).
  const Dwarf_Word regs[] = {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
                             r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
  if (!dwfl_thread_state_registers(thread, 0, std::size(regs), regs)) return false;
  dwfl_thread_state_register_pc(thread, r.rip);
  return true;
}

void Detach(Dwfl*, void*) {}
void ThreadDetach(Dwfl_Thread*, void*) {}

const Dwfl_Thread_Callbacks kThreadCallbacks = {NextThread,          GetThread, MemoryRead,
                                                SetInitialRegisters, Detach,    ThreadDetach};

std::string Demangled(const char* name) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(
      abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return Bounded(status == 0 && out != nullptr ? out.get() : name);
}

struct Walk {
  Dwfl* dwfl;
  std::size_t max_frames;
  nlohmann::json frames = nlohmann::json::array();
  bool cut = false;
};

int OnFrame(Dwfl_Frame* frame, void* arg) {
  auto* walk = static_cast<Walk*>(arg);
  if (walk->frames.size() >= walk->max_frames) {
    walk->cut = true;
    return DWARF_CB_ABORT;
  }
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(frame, &pc, &activation)) return DWARF_CB_ABORT;
  // A return address points after its call: look up the call itself.
  const Dwarf_Addr at = activation || pc == 0 ? pc : pc - 1;
  nlohmann::json f = {{"pc", fmt::format("{:#x}", pc)}};
  if (Dwfl_Module* mod = dwfl_addrmodule(walk->dwfl, at)) {
    Dwarf_Addr start = 0;
    if (const char* name =
            dwfl_module_info(mod, nullptr, &start, nullptr, nullptr, nullptr, nullptr, nullptr)) {
      f["module"] = Bounded(name);
    }
    GElf_Off offset = 0;
    GElf_Sym sym{};
    if (const char* fn = dwfl_module_addrinfo(mod, at, &offset, &sym, nullptr, nullptr, nullptr)) {
      f["function"] = Demangled(fn);
      f["offset"] = offset + (pc - at);
    } else {
      f["offset"] = pc - start;  // from the module's start
    }
    int line = 0;
    if (Dwfl_Line* src = dwfl_module_getsrc(mod, at)) {
      if (const char* file = dwfl_lineinfo(src, nullptr, &line, nullptr, nullptr, nullptr)) {
        f["file"] = Bounded(file);
        f["line"] = line;
      }
    }
  }
  walk->frames.push_back(std::move(f));
  return DWARF_CB_OK;
}

std::string DwflError() {
  const char* msg = dwfl_errmsg(-1);
  return msg != nullptr ? msg : "unknown error";
}

// Debug information inside the modules only: separate debug files (/usr/lib/debug, Debian's
// -dbgsym packages) are not read. Loading libc6-dbg's line tables cost 75 ms per stack (every
// stack has a libc frame; each is taken by a new child, so nothing is cached), and the
// lines that matter are the program's own; dwfl_standard_find_debuginfo would also start the
// debuginfod client. Without them a system library's frame still has its exported symbol.
int NoSeparateDebuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*,
                        GElf_Word, char**) {
  return -1;
}

nlohmann::json NativeFrames(Dwfl* dwfl, Target& target, std::size_t max_frames) {
  if (!dwfl_attach_state(dwfl, nullptr, target.pid, &kThreadCallbacks, &target)) {
    return {{"frames", nlohmann::json::array()}, {"note", "cannot unwind: " + DwflError()}};
  }
  Walk walk{dwfl, max_frames};
  // The walk ends with an error at the outermost frame as often as not: only a walk that found
  // nothing is a failure.
  const bool ended = dwfl_getthread_frames(dwfl, target.tid, OnFrame, &walk) == 0;
  nlohmann::json out = {{"frames", std::move(walk.frames)}};
  if (walk.cut) {
    out["note"] = fmt::format("cut at {} frames", max_frames);
  } else if (!ended && out["frames"].empty()) {
    out["note"] = "cannot unwind: " + DwflError();
  }
  return out;
}

nlohmann::json Unwind(Target target, std::size_t max_frames) {
  static char* debuginfo_path = nullptr;
  static const Dwfl_Callbacks callbacks = {.find_elf = dwfl_linux_proc_find_elf,
                                           .find_debuginfo = NoSeparateDebuginfo,
                                           .section_address = nullptr,
                                           .debuginfo_path = &debuginfo_path};
  std::unique_ptr<Dwfl, decltype(&dwfl_end)> dwfl(dwfl_begin(&callbacks), &dwfl_end);
  if (dwfl == nullptr) return {{"frames", nlohmann::json::array()}, {"note", DwflError()}};
  if (dwfl_linux_proc_report(dwfl.get(), target.pid) != 0 ||
      dwfl_report_end(dwfl.get(), nullptr, nullptr) != 0) {
    return {{"frames", nlohmann::json::array()},
            {"note", "cannot read the process's modules: " + DwflError()}};
  }
  nlohmann::json out = NativeFrames(dwfl.get(), target, max_frames);
  AddPythonStack(dwfl.get(), target.pid, target.tid, target.creator, out);
  return out;
}

[[noreturn]] void Child(int reply, const Target& target, std::size_t max_frames) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  unsetenv("DEBUGINFOD_URLS");  // never fetch debug information from the network
  // On top of what the child already has mapped (tracejail's own address space, which under
  // AddressSanitizer reserves terabytes of shadow).
  unsigned long pages = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "re")) {
    if (std::fscanf(statm, "%lu", &pages) != 1) pages = 0;
    std::fclose(statm);
  }
  const rlim_t limit =
      static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + kChildMemory;
  const rlimit memory{limit, limit};
  setrlimit(RLIMIT_AS, &memory);
  std::string text;
  try {
    text = Unwind(target, max_frames).dump();
  } catch (...) {
    _exit(3);
  }
  for (std::size_t done = 0; done < text.size();) {
    ssize_t n = write(reply, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(4);
    done += static_cast<std::size_t>(n);
  }
  _exit(0);
}

nlohmann::json Failed(std::string note) {
  return {{"frames", nlohmann::json::array()}, {"note", std::move(note)}};
}

}  // namespace

bool ParseStackMode(std::string_view text, StackMode& out) {
  static constexpr std::pair<std::string_view, StackMode> kModes[] = {
      {"off", StackMode::kOff}, {"denials", StackMode::kDenials}, {"all", StackMode::kAll}};
  for (const auto& [name, mode] : kModes) {
    if (text == name) {
      out = mode;
      return true;
    }
  }
  return false;
}

nlohmann::json UnwindStopped(pid_t pid, pid_t tid, pid_t creator, const user_regs_struct& regs,
                             const UnwindLimits& limits) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Failed(fmt::format("cannot unwind: pipe: {}", std::strerror(errno)));
  }
  const pid_t child = fork();
  if (child < 0) {
    const int err = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return Failed(fmt::format("cannot unwind: fork: {}", std::strerror(err)));
  }
  if (child == 0) {
    close(pipe_fds[0]);
    Child(pipe_fds[1], Target{pid, tid, creator, regs}, limits.max_frames);
  }
  close(pipe_fds[1]);
  std::string reply;
  bool timed_out = false, too_long = false;
  const auto deadline = std::chrono::steady_clock::now() + limits.time;
  char buf[8192];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      timed_out = ready == 0;
      break;
    }
    const ssize_t n = read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (reply.size() + static_cast<std::size_t>(n) > kMaxReply) {
      too_long = true;
      break;
    }
    reply.append(buf, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  if (timed_out || too_long) kill(child, SIGKILL);
  int status = 0;
  while (waitpid(child, &status, __WALL) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return Failed(fmt::format("not taken: unwinding took longer than {} ms", limits.time.count()));
  }
  if (too_long) return Failed("not taken: the unwinder's reply was too long");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Failed(WIFSIGNALED(status)
                      ? fmt::format("not taken: the unwinder died of signal {}", WTERMSIG(status))
                      : fmt::format("not taken: the unwinder failed ({})", WEXITSTATUS(status)));
  }
  nlohmann::json out = nlohmann::json::parse(reply, nullptr, false);
  if (out.is_discarded() || !out.is_object() || !out.contains("frames")) {
    return Failed("not taken: the unwinder's reply was not understood");
  }
  return out;
}

}  // namespace tracer
