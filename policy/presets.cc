#include "policy/presets.h"

#include <array>

namespace policy {
namespace {

constexpr std::string_view kNone = R"json({
  "version": 1,
  "limits": {"cpu": "off", "memory": "off", "processes": "off", "file_size": "off", "open_files": "off", "disk": "off", "timeout": "off", "output": "16MiB"},
  "isolation": {"environment": "inherit", "workdir": "none", "namespaces": [], "landlock": false, "read_only_root": false, "cgroups": "preferred", "capabilities": "inherit"},
  "name": "none",
  "description": "Trace and record only: everything is allowed; escape primitives are recorded as escape_attempt events.",
  "files": {"default": {"action": "allow"}},
  "network": {
    "families": ["unspec", "unix", "inet", "inet6", "netlink", "packet", "bluetooth", "vsock", "alg"],
    "family_default": {"action": "allow"},
    "default": {"action": "allow"}
  },
  "escapes": {
    "default": {"action": "allow", "event": "escape_attempt", "severity": "high"},
    "unknown_syscall": {"action": "allow", "event": "suspicious_behavior", "severity": "medium"}
  }
})json";

constexpr std::string_view kBasic = R"json({
  "version": 1,
  "limits": {"cpu": "off", "memory": "4GiB", "processes": 1024, "file_size": "4GiB", "open_files": 4096, "disk": "off", "timeout": "off", "output": "16MiB"},
  "isolation": {"environment": "clean", "workdir": "private", "namespaces": ["ipc"], "landlock": false, "read_only_root": false, "cgroups": "preferred",
                "capabilities": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE", "AUDIT_WRITE"]},
  "name": "basic",
  "description": "Files and network are open, except the kernel's settings, memory and log, raw disks, the host's consoles and input devices, the host's programs, libraries and configuration (/usr, /etc, /boot, /opt, /var/lib, root's home) and what it runs as root later (cron, systemd units, login scripts, ~/.ssh), and the unix sockets of daemons outside the sandbox; every escape primitive is denied.",
  "files": {
    "default": {"action": "allow"},
    "rules": [
      {"id": "kernel-settings", "path": "/proc/sys", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-settings", "path": "/proc/sysrq-trigger", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-settings", "path": "/sys", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-memory", "path": "/proc/kcore", "access": ["read"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-memory", "path": "/dev/mem", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-memory", "path": "/dev/kmem", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-memory", "path": "/dev/port", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-log", "path": "/proc/kmsg", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-log", "path": "/dev/kmsg", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/sd*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/vd*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/xvd*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/hd*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/nvme*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/mmcblk*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/loop*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/dm-*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/md*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/mapper", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/nbd*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/sr*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/zram*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/ram*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/rbd*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/bcache*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/mtd*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/ubi*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/sg*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "raw-disks", "path": "/dev/bsg", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "consoles-and-input", "path": "/dev/input", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "consoles-and-input", "path": "/dev/uinput", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "consoles-and-input", "path": "/dev/hidraw*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "consoles-and-input", "path": "/dev/console", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "consoles-and-input", "path": "/dev/tty[0-9]*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "consoles-and-input", "path": "/dev/ttyS*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "consoles-and-input", "path": "/dev/vcs*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "consoles-and-input", "path": "/dev/watchdog*", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-interfaces", "path": "/dev/userfaultfd", "access": ["read", "write"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "kernel-interfaces", "path": "/dev/mqueue", "access": ["read", "write", "create", "delete"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "system-files", "path": "/usr", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/etc", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/boot", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/bin", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/sbin", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/lib", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/lib32", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/lib64", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/libx32", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/opt", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/var/lib", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/var/spool", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/var/cache", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "system-files", "path": "/root", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "permission_denied", "severity": "medium"},
      {"id": "host-persistence", "path": "/etc/crontab", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/cron.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/cron.hourly", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/cron.daily", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/cron.weekly", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/cron.monthly", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/anacrontab", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/var/spool/cron", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/var/spool/at", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/systemd", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/lib/systemd", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/usr/lib/systemd", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/run/systemd/system", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/init.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/rc.local", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/xdg/autostart", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/ld.so.preload", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/ld.so.conf", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/ld.so.conf.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/modprobe.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/lib/modprobe.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/udev", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/lib/udev", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/sysctl.conf", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/sysctl.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/pam.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/security", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/profile", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/profile.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/bash.bashrc", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/environment", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/update-motd.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/sudoers", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/sudoers.d", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/passwd", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/shadow", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/group", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/etc/gshadow", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/root/.ssh", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/root/.bashrc", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/root/.profile", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/home/*/.ssh", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/home/*/.bashrc", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/home/*/.profile", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/home/*/.config/autostart", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"},
      {"id": "host-persistence", "path": "/home/*/.config/systemd", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny", "event": "escape_attempt", "severity": "high"}
    ]
  },
  "network": {
    "families": ["unspec", "unix", "inet", "inet6", "netlink"],
    "default": {"action": "allow"},
    "rules": [
      {"id": "daemons", "family": "unix", "verbs": ["connect", "send"], "action": "deny", "errno": "EACCES", "event": "escape_attempt", "severity": "high"},
      {"id": "own-sockets", "own": true, "verbs": ["connect", "send"], "action": "allow"},
      {"id": "system-services", "unix": "/dev/log", "verbs": ["connect", "send"], "action": "allow"},
      {"id": "system-services", "unix": "/run/systemd/journal/socket", "verbs": ["connect", "send"], "action": "allow"},
      {"id": "system-services", "unix": "/run/systemd/journal/stdout", "verbs": ["connect", "send"], "action": "allow"},
      {"id": "system-services", "unix": "/run/systemd/journal/dev-log", "verbs": ["connect", "send"], "action": "allow"},
      {"id": "system-services", "unix": "/run/nscd/socket", "verbs": ["connect", "send"], "action": "allow"},
      {"id": "system-services", "unix": "/var/run/nscd/socket", "verbs": ["connect", "send"], "action": "allow"},
      {"id": "system-services", "unix": "/run/systemd/resolve/io.systemd.Resolve", "verbs": ["connect", "send"], "action": "allow"},
      {"id": "system-services", "unix": "/run/systemd/userdb", "verbs": ["connect", "send"], "action": "allow"}
    ]
  },
  "escapes": {
    "default": {"action": "deny", "errno": "EPERM"},
    "foreign_abi": {"action": "deny", "errno": "ENOSYS", "severity": "critical"},
    "module": {"action": "deny", "errno": "EPERM", "severity": "critical"},
    "kexec": {"action": "deny", "errno": "EPERM", "severity": "critical"}
  }
})json";

constexpr std::string_view kStandard = R"json({
  "version": 1,
  "name": "standard",
  "description": "Ordinary programs run unchanged; secrets, other users' files, writes outside the work areas, the network beyond local sockets and every escape primitive are denied.",
  "extends": "basic",
  "files": {
    "default": {"action": "allow"},
    "rules": [
      {"id": "secrets", "path": "/etc/shadow", "access": ["read", "write"], "action": "deny"},
      {"id": "secrets", "path": "/etc/shadow-", "access": ["read", "write"], "action": "deny"},
      {"id": "secrets", "path": "/etc/gshadow", "access": ["read", "write"], "action": "deny"},
      {"id": "secrets", "path": "/etc/gshadow-", "access": ["read", "write"], "action": "deny"},
      {"id": "secrets", "path": "/etc/sudoers", "access": ["read", "write"], "action": "deny"},
      {"id": "secrets", "path": "/etc/sudoers.d", "access": ["read", "write"], "action": "deny"},
      {"id": "secrets", "path": "/etc/ssh/ssh_host_*key*", "access": ["read"], "action": "deny"},
      {"id": "other-users", "path": "${ROOT_HOME}", "access": ["read"], "action": "deny"},
      {"id": "other-users", "path": "/home/*", "access": ["read"], "action": "deny"},
      {"id": "own-home", "path": "${HOME}", "access": ["read"], "action": "allow"},
      {"id": "secrets", "path": "${HOME}/.ssh", "access": ["read"], "action": "deny"},
      {"id": "secrets", "path": "${HOME}/.gnupg", "access": ["read"], "action": "deny"},
      {"id": "secrets", "path": "${HOME}/.aws", "access": ["read"], "action": "deny"},
      {"id": "secrets", "path": "${HOME}/.config/gcloud", "access": ["read"], "action": "deny"},
      {"id": "secrets", "path": "${HOME}/.docker/config.json", "access": ["read"], "action": "deny"},
      {"id": "secrets", "path": "${HOME}/.netrc", "access": ["read"], "action": "deny"},
      {"id": "secrets", "path": "${HOME}/.git-credentials", "access": ["read"], "action": "deny"},
      {"id": "read-only-system", "path": "/", "access": ["write", "create", "delete", "chmod", "chown"], "action": "deny"},
      {"id": "work-dir", "path": "${WORKDIR}", "access": ["read", "write", "create", "delete", "chmod", "chown"], "action": "allow"},
      {"id": "temp", "path": "${TMPDIR}", "access": ["write", "create", "delete", "chmod", "chown"], "action": "allow"},
      {"id": "temp", "path": "/tmp", "access": ["write", "create", "delete", "chmod", "chown"], "action": "allow"},
      {"id": "temp", "path": "/var/tmp", "access": ["write", "create", "delete", "chmod", "chown"], "action": "allow"},
      {"id": "temp", "path": "/dev/shm", "access": ["write", "create", "delete"], "action": "allow"},
      {"id": "devices", "path": "/dev/null", "access": ["write", "create"], "action": "allow"},
      {"id": "devices", "path": "/dev/zero", "access": ["write", "create"], "action": "allow"},
      {"id": "devices", "path": "/dev/full", "access": ["write", "create"], "action": "allow"},
      {"id": "devices", "path": "/dev/tty", "access": ["write", "create"], "action": "allow"},
      {"id": "devices", "path": "/dev/pts", "access": ["write", "create"], "action": "allow"},
      {"id": "devices", "path": "/dev/ptmx", "access": ["write", "create"], "action": "allow"},
      {"id": "devices", "path": "/dev/urandom", "access": ["write", "create"], "action": "allow"},
      {"id": "devices", "path": "/dev/random", "access": ["write", "create"], "action": "allow"}
    ]
  },
  "network": {
    "families": ["unix", "inet", "inet6", "netlink"],
    "family_default": {"action": "deny", "errno": "EAFNOSUPPORT"},
    "default": {"action": "deny", "errno": "EACCES"},
    "rules": [
      {"id": "local-sockets", "family": "unix", "verbs": ["bind"], "action": "allow"},
      {"id": "netlink", "family": "netlink", "verbs": ["connect", "bind", "send"], "action": "allow"},
      {"id": "container-runtime", "unix": "/var/run/docker.sock", "verbs": ["connect", "send"], "action": "deny", "event": "escape_attempt"},
      {"id": "container-runtime", "unix": "/run/docker.sock", "verbs": ["connect", "send"], "action": "deny", "event": "escape_attempt"}
    ]
  }
})json";

constexpr std::string_view kStrict = R"json({
  "version": 1,
  "limits": {"cpu": "60s", "memory": "1GiB", "processes": 128, "file_size": "256MiB", "open_files": 1024, "disk": "256MiB", "timeout": "10m", "output": "4MiB"},
  "isolation": {"namespaces": ["pid", "ipc", "uts", "mount", "net"], "landlock": true, "cgroups": "required",
                "capabilities": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID"]},
  "name": "strict",
  "description": "standard, plus: no network sockets (unix only), and nothing may be executed but the command itself.",
  "extends": "standard",
  "files": {
    "rules": [
      {"id": "exec-only-the-command", "path": "/", "access": ["exec"], "action": "deny", "event": "syscall_blocked", "severity": "high"},
      {"id": "the-command", "path": "${COMMAND}", "access": ["exec"], "action": "allow"}
    ]
  },
  "network": {
    "families": ["unix"],
    "family_default": {"action": "deny", "errno": "EACCES", "severity": "high"}
  }
})json";

