/* tracejail-escape
 * id: cap-sets
 * class: capabilities
 * title: capabilities beyond Docker's default set in the effective, permitted, bounding or ambient set
 * covered: basic
 * needs: root
 *
 * Technique: a command run as root holds every capability, and each one opens kernel surface that
 * no path or address rule sees: the kernel log, the clock, raw disks, quotas, sysctls, BPF, perf,
 * keyrings. Docker's default set (CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID
 * SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE) is the baseline users know. The
 * program reads its own sets with capget, the bounding set with PR_CAPBSET_READ and the ambient set
 * with PR_CAP_AMBIENT_IS_SET, and names every capability outside that baseline minus NET_RAW.
 * Defence: tracejail drops capabilities before the command starts: to Docker's default minus
 * NET_RAW at basic and standard, fewer at strict, none at maximum, from the effective, permitted,
 * inheritable, bounding and ambient sets; calls gated by a dropped capability are also denied in
 * the seccomp filter.
 */
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "escape.h"

static const char* const kCapNames[] = {
    "chown",          "dac_override",  "dac_read_search", "fowner",       "fsetid",
    "kill",           "setgid",        "setuid",          "setpcap",      "linux_immutable",
    "net_bind_service", "net_broadcast", "net_admin",     "net_raw",      "ipc_lock",
    "ipc_owner",      "sys_module",    "sys_rawio",       "sys_chroot",   "sys_ptrace",
    "sys_pacct",      "sys_admin",     "sys_boot",        "sys_nice",     "sys_resource",
    "sys_time",       "sys_tty_config", "mknod",          "lease",        "audit_write",
    "audit_control",  "setfcap",       "mac_override",    "mac_admin",    "syslog",
    "wake_alarm",     "block_suspend", "audit_read",      "perfmon",      "bpf",
    "checkpoint_restore"};

/* Docker's default capabilities without NET_RAW. */
static const unsigned long long kAllowed =
    1ull << CAP_CHOWN | 1ull << CAP_DAC_OVERRIDE | 1ull << CAP_FSETID | 1ull << CAP_FOWNER |
    1ull << CAP_MKNOD | 1ull << CAP_SETGID | 1ull << CAP_SETUID | 1ull << CAP_SETFCAP |
    1ull << CAP_SETPCAP | 1ull << CAP_NET_BIND_SERVICE | 1ull << CAP_SYS_CHROOT |
    1ull << CAP_KILL | 1ull << CAP_AUDIT_WRITE;

/* One line per set: an escape when it holds anything beyond kAllowed. */
static void judge(const char* what, unsigned long long set) {
  unsigned long long extra = set & ~kAllowed;
  char names[1024] = "";
  for (unsigned i = 0; i < 64; ++i) {
    if ((extra >> i & 1) == 0) continue;
    size_t len = strlen(names);
    if (i < sizeof kCapNames / sizeof kCapNames[0])
      snprintf(names + len, sizeof names - len, "%s%s", len ? " " : "", kCapNames[i]);
    else
      snprintf(names + len, sizeof names - len, "%scap%u", len ? " " : "", i);
  }
  if (extra != 0) {
    got_through(what, names);
  } else {
    printf("%s: nothing beyond Docker's default set (0x%llx) (ok)\n", what, set);
    append(blocked, sizeof blocked, what, "nothing beyond the default set");
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &hdr, data) != 0) {
    stopped("capget(self)", ename(errno));
  } else {
    judge("effective set (capget)",
          (unsigned long long)data[1].effective << 32 | data[0].effective);
    judge("permitted set (capget)",
          (unsigned long long)data[1].permitted << 32 | data[0].permitted);
    judge("inheritable set (capget)",
          (unsigned long long)data[1].inheritable << 32 | data[0].inheritable);
  }
  unsigned long long bounding = 0, ambient = 0;
  for (unsigned long i = 0; i < 64; ++i) {
    if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1) bounding |= 1ull << i;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) == 1) ambient |= 1ull << i;
  }
  judge("bounding set (PR_CAPBSET_READ)", bounding);
  judge("ambient set (PR_CAP_AMBIENT_IS_SET)", ambient);
  return final_line();
}
