#include "syscalls/classes.h"

#include <array>
#include <vector>

namespace syscalls {
namespace {

struct ClassInfo {
  std::string_view name;
  std::string_view summary;
  Class bit;
};

constexpr ClassInfo kInfo[] = {
    {"%file", "calls that take a file name", Class::kFile},
    {"%network", "socket calls", Class::kNetwork},
    {"%process", "process life cycle", Class::kProcess},
    {"%signal", "signal handling", Class::kSignal},
    {"%ipc", "System V IPC", Class::kIpc},
    {"%desc", "calls that take or make a file descriptor", Class::kDesc},
    {"%memory", "memory mapping", Class::kMemory},
    {"%creds", "user, group and capability credentials", Class::kCreds},
    {"%clock", "clocks and time", Class::kClock},
    {"%escape", "escape primitives (tracejail's class)", Class::kEscape},
};
constexpr std::size_t kClassCount = std::size(kInfo);

struct Classes {
  std::array<std::vector<std::string_view>, kClassCount> members;
  std::array<SyscallClass, kClassCount> classes;
};

const Classes& Built() {
  static const Classes built = [] {
    Classes out;
    for (std::size_t i = 0; i < kClassCount; ++i) {
      for (const SyscallRow& row : SyscallTable()) {
        if (Has(ClassesOf(row), kInfo[i].bit)) out.members[i].push_back(row.name);
      }
      out.classes[i] = {kInfo[i].name, kInfo[i].summary, kInfo[i].bit, out.members[i]};
    }
    return out;
  }();
  return built;
}

}  // namespace

std::span<const SyscallClass> SyscallClasses() { return Built().classes; }

const SyscallClass* FindSyscallClass(std::string_view name) {
  for (const auto& c : Built().classes) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace syscalls
