// Which technique an event record shows (report/explain.h).
#include <set>

#include <catch2/catch.hpp>

#include "report/explain.h"

using nlohmann::json;

namespace {

std::string IdOf(const json& e) {
  const report::Technique* t = report::TechniqueOf(e);
  return t == nullptr ? "" : std::string(t->id);
}

json Denied(std::string syscall, json args, std::string rule = "p.json:3#/files/rules/0") {
  return {{"type", "permission_denied"},
          {"syscall", {{"name", syscall}}},
          {"args", std::move(args)},
          {"decision", {{"action", "deny"}, {"errno", "EACCES"}, {"rule", rule}}}};
}

json Path(std::string raw, std::string resolved) {
  return {{"raw", raw}, {"resolved", resolved}, {"access", "read"}};
}

}  // namespace

TEST_CASE("Explain: the catalog has unique ids and text for every entry", "[explain]") {
  std::set<std::string_view> ids;
  for (const auto& t : report::Techniques()) {
    CHECK(ids.insert(t.id).second);
    CHECK(!t.title.empty());
    CHECK(t.technique.size() > 40);
    CHECK(t.defence.size() > 40);
  }
}

TEST_CASE("Explain: escape primitives and built-in rules", "[explain]") {
  json e = {{"type", "escape_attempt"},
            {"decision", {{"action", "deny"}, {"rule", "basic:13#/escapes/default"}}}};
  for (const auto& [primitive, id] :
       std::vector<std::pair<std::string, std::string>>{{"ptrace", "tracer-attack"},
                                                        {"io_uring", "kernel-io-uring"},
                                                        {"clone_untraced", "clone-flags"},
                                                        {"seccomp_listener", "filter-stacking"},
                                                        {"foreign_abi", "abi-foreign"},
                                                        {"pinned_region", "pin-region"},
                                                        {"bpf", "kernel-interfaces"}}) {
    e["decision"]["primitive"] = primitive;
    CHECK(IdOf(e) == id);
  }
  json out = Denied("openat", {{"pathname", Path("/tmp/ev.jsonl", "/tmp/ev.jsonl")}},
                    "builtin:tracejail-output");
  CHECK(IdOf(out) == "tracer-output");
}

TEST_CASE("Explain: path aliases are told apart by the raw path", "[explain]") {
  CHECK(IdOf(Denied("openat", {{"pathname", Path("/tmp/l", "/etc/shadow")}})) == "path-symlink");
  CHECK(IdOf(Denied("openat", {{"pathname", Path("/proc/self/root/etc/shadow", "/etc/shadow")}})) ==
        "path-proc-aliases");
  CHECK(IdOf(Denied("openat", {{"pathname", Path("../../etc/shadow", "/etc/shadow")}})) ==
        "path-dotdot");
  CHECK(IdOf(Denied("openat", {{"pathname", Path("shadow", "/etc/shadow")}})) == "path-dotdot");
  CHECK(IdOf(Denied("linkat", {{"oldpath", Path("/etc/shadow", "/etc/shadow")}})) ==
        "path-hardlink-rename");
  CHECK(IdOf(Denied("creat", {{"pathname", Path("/etc/shadow", "/etc/shadow")}})) == "alias-open");
  CHECK(IdOf(Denied("execveat", {{"pathname", Path("", "/opt/forbidden")}})) == "interp-loader");
  CHECK(IdOf(Denied("openat", {{"pathname", Path("/etc/shadow", "/etc/shadow")}})) == "path-rule");
  CHECK(IdOf(Denied("openat", {{"pathname", Path("/" + std::string(2000, 'a'), "/x")}})) ==
        "path-long");
}

TEST_CASE("Explain: network denials, and nothing for allowed calls", "[explain]") {
  CHECK(IdOf(Denied("sendto", {{"dest_addr", {{"family", "AF_INET"}}}})) == "alias-net");
  CHECK(IdOf(Denied("connect", {{"addr", {{"address", "::ffff:127.0.0.1"}}}})) == "alias-net");
  CHECK(IdOf(Denied("connect", {{"addr", {{"address", "10.0.0.1"}}}})) == "net-rule");
  json allowed = Denied("openat", {{"pathname", Path("/tmp/l", "/etc/hosts")}});
  allowed["decision"]["action"] = "allow";
  CHECK(IdOf(allowed).empty());
  json audit = Denied("openat", {{"pathname", Path("/tmp/l", "/etc/shadow")}});
  audit["decision"]["action"] = "allow";
  audit["decision"]["would"] = "deny";
  CHECK(IdOf(audit) == "path-symlink");
}
