/* two_cpus: two threads spin until they have reported two different CPUs, then the
 * program prints "TWO CPUS <a> <b>" and exits 0. It never ends while both are held on one CPU:
 * under tracejail's same-CPU pin it finishes only because the pin was given up for parallel
 * work (tracer/same_cpu.h). It makes no syscall in the loop but sched_getcpu (vDSO). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

static atomic_int cpu_of[2] = {-1, -1};
static atomic_int done;

static void *spin(void *arg) {
  int me = (int)(long)arg;
  while (!atomic_load(&done)) {
    atomic_store(&cpu_of[me], sched_getcpu());
    int other = atomic_load(&cpu_of[1 - me]);
    /* Both values are fresh while both threads run; on one CPU they can only ever agree. */
    if (other >= 0 && other != atomic_load(&cpu_of[me])) atomic_store(&done, 1);
  }
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, spin, (void *)1L) != 0) return 2;
  spin((void *)0L);
  pthread_join(t, NULL);
  printf("TWO CPUS %d %d\n", atomic_load(&cpu_of[0]), atomic_load(&cpu_of[1]));
  return 0;
}
