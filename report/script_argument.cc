#include "report/script_argument.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace report {
namespace {

// One interpreter family: the names of its executables (a trailing version such as "3.11" is
// allowed), its one-letter options that take a value (the rest of the word or the next
// argument), those that mean the program is not a file (code on the command line, a module, the
// standard input), and those whose value is the script itself (php -f, awk -f).
struct Interpreter {
  std::array<std::string_view, 6> names;
  std::string_view with_value;
  std::string_view no_script;
  std::string_view script_option;
};

constexpr std::array<Interpreter, 9> kInterpreters{{
    {{"python", "python2", "python3", "pypy", "pypy3"}, "WXQ", "cm", ""},
    {{"sh", "bash", "dash", "zsh", "ksh", "mksh"}, "oO", "cs", ""},
    {{"perl"}, "IMmx", "eE", ""},
    {{"ruby"}, "IrCEx", "e", ""},
    {{"node", "nodejs"}, "r", "ep", ""},
    {{"php"}, "cdz", "rBRE", "f"},
    {{"lua", "luajit"}, "l", "e", ""},
    {{"tclsh", "wish"}, "", "", ""},
    {{"awk", "gawk", "mawk", "nawk"}, "vF", "", "f"},
}};

// "python3.11" names "python3" with a version: the name, then digits and dots only.
bool NameMatches(std::string_view base, std::string_view name) {
  if (name.empty() || !base.starts_with(name)) return false;
  std::string_view rest = base.substr(name.size());
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
}

const Interpreter* Find(std::string_view exe) {
  std::size_t slash = exe.rfind('/');
  std::string_view base = slash == std::string_view::npos ? exe : exe.substr(slash + 1);
  for (const Interpreter& i : kInterpreters) {
    for (std::string_view name : i.names) {
      if (NameMatches(base, name)) return &i;
    }
  }
  return nullptr;
}

}  // namespace

std::optional<std::size_t> ScriptArgument(std::string_view exe,
                                          const std::vector<std::string>& argv) {
  const Interpreter* in = Find(exe);
  if (in == nullptr) return std::nullopt;
  // awk's program is its first operand unless -f names a file: that operand is code.
  const bool operand_is_code = in->names[0] == "awk";
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      if (operand_is_code || i + 1 >= argv.size()) return std::nullopt;
      return i + 1;
    }
    if (a == "-") return std::nullopt;  // the standard input
    if (a.size() < 2 || (a[0] != '-' && a[0] != '+')) {
      if (operand_is_code) return std::nullopt;
      return i;
    }
    if (a.starts_with("--")) {
      // Long options: a few take the next argument; the rest are flags.
      if (a == "--rcfile" || a == "--init-file" || a == "--require") ++i;
      if (a == "--eval" || a == "--print" || a == "--command") return std::nullopt;
      continue;
    }
    // A cluster of one-letter options: "-Bu", "-Wignore", "-ex".
    for (std::size_t k = 1; k < a.size(); ++k) {
      const char c = a[k];
      if (in->no_script.find(c) != std::string_view::npos) return std::nullopt;
      const bool script = in->script_option.find(c) != std::string_view::npos;
      if (script || in->with_value.find(c) != std::string_view::npos) {
        if (k + 1 < a.size()) {
          if (script) return std::nullopt;  // "-ffile": the script is inside this word
          break;                            // the value is the rest of the word
        }
        if (script) return i + 1 < argv.size() ? std::optional<std::size_t>(i + 1) : std::nullopt;
        ++i;  // the value is the next argument
        break;
      }
    }
  }
  return std::nullopt;
}

}  // namespace report
