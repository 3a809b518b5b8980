// Turns a policy's limits and isolation section into what the launcher applies (rlimits, a
// cgroup, namespaces, mounts, Landlock), probing the machine first. A layer the machine cannot
// provide fails the run with a message that says why and what to do, unless degrading was
// allowed; memory and process limits without a usable cgroup fall back to rlimits with a
// warning (never silently). The result lists every layer and whether it was active.
#pragma once

#include <sys/types.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/policy.h"
#include "tracer/cgroup.h"
#include "tracer/launcher.h"

namespace tracer {

class IsolationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A private work directory, removed with everything in it when this object goes away.
class WorkDir {
 public:
  // Creates /tmp/tracejail-XXXXXX (mode 0700). Throws IsolationError.
  static std::unique_ptr<WorkDir> Create();
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit WorkDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct LayerStatus {
  std::string layer;  // "cgroup", "namespace:pid", "landlock", ...
  std::string state;  // "active", "degraded", "off"
  std::string detail;
};

struct IsolationOptions {
  bool allow_degraded = false;
  std::string workdir;  // the private work dir, or empty
  std::string cwd;      // where the command starts
  bool enforce = true;  // audit mode records, never denies
};

// What the supervisor needs to see through the tracee's namespaces.
struct TraceeView {
  bool own_mounts = false;    // resolve paths through /proc/PID/root
  bool ns_proc_pids = false;  // the tracee's /proc numbers processes in its PID namespace
};

struct PreparedIsolation {
  std::unique_ptr<Cgroup> cgroup;
  std::vector<LayerStatus> layers;
  std::vector<std::string> warnings;  // printed on stderr before the run
  TraceeView view;
  std::string tmpfs_dir;  // the work dir when it is a size-limited tmpfs

  nlohmann::json LayersJson() const;
};

// Fills `sandbox` and returns the run's isolation. Throws IsolationError.
PreparedIsolation PrepareIsolation(const policy::Policy& policy, const IsolationOptions& options,
                                   Sandbox& sandbox);

}  // namespace tracer
