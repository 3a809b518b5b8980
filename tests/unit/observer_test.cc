// tracer/observer.h's pure parts: what an attach that failed says, and the attach's event.
#include <errno.h>

#include <catch2/catch.hpp>

#include "tracer/event_draft.h"
#include "tracer/observer.h"

using tracer::AttachErrorMessage;
using tracer::AttachFacts;

TEST_CASE("observe: a process that does not exist is no such process", "[observe]") {
  CHECK(AttachErrorMessage(4242, {.error = ESRCH}) == "no such process: 4242");
}

TEST_CASE("observe: EPERM names ptrace_scope and its value when Yama forbids the attach",
          "[observe]") {
  const std::string scope = "/proc/sys/kernel/yama/ptrace_scope";
  std::string one = AttachErrorMessage(10, {.error = EPERM, .ptrace_scope = 1});
  CHECK(one.starts_with("cannot attach to process 10: "));
  CHECK(one.find(scope + " is 1") != std::string::npos);
  CHECK(one.find("root") != std::string::npos);
  CHECK(AttachErrorMessage(10, {.error = EPERM, .ptrace_scope = 2}).find(scope + " is 2") !=
        std::string::npos);
  CHECK(AttachErrorMessage(10, {.error = EPERM, .ptrace_scope = 3, .privileged = true})
            .find(scope + " is 3") != std::string::npos);
  // Root passes scopes 1 and 2: the reason is elsewhere, and the message does not blame Yama.
  CHECK(
      AttachErrorMessage(10, {.error = EPERM, .ptrace_scope = 1, .privileged = true}).find(scope) ==
      std::string::npos);
}

TEST_CASE("observe: EPERM names another tracer, another user or tracejail itself", "[observe]") {
  CHECK(AttachErrorMessage(10, {.error = EPERM, .ptrace_scope = 1, .tracer_pid = 77})
            .find("already traced by process 77") != std::string::npos);
  CHECK(AttachErrorMessage(10, {.error = EPERM, .ptrace_scope = 0, .same_user = false})
            .find("another user") != std::string::npos);
  CHECK(AttachErrorMessage(10, {.error = EPERM, .self = true}).find("tracejail itself") !=
        std::string::npos);
  CHECK(AttachErrorMessage(10, {.error = EIO}).find("PTRACE_SEIZE failed") != std::string::npos);
}

TEST_CASE("observe: the attach is a process_start via attach with argv and threads", "[observe]") {
  tracer::LifecycleDraft d = tracer::AttachedDraft(12, 1, 3, "/usr/bin/sleep", {"sleep", "9"});
  CHECK(d.type == policy::EventType::kProcessStart);
  CHECK(d.args["via"] == "attach");
  CHECK(d.args["threads"] == 3);
  CHECK(d.args["parent_pid"] == 1);
  CHECK(d.args["argv"] == nlohmann::json::array({"sleep", "9"}));
  CHECK(d.message.find("what it did before is not seen") != std::string::npos);
}
