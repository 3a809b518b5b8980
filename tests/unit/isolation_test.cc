// tracer/isolation.cc: what PrepareIsolation plans from a policy (the launcher's Sandbox, the
// layers the result lists, the warnings) and the work dir. A layer the machine cannot give is
// made missing for real: the probe runs in a child process that has given up CAP_SYS_ADMIN, so
// unshare fails there as on a machine without namespaces. Tests that need namespaces this machine
// does not offer say TRACEJAIL-SKIP.
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "policy/capabilities.h"
#include "policy/loader.h"
#include "tracer/isolation.h"

namespace {

const policy::Variables kVars{{"CWD", "/w"},
                              {"WORKDIR", "/w"},
                              {"HOME", "/home/u"},
                              {"TMPDIR", "/tmp"},
                              {"COMMAND", "/usr/bin/x"}};

// A policy on top of the "none" preset (no limits, no layers) with `extra` merged in.
policy::Policy Policy(const nlohmann::json& extra) {
  nlohmann::json doc = {{"version", 1}, {"extends", "none"}};
  doc.update(extra);
  return policy::LoadPolicyText(doc.dump(), "iso.json", kVars);
}

const tracer::LayerStatus* FindLayer(const tracer::PreparedIsolation& iso,
                                     const std::string& name) {
  for (const auto& l : iso.layers) {
    if (l.layer == name) return &l;
  }
  return nullptr;
}

std::optional<rlimit> FindRlimit(const tracer::Sandbox& sb, int resource) {
  for (const auto& [r, value] : sb.rlimits) {
    if (r == resource) return value;
  }
  return std::nullopt;
}

bool Unshares(int flags) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(unshare(flags) == 0 ? 0 : 1);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Runs `body` in a child process that no longer holds CAP_SYS_ADMIN and returns what it printed.
// "SKIP: why" when the child could still unshare (then nothing here can make a layer missing).
std::string WithoutSysAdmin(const std::function<std::string()>& body) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (syscall(SYS_capget, &header, data) == 0) {
      data[0].effective &= ~(1u << CAP_SYS_ADMIN);
      data[0].permitted &= ~(1u << CAP_SYS_ADMIN);
      syscall(SYS_capset, &header, data);
    }
    if (unshare(CLONE_NEWUTS) == 0) {
      out = "SKIP: unshare(CLONE_NEWUTS) still works without CAP_SYS_ADMIN";
    } else {
      try {
        out = body();
      } catch (const std::exception& e) {
        out = std::string("exception: ") + e.what();
      }
    }
    ssize_t ignored = write(fds[1], out.data(), out.size());
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return out;
}

std::string Describe(const tracer::PreparedIsolation& iso) {
  std::string out;
  for (const auto& l : iso.layers) out += l.layer + "=" + l.state + ": " + l.detail + "\n";
  for (const auto& w : iso.warnings) out += "warning: " + w + "\n";
  return out;
}

}  // namespace

TEST_CASE("isolation: a policy that asks for nothing gets the core layers and nothing else",
          "[isolation]") {
  policy::Policy p = Policy(nlohmann::json::object());
  tracer::Sandbox sb;
  tracer::IsolationOptions o;
  o.cwd = "/srv/project";
  tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, o, sb);
  INFO(Describe(iso));
  CHECK(iso.warnings.empty());
  CHECK(iso.cgroup == nullptr);
  const std::vector<std::pair<std::string, std::string>> want{
      {"trace", "active"},      {"environment", "off"},       {"path_rules", "off"},
      {"network_rules", "off"}, {"kill_on_violation", "off"}, {"rlimits", "active"},
      {"cgroup", "off"},        {"workdir", "off"},           {"capabilities", "off"}};
  REQUIRE(iso.layers.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(iso.layers[i].layer == want[i].first);
    CHECK(iso.layers[i].state == want[i].second);
  }
  CHECK(FindLayer(iso, "workdir")->detail == "the command runs in /srv/project");
  CHECK(FindLayer(iso, "rlimits")->detail == "core dumps off");
  // The launcher gets no namespaces and no mounts; core dumps off, the caller's file limit back.
  CHECK(sb.clone_flags == 0);
  CHECK(sb.read_only_mounts.empty());
  CHECK(sb.tmpfs_dir.empty());
  CHECK_FALSE(sb.mount_proc);
  CHECK(sb.hostname.empty());
  CHECK(sb.chdir_to == "/srv/project");
  CHECK_FALSE(sb.restrict_caps);
  CHECK(sb.landlock_handled == 0);
  auto core = FindRlimit(sb, RLIMIT_CORE);
  REQUIRE(core);
  CHECK(core->rlim_cur == 0);
  CHECK(core->rlim_max == 0);
  auto nofile = FindRlimit(sb, RLIMIT_NOFILE);
  REQUIRE(nofile);
  CHECK(nofile->rlim_cur == tracer::RaiseOwnFileLimit().rlim_cur);
  CHECK_FALSE(FindRlimit(sb, RLIMIT_CPU));
  // The result's list is the same layers, in order.
  nlohmann::json j = iso.LayersJson();
  REQUIRE(j.size() == iso.layers.size());
  for (std::size_t i = 0; i < iso.layers.size(); ++i) {
    CHECK(j[i] == nlohmann::json{{"layer", iso.layers[i].layer},
                                 {"state", iso.layers[i].state},
                                 {"detail", iso.layers[i].detail}});
  }
}

