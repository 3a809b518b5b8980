/* tracejail-escape
 * id: cap-adjtimex
 * class: capabilities
 * title: adjust the system clock's state with adjtimex and clock_adjtime (CAP_SYS_TIME)
 * covered: basic
 * needs: root
 *
 * Technique: the system clock belongs to the whole machine: whoever may adjust it can break
 * certificates, logs, builds and every other process's timers. adjtimex and clock_adjtime change
 * it with CAP_SYS_TIME, which root has, and no path or address is involved. The program reads the
 * clock's state (modes 0, no privilege), then writes its status back unchanged (ADJ_STATUS), once
 * through each call: success shows it could have set anything. The clock itself is never changed.
 * Defence: CAP_SYS_TIME is outside the capabilities tracejail leaves the command (Docker's default
 * minus NET_RAW, fewer at stricter levels), and adjtimex and clock_adjtime with a non-zero mode
 * are capability-gated calls denied in the seccomp filter.
 */
#include <sys/syscall.h>
#include <sys/timex.h>
#include <time.h>

#include "escape.h"

static void try_status(const char* what, int use_clock_adjtime) {
  struct timex tx;
  memset(&tx, 0, sizeof tx);
  if (adjtimex(&tx) < 0) {
    stopped(what, "reading the clock's state failed");
    return;
  }
  int status = tx.status;
  memset(&tx, 0, sizeof tx);
  tx.modes = ADJ_STATUS;
  tx.status = status;
  int rc = use_clock_adjtime ? (int)syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx) : adjtimex(&tx);
  char detail[128];
  if (rc < 0) {
    stopped(what, ename(errno));
  } else {
    snprintf(detail, sizeof detail, "wrote the clock's status 0x%x back (CAP_SYS_TIME)",
             (unsigned)status);
    got_through(what, detail);
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  try_status("adjtimex(ADJ_STATUS, unchanged)", 0);
  try_status("clock_adjtime(CLOCK_REALTIME, ADJ_STATUS, unchanged)", 1);
  return final_line();
}
