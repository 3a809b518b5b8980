# bash completion for tracejail (completions/README.md). Installed as
# share/bash-completion/completions/tracejail; to try it from a checkout:
#   source completions/tracejail.bash
# Self-contained: it does not need the bash-completion package's helpers. COMPREPLY=($(compgen ...))
# is the usual idiom here: the words compgen prints are split on purpose.
# shellcheck disable=SC2207

# The options of each command, as `tracejail COMMAND --help` lists them (the install test checks
# that every option there is here).
_tracejail_run_opts='--policy --level --events --events-key --raw-events --mode --env --keep-env
  --result -q --quiet -v --verbose --hide-output -o --trace-file -e --trace --summary --no-summary --allow-degraded --live --live=denied --explain --stream
  --stream-token-file --stream-allow-remote --stream-wait --stream-stall --same-cpu --stack --collect --collect-max
  --cap-add --cap-drop --tty --file
  --kill-grace --cpu --memory --processes --file-size --open-files --disk --timeout --output
  --output-limit -h --help'
_tracejail_exec_opts="$_tracejail_run_opts --lang -c --code --json"
_tracejail_learn_opts='-o --output --base --runs --env --keep-env --events --allow-degraded --live
  --live=denied -q --quiet -v --verbose --trace-file -e --trace -h --help'
_tracejail_observe_opts='-p --pid --policy --level --events --events-key --raw-events --live
  --live=denied -o --trace-file -e --trace -q --quiet -v --verbose --result --summary --no-summary
  --duration --timeout --enforce -h --help'
_tracejail_selftest_opts='--level --samples --only --json --explain --timeout -h --help'
_tracejail_watch_opts='--denied --token-file -h --help'
_tracejail_verify_opts='--expect --key -h --help'
_tracejail_report_opts='--format -o --output --list-formats -h --help'
_tracejail_stats_opts='--json -h --help'
_tracejail_diff_opts='--json -h --help'
_tracejail_batch_opts='--out -j --jobs --shard --merge --from -q --quiet -h --help'
_tracejail_policy_test_opts='--var --all --json -h --help'
_tracejail_policy_compile_opts='--dump --pfc -h --help'
_tracejail_policy_output_opts='-o --output -h --help'
_tracejail_commands='run exec learn observe selftest watch verify report stats diff batch policy'
_tracejail_policy_commands='show check explain compile import-oci export-oci merge test'
_tracejail_capabilities='ALL AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF
  CHECKPOINT_RESTORE CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL
  LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST
  NET_RAW PERFMON SETFCAP SETGID SETPCAP SETUID SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE
  SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG SYSLOG WAKE_ALARM'

# The preset levels, from `tracejail policy show list` (first word of each line), else the
# built-in names.
_tracejail_levels() {
  local tj=${COMP_WORDS[0]} levels
  levels=$("$tj" policy show list 2>/dev/null | awk '{print $1}')
  echo "${levels:-none basic standard strict maximum}"
}

# The report formats, from `tracejail report --list-formats`.
_tracejail_formats() {
  local tj=${COMP_WORDS[0]} formats
  formats=$("$tj" report --list-formats 2>/dev/null | cut -f1)
  echo "${formats:-text json markdown html sarif}"
}

_tracejail_files() { # [GLOB]: files matching GLOB, and directories to walk into
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  if [[ -n ${1:-} ]]; then
    COMPREPLY+=($(compgen -f -X "!$1" -- "$cur") $(compgen -d -- "$cur"))
  else
    COMPREPLY+=($(compgen -f -- "$cur"))
  fi
}

