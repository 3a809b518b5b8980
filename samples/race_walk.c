/* race_walk: the filesystem side of the time-of-check/time-of-use attack, in two halves that run
 * in different processes, so that the swapping half can run outside the traced tree.
 *
 *   race_walk flip DIR A B     swap DIR/A and DIR/B with renameat2(RENAME_EXCHANGE) until
 *                              SIGTERM; prints "FLIPPING" once it has swapped (so a test can
 *                              wait for it without sleeping), then "FLIPPED <count>" at the end.
 *   race_walk open PATH DEV:INO N
 *                              open PATH N times; each open that reached the secret (the file
 *                              DEV:INO, as stat(1) %d:%i gives it, compared on the open file)
 *                              prints "GOT SECRET" at once; at the end "WALK opened=<n>
 *                              secret=<n> <ERRNO>=<n>...".
 *   race_walk exec PATH N      fork and execv PATH N times; prints "WALK ran=<exit 0> other=<n>
 *                              killed=<n> failed=<n>" and passes on whatever the program wrote.
 *   race_walk serve PATH BYTE  a unix stream listener at PATH that writes BYTE to every
 *                              connection and closes it; prints "SERVING" once listening, runs
 *                              until SIGTERM.
 *   race_walk connect PATH N   connect to the unix socket PATH N times and read the byte the
 *                              listener wrote; each byte 'D' prints "GOT DAEMON" at once; at the
 *                              end "WALK connected=<n> daemon=<n> <ERRNO>=<n>...".
 *   race_walk receive PATH     a unix datagram socket bound at PATH that reads until SIGTERM;
 *                              prints "RECEIVING" once bound, then "RECEIVED <n>" at the end.
 *   race_walk send PATH N HOW  send N datagrams to the unix socket PATH with HOW (sendto,
 *                              sendmsg or sendmmsg); at the end "WALK sent=<n> <ERRNO>=<n>...".
 *   race_walk bind PREFIX N SECRET
 *                              bind N unix sockets at PREFIX0, PREFIX1, ...; each that made its
 *                              file in the directory SECRET prints "GOT SECRET"; at the end
 *                              "WALK bound=<n> secret=<n> <ERRNO>=<n>...".
 *   race_walk chmod PATH N     chmod(PATH, 0604) N times, then "WALK done=<n> <ERRNO>=<n>...";
 *                              the caller checks which file's mode changed.
 *   race_walk unlink PATH N    unlink(PATH) N times, likewise; the caller checks which files
 *                              are gone.
 *   race_walk stat PATH DEV:INO N
 *                              stat(PATH) N times; each result that is the file DEV:INO (a
 *                              metadata read the policy denies) prints "GOT SECRET"; at the end
 *                              "WALK done=<n> secret=<n> <ERRNO>=<n>...".
 *   race_walk fdswap PATH DIR N
 *                              chmod(PATH, 0604) N times in one thread while another thread
 *                              keeps putting a descriptor of DIR under the numbers the next
 *                              descriptors would get (dup2, then close): an attack on whatever
 *                              a tracer makes the calling thread open on its behalf.
 *   race_walk fdchmod OK SECRET N
 *                              fchmod(fd, 0604) N times in one thread on a descriptor number
 *                              that another thread keeps pointing at OK and at SECRET in turn
 *                              (dup2): an attack on a check of the file a descriptor names;
 *                              "WALK done=<n> <ERRNO>=<n>...", the caller checks SECRET's mode.
 *
 * With A -> a decoy and B -> the secret (symlinks, or directories holding a file of the same
 * name), the opener's checked path names the decoy at the check and the secret at the use in
 * some fraction of the opens, unless the kernel is given a walk that cannot be swapped. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop;
static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

/* " EPERM=3 ENOENT=2" and the end of the line. */
static void print_errnos(const long* errs) {
  for (int e = 0; e < 4096; ++e) {
    if (errs[e]) printf(" %s=%ld", strerrorname_np(e) ? strerrorname_np(e) : "?", errs[e]);
  }
  printf("\n");
}

