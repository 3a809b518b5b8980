#include "report/renderers.h"

#include <array>

namespace report {
namespace {

void Text(const ReportInput& in, std::string& out, const Spill& spill) {
  RenderText(in.analysis, out, spill);
  out += "\nEvents file: " + in.integrity + "\n";
}

void Markdown(const ReportInput& in, std::string& out, const Spill& spill) {
  RenderMarkdown(in.analysis, out, spill);
  out += "\n_Events file: " + in.integrity + "._\n";
}

void Json(const ReportInput& in, std::string& out, const Spill& spill) {
  RenderJson(in.analysis, {{"integrity", {{"ok", in.chain_ok}, {"problems", in.chain_problems}}}},
             0, out, spill);
  out += "\n";
}

void Html(const ReportInput& in, std::string& out, const Spill& spill) {
  RenderHtml(in.analysis, in.title,
             in.chain_ok ? "" : "The events file failed verification: " + in.integrity, out, spill,
             in.integrity);
}

void Sarif(const ReportInput& in, std::string& out, const Spill& spill) {
  RenderSarif(in.analysis, in.chain_ok ? "intact" : "broken", out, spill);
}

constexpr std::array kRenderers{
    Renderer{"text", "for a terminal (the default)", Text},
    Renderer{"markdown", "for a pull request or an issue", Markdown},
    Renderer{"json", "the analysis as one JSON document", Json},
    Renderer{"html", "one self-contained page with a timeline and charts", Html},
    Renderer{"sarif", "SARIF 2.1.0, one result per distinct denial, for code scanning", Sarif},
};

}  // namespace

std::span<const Renderer> Renderers() { return kRenderers; }

const Renderer* FindRenderer(std::string_view name) {
  for (const Renderer& r : kRenderers) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::vector<std::string> RendererNames() {
  std::vector<std::string> names;
  for (const Renderer& r : kRenderers) names.emplace_back(r.name);
  return names;
}

}  // namespace report
