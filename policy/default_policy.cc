// The built-in default policy: ordinary programs run; secrets, writes outside the work areas, the
// network beyond local unix sockets, and every escape primitive are denied.
#include <string_view>

#include "policy/loader.h"

namespace policy {

std::string_view DefaultPolicyText() {
  return R"json({
  "version": 1,
  "name": "default",
  "files": {
    "default": {"action": "allow"},
    "rules": [
      {"path": "/etc/shadow", "access": ["read", "write"], "action": "deny"},
      {"path": "/etc/gshadow", "access": ["read", "write"], "action": "deny"},
      {"path": "/etc/sudoers", "access": ["read", "write"], "action": "deny"},
      {"path": "/etc/sudoers.d", "access": ["read", "write"], "action": "deny"},
      {"path": "/etc/ssh", "access": ["read"], "action": "deny"},
      {"path": "/root", "access": ["read"], "action": "deny"},
      {"path": "${HOME}/.ssh", "access": ["read"], "action": "deny"},
      {"path": "${HOME}/.gnupg", "access": ["read"], "action": "deny"},
      {"path": "${HOME}/.aws", "access": ["read"], "action": "deny"},
      {"path": "${HOME}/.netrc", "access": ["read"], "action": "deny"},
      {"path": "${HOME}/.git-credentials", "access": ["read"], "action": "deny"},
      {"path": "/proc/kcore", "access": ["read"], "action": "deny", "event": "escape_attempt"},
      {"path": "/dev/mem", "access": ["read", "write"], "action": "deny", "event": "escape_attempt"},
      {"path": "/dev/kmem", "access": ["read", "write"], "action": "deny", "event": "escape_attempt"},
      {"path": "/dev/port", "access": ["read", "write"], "action": "deny", "event": "escape_attempt"},
      {"path": "/", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny"},
      {"path": "${CWD}", "access": ["read", "write", "create", "delete", "chmod", "chown"], "action": "allow"},
      {"path": "${TMPDIR}", "access": ["write", "create", "delete", "chmod", "chown"], "action": "allow"},
      {"path": "/tmp", "access": ["write", "create", "delete", "chmod", "chown"], "action": "allow"},
      {"path": "/var/tmp", "access": ["write", "create", "delete", "chmod", "chown"], "action": "allow"},
      {"path": "/dev/shm", "access": ["write", "create", "delete"], "action": "allow"},
      {"path": "/dev/null", "access": ["write"], "action": "allow"},
      {"path": "/dev/zero", "access": ["write"], "action": "allow"},
      {"path": "/dev/full", "access": ["write"], "action": "allow"},
      {"path": "/dev/tty", "access": ["write"], "action": "allow"},
      {"path": "/dev/pts", "access": ["write"], "action": "allow"},
      {"path": "/dev/ptmx", "access": ["write"], "action": "allow"},
      {"path": "/dev/urandom", "access": ["write"], "action": "allow"},
      {"path": "/dev/random", "access": ["write"], "action": "allow"}
    ]
  },
  "network": {
    "families": ["unix", "inet", "inet6", "netlink"],
    "family_default": {"action": "deny", "errno": "EAFNOSUPPORT"},
    "default": {"action": "deny", "errno": "EACCES"},
    "rules": [
      {"family": "unix", "verbs": ["connect", "bind", "send"], "action": "allow"},
      {"family": "netlink", "verbs": ["connect", "bind", "send"], "action": "allow"},
      {"unix": "/var/run/docker.sock", "verbs": ["connect", "send"], "action": "deny", "event": "escape_attempt"},
      {"unix": "/run/docker.sock", "verbs": ["connect", "send"], "action": "deny", "event": "escape_attempt"}
    ]
  },
  "escapes": {
    "default": {"action": "deny", "errno": "EPERM"},
    "foreign_abi": {"action": "deny", "errno": "ENOSYS", "severity": "critical"},
    "module": {"action": "deny", "errno": "EPERM", "severity": "critical"},
    "kexec": {"action": "deny", "errno": "EPERM", "severity": "critical"}
  }
})json";
}

}  // namespace policy