TEST_CASE("isolation: per-process limits become rlimits the kernel enforces", "[isolation]") {
  rlimit nofile{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &nofile) == 0);
  if (nofile.rlim_max < 64) {
    std::puts("TRACEJAIL-SKIP: the hard RLIMIT_NOFILE is below 64");
    return;
  }
  policy::Policy p =
      Policy({{"limits", {{"cpu", "1500ms"}, {"file_size", "1MiB"}, {"open_files", 64}}}});
  tracer::Sandbox sb;
  tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, {}, sb);
  // CPU seconds round up; the hard limit one second later is the SIGKILL after SIGXCPU.
  auto cpu = FindRlimit(sb, RLIMIT_CPU);
  REQUIRE(cpu);
  CHECK(cpu->rlim_cur == 2);
  CHECK(cpu->rlim_max == 3);
  auto fsize = FindRlimit(sb, RLIMIT_FSIZE);
  REQUIRE(fsize);
  CHECK(fsize->rlim_cur == 1u << 20);
  CHECK(fsize->rlim_max == 1u << 20);
  auto files = FindRlimit(sb, RLIMIT_NOFILE);
  REQUIRE(files);
  CHECK(files->rlim_cur == 64);
  CHECK(files->rlim_max == 64);
  CHECK(FindLayer(iso, "rlimits")->detail ==
        "core dumps off, cpu 1500ms, file_size 1MiB, open_files 64");
}

TEST_CASE("isolation: an open file limit above the hard limit is clamped and says so",
          "[isolation]") {
  rlimit nofile{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &nofile) == 0);
  if (nofile.rlim_max == RLIM_INFINITY || nofile.rlim_max > (1u << 30)) {
    std::puts("TRACEJAIL-SKIP: the hard RLIMIT_NOFILE is unlimited");
    return;
  }
  policy::Policy p = Policy({{"limits", {{"open_files", nofile.rlim_max + 1000}}}});
  tracer::Sandbox sb;
  tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, {}, sb);
  auto files = FindRlimit(sb, RLIMIT_NOFILE);
  REQUIRE(files);
  CHECK(files->rlim_cur == nofile.rlim_max);
  CHECK(files->rlim_max == nofile.rlim_max);
  CHECK_THAT(FindLayer(iso, "rlimits")->detail,
             Catch::Contains("clamped to the hard limit " + std::to_string(nofile.rlim_max)));
}

TEST_CASE("isolation: a network namespace is not made for a policy that allows inet",
          "[isolation]") {
  policy::Policy p = Policy({{"isolation", {{"namespaces", {"net"}}}}});
  tracer::Sandbox sb;
  tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, {}, sb);
  const tracer::LayerStatus* net = FindLayer(iso, "namespace:net");
  REQUIRE(net != nullptr);
  CHECK(net->state == "off");
  CHECK_THAT(net->detail, Catch::Contains("allows inet sockets"));
  CHECK((sb.clone_flags & CLONE_NEWNET) == 0);
}

