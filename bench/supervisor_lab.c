/* supervisor_lab DESIGN THREADS N [PATH]: the cost of one flagged call under the supervisor
 * designs issue 20 weighs, without the rest of tracejail (no policy, no events, no decoding past
 * what every design must do: read the call and its path).
 *
 * A child process starts THREADS threads; each opens and closes PATH (default /etc/hostname)
 * N times once all are ready, with a seccomp filter that stops on openat. Every design answers
 * each stop the same way: read the call (PTRACE_GET_SYSCALL_INFO or the notification), read the
 * path from the tracee's memory (process_vm_readv, 256 bytes), let the call run. Prints one line:
 *   DESIGN threads=T calls=N ns_per_call=X
 * where X is the wall time of the slowest thread's loop divided by N (start-up excluded).
 *
 * Designs (CPUs are numbered from the first the process may use; "thread i" is the tracee's):
 *   native        no filter: the baseline.
 *   ptrace-same   one tracer thread for all, every thread of the tree and the tracer on one
 *                 CPU (tracejail's same-CPU pin).
 *   ptrace-one    one tracer thread for all, nothing pinned (tracejail once the pin is given up).
 *   ptrace-cross  one tracer thread pinned to CPU 0, tracee thread i to CPU i+1 (mod CPUs):
 *                 every stop crosses CPUs (with 1 thread: the worst case of a spread tree).
 *   ptrace-percpu one tracer thread per tracee thread, both pinned to CPU i: ptrace ties a tracee
 *                 to one tracer thread, so each owns the tracees on its CPU.
 *   ptrace-many   ptrace-percpu with nothing pinned: the scheduler places the pairs.
 *   ptrace-handover  ptrace-percpu reached the way a supervisor must reach it: tracer 0 seizes
 *                 every thread, and hands thread i to tracer i at its first stop (below).
 *   ptrace-pingpong  the handover stressed: every 16th stop of a thread hands it to the next
 *                 tracer (tracers pinned, threads free); any call lost or failed fails the run.
 * A handover (issue 20: ptrace ties a tracee to one tracer thread) must leave no moment in which
 * the task runs a flagged call with no tracer (the kernel would fail it with ENOSYS) or
 * undecided. At the task's seccomp stop, its tracer turns the call into rt_sigsuspend with every
 * signal blocked (a call the filter never stops) and detaches: the task sleeps in the kernel
 * having run no instruction of its own. The new tracer seizes it and interrupts it
 * (PTRACE_INTERRUPT wakes the sleep, the task reports PTRACE_EVENT_STOP), then points it back
 * at the syscall instruction with the original call and registers and resumes it: the call
 * starts over and stops at the new tracer's seccomp stop; the kernel restores the signal mask
 * as the sleep ends. Signals sent meanwhile wait, as they would while the call ran.
 *   notif-one     SECCOMP_RET_USER_NOTIF answered with SECCOMP_USER_NOTIF_FLAG_CONTINUE by one
 *                 supervisor thread, nothing pinned (no stop: the task waits in the kernel).
 *   notif-percpu  as notif-one with one supervisor thread per tracee thread, both on CPU i, all
 *                 receiving from the one listener (the kernel wakes one waiter per call).
 *   notif-sync    notif-one with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6): the kernel wakes
 *                 the supervisor on the tracee's CPU and switches to it at once, nothing pinned.
 *   notif-sync-many  notif-sync with one supervisor thread per tracee thread, nothing pinned.
 * bench/supervisor_lab.sh runs them all, interleaved, and prints medians; the results and the
 * choice they led to are in docs/performance.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kMaxThreads = 64 };

/* Linux 6.6's uapi, newer than Debian 12's headers. */
#define kNotifSetFlags SECCOMP_IOW(4, __u64)
#define kSyncWakeUp (1UL << 0)

