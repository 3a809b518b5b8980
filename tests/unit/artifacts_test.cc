// What ran and what was left behind, the pure parts: which argument is an interpreter's script
// (report/script_argument.h), bounded SHA-256 of a descriptor (report/file_digest.h), and the
// records read back into reports and diffs (report/artifacts.h).
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "report/analysis.h"
#include "report/artifacts.h"
#include "report/event_reader.h"
#include "report/file_digest.h"
#include "report/hash_chain.h"
#include "report/run_diff.h"
#include "report/script_argument.h"

namespace {

std::optional<std::string> Script(const std::vector<std::string>& argv) {
  std::optional<std::size_t> at = report::ScriptArgument(argv.at(0), argv);
  if (!at) return std::nullopt;
  REQUIRE(*at < argv.size());
  return argv[*at];
}

base::UniqueFd MemFile(const std::string& content) {
  base::UniqueFd fd(memfd_create("artifacts_test", MFD_CLOEXEC));
  REQUIRE(fd.valid());
  REQUIRE(write(fd.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  return fd;
}

}  // namespace

TEST_CASE("ScriptArgument: the script an interpreter runs, and none for inline code",
          "[artifacts]") {
  using V = std::vector<std::string>;
  struct Case {
    V argv;
    std::optional<std::string> script;
  };
  const Case cases[] = {
      {{"/usr/bin/python3.11", "x.py", "arg"}, "x.py"},
      {{"python3", "-u", "-B", "x.py"}, "x.py"},
      {{"python3", "-Bu", "x.py"}, "x.py"},
      {{"python3", "-W", "ignore", "x.py"}, "x.py"},
      {{"python3", "-Wignore", "x.py"}, "x.py"},
      {{"python3", "-X", "dev", "--", "x.py"}, "x.py"},
      {{"python3", "-c", "print(1)"}, std::nullopt},
      {{"python3", "-Bc", "print(1)"}, std::nullopt},
      {{"python3", "-m", "http.server"}, std::nullopt},
      {{"python3", "-"}, std::nullopt},
      {{"python3"}, std::nullopt},
      {{"/bin/sh", "-e", "run.sh"}, "run.sh"},
      {{"bash", "-o", "pipefail", "run.sh", "a"}, "run.sh"},
      {{"bash", "--rcfile", "rc", "run.sh"}, "run.sh"},
      {{"sh", "-c", "echo hi"}, std::nullopt},
      {{"bash", "-ec", "echo hi"}, std::nullopt},
      {{"dash", "-s"}, std::nullopt},
      {{"perl", "-I", "lib", "t.pl"}, "t.pl"},
      {{"perl", "-Ilib", "-w", "t.pl"}, "t.pl"},
      {{"perl", "-e", "print 1"}, std::nullopt},
      {{"node", "app.js"}, "app.js"},
      {{"node", "--eval", "1"}, std::nullopt},
      {{"php", "-f", "index.php"}, "index.php"},
      {{"gawk", "-f", "prog.awk", "data"}, "prog.awk"},
      {{"awk", "{print}", "data"}, std::nullopt},
      {{"/usr/bin/cat", "file"}, std::nullopt},
      {{"pythonista", "x.py"}, std::nullopt},  // a name that only starts like python's
  };
  for (const Case& c : cases) {
    CAPTURE(c.argv);
    CHECK(Script(c.argv) == c.script);
  }
}

TEST_CASE("DigestFd: the SHA-256 of the whole file, bounded, and the copy", "[artifacts]") {
  const std::string content(200000, 'x');
  base::UniqueFd fd = MemFile(content);
  report::FileDigest d = report::DigestFd(fd.get(), 1 << 30);
  CHECK(d.complete);
  CHECK(d.read == content.size());
  CHECK(d.sha256 == report::Sha256Hex(content));
  // The descriptor's offset is not what is read from: twice gives the same.
  CHECK(report::DigestFd(fd.get(), 1 << 30).sha256 == d.sha256);

  report::FileDigest cut = report::DigestFd(fd.get(), 1000);
  CHECK_FALSE(cut.complete);
  CHECK(cut.read == 1000);
  CHECK(cut.error.find("larger than 1000 bytes") != std::string::npos);
  // Exactly at the bound is whole.
  CHECK(report::DigestFd(fd.get(), content.size()).complete);

  base::UniqueFd copy(memfd_create("artifacts_copy", MFD_CLOEXEC));
  report::FileDigest copied = report::DigestFd(fd.get(), 1 << 30, copy.get());
  CHECK(copied.complete);
  CHECK(report::DigestFd(copy.get(), 1 << 30).sha256 == d.sha256);

  base::UniqueFd empty = MemFile("");
  CHECK(report::DigestFd(empty.get(), 10).sha256 == report::Sha256Hex(""));
  CHECK(report::ModeText(0100755) == "0755");
  CHECK(report::ModeText(04755) == "4755");
}

TEST_CASE("artifacts: exec and dropped records feed the report and the diff", "[artifacts]") {
  const std::string sha(64, 'a'), other(64, 'b');
  auto exec = [&](int pid, const std::string& image_sha) {
    return nlohmann::json{
        {"type", "process_exec"},
        {"seq", pid},
        {"pid", pid},
        {"severity", "info"},
        {"args",
         {{"exe", "/usr/bin/dash"},
          {"argv", {"sh", "/tmp/x.sh"}},
          {"image", {{"path", "/usr/bin/dash"}, {"kind", "image"}, {"sha256", image_sha}}},
          {"script", {{"path", "/tmp/x.sh"}, {"kind", "script"}, {"sha256", sha}, {"size", 10}}}}}};
  };
  auto dropped = [&](const std::string& file_sha) {
    return nlohmann::json{{"type", "file_dropped"},
                          {"seq", 9},
                          {"severity", "info"},
                          {"args",
                           {{"path", "/tmp/out.bin"},
                            {"kind", "file"},
                            {"sha256", file_sha},
                            {"size", 3},
                            {"mode", "0644"},
                            {"created", true}}}};
  };
  report::Analysis a = report::Analyze({exec(1, other), exec(2, other), dropped(sha)});
  REQUIRE(a.executed.size() == 2);  // the image once, the script once
  CHECK(a.executed[0].kind == "image");
  CHECK(a.executed[0].count == 2);
  CHECK(a.executed[1].sha256 == sha);
  REQUIRE(a.dropped.size() == 1);
  CHECK(a.dropped[0].created);
  CHECK(a.dropped[0].size == 3u);
  const std::string text = report::RenderText(a);
  CHECK(text.find("Dropped (created, changed or removed):") != std::string::npos);
  CHECK(text.find(sha + "          3 0644 /tmp/out.bin [created]") != std::string::npos);
  CHECK(report::RenderMarkdown(a).find("## Executed") != std::string::npos);
  nlohmann::json j = nlohmann::json::parse(report::RenderJson(a));
  CHECK(j["dropped"][0]["sha256"] == sha);
  CHECK(j["executed"][0]["count"] == 2);

  // A field of the wrong type makes the record unreadable (the reader is strict), never a
  // half-read file in the report.
  nlohmann::json bad = dropped(sha);
  bad["args"]["size"] = "big";
  std::string why;
  CHECK_FALSE(report::ToRecord(bad, why));
  CHECK(why.find("size") != std::string::npos);
  CHECK(report::Analyze({bad}).dropped.empty());

  // Two runs that drop the same name with different contents differ.
  report::RunProfiler pa, pb;
  pa.Add(*report::ToRecord(dropped(sha), why));
  pb.Add(*report::ToRecord(dropped(other), why));
  report::RunDiff d = report::DiffRuns(pa.Finish(), pb.Finish());
  CHECK(d.different());
}