static int flip(const char* dir, const char* a, const char* b) {
  int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    perror(dir);
    return 2;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  long count = 0;
  while (!stop) {
    if (syscall(SYS_renameat2, dfd, a, dfd, b, RENAME_EXCHANGE) != 0) {
      perror("renameat2");
      return 2;
    }
    if (++count == 1) {
      printf("FLIPPING\n");
      fflush(stdout);
    }
  }
  printf("FLIPPED %ld\n", count);
  return 0;
}

/* DEV:INO as stat(1) %d:%i prints them; 0 when it is not that. */
static int parse_identity(const char* text, unsigned long long* dev, unsigned long long* ino) {
  if (sscanf(text, "%llu:%llu", dev, ino) == 2) return 1;
  fprintf(stderr, "race_walk: DEV:INO expected, not %s\n", text);
  return 0;
}

static int open_loop(const char* path, const char* secret, long n) {
  unsigned long long dev = 0, ino = 0;
  if (!parse_identity(secret, &dev, &ino)) return 2;
  long opened = 0, got = 0, errs[4096] = {0};
  for (long i = 0; i < n; ++i) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno < 4096) ++errs[errno];
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino) {
      ++got;
      printf("GOT SECRET\n");
      fflush(stdout);
    } else {
      ++opened;
    }
    close(fd);
  }
  printf("WALK opened=%ld secret=%ld", opened, got);
  print_errnos(errs);
  return 0;
}

static int exec_loop(const char* path, long n) {
  long ran = 0, other = 0, killed = 0, failed = 0;
  for (long i = 0; i < n; ++i) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 2;
    }
    if (pid == 0) {
      char* argv[] = {(char*)path, NULL};
      execv(path, argv);
      _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
      perror("waitpid");
      return 2;
    }
    if (WIFSIGNALED(status))
      ++killed;
    else if (WEXITSTATUS(status) == 0)
      ++ran;
    else if (WEXITSTATUS(status) == 127)
      ++failed;
    else
      ++other;
  }
  printf("WALK ran=%ld other=%ld killed=%ld failed=%ld\n", ran, other, killed, failed);
  return 0;
}

/* A path call that changes the filesystem, N times: what it reached is checked from outside. */
static int mutate_loop(const char* op, const char* path, long n) {
  long done = 0, errs[4096] = {0};
  for (long i = 0; i < n; ++i) {
    int rc = strcmp(op, "chmod") == 0 ? chmod(path, 0604) : unlink(path);
    if (rc == 0) {
      ++done;
    } else if (errno < 4096) {
      ++errs[errno];
    }
  }
  printf("WALK done=%ld", done);
  print_errnos(errs);
  return 0;
}

struct swapper {
  int evil, base;
};

static void* swap_fds(void* arg) {
  struct swapper* w = arg;
  while (!stop) {
    for (int k = w->base; k < w->base + 3; ++k) {
      dup2(w->evil, k);
      close(k);
    }
  }
  return NULL;
}

static int fdswap_loop(const char* path, const char* dir, long n) {
  struct swapper w = {.evil = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)};
  if (w.evil < 0) {
    perror(dir);
    return 2;
  }
  w.base = w.evil + 1; /* the lowest free number from here on */
  pthread_t th;
  if (pthread_create(&th, NULL, swap_fds, &w) != 0) return 2;
  long done = 0, errs[4096] = {0};
  for (long i = 0; i < n; ++i) {
    if (chmod(path, 0604) == 0) {
      ++done;
    } else if (errno < 4096) {
      ++errs[errno];
    }
  }
  stop = 1;
  pthread_join(th, NULL);
  printf("WALK done=%ld", done);
  print_errnos(errs);
  return 0;
}

struct flipper {
  int fd, a, b;
  atomic_int started; /* the calls begin once it has flipped */
};