enum Design {
  NATIVE,
  PTRACE_SAME,
  PTRACE_ONE,
  PTRACE_CROSS,
  PTRACE_PERCPU,
  PTRACE_MANY,
  PTRACE_HANDOVER,
  PTRACE_PINGPONG,
  NOTIF_ONE,
  NOTIF_PERCPU,
  NOTIF_SYNC,
  NOTIF_SYNC_MANY
};
static const char* const kDesigns[] = {"native",          "ptrace-same",     "ptrace-one",
                                       "ptrace-cross",    "ptrace-percpu",   "ptrace-many",
                                       "ptrace-handover", "ptrace-pingpong", "notif-one",
                                       "notif-percpu",    "notif-sync",      "notif-sync-many"};

static enum Design design;
static int threads;
static long calls;
static const char* path = "/etc/hostname";
static int cpus[256];
static int ncpus;

static void die(const char* what) {
  fprintf(stderr, "supervisor_lab: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus[cpu % ncpus], &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) die("sched_setaffinity");
}

static int is_ptrace(void) { return design >= PTRACE_SAME && design <= PTRACE_PINGPONG; }
static int is_notif(void) { return design >= NOTIF_ONE; }

/* Where tracee thread i runs, and where the supervisor thread that serves it runs (-1: free). */
static int tracee_cpu(int i) {
  switch (design) {
    case PTRACE_SAME:
      return 0;
    case PTRACE_CROSS:
      return i + 1;
    case PTRACE_PERCPU:
    case PTRACE_HANDOVER:
    case NOTIF_PERCPU:
      return i;
    default:
      return -1;
  }
}
static int tracer_cpu(int i) {
  switch (design) {
    case PTRACE_SAME:
    case PTRACE_CROSS:
      return 0;
    case PTRACE_PERCPU:
    case PTRACE_HANDOVER:
    case PTRACE_PINGPONG:
    case NOTIF_PERCPU:
      return i;
    default:
      return -1;
  }
}

static long seccomp(unsigned op, unsigned flags, void* args) {
  return syscall(SYS_seccomp, op, flags, args);
}

/* openat -> TRACE or USER_NOTIF; everything else allowed; another ABI killed. */
static int install_filter(unsigned action, unsigned flags) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, action),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS");
  long r = seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (r < 0) die("seccomp");
  return (int)r;
}

/* ---- the tracee ---------------------------------------------------------------------------- */

static pthread_barrier_t ready, go;
static int64_t loop_ns[kMaxThreads];
static int workers_done;
static int64_t signals_seen;