TEST_CASE("isolation: a read-only root without a mount namespace fails or is degraded when allowed",
          "[isolation]") {
  policy::Policy p = Policy({{"isolation", {{"read_only_root", true}}}});
  tracer::Sandbox sb;
  try {
    tracer::PrepareIsolation(p, {}, sb);
    FAIL("a read-only root was promised without a mount namespace");
  } catch (const tracer::IsolationError& e) {
    CHECK_THAT(e.what(), Catch::Contains("the policy asks for read_only_root") &&
                             Catch::Contains("it needs a mount namespace") &&
                             Catch::Contains("--allow-degraded"));
  }
  tracer::Sandbox degraded_sb;
  tracer::IsolationOptions o;
  o.allow_degraded = true;
  tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, o, degraded_sb);
  const tracer::LayerStatus* layer = FindLayer(iso, "read_only_root");
  REQUIRE(layer != nullptr);
  CHECK(layer->state == "degraded");
  REQUIRE(iso.warnings.size() == 1);
  CHECK_THAT(iso.warnings[0], Catch::StartsWith("read_only_root is NOT active"));
  CHECK(degraded_sb.read_only_mounts.empty());
}

TEST_CASE(
    "isolation: a namespace the machine cannot give fails the run unless degrading is allowed",
    "[isolation]") {
  policy::Policy p = Policy({{"isolation", {{"namespaces", {"uts"}}}}});
  std::string out = WithoutSysAdmin([&] {
    std::string r;
    tracer::Sandbox sb;
    try {
      tracer::PrepareIsolation(p, {}, sb);
      r += "prepared\n";
    } catch (const tracer::IsolationError& e) {
      r += std::string("error: ") + e.what() + "\n";
    }
    tracer::Sandbox sb2;
    tracer::IsolationOptions o;
    o.allow_degraded = true;
    tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, o, sb2);
    r += Describe(iso);
    r += "flags=" + std::to_string(sb2.clone_flags) + " hostname=" + sb2.hostname + "\n";
    return r;
  });
  if (out.starts_with("SKIP: ")) {
    std::printf("TRACEJAIL-SKIP: %s\n", out.c_str() + 6);
    return;
  }
  INFO(out);
  CHECK_THAT(out, Catch::StartsWith("error: the policy asks for namespace:uts but this machine "
                                    "cannot provide it: unshare(CLONE_NEWUTS) fails: Operation "
                                    "not permitted. Run tracejail as root"));
  CHECK_THAT(out, Catch::Contains("namespace:uts=degraded: unshare(CLONE_NEWUTS) fails"));
  CHECK_THAT(out, Catch::Contains("warning: namespace:uts is NOT active"));
  CHECK_THAT(out, Catch::Contains("flags=0 hostname=\n"));
}

TEST_CASE("isolation: namespaces the machine gives are all asked for and seen through",
          "[isolation]") {
  const int all = CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWIPC;
  if (!Unshares(all)) {
    std::puts("TRACEJAIL-SKIP: cannot unshare pid, uts, mount and ipc namespaces here");
    return;
  }
  // No inet family: the network namespace applies too, when the machine has it.
  bool net = Unshares(CLONE_NEWNET);
  policy::Policy p = Policy({{"isolation", {{"namespaces", {"pid", "uts", "mount", "ipc", "net"}}}},
                             {"network", {{"families", {"unix"}}}}});
  tracer::Sandbox sb;
  tracer::IsolationOptions o;
  o.allow_degraded = !net;
  tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, o, sb);
  INFO(Describe(iso));
  CHECK((sb.clone_flags & all) == all);
  CHECK(((sb.clone_flags & CLONE_NEWNET) != 0) == net);
  CHECK((sb.clone_flags & CLONE_NEWUSER) == 0);
  for (const char* ns : {"namespace:pid", "namespace:uts", "namespace:mount", "namespace:ipc"}) {
    CAPTURE(ns);
    REQUIRE(FindLayer(iso, ns) != nullptr);
    CHECK(FindLayer(iso, ns)->state == "active");
  }
  CHECK(sb.hostname == "tracejail");
  // A PID namespace with its own mounts gets a fresh /proc, and the supervisor reads paths and
  // pids as the tracee sees them.
  CHECK(sb.mount_proc);
  CHECK(iso.view.own_mounts);
  CHECK(iso.view.ns_proc_pids);
  CHECK(sb.uid_map.empty());
}