constexpr std::string_view kMaximum = R"json({
  "version": 1,
  "limits": {"cpu": "10s", "memory": "256MiB", "processes": 32, "file_size": "16MiB", "open_files": 256, "disk": "64MiB", "timeout": "60s", "output": "1MiB"},
  "isolation": {"environment": "clean", "workdir": "private", "namespaces": ["user", "pid", "ipc", "uts", "mount", "net"], "landlock": true, "read_only_root": true, "cgroups": "required", "capabilities": []},
  "name": "maximum",
  "description": "Only what a plain interpreter needs in its work dir; the first violation kills the whole process tree.",
  "files": {
    "default": {"action": "kill", "event": "permission_denied", "severity": "high"},
    "rules": [
      {"id": "metadata", "path": "/", "access": ["metadata"], "action": "allow"},
      {"id": "system", "path": "/usr", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/lib", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/lib64", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/bin", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/etc/ld.so.cache", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/etc/localtime", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/etc/locale.alias", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/etc/nsswitch.conf", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/etc/passwd", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/etc/group", "access": ["read"], "action": "allow"},
      {"id": "system", "path": "/dev/null", "access": ["read", "write"], "action": "allow"},
      {"id": "system", "path": "/dev/urandom", "access": ["read"], "action": "allow"},
      {"id": "work-dir", "path": "${WORKDIR}", "access": ["read", "write", "create", "delete", "chmod", "chown"], "action": "allow"},
      {"id": "the-command", "path": "${COMMAND}", "access": ["read", "exec"], "action": "allow"}
    ]
  },
  "network": {
    "families": [],
    "family_default": {"action": "kill", "severity": "high"},
    "default": {"action": "kill", "severity": "high"}
  },
  "escapes": {"default": {"action": "kill", "event": "escape_attempt", "severity": "critical"}}
})json";

constexpr std::array<Preset, 5> kPresets{{
    {"none", "trace and record only; allow everything", kNone},
    {"basic", "deny escape primitives; files and network open", kBasic},
    {"standard", "protect secrets, system files and the network; ordinary programs run", kStandard},
    {"strict", "standard, no network, exec only the command", kStrict},
    {"maximum", "only what an interpreter needs in its work dir; kill on first violation",
     kMaximum},
}};

}  // namespace

std::span<const Preset> Presets() { return kPresets; }

std::optional<std::string_view> PresetText(std::string_view name) {
  if (name == "default") name = kDefaultPreset;  // "default" names the default preset
  for (const auto& p : kPresets) {
    if (p.name == name) return p.text;
  }
  return std::nullopt;
}

}  // namespace policy