static void on_usr2(int sig) {
  (void)sig;
  __atomic_add_fetch(&signals_seen, 1, __ATOMIC_RELAXED);
}
static pid_t tids[kMaxThreads];
static uint64_t all_signals = ~0ULL; /* the handover's rt_sigsuspend mask, in the tracee */

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void* worker(void* arg) {
  int i = (int)(intptr_t)arg;
  tids[i] = (pid_t)syscall(SYS_gettid);
  if (tracee_cpu(i) >= 0) pin(tracee_cpu(i));
  pthread_barrier_wait(&ready); /* the main thread reports the tids, waits to be traced */
  pthread_barrier_wait(&go);    /* the filter is on (TSYNC) */
  int64_t a = now_ns();
  for (long k = 0; k < calls; ++k) {
    int fd = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("openat");
    close(fd);
  }
  loop_ns[i] = now_ns() - a;
  __atomic_add_fetch(&workers_done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* Reports the tids on `to`, waits for one byte on `from` (the tracer has attached), installs the
 * filter on every thread, hands a notification listener over `sock`, releases the threads and
 * writes the slowest loop's time to `to`. */
static void tracee(int to, int from, int sock) {
  pthread_t ids[kMaxThreads];
  pthread_barrier_init(&ready, NULL, (unsigned)threads + 1);
  pthread_barrier_init(&go, NULL, (unsigned)threads + 1);
  struct sigaction sa = {.sa_handler = on_usr2, .sa_flags = SA_RESTART};
  sigaction(SIGUSR2, &sa, NULL);
  for (int i = 0; i < threads; ++i) {
    if (pthread_create(&ids[i], NULL, worker, (void*)(intptr_t)i) != 0) die("pthread_create");
  }
  pthread_barrier_wait(&ready);
  if (write(to, tids, sizeof tids[0] * (size_t)threads) < 0) die("write tids");
  uint64_t mask_addr = (uint64_t)(uintptr_t)&all_signals;
  if (write(to, &mask_addr, sizeof mask_addr) < 0) die("write mask address");
  char byte;
  if (read(from, &byte, 1) != 1) die("read go");
  if (is_ptrace()) {
    install_filter(SECCOMP_RET_TRACE, SECCOMP_FILTER_FLAG_TSYNC);
  } else if (is_notif()) {
    int listener = install_filter(SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_TSYNC |
                                                              SECCOMP_FILTER_FLAG_TSYNC_ESRCH |
                                                              SECCOMP_FILTER_FLAG_NEW_LISTENER);
    char c = 0;
    struct iovec iov = {.iov_base = &c, .iov_len = 1};
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr* c0 = CMSG_FIRSTHDR(&m);
    c0->cmsg_level = SOL_SOCKET;
    c0->cmsg_type = SCM_RIGHTS;
    c0->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c0), &listener, sizeof listener);
    if (sendmsg(sock, &m, 0) != 1) die("sendmsg listener");
    close(listener);
  }
  pthread_barrier_wait(&go);
  if (design == PTRACE_PINGPONG) {
    /* Signals to the threads while they are handed over: each must arrive, and every call must
     * still run once, after its handler (SA_RESTART). */
    while (__atomic_load_n(&workers_done, __ATOMIC_ACQUIRE) < threads) {
      for (int i = 0; i < threads; ++i) syscall(SYS_tgkill, getpid(), tids[i], SIGUSR2);
      usleep(200);
    }
  }
  int64_t slowest = 0;
  for (int i = 0; i < threads; ++i) {
    pthread_join(ids[i], NULL);
    if (loop_ns[i] > slowest) slowest = loop_ns[i];
  }
  if (write(to, &slowest, sizeof slowest) < 0) die("write result");
  int64_t seen = __atomic_load_n(&signals_seen, __ATOMIC_RELAXED);
  if (write(to, &seen, sizeof seen) < 0) die("write signals");
  _exit(0);
}

/* ---- the supervisor designs ------------------------------------------------------------------ */

static pid_t child;

static void read_path(pid_t pid, uint64_t addr) {
  char buf[256];
  struct iovec local = {.iov_base = buf, .iov_len = sizeof buf};
  struct iovec remote = {.iov_base = (void*)(uintptr_t)addr, .iov_len = sizeof buf};
  if (process_vm_readv(pid, &local, 1, &remote, 1, 0) < 0 && errno != EFAULT)
    die("process_vm_readv");
}

/* SUPERVISOR_LAB_REWRITE=poke|regs: the ptrace designs' tracers also rewrite the call's
 * registers at each stop as tracejail does when it turns an open into openat2 on a pinned copy
 * (five registers), written back unchanged: one PTRACE_POKEUSER per register, or
 * PTRACE_GETREGS + PTRACE_SETREGS. Unset: no rewrite. */
