/* tracejail-escape
 * id: outside-sched
 * class: other processes
 * title: observe and set another process's scheduling, limits and state by pid (priority, affinity, prlimit, ioprio, kcmp...)
 * covered: basic
 * needs: outside
 *
 * Technique: many calls take a pid and act on any process the caller may signal or ptrace-read,
 * with no path or address for a file rule to see: they read another process's scheduling, limits,
 * capabilities and session, compare its memory and files with kcmp, and set its priority,
 * CPU affinity, resource limits and I/O priority. The program aims each at TJ_OUTSIDE_PID, a
 * process outside the sandbox, and writes back only the values it read (nothing changes).
 * Defence: every pid-taking scheduling, limit and observation call (setpriority, sched_set*,
 * prlimit64, ioprio_set, kcmp, get_robust_list, capget, getpgid, getsid, ...) is decided by the
 * tracer against the traced tree: a pid outside it is denied; a PID namespace at stricter levels
 * hides such processes altogether.
 */
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "escape.h"

static int pid;

/* One attempt: rc is the call's result (errno set when < 0); detail says what it showed. */
static void outcome(const char* what, long rc, const char* detail) {
  if (rc < 0)
    stopped(what, ename(errno));
  else
    got_through(what, detail);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pid = atoi(env("TJ_OUTSIDE_PID"));
  char detail[256];

  errno = 0;
  int nice = getpriority(PRIO_PROCESS, (id_t)pid);
  int ok = !(nice == -1 && errno != 0);
  snprintf(detail, sizeof detail, "its nice value is %d", nice);
  outcome("getpriority(PRIO_PROCESS, pid)", ok ? 0 : -1, detail);
  if (ok) outcome("setpriority(PRIO_PROCESS, pid, its own value)",
                  setpriority(PRIO_PROCESS, (id_t)pid, nice), "set its nice value (unchanged)");

  cpu_set_t mask;
  CPU_ZERO(&mask);
  long rc = sched_getaffinity(pid, sizeof mask, &mask);
  snprintf(detail, sizeof detail, "it may run on %d CPU(s)", CPU_COUNT(&mask));
  outcome("sched_getaffinity(pid)", rc, detail);
  if (rc == 0) outcome("sched_setaffinity(pid, its own mask)",
                       sched_setaffinity(pid, sizeof mask, &mask), "set its CPU mask (unchanged)");

  struct rlimit lim;
  rc = prlimit(pid, RLIMIT_NOFILE, NULL, &lim);
  snprintf(detail, sizeof detail, "its RLIMIT_NOFILE is %llu/%llu", (unsigned long long)lim.rlim_cur,
           (unsigned long long)lim.rlim_max);
  outcome("prlimit64(pid, RLIMIT_NOFILE, NULL, &old)", rc, detail);
  if (rc == 0) outcome("prlimit64(pid, RLIMIT_NOFILE, its own limits)",
                       prlimit(pid, RLIMIT_NOFILE, &lim, NULL), "set its limits (unchanged)");

  rc = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, pid);
  snprintf(detail, sizeof detail, "its I/O priority is 0x%lx", rc);
  outcome("ioprio_get(IOPRIO_WHO_PROCESS, pid)", rc, detail);
  if (rc >= 0) outcome("ioprio_set(IOPRIO_WHO_PROCESS, pid, its own value)",
                       syscall(SYS_ioprio_set, 1, pid, rc), "set its I/O priority (unchanged)");

  struct sched_param sp;
  rc = sched_getparam(pid, &sp);
  snprintf(detail, sizeof detail, "its scheduling priority is %d", sp.sched_priority);
  outcome("sched_getparam(pid)", rc, detail);
  if (rc == 0) outcome("sched_setparam(pid, its own value)", sched_setparam(pid, &sp),
                       "set its scheduling parameters (unchanged)");
  rc = sched_getscheduler(pid);
  snprintf(detail, sizeof detail, "its scheduling policy is %ld", rc);
  outcome("sched_getscheduler(pid)", rc, detail);

  rc = syscall(SYS_kcmp, getpid(), pid, KCMP_VM, 0, 0);
  snprintf(detail, sizeof detail, "compared our memory with its (result %ld)", rc);
  outcome("kcmp(self, pid, KCMP_VM)", rc, detail);

  void* head = NULL;
  size_t len = 0;
  rc = syscall(SYS_get_robust_list, pid, &head, &len);
  snprintf(detail, sizeof detail, "its robust futex list is at %p", head);
  outcome("get_robust_list(pid)", rc, detail);

  rc = getpgid(pid);
  snprintf(detail, sizeof detail, "its process group is %ld", rc);
  outcome("getpgid(pid)", rc, detail);
  rc = getsid(pid);
  snprintf(detail, sizeof detail, "its session is %ld", rc);
  outcome("getsid(pid)", rc, detail);

  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, pid};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  rc = syscall(SYS_capget, &hdr, data);
  snprintf(detail, sizeof detail, "its effective capabilities are 0x%08x%08x", data[1].effective,
           data[0].effective);
  outcome("capget(pid)", rc, detail);
  return final_line();
}