static void* flip_fd(void* arg) {
  struct flipper* f = arg;
  while (!stop) {
    dup2(f->a, f->fd);
    dup2(f->b, f->fd);
    atomic_store(&f->started, 1);
  }
  return NULL;
}

static int fdchmod_loop(const char* ok, const char* secret, long n) {
  struct flipper f = {.a = open(ok, O_RDONLY | O_CLOEXEC), .b = open(secret, O_RDONLY | O_CLOEXEC)};
  if (f.a < 0 || f.b < 0) {
    perror("open");
    return 2;
  }
  f.fd = dup(f.a);
  pthread_t th;
  if (f.fd < 0 || pthread_create(&th, NULL, flip_fd, &f) != 0) return 2;
  while (!atomic_load(&f.started)) {
  }
  long done = 0, errs[4096] = {0};
  for (long i = 0; i < n; ++i) {
    if (fchmod(f.fd, 0604) == 0) {
      ++done;
    } else if (errno < 4096) {
      ++errs[errno];
    }
  }
  stop = 1;
  pthread_join(th, NULL);
  printf("WALK done=%ld", done);
  print_errnos(errs);
  return 0;
}

static int stat_loop(const char* path, const char* secret, long n) {
  unsigned long long dev = 0, ino = 0;
  if (!parse_identity(secret, &dev, &ino)) return 2;
  long done = 0, got = 0, errs[4096] = {0};
  for (long i = 0; i < n; ++i) {
    struct stat st;
    if (stat(path, &st) != 0) {
      if (errno < 4096) ++errs[errno];
    } else if (st.st_dev == dev && st.st_ino == ino) {
      ++got;
      printf("GOT SECRET\n");
    } else {
      ++done;
    }
  }
  printf("WALK done=%ld secret=%ld", done, got);
  print_errnos(errs);
  return 0;
}

static int serve(const char* path, char byte) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
  unlink(path);
  if (fd < 0 || bind(fd, (struct sockaddr*)&un, sizeof un) != 0 || listen(fd, 128) != 0) {
    perror(path);
    return 2;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN); /* a client tracejail disconnected: EPIPE, not the end */
  printf("SERVING\n");
  fflush(stdout);
  while (!stop) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) continue;
    (void)!write(c, &byte, 1);
    close(c);
  }
  return 0;
}

static int connect_loop(const char* path, long n) {
  long connected = 0, daemon = 0, errs[4096] = {0};
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
  for (long i = 0; i < n; ++i) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      perror("socket");
      return 2;
    }
    if (connect(fd, (struct sockaddr*)&un, sizeof un) != 0) {
      if (errno < 4096) ++errs[errno];
      close(fd);
      continue;
    }
    char byte = 0;
    if (read(fd, &byte, 1) == 1 && byte == 'D') {
      ++daemon;
      printf("GOT DAEMON\n");
      fflush(stdout);
    } else {
      ++connected;
    }
    close(fd);
  }
  printf("WALK connected=%ld daemon=%ld", connected, daemon);
  print_errnos(errs);
  return 0;
}

static int receive(const char* path) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
  unlink(path);
  if (fd < 0 || bind(fd, (struct sockaddr*)&un, sizeof un) != 0) {
    perror(path);
    return 2;
  }
  struct sigaction sa = {0};
  sa.sa_handler = on_term; /* no SA_RESTART: the blocking recv ends with EINTR */
  sigaction(SIGTERM, &sa, NULL);
  printf("RECEIVING\n");
  fflush(stdout);
  long received = 0;
  char buf[64];
  while (!stop) {
    if (recv(fd, buf, sizeof buf, 0) >= 0) ++received;
  }
  printf("RECEIVED %ld\n", received);
  return 0;
}