static void rewrite(pid_t pid) {
  static int how = -1;
  if (how < 0) {
    const char* e = getenv("SUPERVISOR_LAB_REWRITE");
    how = e == NULL ? 0 : strcmp(e, "poke") == 0 ? 1 : strcmp(e, "regs") == 0 ? 2 : 0;
  }
  if (how == 0) return;
  struct user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, pid, 0, &r) != 0) die("PTRACE_GETREGS");
  if (how == 2) {
    if (ptrace(PTRACE_SETREGS, pid, 0, &r) != 0) die("PTRACE_SETREGS");
    return;
  }
  static const size_t offsets[] = {
      offsetof(struct user_regs_struct, rdi), offsetof(struct user_regs_struct, rsi),
      offsetof(struct user_regs_struct, rdx), offsetof(struct user_regs_struct, r10),
      offsetof(struct user_regs_struct, orig_rax)};
  for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; ++i) {
    unsigned long long v;
    memcpy(&v, (const char*)&r + offsets[i], sizeof v);
    if (ptrace(PTRACE_POKEUSER, pid, (void*)offsets[i], (void*)v) != 0) die("PTRACE_POKEUSER");
  }
}

static int is_seccomp_stop(int status) {
  return status >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8));
}

/* What every ptrace design does at a stop that is not an exit: at a seccomp stop, reads the
 * call and its path (and rewrites it, when asked); a signal for the tracee is delivered. */
static void serve_stop(pid_t pid, int status) {
  int sig = 0;
  if (is_seccomp_stop(status)) {
    struct __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info) <= 0) die("GET_SYSCALL_INFO");
    read_path(pid, info.seccomp.args[1]);
    rewrite(pid);
  } else if (WIFSTOPPED(status) && (status >> 16) == 0) {
    sig = WSTOPSIG(status); /* a signal-delivery stop: deliver it */
  }
  if (ptrace(PTRACE_CONT, pid, 0, sig) != 0 && errno != ESRCH) die("PTRACE_CONT");
}

struct tracer_arg {
  int first, count; /* the tids it owns: tids[first .. first+count) */
  pthread_barrier_t* attached;
};

/* Owns tids[first..first+count): seizes them, then serves their stops until all are gone. */
static void* ptrace_tracer(void* p) {
  struct tracer_arg* a = p;
  if (tracer_cpu(a->first) >= 0) pin(tracer_cpu(a->first));
  for (int i = a->first; i < a->first + a->count; ++i) {
    long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL;
    if (ptrace(PTRACE_SEIZE, tids[i], 0, opts) != 0) die("PTRACE_SEIZE");
  }
  pthread_barrier_wait(a->attached);
  int live = a->count;
  while (live > 0) {
    int status;
    /* A single tracer owns every tid: any of them. Per CPU: only its own (__WNOTHREAD: not the
     * other tracer threads' tracees, which only their tracer may resume). */
    pid_t pid = a->count == threads && a->first == 0
                    ? waitpid(-1, &status, __WALL)
                    : waitpid(tids[a->first], &status, __WALL | __WNOTHREAD);
    if (pid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) break;
      die("waitpid");
    }
    if (pid == child) continue; /* the tracee's main thread (not traced) ended: reaped here */
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      --live;
      continue;
    }
    serve_stop(pid, status);
  }
  return NULL;
}

struct notif_arg {
  int listener, index;
  volatile int* stop;
};