_tracejail() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local cmd="" sub="" i w dashdash=0
  COMPREPLY=()
  # The command (and policy's subcommand); after "--" come the traced command's own words.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ $w == -- ]]; then
      dashdash=$i
      break
    elif [[ -z $cmd && $w != -* ]]; then
      cmd=$w
    elif [[ $cmd == policy && -z $sub && $w != -* ]]; then
      sub=$w
    fi
  done
  if ((dashdash > 0)); then
    if ((COMP_CWORD == dashdash + 1)); then
      COMPREPLY=($(compgen -c -- "$cur"))
    else
      _tracejail_files
    fi
    return 0
  fi

  # A value for the option before the cursor. --output is a limit for run and exec, a file
  # elsewhere; --live=VALUE reaches here as the words --live, = and VALUE.
  if [[ $prev == --output && ($cmd == run || $cmd == exec) ]]; then
    COMPREPLY=($(compgen -W off -- "$cur"))
    return 0
  fi
  if [[ $prev == = && ${COMP_WORDS[COMP_CWORD - 2]} == --live ]]; then
    COMPREPLY=($(compgen -W 'all denied' -- "$cur"))
    return 0
  fi
  case $prev in
    --level | --base)
      if [[ $cmd == selftest ]]; then
        COMPREPLY=($(compgen -W 'basic standard strict maximum all' -- "$cur"))
      else
        COMPREPLY=($(compgen -W "$(_tracejail_levels)" -- "$cur"))
        [[ $prev == --base ]] && _tracejail_files '*.json'
      fi
      return 0
      ;;
    --policy) _tracejail_files '*.json'; return 0 ;;
    -o | --output)
      # run, exec and observe: -o is the trace file, --output a limit (above); elsewhere both
      # are files.
      _tracejail_files
      return 0
      ;;
    --events | --result | --events-key | --stream-token-file | --token-file | --key | --trace-file)
      _tracejail_files
      return 0
      ;;
    --out | --from) compopt -o dirnames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
    --file) _tracejail_files; return 0 ;;
    --collect) compopt -o dirnames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
    --samples) compopt -o dirnames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
    --mode) COMPREPLY=($(compgen -W 'enforce audit' -- "$cur")); return 0 ;;
    --same-cpu) COMPREPLY=($(compgen -W 'auto off' -- "$cur")); return 0 ;;
    --stack) COMPREPLY=($(compgen -W 'denials all off' -- "$cur")); return 0 ;;
    --lang) COMPREPLY=($(compgen -W 'python sh bash' -- "$cur")); return 0 ;;
    --format) COMPREPLY=($(compgen -W "$(_tracejail_formats)" -- "$cur")); return 0 ;;
    --keep-env) COMPREPLY=($(compgen -e -- "$cur")); return 0 ;;
    --cap-add | --cap-drop) COMPREPLY=($(compgen -W "$_tracejail_capabilities" -- "$cur")); return 0 ;;
    --stream) COMPREPLY=($(compgen -W 'unix: tcp:127.0.0.1:' -- "$cur")); compopt -o nospace 2>/dev/null; return 0 ;;
    --cpu | --memory | --processes | --file-size | --open-files | --disk | --timeout | --output-limit)
      COMPREPLY=($(compgen -W off -- "$cur"))
      return 0
      ;;
    -p | --pid) COMPREPLY=($(compgen -W "$(ps -e -o pid= 2>/dev/null)" -- "$cur")); return 0 ;;
    --duration) return 0 ;;
    -e | --trace) COMPREPLY=($(compgen -W 'trace=all trace=%file trace=%network trace=%process
      trace=%signal trace=%ipc trace=%desc trace=%memory trace=%creds trace=%escape' -- "$cur")); return 0 ;;
    --env | --stream-wait | --stream-stall | --kill-grace | --runs | --only | -c | --code | --expect | --var) return 0 ;;
  esac

  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$_tracejail_commands -V --version -h --help" -- "$cur"))
    return 0
  fi
  local opts=""
  case $cmd in
    run) opts=$_tracejail_run_opts ;;
    exec) opts=$_tracejail_exec_opts ;;
    learn) opts=$_tracejail_learn_opts ;;
    observe) opts=$_tracejail_observe_opts ;;
    selftest) opts=$_tracejail_selftest_opts ;;
    watch) opts=$_tracejail_watch_opts ;;
    verify) opts=$_tracejail_verify_opts ;;
    report) opts=$_tracejail_report_opts ;;
    stats) opts=$_tracejail_stats_opts ;;
    diff) opts=$_tracejail_diff_opts ;;
    batch) opts=$_tracejail_batch_opts ;;
    policy)
      if [[ -z $sub ]]; then
        COMPREPLY=($(compgen -W "$_tracejail_policy_commands -h --help" -- "$cur"))
        return 0
      fi
      case $sub in
        compile) opts=$_tracejail_policy_compile_opts ;;
        import-oci | export-oci | merge) opts=$_tracejail_policy_output_opts ;;
        test) opts=$_tracejail_policy_test_opts ;;
        *) opts='-h --help' ;;
      esac
      ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return 0
  fi
  # Positional arguments.
  case $cmd/$sub in
    run/ | learn/) COMPREPLY=($(compgen -W '--' -- "$cur") $(compgen -c -- "$cur")) ;;
    exec/) _tracejail_files ;;
    verify/ | report/) _tracejail_files '*.jsonl' ;;
    stats/ | diff/ | batch/) _tracejail_files '*.jsonl' ;;
    watch/) COMPREPLY=($(compgen -W 'unix: tcp:' -- "$cur")); compopt -o nospace 2>/dev/null ;;
    policy/show) COMPREPLY=($(compgen -W "$(_tracejail_levels) list" -- "$cur")) ;;
    policy/explain | policy/compile | policy/export-oci)
      COMPREPLY=($(compgen -W "$(_tracejail_levels)" -- "$cur"))
      _tracejail_files '*.json'
      ;;
    policy/test)
      # The policy (a level or a file), then the recording.
      COMPREPLY=($(compgen -W "$(_tracejail_levels)" -- "$cur"))
      _tracejail_files '*.json*'
      ;;
    policy/*) _tracejail_files '*.json' ;;
  esac
  return 0
}
complete -F _tracejail tracejail
