"""The submission's process: it executes a notebook's cells one by one and runs its functions on the cases sent.

:func:`child_main` does three things in turn, all before any submitted code runs:

1. :func:`isolate`: enter the submission's sandbox (:mod:`dlcourse.grading.isolation`), or, without one, its own
   session and temporary directory; throw the output away; a small environment; limits on memory and file sizes.
2. :func:`notebook_namespace`: the namespace the cells run in, where ``check()`` and ``score()`` do nothing (the
   grader checks from outside) and IPython magics are no-ops.
3. :func:`serve`: bind everything the request loop needs, resolve the forbidden callables of every question, install
   the audit hook (:func:`audit_hook`), then answer the grader's requests:

   * ``cell``: execute one code cell; reply which graded functions it (re)defined;
   * ``run``: call the submission's function of a question on the cases sent, under the question's ban, and reply
     with the outcomes serialised by ``torch.save``.

Why the ban holds although the submission runs in this process: the grader judges the outcomes in its own process,
so patching ``verdict`` or the references here changes nothing; the request loop and the ban were bound before any
submitted code ran, so patching ``dlcourse.grading``, ``torch``, ``json`` or ``builtins`` changes nothing either;
a whole ``run`` request (reading the cases, calling the function, converting and serialising its outputs) runs under
the call monitor, so no code of the submission runs unwatched while it knows the hidden inputs; forbidden calls are
reported with ``sys.audit`` to an audit hook, which cannot be removed, and which refuses what could reach or undo
the monitor (changing the profile or trace function, frames, the garbage collector's lists of objects, ``ctypes``,
``/proc/<pid>/mem``, replacing a function's code, new processes); replies are sealed with a key that only the loop
holds (:mod:`dlcourse.grading.wire`); and a thread or a process left running, which could compute an answer out of
the monitor's sight, fails the question.
"""
from __future__ import annotations

import io
import os
import resource
import signal
import sys
import tempfile
from typing import Any

from . import isolation, wire
from .forbid import EVENT, Ban

__all__ = ["child_main", "isolate", "notebook_namespace", "serve", "audit_hook"]

FILE_LIMIT = 256 * 2**20  # bytes: the largest file a submission may write
PROCESS_LIMIT = 64  # processes a submission may add to its user's (where the kernel counts them: not for root)


def _processes_of(uid: int) -> int | None:
    """How many processes user ``uid`` runs (read from /proc; None where there is none)."""
    if not os.path.isdir("/proc"):
        return None
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as f:
                if any(line.startswith("Uid:") and line.split()[1] == str(uid) for line in f):
                    count += 1
        except OSError:
            pass
    return count


def child_main(conn, memory_mb: int, jail_pid: int | None, workdir: str | None) -> None:  # pragma: no cover
    """Entry point of the submission's process (forked by the grader's fork server; see the module docstring)."""
    isolate(jail_pid, workdir, memory_mb)
    namespace = notebook_namespace()
    serve(conn.fileno(), namespace, jailed=jail_pid is not None)


def isolate(jail_pid: int | None, workdir: str | None, memory_mb: int) -> None:  # pragma: no cover - in the child
    """Enter the sandbox of placeholder ``jail_pid`` (then fork: the caller waits and exits as its child does), or
    without a sandbox move to ``workdir`` in a session of its own; then limits, environment and output."""
    os.setsid()
    processes = _processes_of(os.getuid()) if os.geteuid() != 0 else None  # root is exempt from RLIMIT_NPROC
    if jail_pid is not None:
        isolation.enter(jail_pid)
        child = os.fork()  # the child is the first process of the sandbox's PID namespace besides its init
        if child:
            _mirror(child)
        workdir = isolation.WORKDIR
    else:
        os.chdir(workdir)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "PYTHONHASHSEED") if k in os.environ}
    os.environ.clear()
    os.environ.update(keep, HOME=workdir, TMPDIR=workdir, MPLBACKEND="Agg", OMP_NUM_THREADS="1",
                      DLCOURSE_DEVICE="cpu")
    tempfile.tempdir = workdir
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, FILE_LIMIT)]
    if processes is not None:
        limits.append((resource.RLIMIT_NPROC, processes + PROCESS_LIMIT))
    for limit, value in limits:
        try:
            resource.setrlimit(limit, (value, value))
        except (OSError, ValueError):
            pass
    try:
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        limit = vm + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, StopIteration):
        pass  # no /proc or no RLIMIT_AS (macOS): time limits still apply


