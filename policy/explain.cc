#include "policy/explain.h"

#include <arpa/inet.h>

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "policy/names.h"

namespace policy {
namespace {

// A pattern as a policy would write it: a literal's text is the name itself, escaped again so
// that a file named "*" does not read as a wildcard.
std::string AsPattern(const PathPattern& p) {
  return p.is_literal() ? EscapeGlob(p.text()) : p.text();
}

std::string VerdictText(const Verdict& v) {
  std::string out(Name(v.action));
  std::vector<std::string> extra;
  if (v.action == Action::kDeny && v.error != 0) extra.push_back(ErrnoName(v.error));
  if (v.event != EventType::kNone) extra.push_back(std::string(Name(v.event)));
  if (v.action != Action::kAllow || v.event != EventType::kNone) {
    extra.push_back(std::string(Name(v.severity)));
  }
  if (!extra.empty()) {
    out += " (";
    for (std::size_t i = 0; i < extra.size(); ++i) out += (i ? ", " : "") + extra[i];
    out += ")";
  }
  return out;
}

std::string Verbs(std::uint8_t verbs) {
  std::string out;
  for (unsigned v = 1; v <= static_cast<unsigned>(NetVerb::kAccept); ++v) {
    if ((verbs & (1u << v)) == 0) continue;
    out += (out.empty() ? "" : ",") + std::string(Name(static_cast<NetVerb>(v)));
  }
  return out;
}

}  // namespace

std::string DescribePolicy(const Policy& p) {
  std::string out = fmt::format("Policy \"{}\"", p.name);
  if (p.chain.size() > 1) {
    out += " (";
    for (std::size_t i = 0; i < p.chain.size(); ++i) out += (i ? " -> " : "") + p.chain[i];
    out += ")";
  }
  out += "\n";
  if (!p.description.empty()) out += "  " + p.description + "\n";

  out +=
      fmt::format("\nFiles: anything no rule matches: {}\n", VerdictText(p.path_default.verdict));
  out +=
      "  Rules, most specific first (the most specific match wins; ties go to the most "
      "restrictive):\n";
  std::vector<const PathRule*> rules;
  for (const auto& r : p.path_rules) rules.push_back(&r);
  std::stable_sort(rules.begin(), rules.end(), [](const PathRule* a, const PathRule* b) {
    return a->pattern.specificity() > b->pattern.specificity();
  });
  for (const PathRule* r : rules) {
    out += fmt::format("  - {} {} {}{}\n      rule {}\n", VerdictText(r->verdict),
                       AccessNames(r->access), AsPattern(r->pattern),
                       r->pattern.is_literal() ? " and everything below it" : "", r->id);
  }

  out += "\nNetwork:\n";
  std::string fams;
  for (int f : p.families) fams += (fams.empty() ? "" : ", ") + FamilyName(f);
  out += fmt::format("  socket() may create: {}; other families: {}\n",
                     fams.empty() ? "nothing" : fams, VerdictText(p.family_default.verdict));
  out += fmt::format("  connect/bind/send to an address no rule matches: {}\n",
                     VerdictText(p.net_default.verdict));
  for (const auto& r : p.net_rules) {
    std::string what;
    if (r.family) what += FamilyName(*r.family) + " ";
    if (r.cidr) {
      char buf[64] = {};
      inet_ntop(r.cidr->family, r.cidr->ip.data(), buf, sizeof buf);
      what += fmt::format("{}/{} ", buf, r.cidr->prefix_len);
    }
    if (r.port_lo != 0 || r.port_hi != 65535) {
      what += r.port_lo == r.port_hi ? fmt::format("port {} ", r.port_lo)
                                     : fmt::format("ports {}-{} ", r.port_lo, r.port_hi);
    }
    if (r.unix_path) what += "unix socket " + AsPattern(*r.unix_path) + " ";
    if (r.abstract) what += "abstract unix name @" + *r.abstract + " ";
    if (what.empty()) what = "any address ";
    out += fmt::format("  - {} {} {}\n      rule {}\n", VerdictText(r.verdict), Verbs(r.verbs),
                       what, r.id);
  }

  out += "\nEscape primitives:\n";
  for (std::size_t i = 1; i < kPrimitiveCount; ++i) {
    const auto& rule = p.primitives.at(i);
    out +=
        fmt::format("  - {:<22} {}\n", Name(static_cast<Primitive>(i)), VerdictText(rule.verdict));
  }

  out += "\nLimits (docs/isolation.md):\n";
  for (const auto& info : kLimitInfo) {
    auto v = p.limits.Get(info.kind);
    out += fmt::format("  - {:<11} {:<8} {}\n", info.key, v ? FormatLimit(info.unit, *v) : "off",
                       info.what);
  }
  const IsolationWanted& iso = p.isolation;
  std::string ns;
  for (const auto& info : kNamespaceInfo) {
    if (iso.Has(info.ns)) ns += (ns.empty() ? "" : ", ") + std::string(info.name);
  }
  out += "\nIsolation layers:\n";
  out += fmt::format("  - environment: {}\n", iso.clean_environment ? "clean" : "inherited");
  out += fmt::format("  - work dir: {}\n",
                     iso.private_workdir
                         ? "private (the command's TMPDIR), removed afterwards; the command "
                           "starts in the current directory, which the file rules decide like "
                           "any other"
                         : "the current directory");
  out += fmt::format("  - namespaces: {}\n", ns.empty() ? "none" : ns);
  out += fmt::format("  - Landlock: {}\n",
                     iso.landlock ? "the file rules again, in the kernel" : "no");
  out += fmt::format("  - read-only root: {}\n", iso.read_only_root ? "yes" : "no");
  out += fmt::format("  - cgroup: {}\n", iso.cgroups_required
                                             ? "required (no run without one)"
                                             : "used when available, else rlimits with a warning");
  return out;
}

}  // namespace policy