static void* notif_server(void* p) {
  struct notif_arg* a = p;
  if (tracer_cpu(a->index) >= 0) pin(tracer_cpu(a->index));
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  for (;;) {
    struct pollfd pfd = {.fd = a->listener, .events = POLLIN};
    int n = poll(&pfd, 1, 50);
    if (n < 0 && errno != EINTR) die("poll");
    if (__atomic_load_n(a->stop, __ATOMIC_ACQUIRE)) return NULL;
    if (n <= 0 || !(pfd.revents & POLLIN)) {
      if (pfd.revents & POLLHUP) return NULL;
      continue;
    }
    memset(&req, 0, sizeof req);
    if (ioctl(a->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
      if (errno == EINTR || errno == ENOENT) continue; /* another thread took it, or it died */
      die("SECCOMP_IOCTL_NOTIF_RECV");
    }
    read_path((pid_t)req.pid, req.data.args[1]);
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (ioctl(a->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno != ENOENT) {
      die("SECCOMP_IOCTL_NOTIF_SEND");
    }
  }
}

/* ---- handing a tracee from one tracer thread to another -------------------------------------- */

struct handoff {
  pid_t tid;
  struct user_regs_struct regs; /* to resume with: the interrupted call, from its start */
};

struct lane {
  pthread_t thread;
  pid_t ktid;   /* for tgkill: a lane blocked in waitpid is woken by SIGUSR1 */
  int inbox[2]; /* struct handoff records (smaller than PIPE_BUF: written whole) */
  int index, owned;
  pthread_barrier_t* ready;
};

static struct lane lanes[kMaxThreads];
static int nlanes;
static uint64_t mask_at;
static int live_total; /* traced threads not yet ended */
static long stops_of[kMaxThreads];
static long handovers;

static void on_usr1(int sig) { (void)sig; }

static int slot_of(pid_t tid) {
  for (int i = 0; i < threads; ++i) {
    if (tids[i] == tid) return i;
  }
  return -1;
}

/* At `tid`'s seccomp stop: parks it in rt_sigsuspend and gives it to lane `to`. */
static void hand_over(struct lane* from, pid_t tid, int to) {
  struct handoff h = {.tid = tid};
  if (ptrace(PTRACE_GETREGS, tid, 0, &h.regs) != 0) die("PTRACE_GETREGS");
  struct user_regs_struct park = h.regs;
  park.orig_rax = SYS_rt_sigsuspend;
  park.rdi = mask_at;
  park.rsi = 8;
  if (ptrace(PTRACE_SETREGS, tid, 0, &park) != 0) die("PTRACE_SETREGS (park)");
  h.regs.rip -= 2; /* back on the syscall instruction: the call starts over */
  h.regs.rax = h.regs.orig_rax;
  h.regs.orig_rax = (unsigned long long)-1; /* not in a call: no restart to apply */
  if (ptrace(PTRACE_DETACH, tid, 0, 0) != 0) die("PTRACE_DETACH");
  --from->owned;
  __atomic_add_fetch(&handovers, 1, __ATOMIC_RELAXED);
  if (write(lanes[to].inbox[1], &h, sizeof h) != sizeof h) die("write handoff");
  syscall(SYS_tgkill, getpid(), lanes[to].ktid, SIGUSR1);
}

/* Seizes a parked task, wakes it into PTRACE_EVENT_STOP, puts its call back, resumes it. */
static void adopt(struct lane* l, const struct handoff* h) {
  if (ptrace(PTRACE_SEIZE, h->tid, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL) != 0) {
    die("PTRACE_SEIZE (adopt)");
  }
  if (ptrace(PTRACE_INTERRUPT, h->tid, 0, 0) != 0) die("PTRACE_INTERRUPT");
  for (;;) {
    int status;
    pid_t pid = waitpid(h->tid, &status, __WALL | __WNOTHREAD);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) die("waitpid (adopt)");
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      __atomic_sub_fetch(&live_total, 1, __ATOMIC_ACQ_REL);
      return;
    }
    if (status >> 16 == PTRACE_EVENT_STOP) break;
    fprintf(stderr, "supervisor_lab: adopt: unexpected stop %#x\n", (unsigned)status);
    exit(1);
  }
  if (ptrace(PTRACE_SETREGS, h->tid, 0, &h->regs) != 0) die("PTRACE_SETREGS (resume)");
  if (ptrace(PTRACE_CONT, h->tid, 0, 0) != 0) die("PTRACE_CONT (adopt)");
  ++l->owned;
}