def _mirror(child: int) -> None:  # pragma: no cover - in the child
    """Wait for ``child`` and end the same way (exit code or signal), so that the grader sees how it ended."""
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status))


class _Shell:
    """Stands in for ``get_ipython()``: magics and shell commands do nothing while grading."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def notebook_namespace() -> dict:
    """The namespace the cells run in. ``check()`` and ``score()`` do nothing here (a function checked under another
    name is graded too: ``check("part.f", g)`` makes ``g`` the answer ``f`` unless ``f`` is defined)."""
    import dlcourse.grading as grading
    from dlcourse.grading import student, verdict

    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__, "get_ipython": _Shell,
                       "display": lambda *a, **k: None}

    def quiet_check(qid, candidate, seed=0):
        name = str(qid).partition(".")[2]
        if name.isidentifier() and callable(candidate) and not callable(namespace.get(name)):
            namespace[name] = candidate
        return verdict.Result(str(qid), False, 0, 0, "", "graded by the grader")

    grading.check = student.check = quiet_check
    grading.score = student.score = lambda *qids: (0, 0)
    _adapt_libraries()
    return namespace


def _adapt_libraries() -> None:
    """Libraries made to work under the grader's rules. Helpers that read the call stack for messages only do
    without it (frames are refused while grading, see :func:`audit_hook`; ``torch.manual_seed`` records a stack
    through ``traceback.format_stack``). tqdm starts no monitor thread and takes a thread lock, not a process-wide
    one, and multiprocessing does not talk to the grader's resource tracker (a thread or a process of the
    notebook's own fails a check)."""
    import threading
    import traceback
    import warnings
    from multiprocessing import resource_tracker

    resource_tracker.register = resource_tracker.unregister = lambda name, rtype: None
    try:
        from tqdm import std

        std.tqdm.monitor_interval = 0
        std.tqdm.set_lock(threading.RLock())
    except ImportError:
        pass

    traceback.extract_stack = lambda f=None, limit=None: traceback.StackSummary()
    traceback.format_stack = lambda f=None, limit=None: []
    traceback.print_stack = lambda f=None, limit=None, file=None: None
    mpl_api = sys.modules.get("matplotlib._api")
    if mpl_api is not None:
        mpl_api.warn_external = lambda message, category=None: warnings.warn(message, category, stacklevel=2)


_PROCESS_EVENTS = frozenset({"os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
                             "subprocess.Popen", "pty.spawn", "os.startfile"})
_REFUSED_EVENTS = frozenset({"sys._current_frames", "sys._current_exceptions", "gc.get_objects", "gc.get_referrers",
                             "gc.get_referents", "sys.addaudithook", "sys.monitoring.register_callback"})
_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
MONITOR = "sys.setprofile (the check's call monitor was switched off)"


def audit_hook(incidents: list, token: list, fspath=os.fspath, str=str, bytes=bytes, isinstance=isinstance,
               PermissionError=PermissionError, ValueError=ValueError, RuntimeError=RuntimeError,
               AttributeError=AttributeError, processes=_PROCESS_EVENTS, refused=_REFUSED_EVENTS,
               frame_attributes=_FRAME_ATTRIBUTES):
    """The audit hook of a submission's process (``sys.addaudithook``: it cannot be removed). It records the
    forbidden calls that the ban reports in ``incidents``, lets the profile function change only while
    ``token[0]`` is true (the loop's own ban), and refuses what could reach or undo the loop: frames, the garbage
    collector's lists, ``ctypes``, ``/proc/<pid>/mem``, replacing a function's code, new processes."""

    def hook(event, args):
        if event == EVENT:
            incidents.append(str(args[0]) if args else "?")
        elif event == "sys.setprofile" or event == "sys.settrace":
            if not token[0]:
                incidents.append(MONITOR)
                raise RuntimeError("the profile and trace functions are the grader's while grading")
        elif event == "sys._getframe":
            raise ValueError("frames are not available while grading")
        elif event == "object.__getattr__":
            if args[1] in frame_attributes:
                raise AttributeError("frames are not available while grading")
        elif event == "object.__setattr__":
            if args[1] == "__code__":
                raise RuntimeError("replacing a function's code is not allowed while grading")
        elif event in processes:
            raise PermissionError("starting processes is not allowed while grading")
        elif event in refused or event.startswith("ctypes."):
            raise RuntimeError(f"{event} is not available while grading")
        elif event == "open" and args:
            try:
                path = fspath(args[0])
            except TypeError:
                return
            if isinstance(path, bytes):
                path = path.decode(errors="replace")
            if isinstance(path, str) and path.rstrip("/").rsplit("/", 1)[-1] == "mem":
                raise PermissionError("a process's memory is not available while grading")

    return hook


