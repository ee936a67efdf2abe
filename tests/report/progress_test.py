#!/usr/bin/env python3
"""Progress of a property run: on a terminal (a pseudo-terminal here) a line
redrawn in place with '\\r'; on a pipe, or with --quiet, not a byte of it.

usage: progress_test.py BNCHECK"""
import os
import pty
import subprocess
import sys


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def on_terminal(args, env):
    """The output of args run with a pseudo-terminal as stdout, and its exit status."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(args[0], args, env)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    return out.decode("utf-8", "replace"), os.waitstatus_to_exitcode(status)


def main():
    bncheck = sys.argv[1]
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # CI logs get no progress; this is a terminal
    env["TERM"] = "xterm"
    args = [bncheck, "run", "--kernel", "eigen", "--property", "shift_invariance", "--property", "agreement",
            "--cases", "150"]
    out, status = on_terminal(args, env)
    if status != 0:
        fail("bncheck run on a terminal exited %d\n%s" % (status, out))
    if "\r" not in out.replace("\r\n", "\n"):
        fail("no line redrawn in place on a terminal:\n" + out)
    for part in ("property shift_invariance: ", "property agreement: ", "/150 cases, ", " s elapsed"):
        if part not in out:
            fail("the progress line lacks %r:\n%r" % (part, out))
    # The table row replaces the progress line: it starts on a cleared line.
    if "\r\x1b[Kshift_invariance " not in out:
        fail("the row of shift_invariance is not printed over a cleared progress line:\n%r" % out)

    quiet, status = on_terminal(args + ["--quiet"], env)
    if status != 0 or "elapsed" in quiet or "\x1b[K" in quiet:
        fail("--quiet on a terminal printed progress (exit %d):\n%r" % (status, quiet))
    ci, status = on_terminal(args, dict(env, CI="true"))
    if status != 0 or "elapsed" in ci:
        fail("with CI set, progress was printed (exit %d):\n%r" % (status, ci))

    piped = subprocess.run(args, capture_output=True, text=True, env=env)
    if piped.returncode != 0:
        fail("bncheck run on a pipe exited %d\n%s" % (piped.returncode, piped.stdout))
    if "\r" in piped.stdout or "elapsed" in piped.stdout or "\x1b" in piped.stdout:
        fail("progress was written to a pipe:\n%r" % piped.stdout)
    print("progress on a terminal, none with --quiet, with CI or on a pipe")
    return 0


if __name__ == "__main__":
    sys.exit(main())
