#include "base/python_layout.h"

#include <array>
#include <utility>

namespace base {
namespace {

// One row per major.minor, from tests/probes/python_layout_probe.c built against that
// version's headers (3.11.2 and 3.11.7 print the same numbers, 3.12.1 the second row).
constexpr std::array<PythonLayout, 2> kLayouts{{
    {.version = 0x030B0000,
     .name = "3.11",
     .runtime_interpreters_head = 40,
     .interp_next = 0,
     .interp_threads_head = 16,
     .tstate_next = 8,
     .tstate_native_thread_id = 160,
     .tstate_cframe = 56,
     .cframe_current_frame = 8,
     .frame_code = 32,
     .frame_previous = 48,
     .frame_prev_instr = 56,
     .frame_owner = 69,
     .object_type = 8,
     .code_filename = 112,
     .code_name = 120,
     .code_qualname = 128,
     .code_firstlineno = 72,
     .code_linetable = 136,
     .code_firsttraceable = 168,
     .code_adaptive = 184,
     .codeunit_size = 2,
     .bytes_size = 16,
     .bytes_data = 32,
     .unicode_length = 16,
     .unicode_state = 32,
     .unicode_ascii_data = 48,
     .unicode_compact_data = 72,
     .unicode_kind_shift = 2,
     .unicode_compact_shift = 5,
     .unicode_ascii_shift = 6,
     .owner_generator = 1,
     .owner_cstack = -1},
    {.version = 0x030C0000,
     .name = "3.12",
     .runtime_interpreters_head = 40,
     .interp_next = 0,
     .interp_threads_head = 72,
     .tstate_next = 8,
     .tstate_native_thread_id = 144,
     .tstate_cframe = 56,
     .cframe_current_frame = 0,
     .frame_code = 0,
     .frame_previous = 8,
     .frame_prev_instr = 56,
     .frame_owner = 70,
     .object_type = 8,
     .code_filename = 112,
     .code_name = 120,
     .code_qualname = 128,
     .code_firstlineno = 68,
     .code_linetable = 136,
     .code_firsttraceable = 176,
     .code_adaptive = 192,
     .codeunit_size = 2,
     .bytes_size = 16,
     .bytes_data = 32,
     .unicode_length = 16,
     .unicode_state = 32,
     .unicode_ascii_data = 40,
     .unicode_compact_data = 56,
     .unicode_kind_shift = 2,
     .unicode_compact_shift = 5,
     .unicode_ascii_shift = 6,
     .owner_generator = 1,
     .owner_cstack = 3},
}};

// The fields by the probe's names.
using Member = std::uint16_t PythonLayout::*;
constexpr std::pair<std::string_view, Member> kFields[] = {
    {"runtime_interpreters_head", &PythonLayout::runtime_interpreters_head},
    {"interp_next", &PythonLayout::interp_next},
    {"interp_threads_head", &PythonLayout::interp_threads_head},
    {"tstate_next", &PythonLayout::tstate_next},
    {"tstate_native_thread_id", &PythonLayout::tstate_native_thread_id},
    {"tstate_cframe", &PythonLayout::tstate_cframe},
    {"cframe_current_frame", &PythonLayout::cframe_current_frame},
    {"frame_code", &PythonLayout::frame_code},
    {"frame_previous", &PythonLayout::frame_previous},
    {"frame_prev_instr", &PythonLayout::frame_prev_instr},
    {"frame_owner", &PythonLayout::frame_owner},
    {"object_type", &PythonLayout::object_type},
    {"code_filename", &PythonLayout::code_filename},
    {"code_name", &PythonLayout::code_name},
    {"code_qualname", &PythonLayout::code_qualname},
    {"code_firstlineno", &PythonLayout::code_firstlineno},
    {"code_linetable", &PythonLayout::code_linetable},
    {"code_firsttraceable", &PythonLayout::code_firsttraceable},
    {"code_adaptive", &PythonLayout::code_adaptive},
    {"codeunit_size", &PythonLayout::codeunit_size},
    {"bytes_size", &PythonLayout::bytes_size},
    {"bytes_data", &PythonLayout::bytes_data},
    {"unicode_length", &PythonLayout::unicode_length},
    {"unicode_state", &PythonLayout::unicode_state},
    {"unicode_ascii_data", &PythonLayout::unicode_ascii_data},
    {"unicode_compact_data", &PythonLayout::unicode_compact_data},
};
using Shift = std::uint8_t PythonLayout::*;
constexpr std::pair<std::string_view, Shift> kShifts[] = {
    {"unicode_kind_shift", &PythonLayout::unicode_kind_shift},
    {"unicode_compact_shift", &PythonLayout::unicode_compact_shift},
    {"unicode_ascii_shift", &PythonLayout::unicode_ascii_shift},
    {"owner_generator", &PythonLayout::owner_generator},
};

}  // namespace

const PythonLayout* PythonLayoutFor(std::uint32_t version_hex) {
  for (const PythonLayout& layout : kLayouts) {
    if ((version_hex & 0xFFFF0000u) == layout.version) return &layout;
  }
  return nullptr;
}

std::string PythonVersionText(std::uint32_t version_hex) {
  std::string out = std::to_string(version_hex >> 24) + "." +
                    std::to_string((version_hex >> 16) & 0xFF) + "." +
                    std::to_string((version_hex >> 8) & 0xFF);
  const unsigned level = (version_hex >> 4) & 0xF, serial = version_hex & 0xF;
  static constexpr std::pair<unsigned, std::string_view> kLevels[] = {
      {0xA, "a"}, {0xB, "b"}, {0xC, "rc"}};
  for (const auto& [code, text] : kLevels) {
    if (level == code) out += std::string(text) + std::to_string(serial);
  }
  return out;
}

std::string PythonLayoutVersions() {
  std::string out;
  for (const PythonLayout& layout : kLayouts) {
    if (!out.empty()) out += ", ";
    out += layout.name;
  }
  return out;
}

std::optional<std::uint32_t> PythonLayoutField(const PythonLayout& layout, std::string_view name) {
  if (name == "version") return layout.version;
  if (name == "owner_cstack") {
    return layout.owner_cstack < 0 ? std::nullopt
                                   : std::optional<std::uint32_t>(layout.owner_cstack);
  }
  for (const auto& [field, member] : kFields) {
    if (field == name) return layout.*member;
  }
  for (const auto& [field, member] : kShifts) {
    if (field == name) return layout.*member;
  }
  return std::nullopt;
}

}  // namespace base