def serve(fd: int, namespace: dict, jailed: bool) -> None:  # pragma: no cover - runs in the child
    """The request loop (see the module docstring). Everything it calls is bound before the first cell runs."""
    import _thread

    import torch
    from IPython.core.inputtransformer2 import TransformerManager

    import dlcourse.grading._preload  # noqa: F401 (already imported by the fork server)
    from dlcourse.grading import registry, verdict

    recv, send = wire.raw_channel(fd)
    header, key = wire.unpack(recv())  # the first message: the questions to ban, and the key of the replies
    get_question, Case, run_cases = registry.get_question, registry.Case, verdict.run_cases
    transform, pack, unpack = TransformerManager().transform_cell, wire.pack, wire.unpack
    save, load, BytesIO = torch.save, torch.load, io.BytesIO
    setprofile, getprofile, setattr_, thread_count = sys.setprofile, sys.getprofile, setattr, _thread._count
    listdir, sum_, reversed_ = os.listdir, sum, reversed
    incidents: list = []
    token = [False]
    bans = {qid: Ban(get_question(qid).forbid, report=sys.audit) for qid in header.get("questions", [])}
    replies = {name: pack({"forbidden": name}) for qid in bans for name in get_question(qid).forbid}
    started_thread = pack({"error": "the notebook runs a thread of its own while its answer is checked"})
    started_process = pack({"error": "the notebook runs a process of its own while its answer is checked"})
    monitor_off = pack({"forbidden": MONITOR})

    def processes():
        """How many processes the sandbox holds (0 without one: the grader cannot count them then)."""
        return sum_(1 for name in listdir("/proc") if name.isdigit()) if jailed else 0

    alone = processes()  # bwrap's init, the placeholder and this process

    def run_question(qid, payload):
        """The body of the reply to a ``run`` request; everything in it runs under the question's ban."""
        ban = bans.get(qid)
        if ban is None:
            return pack({"error": f"question {qid} was not announced"})
        threads = thread_count()
        if threads:
            return started_thread
        if processes() > alone:
            return started_process
        incidents.clear()
        body = None
        for owner, attr, _, stub in ban.targets:
            setattr_(owner, attr, stub)
        token[0] = True
        setprofile(ban.hook)
        token[0] = False
        try:
            question = get_question(qid)
            cases = [Case(*a, **k) for a, k in load(BytesIO(payload), weights_only=True)]
            outcomes = run_cases(question, namespace[question.function_name], cases, guard=False)
            buf = BytesIO()
            save(outcomes, buf)
            body = pack({}, buf.getvalue())
        except BaseException as err:  # the candidate's own error
            try:
                body = pack({"error": f"{type(err).__name__}: {err}"[:300]})
            except BaseException:
                body = pack({"error": "an error that cannot be printed"})
        finally:
            for owner, attr, original, _ in reversed_(ban.targets):
                setattr_(owner, attr, original)
            hooked = getprofile() is ban.hook
            token[0] = True
            setprofile(None)
            token[0] = False
        if incidents:
            return replies.get(incidents[0], monitor_off)
        if not hooked:
            return monitor_off
        if thread_count() > threads:
            return started_thread
        if processes() > alone:
            return started_process
        return body

    seen: dict = {}

    def run_cell(request):
        reply: dict = {}
        try:
            code = compile(transform(request["source"]), f"<cell {request['index']}>", "exec")
            exec(code, namespace)
        except BaseException as err:  # SystemExit and KeyboardInterrupt included
            try:
                reply["error"] = f"{type(err).__name__}: {err}"[:200]
            except BaseException:
                reply["error"] = "Error: an error that cannot be printed"
        changed = []
        for name in request.get("watch", []):
            obj = namespace.get(name)
            if callable(obj) and seen.get(name) is not obj:
                seen[name] = obj
                changed.append(name)
        reply["changed"] = changed
        return pack(reply)

    sys.addaudithook(audit_hook(incidents, token))
    seq = 0
    send(seq, pack({"ready": True}), key)
    while True:
        try:
            request, payload = unpack(recv())
        except (EOFError, OSError, ValueError):
            return
        seq += 1
        if request.get("op") == "cell":
            send(seq, run_cell(request), key)
        elif request.get("op") == "run":
            send(seq, run_question(str(request.get("qid")), payload), key)
        else:
            send(seq, pack({"error": "unknown request"}), key)

