#!/usr/bin/env python3
"""check_install.py BUILD_DIR VERSION: `cmake --install BUILD_DIR` into a temporary prefix and
check what an installation holds and that it works from there, without touching the system:

- the layout: bin/tracejail, the escape suite (every program beside its source) in
  libexec/tracejail/escapes, the man pages, the bash and zsh completions, the JSON schemas
  (parsed), the documentation;
- the installed binary: --version says VERSION; from a directory outside the build tree,
  `selftest` finds the installed suite (and says so) and runs two techniques; with the suite
  moved away it names every directory it searched; the build tree's binary still finds the
  build tree's suite;
- the man pages: no groff warnings, and every option `tracejail COMMAND --help` lists is in
  tracejail(1);
- the completions: the bash completion offers the commands, policy's subcommands, the levels
  and every option `--help` lists for each command; the zsh completion names every option.
Prints each failure; exits 1 if there is one. A CTest test (label install, tests/CMakeLists.txt).
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1])
VERSION = sys.argv[2]
COMMANDS = ["run", "exec", "learn", "observe", "selftest", "watch", "verify", "report", "stats", "diff", "batch",
            "policy"]
POLICY_COMMANDS = ["show", "check", "explain", "compile", "import-oci", "export-oci", "merge", "test"]
# Two quick techniques: one that needs the secret, one that needs the helper program
# outside_process (so the helper is installed and runs too).
QUICK = ["--level", "standard", "--only", "path-symlink", "--only", "outside-proc"]

failures = []


def fail(text):
    failures.append(text)
    print("FAIL: " + text)


def run(cmd, cwd=None, env=None):
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def help_options(tj, words):
    """The options `tracejail WORDS --help` lists (long and short names, --no- forms too)."""
    out = run([tj] + words + ["--help"]).stdout
    options = set()
    for line in out.splitlines():
        m = re.match(r"^\s+(-[^\s]*)", line)
        if not m:
            continue
        for name in m.group(1).split(","):
            name = re.sub(r"[{\[].*$", "", name)  # --live{all}
            if re.fullmatch(r"-{1,2}[A-Za-z][-A-Za-z0-9]*", name):
                options.add(name)
    return options


def check_layout(prefix):
    need = [
        "bin/tracejail",
        "share/man/man1/tracejail.1.gz",
        "share/man/man5/tracejail-policy.5.gz",
        "share/man/man5/tracejail-events.5.gz",
        "share/bash-completion/completions/tracejail",
        "share/zsh/site-functions/_tracejail",
        "share/doc/tracejail/README.md",
        "share/doc/tracejail/docs/policy.md",
    ]
    for path in need:
        if not os.path.isfile(os.path.join(prefix, path)):
            fail(f"{path} is not installed")
    if not os.access(os.path.join(prefix, "bin/tracejail"), os.X_OK):
        fail("bin/tracejail is not executable")
    for name in ["policy", "events", "result"]:
        path = os.path.join(prefix, "share/tracejail/schema", name + ".schema.json")
        try:
            with open(path) as f:
                json.load(f)
        except (OSError, ValueError) as e:
            fail(f"share/tracejail/schema/{name}.schema.json: {e}")
    suite = os.path.join(prefix, "libexec/tracejail/escapes")
    sources = sorted(f for f in os.listdir(suite) if f.endswith(".c")) if os.path.isdir(suite) else []
    if len(sources) < 10:
        fail(f"libexec/tracejail/escapes holds {len(sources)} C sources, not the escape suite")
    for src in sources:
        program = os.path.join(suite, src[:-2])
        if not os.access(program, os.X_OK):
            fail(f"libexec/tracejail/escapes/{src[:-2]} (the program of {src}) is not installed")
    for path in ["share/man/man1/tracejail.1.gz"]:
        with gzip.open(os.path.join(prefix, path), "rt") as f:
            text = f.read()
        if "@" in text.split("\n", 3)[2] or VERSION not in text:
            fail(f"{path} does not carry the version {VERSION}")


def check_binary(prefix, tj, scratch):
    r = run([tj, "--version"])
    if r.stdout.strip() != f"tracejail {VERSION}":
        fail(f"{tj} --version says {r.stdout.strip()!r}, not 'tracejail {VERSION}'")
    suite = os.path.join(prefix, "libexec/tracejail/escapes")
    # From a directory outside the build tree: the installed suite, and it says so.
    r = run([tj, "selftest"] + QUICK, cwd=scratch)
    first = r.stdout.splitlines()[0] if r.stdout else ""
    if f"from {suite} (installed)" not in first:
        fail(f"installed selftest did not use {suite}: {first!r} {r.stderr.strip()}")
    elif r.returncode != 0 or "selftest passed" not in r.stdout or "blocked" not in r.stdout:
        fail(f"installed selftest failed (exit {r.returncode}):\n{r.stdout}{r.stderr}")
    # Without the suite it says where it looked.
    moved = suite + ".moved"
    os.rename(suite, moved)
    try:
        r = run([tj, "selftest"] + QUICK, cwd=scratch)
        if r.returncode != 120 or "searched" not in r.stderr or suite not in r.stderr:
            fail(f"selftest without a suite: exit {r.returncode}, stderr {r.stderr!r} "
                 f"(expected 120 and the directories searched, {suite} among them)")
    finally:
        os.rename(moved, suite)
    # The build tree's binary still finds the build tree's suite.
    r = run([os.path.join(BUILD, "cli/tracejail"), "selftest"] + QUICK, cwd=scratch)
    want = os.path.join(BUILD, "samples/escapes") + " (build tree)"
    if want not in (r.stdout.splitlines() or [""])[0]:
        fail(f"the build tree's selftest did not use {want}: {r.stdout[:200]!r} {r.stderr!r}")


def roff_text(path):
    with gzip.open(path, "rt") as f:
        text = f.read()
    text = re.sub(r"\\f[BIRP]", "", text).replace("\\-", "-")
    return text


def check_man(prefix, tj):
    for page in ["man1/tracejail.1.gz", "man5/tracejail-policy.5.gz", "man5/tracejail-events.5.gz"]:
        path = os.path.join(prefix, "share/man", page)
        if shutil.which("groff") and os.path.isfile(path):
            with gzip.open(path, "rb") as f:
                r = subprocess.run(["groff", "-t", "-man", "-ww", "-z"], input=f.read(),
                                   capture_output=True, timeout=60)
            if r.returncode != 0 or r.stderr:
                fail(f"groff warns on {page}: {r.stderr.decode(errors='replace')}")
    text = roff_text(os.path.join(prefix, "share/man/man1/tracejail.1.gz"))
    for words in [[c] for c in COMMANDS if c != "policy"] + [["policy", c] for c in POLICY_COMMANDS]:
        for option in sorted(help_options(tj, words)):
            if not re.search(re.escape(option) + r"(?![-A-Za-z0-9])", text):
                fail(f"tracejail(1) (man/tracejail.1) lacks {option} of "
                     f"`tracejail {' '.join(words)} --help`")


def bash_complete(completion, tj, words):
    """What the bash completion offers for the command line WORDS (the last one being completed)."""
    script = (f"source {completion}\n"
              "COMP_WORDS=(\"$@\"); COMP_CWORD=$(( $# - 1 )); _tracejail\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    r = run(["bash", "-c", script, "bash", tj] + words)
    if r.returncode != 0 or r.stderr:
        fail(f"bash completion of {words}: exit {r.returncode}: {r.stderr}")
    return set(r.stdout.split())


def check_completions(prefix, tj):
    completion = os.path.join(prefix, "share/bash-completion/completions/tracejail")
    zsh_file = os.path.join(prefix, "share/zsh/site-functions/_tracejail")
    got = bash_complete(completion, tj, [""])
    if not set(COMMANDS) <= got:
        fail(f"bash: `tracejail <TAB>` offers {sorted(got)}, not every command {COMMANDS}")
    got = bash_complete(completion, tj, ["policy", ""])
    if not set(POLICY_COMMANDS) <= got:
        fail(f"bash: `tracejail policy <TAB>` offers {sorted(got)}")
    levels = {line.split()[0] for line in run([tj, "policy", "show", "list"]).stdout.splitlines()
              if line.strip()}
    got = bash_complete(completion, tj, ["run", "--level", ""])
    if not levels or not levels <= got:
        fail(f"bash: `tracejail run --level <TAB>` offers {sorted(got)}, not the levels {sorted(levels)}")
    got = bash_complete(completion, tj, ["selftest", "--level", "s"])
    if got != {"standard", "strict"}:
        fail(f"bash: `tracejail selftest --level s<TAB>` offers {sorted(got)}")
    with open(zsh_file) as f:
        zsh = f.read()
    for words in [[c] for c in COMMANDS if c != "policy"] + [["policy", c] for c in POLICY_COMMANDS]:
        offered = bash_complete(completion, tj, words + ["-"])
        for option in sorted(help_options(tj, words)):
            if option not in offered:
                fail(f"bash completion (completions/tracejail.bash) does not offer {option} of "
                     f"`tracejail {' '.join(words)} --help`")
            # In _arguments specs: '--opt[...', '*--opt[...', '(--other)--opt[...', {-o,--opt}.
            if not re.search(r"['{,*)]" + re.escape(option) + r"[\[=,}]", zsh):
                fail(f"zsh completion (completions/_tracejail) lacks {option} of "
                     f"`tracejail {' '.join(words)} --help`")


def main():
    with tempfile.TemporaryDirectory(prefix="tracejail-install-test-") as tmp:
        os.chmod(tmp, 0o755)  # the selftest's samples may run as another user
        prefix = os.path.join(tmp, "prefix")
        scratch = os.path.join(tmp, "cwd")
        os.mkdir(scratch)
        r = run(["cmake", "--install", BUILD, "--prefix", prefix])
        if r.returncode != 0:
            print(f"FAIL: cmake --install {BUILD} --prefix {prefix}:\n{r.stdout}{r.stderr}")
            return 1
        tj = os.path.join(prefix, "bin/tracejail")
        check_layout(prefix)
        if os.access(tj, os.X_OK):
            check_binary(prefix, tj, scratch)
            check_man(prefix, tj)
            check_completions(prefix, tj)
    if failures:
        print(f"{len(failures)} problem(s) with the installation")
        return 1
    print("install: layout, binary, selftest, man pages and completions ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