TEST_CASE("isolation: a disk limit puts the work dir on a tmpfs of that size or says it cannot",
          "[isolation]") {
  policy::Policy p = Policy({{"limits", {{"disk", "64MiB"}}}});
  tracer::IsolationOptions o;
  o.workdir = "/tmp/tracejail-test-workdir";
  if (Unshares(CLONE_NEWNS)) {
    tracer::Sandbox sb;
    tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, o, sb);
    INFO(Describe(iso));
    CHECK((sb.clone_flags & CLONE_NEWNS) != 0);
    CHECK(sb.tmpfs_dir == o.workdir);
    CHECK(sb.tmpfs_options == "size=67108864,mode=0700");
    CHECK(iso.tmpfs_dir == o.workdir);
    CHECK(iso.view.own_mounts);
    CHECK(FindLayer(iso, "workdir")->state == "active");
    CHECK_THAT(FindLayer(iso, "workdir")->detail, Catch::Contains("a 64MiB tmpfs"));
  } else {
    std::puts("TRACEJAIL-SKIP: no mount namespace here for the tmpfs case");
  }
  // Where no mount namespace can be made, the limit is said not to be enforced.
  std::string out = WithoutSysAdmin([&] {
    tracer::Sandbox sb;
    tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, o, sb);
    return Describe(iso) + "tmpfs=" + sb.tmpfs_dir + "\n";
  });
  if (out.starts_with("SKIP: ")) {
    std::printf("TRACEJAIL-SKIP: %s\n", out.c_str() + 6);
    return;
  }
  INFO(out);
  CHECK_THAT(out, Catch::Contains("workdir=degraded: /tmp/tracejail-test-workdir: a private "
                                  "directory, removed afterwards (no disk limit: no mount "
                                  "namespace)"));
  CHECK_THAT(out, Catch::Contains("warning: the disk limit is NOT enforced"));
  CHECK_THAT(out, Catch::Contains("tmpfs=\n"));
}

TEST_CASE("isolation: capabilities are cut to the policy's set and never keep CAP_SYS_PTRACE",
          "[isolation]") {
  {
    tracer::Sandbox sb;
    tracer::PreparedIsolation iso = tracer::PrepareIsolation(
        Policy({{"isolation", {{"capabilities", {"SYS_PTRACE", "KILL", "CAP_CHOWN"}}}}}), {}, sb);
    CHECK(sb.restrict_caps);
    CHECK(sb.keep_caps == (policy::CapBit(CAP_KILL) | policy::CapBit(CAP_CHOWN)));
    CHECK(FindLayer(iso, "capabilities")->state == "active");
    CHECK(FindLayer(iso, "capabilities")->detail == "CAP_CHOWN CAP_KILL");
  }
  {
    tracer::Sandbox sb;
    tracer::PreparedIsolation iso = tracer::PrepareIsolation(
        Policy({{"isolation", {{"capabilities", nlohmann::json::array()}}}}), {}, sb);
    CHECK(sb.restrict_caps);
    CHECK(sb.keep_caps == 0);
    CHECK(FindLayer(iso, "capabilities")->detail == "none");
  }
  {
    tracer::Sandbox sb;
    tracer::PreparedIsolation iso =
        tracer::PrepareIsolation(Policy({{"isolation", {{"capabilities", "inherit"}}}}), {}, sb);
    CHECK_FALSE(sb.restrict_caps);
    CHECK(FindLayer(iso, "capabilities")->state == "off");
    CHECK_THAT(FindLayer(iso, "capabilities")->detail, Catch::Contains("less CAP_SYS_PTRACE"));
  }
}

TEST_CASE("isolation: audit mode turns enforcing layers off and says why", "[isolation]") {
  policy::Policy p =
      Policy({{"isolation", {{"landlock", true}}}, {"files", {{"default", {{"action", "kill"}}}}}});
  tracer::Sandbox sb;
  tracer::IsolationOptions o;
  o.enforce = false;
  tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, o, sb);
  INFO(Describe(iso));
  REQUIRE(FindLayer(iso, "landlock") != nullptr);
  CHECK(FindLayer(iso, "landlock")->state == "off");
  CHECK_THAT(FindLayer(iso, "landlock")->detail, Catch::Contains("audit mode"));
  CHECK(sb.landlock_handled == 0);
  CHECK(sb.landlock_grants.empty());
  CHECK(FindLayer(iso, "path_rules")->state == "off");
  CHECK(FindLayer(iso, "path_rules")->detail == "audit mode: recorded, not enforced");
  CHECK(FindLayer(iso, "kill_on_violation")->state == "off");
  // Enforcing, the same policy kills on a violation and enforces its path rules.
  tracer::Sandbox sb2;
  tracer::IsolationOptions enforce;
  enforce.allow_degraded = true;  // Landlock may be missing here: not what this test is about
  tracer::PreparedIsolation on = tracer::PrepareIsolation(p, enforce, sb2);
  CHECK(FindLayer(on, "path_rules")->state == "active");
  CHECK(FindLayer(on, "kill_on_violation")->state == "active");
  CHECK(FindLayer(on, "landlock")->state != "off");
}