static void* lane_thread(void* p) {
  struct lane* l = p;
  l->ktid = (pid_t)syscall(SYS_gettid);
  pin(tracer_cpu(l->index));
  if (l->index == 0) {
    for (int i = 0; i < threads; ++i) {
      if (ptrace(PTRACE_SEIZE, tids[i], 0, PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL) != 0) {
        die("PTRACE_SEIZE");
      }
    }
    l->owned = threads;
  }
  pthread_barrier_wait(l->ready);
  while (__atomic_load_n(&live_total, __ATOMIC_ACQUIRE) > 0) {
    struct handoff h;
    while (read(l->inbox[0], &h, sizeof h) == sizeof h) adopt(l, &h);
    if (l->owned == 0) {
      struct pollfd pfd = {.fd = l->inbox[0], .events = POLLIN};
      poll(&pfd, 1, 20);
      continue;
    }
    int status;
    pid_t pid = waitpid(-1, &status, __WALL | __WNOTHREAD);
    if (pid < 0) {
      if (errno == EINTR || errno == ECHILD) continue;
      die("waitpid (lane)");
    }
    if (pid == child) continue;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      --l->owned;
      __atomic_sub_fetch(&live_total, 1, __ATOMIC_ACQ_REL);
      continue;
    }
    if (is_seccomp_stop(status)) {
      int slot = slot_of(pid);
      long n = slot >= 0 ? ++stops_of[slot] : 0;
      int to = -1;
      if (design == PTRACE_HANDOVER && n == 1) to = slot % nlanes;
      if (design == PTRACE_PINGPONG && n % 16 == 0) to = (l->index + 1) % nlanes;
      if (to >= 0 && to != l->index) {
        hand_over(l, pid, to);
        continue;
      }
    }
    serve_stop(pid, status);
  }
  return NULL;
}

/* Starts the lanes; returns once lane 0 has seized every thread. */
static int start_lanes(void) {
  struct sigaction sa = {.sa_handler = on_usr1}; /* no SA_RESTART: waitpid returns EINTR */
  sigaction(SIGUSR1, &sa, NULL);
  nlanes = design == PTRACE_PINGPONG ? (ncpus < 2 ? 2 : ncpus) : threads;
  live_total = threads;
  static pthread_barrier_t ready;
  pthread_barrier_init(&ready, NULL, (unsigned)nlanes + 1);
  for (int i = 0; i < nlanes; ++i) {
    lanes[i].index = i;
    lanes[i].ready = &ready;
    if (pipe2(lanes[i].inbox, O_NONBLOCK | O_CLOEXEC) != 0) die("pipe2");
  }
  for (int i = 0; i < nlanes; ++i) {
    if (pthread_create(&lanes[i].thread, NULL, lane_thread, &lanes[i]) != 0) die("pthread_create");
  }
  pthread_barrier_wait(&ready);
  return nlanes;
}