static int send_loop(const char* path, long n, const char* how) {
  long sent = 0, errs[4096] = {0};
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("socket");
    return 2;
  }
  char byte = 'x';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  struct mmsghdr mm = {
      .msg_hdr = {.msg_name = &un, .msg_namelen = sizeof un, .msg_iov = &iov, .msg_iovlen = 1}};
  for (long i = 0; i < n; ++i) {
    long r;
    if (strcmp(how, "sendto") == 0) {
      r = sendto(fd, &byte, 1, 0, (struct sockaddr*)&un, sizeof un);
    } else if (strcmp(how, "sendmsg") == 0) {
      r = sendmsg(fd, &mm.msg_hdr, 0);
    } else {
      r = sendmmsg(fd, &mm, 1, 0);
    }
    if (r < 0) {
      if (errno < 4096) ++errs[errno];
    } else {
      ++sent;
    }
  }
  printf("WALK sent=%ld", sent);
  print_errnos(errs);
  return 0;
}

static int bind_loop(const char* prefix, long n, const char* secret) {
  long bound = 0, got = 0, errs[4096] = {0};
  const char* slash = strrchr(prefix, '/');
  const char* base = slash ? slash + 1 : prefix;
  for (long i = 0; i < n; ++i) {
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      perror("socket");
      return 2;
    }
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s%ld", prefix, i);
    if (bind(fd, (struct sockaddr*)&un, sizeof un) != 0) {
      if (errno < 4096) ++errs[errno];
    } else {
      char there[4096];
      struct stat st;
      snprintf(there, sizeof there, "%s/%s%ld", secret, base, i);
      if (lstat(there, &st) == 0) {
        ++got;
        printf("GOT SECRET\n");
        fflush(stdout);
      } else {
        ++bound;
      }
    }
    close(fd);
  }
  printf("WALK bound=%ld secret=%ld", bound, got);
  print_errnos(errs);
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 5 && strcmp(argv[1], "flip") == 0) return flip(argv[2], argv[3], argv[4]);
  if (argc == 5 && strcmp(argv[1], "open") == 0) return open_loop(argv[2], argv[3], atol(argv[4]));
  if (argc == 4 && strcmp(argv[1], "exec") == 0) return exec_loop(argv[2], atol(argv[3]));
  if (argc == 4 && strcmp(argv[1], "serve") == 0) return serve(argv[2], argv[3][0]);
  if (argc == 4 && strcmp(argv[1], "connect") == 0) return connect_loop(argv[2], atol(argv[3]));
  if (argc == 5 && strcmp(argv[1], "bind") == 0) return bind_loop(argv[2], atol(argv[3]), argv[4]);
  if (argc == 3 && strcmp(argv[1], "receive") == 0) return receive(argv[2]);
  if (argc == 5 && strcmp(argv[1], "send") == 0 &&
      (strcmp(argv[4], "sendto") == 0 || strcmp(argv[4], "sendmsg") == 0 ||
       strcmp(argv[4], "sendmmsg") == 0))
    return send_loop(argv[2], atol(argv[3]), argv[4]);
  if (argc == 5 && strcmp(argv[1], "stat") == 0) return stat_loop(argv[2], argv[3], atol(argv[4]));
  if (argc == 5 && strcmp(argv[1], "fdchmod") == 0)
    return fdchmod_loop(argv[2], argv[3], atol(argv[4]));
  if (argc == 5 && strcmp(argv[1], "fdswap") == 0)
    return fdswap_loop(argv[2], argv[3], atol(argv[4]));
  if (argc == 4 && (strcmp(argv[1], "chmod") == 0 || strcmp(argv[1], "unlink") == 0))
    return mutate_loop(argv[1], argv[2], atol(argv[3]));
  fprintf(stderr,
          "usage: race_walk flip DIR A B | open PATH DEV:INO N | exec PATH N | serve PATH BYTE | "
          "connect PATH N | bind PREFIX N SECRET | receive PATH | send PATH N "
          "sendto|sendmsg|sendmmsg | chmod PATH N | unlink PATH N | stat PATH DEV:INO N | "
          "fdswap PATH DIR N\n");
  return 2;
}
