"""bncheck.gate: judge a worker with `bncheck run --kernel exec:...` from a
test, one call; bncheck's failure reports become the AssertionError."""
import os
import shlex
import shutil
import subprocess
import sys


def _command(kernel):
    """The exec: command line: a list of arguments is quoted, a path to a .py
    file runs with this interpreter, any other string is taken as written."""
    if isinstance(kernel, (list, tuple)):
        return shlex.join(str(k) for k in kernel)
    kernel = os.fspath(kernel)
    if kernel.endswith(".py") and os.path.isfile(kernel):
        return shlex.join([sys.executable, kernel])
    return kernel


def _executable(bncheck):
    exe = bncheck or os.environ.get("BNCHECK") or shutil.which("bncheck")
    if not exe:
        raise FileNotFoundError("bncheck.gate: no bncheck executable (pass bncheck=PATH, set BNCHECK, or put "
                                "bncheck on PATH)")
    return os.fspath(exe)


def gate(kernel, *extra_args, bncheck=None):
    """Runs `bncheck run --kernel exec:KERNEL EXTRA_ARGS...` and returns its
    standard output when every case passes (exit 0). Exit 1 (a case or
    property failed) raises AssertionError with bncheck's reports; any other
    status (2: bad arguments, a worker refused at hello) raises RuntimeError
    with its standard error. kernel: a command line, a list of arguments, or a
    path to a .py worker. bncheck: its path, else $BNCHECK, else PATH's."""
    argv = [_executable(bncheck), "run", "--kernel", "exec:" + _command(kernel), *map(str, extra_args)]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode == 0:
        return done.stdout
    if done.returncode == 1:
        raise AssertionError(f"bncheck found failures ({shlex.join(argv)}):\n{done.stdout}")
    raise RuntimeError(f"bncheck exited with status {done.returncode} ({shlex.join(argv)}):\n"
                       f"{done.stderr.strip() or done.stdout.strip()}")
