#include "cli/run_options.h"

#include <fmt/format.h>

namespace cli {

std::optional<double> ParseGrace(const std::string& text) {
  if (text == "0" || text == "0s" || text == "0ms") return 0.0;
  policy::ParsedLimit p = policy::ParseLimitText(policy::LimitUnit::kMilliseconds, text);
  if (!p.error.empty() || !p.value) return std::nullopt;
  return static_cast<double>(*p.value) / 1000.0;
}

void AddMessageOptions(CLI::App* cmd, bool& quiet, bool& verbose) {
  auto* quiet_flag = cmd->add_flag(
      "-q,--quiet", quiet,
      "tracejail's own messages: errors and warnings only, no summary or notes (the command's "
      "output is untouched: --hide-output hides it, which tracejail 0.1.0's --quiet did)");
  cmd->add_flag("-v,--verbose", verbose,
                "more of tracejail's own messages: the plan before the run (policy, level, mode, "
                "limits, isolation layers, work dir, outputs) and every denial in the summary, not "
                "the first three")
      ->excludes(quiet_flag);
}

void AddTraceSetOptions(CLI::App* cmd, std::vector<std::string>& exprs) {
  cmd->add_option("-e", exprs,
                  "trace=SET: which calls the live view shows, in strace's syntax: names "
                  "(trace=openat,connect), classes (%file, %network, %process, %signal, %ipc, "
                  "%desc, %memory, %creds, %clock, %escape), ! for all but (trace=!%memory), all, "
                  "none. Only what is SHOWN: enforcement and the events file are unchanged. "
                  "Turns the live view on")
      ->allow_extra_args(false);
  cmd->add_option_function<std::string>(
      "--trace", [&exprs](const std::string& set) { exprs.push_back("trace=" + set); },
      "SET: the same as -e trace=SET");
}

void AddTraceFileOption(CLI::App* cmd, std::string& file, bool short_o) {
  cmd->add_option(short_o ? "-o,--trace-file" : "--trace-file", file,
                  "write the live view (one strace-like line per decision, with the return value "
                  "of allowed calls) to FILE instead of stderr, mode 600; turns the live view on. "
                  "--events FILE is the JSON Lines record");
}

// Every option that can be repeated (--env, --keep-env, --cap-add, --cap-drop) takes one value
// per occurrence (allow_extra_args(false)): CLI11's default lets a vector option take every
// following word and swallow the "--" that ends tracejail's options, so that
// `run --env A=1 -- sh -c ...` parsed -c as tracejail's.
void AddRunOptions(CLI::App* cmd, RunArgs& args) {
  auto* pol = cmd->add_option("--policy", args.policy_file, "policy JSON file");
  cmd->add_option("--level", args.level, "preset: none, basic, standard (default), strict, maximum")
      ->excludes(pol);
  cmd->add_option("--events", args.events_file, "write events as JSON Lines to FILE");
  cmd->add_option("--events-key", args.events_key,
                  "chain the events file with HMAC-SHA-256 under the key in FILE, so that only "
                  "someone with the key can make an edited file verify (tracejail verify --key)");
  cmd->add_flag("--raw-events", args.raw_events,
                "write every occurrence of a repeated event in full (default: repeats within a "
                "second are folded into one record with a count, docs/events.md)");
  cmd->add_option("--mode", args.mode, "enforce (default) or audit (allow all, record)")
      ->check(CLI::IsMember({"enforce", "audit"}));
  cmd->add_option("--file", args.files,
                  "NAME=FILE: copy FILE into a private work dir as NAME (repeatable; the "
                  "command then starts in the work dir)")
      ->check([](const std::string& spec) {
        return spec.find('=') == std::string::npos || spec.front() == '='
                   ? std::string("expected NAME=FILE")
                   : std::string();
      })
      ->allow_extra_args(false);
  cmd->add_option("--env", args.env, "set KEY=VALUE in the command's environment")
      ->check([](const std::string& kv) {
        return kv.find('=') == std::string::npos || kv.front() == '='
                   ? std::string("expected KEY=VALUE")
                   : std::string();
      })
      ->allow_extra_args(false);
  cmd->add_option("--keep-env", args.keep_env, "pass NAME through from tracejail's environment")
      ->allow_extra_args(false);
  cmd->add_option("--result", args.result_file, "write the execution result as JSON to FILE");
  cmd->add_flag("--hide-output", args.hide_output,
                "capture the command's output without passing it through (it is still counted, "
                "capped by --output and kept in --result FILE)");
  AddMessageOptions(cmd, args.quiet, args.verbose);
  cmd->add_flag("--summary,!--no-summary", args.summary,
                "print a summary to stderr at the end (default: on; -q turns it off)");
  cmd->add_flag("--allow-degraded", args.allow_degraded,
                "run even when an isolation layer the policy asks for is unavailable here "
                "(the result lists it as degraded)");
  cmd->add_flag("--live{all}", args.live,
                "show each decision on the terminal as it happens (--live, or --live=denied for "
                "denials only)")
      ->check(CLI::IsMember({"all", "denied"}));
  AddTraceFileOption(cmd, args.trace_file);
  AddTraceSetOptions(cmd, args.trace_exprs);
  cmd->add_flag("--explain", args.explain,
                "after the run, explain each escape technique or denial the events show: what "
                "the program tried and which defence stopped it");
  cmd->add_option("--stream", args.stream,
                  "serve events as JSON Lines to any number of subscribers (tracejail watch "
                  "ENDPOINT) at unix:PATH, the safe default (a socket only you can connect to), "
                  "or tcp:ADDRESS:PORT, which every local user can reach: a tcp subscriber must "
                  "first send the stream's token (see --stream-token-file)");
  cmd->add_option("--stream-token-file", args.stream_token_file,
                  "with --stream tcp:...: the token's file. If FILE exists it holds the token "
                  "(mode 600, 32 to 256 printable characters); otherwise a new random token is "
                  "written to FILE (mode 600) and removed when the run ends. Default: a new "
                  "token in a new private directory, named on stderr");
  cmd->add_flag("--stream-allow-remote", args.stream_allow_remote,
                "with --stream tcp:...: allow an address that is not loopback (the token and "
                "the events then cross the network unencrypted)");
  cmd->add_option("--stream-wait", args.stream_wait,
                  "with --stream: start the command only once N subscribers are connected (tcp: "
                  "and have sent the token)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--stream-stall", args.stream_stall,
                  "with --stream: a subscriber whose queue is full and that has taken nothing "
                  "for SECONDS is closed, and its place freed (default 10)")
      ->check(CLI::Range(1, 86400));
  cmd->add_option("--same-cpu", args.same_cpu,
                  "auto (default): run the tree on tracejail's CPU while nothing in it wants a "
                  "second one, which makes each flagged call cheaper (docs/performance.md); "
                  "off: leave the scheduling to the kernel")
      ->check(CLI::IsMember({"auto", "off"}));
  cmd->add_option("--stack", args.stack,
                  "which events carry the calling thread's native stack (module, function, "
                  "offset, and file:line where there is debug information): denials (default: "
                  "denied calls, escape attempts, kills), all (every recorded call) or off. At "
                  "most 256 per run")
      ->check(CLI::IsMember({"off", "denials", "all"}));
  cmd->add_option("--collect", args.collect_dir,
                  "keep a copy of every regular file the program created or changed in DIR "
                  "(made if missing), named by its SHA-256, with DIR/index.json listing them; "
                  "special files and symlinks are recorded, never copied");
  cmd->add_option("--collect-max", args.collect_max,
                  "with --collect: at most this many bytes of copies in all (default 256MiB); "
                  "files past it are recorded, not copied")
      ->check([](const std::string& v) {
        policy::ParsedLimit p = policy::ParseLimitText(policy::LimitUnit::kBytes, v);
        return p.error.empty() && p.value ? std::string() : "expected a size such as 256MiB";
      });
  cmd->add_option("--cap-add", args.cap_add,
                  "let the command keep this capability too (capabilities(7) name, with or "
                  "without CAP_; repeat or separate with commas)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--cap-drop", args.cap_drop,
                  "take this capability from the command (or ALL); applied before --cap-add")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_flag("--tty", args.tty,
                "keep the controlling terminal for interactive use (by default the command runs "
                "in a new session without one, so it cannot type into your shell)");
  cmd->add_option("--kill-grace", args.kill_grace,
                  "when tracejail gets SIGINT, SIGTERM or SIGHUP it forwards the signal to the "
                  "command and kills the whole tree after this long (default 2s; 0 kills at "
                  "once); a second signal kills at once")
      ->check([](const std::string& v) {
        return ParseGrace(v) ? std::string()
                             : std::string("expected a duration such as 2s, 500ms or 0");
      });
  for (const auto& info : policy::kLimitInfo) {
    std::string flag = "--" + std::string(info.key);
    for (char& ch : flag) ch = ch == '_' ? '-' : ch;
    if (info.kind == policy::LimitKind::kOutput) flag += ",--output-limit";
    policy::LimitKind kind = info.kind;
    cmd->add_option_function<std::string>(
        flag, [&args, kind](const std::string& v) { args.limit_flags[kind] = v; },
        fmt::format("limit: {} ({}; \"off\" removes the policy's limit)", info.what,
                    info.unit == policy::LimitUnit::kMilliseconds ? "e.g. 2s, 500ms"
                    : info.unit == policy::LimitUnit::kBytes      ? "e.g. 256MiB"
                                                                  : "a count"));
  }
}

}  // namespace cli