TEST_CASE("isolation: memory and process limits get a cgroup or a said fallback", "[isolation]") {
  policy::Policy p = Policy({{"limits", {{"memory", "256MiB"}, {"processes", 50}}}});
  tracer::Sandbox sb;
  tracer::PreparedIsolation iso = tracer::PrepareIsolation(p, {}, sb);
  INFO(Describe(iso));
  const tracer::LayerStatus* cg = FindLayer(iso, "cgroup");
  REQUIRE(cg != nullptr);
  if (cg->state == "active") {
    REQUIRE(iso.cgroup != nullptr);
    CHECK(static_cast<bool>(sb.before_release));
    CHECK_THAT(cg->detail, Catch::Contains("memory 256MiB") && Catch::Contains("processes 50"));
    CHECK_FALSE(FindRlimit(sb, RLIMIT_AS));
  } else {
    // Never silent: degraded, with a warning, and the per-process rlimits instead.
    CHECK(cg->state == "degraded");
    CHECK(iso.cgroup == nullptr);
    REQUIRE(FindRlimit(sb, RLIMIT_AS));
    CHECK(FindRlimit(sb, RLIMIT_AS)->rlim_cur == 256u << 20);
    REQUIRE(FindRlimit(sb, RLIMIT_NPROC));
    CHECK(FindRlimit(sb, RLIMIT_NPROC)->rlim_cur == 50);
    REQUIRE_FALSE(iso.warnings.empty());
    CHECK_THAT(iso.warnings.back(), Catch::StartsWith("no usable cgroup"));
  }
}

TEST_CASE("isolation: a work dir is private and removed with what it holds and nothing else",
          "[isolation]") {
  std::string outside;
  {
    char tmpl[] = "/tmp/tj-outside-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    outside = tmpl;
  }
  std::ofstream(outside + "/keep") << "keep\n";
  std::string path;
  {
    std::unique_ptr<tracer::WorkDir> dir = tracer::WorkDir::Create();
    path = dir->path();
    CHECK_THAT(path, Catch::StartsWith("/tmp/tracejail-" + std::to_string(getpid()) + "-"));
    struct stat st {};
    REQUIRE(lstat(path.c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 07777) == 0700);
    CHECK(st.st_uid == geteuid());
    std::filesystem::create_directories(path + "/a/b");
    std::ofstream(path + "/a/b/file") << "x";
    std::filesystem::create_directory_symlink(outside, path + "/link");
  }
  CHECK_FALSE(std::filesystem::exists(path));
  // The symlink went, not what it named.
  CHECK(std::filesystem::exists(outside + "/keep"));
  std::filesystem::remove_all(outside);
}

TEST_CASE("isolation: work dirs left by dead runs are swept and live ones are not", "[isolation]") {
  pid_t dead = fork();
  REQUIRE(dead >= 0);
  if (dead == 0) _exit(0);
  REQUIRE(waitpid(dead, nullptr, 0) == dead);
  std::string stale = "/tmp/tracejail-" + std::to_string(dead) + "-abc123";
  std::string live = "/tmp/tracejail-" + std::to_string(getpid()) + "-abc123";
  std::string other = "/tmp/tracejail-" + std::to_string(dead) + "-notmkdtemp";
  for (const auto& d : {stale, live, other}) std::filesystem::create_directories(d + "/sub");
  std::unique_ptr<tracer::WorkDir> dir = tracer::WorkDir::Create();
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK(std::filesystem::exists(live + "/sub"));
  CHECK(std::filesystem::exists(other + "/sub"));  // not a name mkdtemp makes
  std::filesystem::remove_all(live);
  std::filesystem::remove_all(other);
}
