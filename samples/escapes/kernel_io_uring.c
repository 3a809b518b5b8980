/* tracejail-escape
 * id: kernel-io-uring
 * class: io_uring
 * title: open and read the secret with an io_uring OPENAT request
 * covered: standard
 * needs: secret
 *
 * Technique: io_uring lets a program queue operations (openat, read, connect...) in memory shared
 * with the kernel; kernel workers run them, and neither seccomp nor ptrace sees an openat
 * syscall. With IORING_SETUP_SQPOLL a kernel thread even picks requests up without any syscall.
 * Here: io_uring_setup plain and with SQPOLL, io_uring_register/enter on a bad fd, and, if a
 * ring was set up, an IORING_OP_OPENAT of the secret whose fd is then read.
 * Defence: every io_uring_* syscall is an escape primitive: the filter stops it and the tracer
 * denies it (EPERM, escape_attempt), so no ring exists and nothing can be queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static char summary[2048];
static int escaped;

static void note(const char *fmt, const char *a, const char *b) {
  size_t n = strlen(summary);
  snprintf(summary + n, sizeof summary - n, fmt, a, b);
}

static const char *en(void) { return strerrorname_np(errno); }

/* Maps the rings of `fd`, queues one OPENAT of `secret`, waits for its completion and returns
 * the result (an fd, or -errno); *stage says which step failed. */
static int ring_openat(int fd, struct io_uring_params *p, const char *secret, const char **stage) {
  size_t sq_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
  size_t cq_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
  if (p->features & IORING_FEAT_SINGLE_MMAP) sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
  char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                  IORING_OFF_SQ_RING);
  if (sq == MAP_FAILED) { *stage = "mmap(SQ ring)"; return -errno; }
  char *cq = sq;
  if (!(p->features & IORING_FEAT_SINGLE_MMAP)) {
    cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
              IORING_OFF_CQ_RING);
    if (cq == MAP_FAILED) { *stage = "mmap(CQ ring)"; return -errno; }
  }
  struct io_uring_sqe *sqes = mmap(NULL, p->sq_entries * sizeof(struct io_uring_sqe),
                                   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                                   IORING_OFF_SQES);
  if (sqes == MAP_FAILED) { *stage = "mmap(SQEs)"; return -errno; }

  unsigned *sq_tail = (unsigned *)(sq + p->sq_off.tail);
  unsigned *sq_mask = (unsigned *)(sq + p->sq_off.ring_mask);
  unsigned *sq_array = (unsigned *)(sq + p->sq_off.array);
  unsigned *sq_flags = (unsigned *)(sq + p->sq_off.flags);
  unsigned *cq_head = (unsigned *)(cq + p->cq_off.head);
  unsigned *cq_tail = (unsigned *)(cq + p->cq_off.tail);
  unsigned *cq_mask = (unsigned *)(cq + p->cq_off.ring_mask);
  struct io_uring_cqe *cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);

  unsigned tail = __atomic_load_n(sq_tail, __ATOMIC_ACQUIRE);
  unsigned idx = tail & *sq_mask;
  struct io_uring_sqe *sqe = &sqes[idx];
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_OPENAT;
  sqe->fd = AT_FDCWD;
  sqe->addr = (unsigned long)secret;
  sqe->open_flags = O_RDONLY;
  sqe->user_data = 42;
  sq_array[idx] = idx;
  __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);

  unsigned flags = IORING_ENTER_GETEVENTS;
  if ((p->flags & IORING_SETUP_SQPOLL) &&
      (__atomic_load_n(sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP))
    flags |= IORING_ENTER_SQ_WAKEUP;
  /* Waits for one completion (bounded: the openat completes at once). */
  if (syscall(SYS_io_uring_enter, fd, 1, 1, flags, NULL, 0) < 0) {
    *stage = "io_uring_enter";
    return -errno;
  }
  unsigned head = __atomic_load_n(cq_head, __ATOMIC_ACQUIRE);
  if (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE)) { *stage = "no completion"; return -EAGAIN; }
  int res = cqes[head & *cq_mask].res;
  __atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
  *stage = "IORING_OP_OPENAT";
  return res;
}

static void try_ring(const char *label, unsigned setup_flags, const char *secret) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = setup_flags;
  p.sq_thread_idle = 100; /* ms */
  int fd = (int)syscall(SYS_io_uring_setup, 4, &p);
  if (fd < 0) {
    printf("io_uring_setup(%s): %s\n", label, en());
    note("io_uring_setup(%s) -> %s; ", label, en());
    return;
  }
  printf("io_uring_setup(%s): ring fd %d\n", label, fd);
  const char *stage = "";
  int r = ring_openat(fd, &p, secret, &stage);
  if (r < 0) {
    printf("  %s of the secret: %s\n", stage, strerrorname_np(-r));
    note("io_uring_setup(%s) ok but %s", label, stage);
    note(" -> %s; ", strerrorname_np(-r), "");
  } else {
    char buf[4096];
    ssize_t n = read(r, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    printf("  IORING_OP_OPENAT of the secret: fd %d; read %zd bytes: %s\n", r, n, buf);
    note("io_uring(%s) OPENAT of the secret: %s; ", label, buf);
    escaped = 1;
    close(r);
  }
  close(fd);
}

int main(void) {
  const char *secret = getenv("TJ_SECRET");
  if (!secret) { printf("BLOCKED: TJ_SECRET not set\n"); return 0; }

  try_ring("plain", 0, secret);
  try_ring("IORING_SETUP_SQPOLL", IORING_SETUP_SQPOLL, secret);

  /* On fd -1 the kernel answers EBADF (EINVAL for register, which checks its arguments first);
   * EPERM means the sandbox decided. */
  long r = syscall(SYS_io_uring_register, -1, IORING_REGISTER_PROBE, NULL, 0);
  printf("io_uring_register(fd -1): %s\n", r < 0 ? en() : "ok");
  note("io_uring_register(bad fd) -> %s; ", r < 0 ? en() : "ok", "");
  r = syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);
  printf("io_uring_enter(fd -1): %s\n", r < 0 ? en() : "ok");
  note("io_uring_enter(bad fd) -> %s", r < 0 ? en() : "ok", "");

  printf("%s: %s\n", escaped ? "ESCAPED" : "BLOCKED", summary);
  return 0;
}
