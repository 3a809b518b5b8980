/* The process-tree mix the stress tests run hundreds of times: threads that fork, a thread
 * that execs (the kernel makes it the leader), vfork, a double fork whose orphan is reaped by
 * tracejail, signals inside the tree (to itself, from a child, SIGKILL of a child), quick exits.
 * Deterministic output: "MIX <n>" where n counts the children that ended as expected, then exit
 * status 7, so a run that lost a process shows a wrong line or status. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }
static void on_usr2(int sig) { (void)sig; got_usr2 = 1; }

static int reap(pid_t pid, int want_code) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == want_code;
}

static void* fork_in_thread(void* arg) {
  long code = (long)arg;
  pid_t pid = fork();
  if (pid == 0) _exit((int)code);
  return (void*)(long)reap(pid, (int)code);
}

static void* exec_true(void* arg) {
  (void)arg;
  execl("/bin/true", "true", (char*)NULL);
  _exit(99);
}

int main(void) {
  int ok = 0;
  signal(SIGUSR1, on_usr1);
  signal(SIGUSR2, on_usr2);
  pthread_t t[4];
  for (long i = 0; i < 4; ++i) pthread_create(&t[i], NULL, fork_in_thread, (void*)(i + 1));
  for (int i = 0; i < 4; ++i) {
    void* r = NULL;
    pthread_join(t[i], &r);
    ok += (int)(long)r;
  }
  /* A child whose second thread execs /bin/true: exit status 0. */
  pid_t pid = fork();
  if (pid == 0) {
    pthread_t e;
    pthread_create(&e, NULL, exec_true, NULL);
    for (;;) pause();
  }
  ok += reap(pid, 0);
  /* vfork + quick exit. */
  pid = vfork();
  if (pid == 0) _exit(5);
  ok += reap(pid, 5);
  /* A double fork: the grandchild is orphaned and exits on its own. */
  pid = fork();
  if (pid == 0) {
    if (fork() == 0) _exit(0);
    _exit(6);
  }
  ok += reap(pid, 6);
  /* Signals inside the tree: to itself, from a child, and SIGKILL of a child. */
  raise(SIGUSR1);
  pid = fork();
  if (pid == 0) {
    kill(getppid(), SIGUSR2);
    _exit(0);
  }
  ok += reap(pid, 0);
  int pipefd[2];
  if (pipe(pipefd) != 0) return 2;
  pid = fork();
  if (pid == 0) {
    char c;
    close(pipefd[1]);
    while (read(pipefd[0], &c, 1) != 0) {
    }
    _exit(0);
  }
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  ok += WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  close(pipefd[0]);
  close(pipefd[1]);
  /* SIGUSR2 was sent before that child exited, so its handler ran before waitpid returned. */
  ok += got_usr1 + got_usr2;
  printf("MIX %d\n", ok);
  return 7;
}