static int receive_fd(int sock) {
  char c;
  struct iovec iov = {.iov_base = &c, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  struct msghdr m = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  if (recvmsg(sock, &m, 0) != 1) die("recvmsg listener");
  struct cmsghdr* c0 = CMSG_FIRSTHDR(&m);
  if (c0 == NULL || c0->cmsg_type != SCM_RIGHTS) die("no listener received");
  int fd;
  memcpy(&fd, CMSG_DATA(c0), sizeof fd);
  return fd;
}

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: supervisor_lab DESIGN THREADS N [PATH]\n");
    return 2;
  }
  int found = -1;
  for (int i = 0; i < (int)(sizeof kDesigns / sizeof kDesigns[0]); ++i) {
    if (strcmp(argv[1], kDesigns[i]) == 0) found = i;
  }
  threads = atoi(argv[2]);
  calls = atol(argv[3]);
  if (argc == 5) path = argv[4];
  if (found < 0 || threads < 1 || threads > kMaxThreads || calls < 1) {
    fprintf(stderr,
            "supervisor_lab: DESIGN is one of native ptrace-same ptrace-one ptrace-cross "
            "ptrace-percpu ptrace-many ptrace-handover ptrace-pingpong notif-one notif-percpu "
            "notif-sync notif-sync-many; 1 <= "
            "THREADS <= %d; "
            "N >= 1\n",
            kMaxThreads);
    return 2;
  }
  design = (enum Design)found;
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof mine, &mine) != 0) die("sched_getaffinity");
  for (int c = 0; c < CPU_SETSIZE && ncpus < 256; ++c) {
    if (CPU_ISSET(c, &mine)) cpus[ncpus++] = c;
  }

  int up[2], down[2], sock[2];
  if (pipe(up) != 0 || pipe(down) != 0) die("pipe");
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sock) != 0) die("socketpair");
  child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(up[0]);
    close(down[1]);
    close(sock[0]);
    tracee(up[1], down[0], sock[1]);
  }
  close(up[1]);
  close(down[0]);
  close(sock[1]);
  if (read(up[0], tids, sizeof tids[0] * (size_t)threads) !=
      (ssize_t)(sizeof tids[0] * (size_t)threads)) {
    die("read tids");
  }
  if (read(up[0], &mask_at, sizeof mask_at) != sizeof mask_at) die("read mask address");

  pthread_t servers[kMaxThreads];
  int nservers = 0;
  struct tracer_arg targs[kMaxThreads];
  struct notif_arg nargs[kMaxThreads];
  volatile int stop = 0;
  if (design == PTRACE_HANDOVER || design == PTRACE_PINGPONG) {
    nservers = start_lanes();
    for (int s = 0; s < nservers; ++s) servers[s] = lanes[s].thread;
    if (write(down[1], "g", 1) != 1) die("write go");
  } else if (is_ptrace()) {
    pthread_barrier_t attached;
    int per = design == PTRACE_PERCPU || design == PTRACE_MANY;
    nservers = per ? threads : 1;
    pthread_barrier_init(&attached, NULL, (unsigned)nservers + 1);
    for (int s = 0; s < nservers; ++s) {
      targs[s] = (struct tracer_arg){
          .first = per ? s : 0, .count = per ? 1 : threads, .attached = &attached};
      if (pthread_create(&servers[s], NULL, ptrace_tracer, &targs[s]) != 0) die("pthread_create");
    }
    pthread_barrier_wait(&attached);
    if (write(down[1], "g", 1) != 1) die("write go");
  } else {
    if (write(down[1], "g", 1) != 1) die("write go");
    if (is_notif()) {
      int listener = receive_fd(sock[0]);
      if (design == NOTIF_SYNC || design == NOTIF_SYNC_MANY) {
        if (ioctl(listener, kNotifSetFlags, kSyncWakeUp) != 0) die("SECCOMP_IOCTL_NOTIF_SET_FLAGS");
      }
      nservers = design == NOTIF_PERCPU || design == NOTIF_SYNC_MANY ? threads : 1;
      for (int s = 0; s < nservers; ++s) {
        nargs[s] = (struct notif_arg){.listener = listener, .index = s, .stop = &stop};
        if (pthread_create(&servers[s], NULL, notif_server, &nargs[s]) != 0) die("pthread_create");
      }
    }
  }
  int64_t slowest = 0;
  if (read(up[0], &slowest, sizeof slowest) != sizeof slowest)
    die("read result (the tracee failed)");
  int64_t signals = 0;
  if (read(up[0], &signals, sizeof signals) != sizeof signals) die("read signal count");
  if (is_notif()) __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for (int s = 0; s < nservers; ++s) pthread_join(servers[s], NULL);
  int status = 0;
  waitpid(child, &status, 0); /* ECHILD when a single ptrace tracer reaped it */
  printf("%s threads=%d calls=%ld ns_per_call=%.1f", kDesigns[design], threads, calls,
         (double)slowest / (double)calls);
  if (design == PTRACE_HANDOVER || design == PTRACE_PINGPONG) printf(" handovers=%ld", handovers);
  if (design == PTRACE_PINGPONG) printf(" signals=%lld", (long long)signals);
  printf("\n");
  return 0;
}
