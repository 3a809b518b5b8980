// A periodic SIGALRM aimed at the calling thread only (SIGEV_THREAD_ID): it interrupts that
// thread's waitpid() (the handler is installed without SA_RESTART) and runs `on_tick`. The
// supervisor's and the observer's loops tick with it.
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace tracer {

class TickTimer {
 public:
  TickTimer(void (*on_tick)(int), long period_ns) {
    struct sigaction sa {};
    sa.sa_handler = on_tick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR
    sigaction(SIGALRM, &sa, nullptr);
    sigevent sev{};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGALRM;
    sev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
    if (timer_create(CLOCK_MONOTONIC, &sev, &timer_) != 0) return;
    armed_ = true;
    itimerspec spec{{0, period_ns}, {0, period_ns}};
    timer_settime(timer_, 0, &spec, nullptr);
  }
  // The handler stays: a SIGALRM still on its way (a late tick, or a wake-up sent from another
  // thread) must not meet SIGALRM's default action, which ends the process.
  ~TickTimer() {
    if (armed_) timer_delete(timer_);
  }
  TickTimer(const TickTimer&) = delete;
  TickTimer& operator=(const TickTimer&) = delete;
  bool armed() const { return armed_; }

 private:
  timer_t timer_{};
  bool armed_ = false;
};

}  // namespace tracer
