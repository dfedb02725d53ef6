"""The draw worker pool: frames -> RGBA pixels, in process or in parallel worker processes.

:func:`open_drawer` returns an object with ``map(frames) -> iterator of (H, W, 4) uint8``
(in frame order; each array valid until the next is asked for), ``workers`` and
``close()``. Workers are started with the ``spawn`` context (a forked pool after
PyAV/ffmpeg threads can deadlock), build the figure once, draw into a ring of
shared-memory frame slots, watch their parent (and die with it), and are stopped by
``close()``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from typing import TYPE_CHECKING, Iterable, Iterator, Union

import numpy as np

from animsup.errors import AnimsupError

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess
    from multiprocessing.queues import Queue

    from animsup.rendering.frames import Frame, Scene

#: below this many frames, drawing in process beats starting workers (unless workers are asked for)
MIN_FRAMES_FOR_WORKERS = 150


def choose_workers(requested: int | None, n_frames: int, video: bool = True) -> int:
    """Draw processes for ``n_frames`` frames: 0 means in process.

    Default (``requested`` None): one per core, less the core the encoder (ffmpeg) keeps
    busy -- with two cores that is one, i.e. in process (measured: workers cost ~4 ms of CPU
    a frame in start-up and hand-over, which only pays when a core is free for them) -- and
    in process below :data:`MIN_FRAMES_FOR_WORKERS` frames (starting workers costs ~1 s).
    A poster alone is one frame: in process.
    """
    if requested is None:
        n = (os.cpu_count() or 1) - 1
        if n_frames < MIN_FRAMES_FOR_WORKERS:
            n = 0
    else:
        n = int(requested) if video else 0
    return 0 if n <= 1 else n


#: what :func:`open_drawer` returns
Drawer = Union["InProcess", "WorkerPool"]


def open_drawer(scene: Scene, n_workers: int) -> Drawer:
    """A drawer for ``scene``: :class:`InProcess` for 0 workers, else a :class:`WorkerPool`."""
    return WorkerPool(scene, n_workers) if n_workers else InProcess(scene)




class InProcess:
    """Draws frames in this process."""

    def __init__(self, scene: Scene):
        from animsup.rendering.draw import FrameDrawer

        self.drawer = FrameDrawer(scene)
        self.workers = 0

    def map(self, frames: Iterable[Frame]) -> Iterator[np.ndarray]:
        for f in frames:
            yield self.drawer.draw(f)

    def close(self) -> None:
        self.drawer.close()


def _die_with_parent(parent_pid: int) -> None:
    """Linux: have the kernel kill this worker when the render process dies, even by SIGKILL
    and even while the worker is still starting up (elsewhere the task loop's check remains)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def _worker_main(scene: Scene, shm_name: str, slot_bytes: int, shape: tuple[int, int, int], tasks: Queue,
                 results: Queue, parent_pid: int) -> None:
    """A draw worker: build the figure once, then draw tasks (seq, slot, frame) into shared memory."""
    import signal
    import traceback
    from multiprocessing import shared_memory

    # Ctrl-C reaches the whole process group; the render process handles it and stops us. A
    # KeyboardInterrupt here could land in a finaliser while matplotlib imports, which Python
    # reports as "Exception ignored ... Traceback" on the shared stderr.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent_pid)
    try:
        from animsup.rendering.draw import FrameDrawer

        shm = shared_memory.SharedMemory(name=shm_name)
        buf = shm.buf
        if buf is None:  # only after close()
            raise RuntimeError(f"shared memory {shm_name} is closed")
        slots = np.ndarray((len(buf) // slot_bytes, *shape), dtype=np.uint8, buffer=buf)
        drawer = FrameDrawer(scene)
        results.put(("ready", os.getpid(), None))
        while True:
            try:
                task = tasks.get(timeout=0.5)
            except queue.Empty:
                if os.getppid() != parent_pid:  # the parent died: never outlive it
                    break
                continue
            if task is None:
                break
            seq, slot, frame = task
            slots[slot] = drawer.draw(frame)
            results.put(("done", seq, None))
        del slots
        shm.close()
    except KeyboardInterrupt:
        pass
    except BaseException:
        try:
            results.put(("error", os.getpid(), traceback.format_exc(limit=6)))
        except Exception:
            pass


@contextlib.contextmanager
def _main_not_reimported() -> Iterator[None]:
    """Start spawn children without re-running the caller's ``__main__``.

    ``spawn`` normally imports the parent's main script in each child, which runs an
    unguarded script (no ``if __name__ == "__main__":``) again. Our workers need
    nothing from ``__main__`` (their target lives in this module), so hide the main
    script's path while the children start.
    """
    import sys

    main = sys.modules.get("__main__")
    saved = {k: getattr(main, k) for k in ("__file__", "__spec__") if main is not None and hasattr(main, k)}
    try:
        for k in saved:
            if k == "__file__":
                delattr(main, k)
            else:
                setattr(main, k, None)
        yield
    finally:
        for k, v in saved.items():
            setattr(main, k, v)


class WorkerPool:
    """Draw workers writing into a ring of shared-memory frame slots; frames come back in order."""

    def __init__(self, scene: Scene, n_workers: int):
        import multiprocessing as mp
        from multiprocessing import shared_memory

        w, h = scene.size
        self.shape = (h, w, 4)
        self.slot_bytes = w * h * 4
        self.n_slots = 2 * n_workers + 2
        self.workers = n_workers
        ctx = mp.get_context("spawn")
        self.shm = shared_memory.SharedMemory(create=True, size=self.slot_bytes * self.n_slots)
        self.slots: np.ndarray | None = np.ndarray((self.n_slots, *self.shape), dtype=np.uint8, buffer=self.shm.buf)
        self.tasks = ctx.Queue()
        self.results = ctx.Queue()
        self.procs: list[SpawnProcess] = []
        try:
            with _main_not_reimported():
                for _ in range(n_workers):
                    p = ctx.Process(
                        target=_worker_main,
                        args=(scene, self.shm.name, self.slot_bytes, self.shape, self.tasks, self.results, os.getpid()),
                        daemon=True,
                    )
                    p.start()
                    self.procs.append(p)
        except BaseException:
            self.close()
            raise
        self._seq = 0

    def _get(self) -> tuple[str, int, str | None]:
        while True:
            try:
                msg = self.results.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in self.procs if not p.is_alive()]
                if dead:
                    raise AnimsupError(f"a draw worker died (exit code {dead[0].exitcode})")
                continue
            if msg[0] == "error":
                raise RuntimeError(f"draw worker failed:\n{msg[2]}")
            return msg

    def map(self, frames: Iterable[Frame]) -> Iterator[np.ndarray]:
        free = list(range(self.n_slots))
        pending: dict[int, int] = {}  # seq -> slot, in submission order
        done: set[int] = set()
        it = iter(frames)
        exhausted = False
        next_out = self._seq
        while True:
            while free and not exhausted:
                try:
                    f = next(it)
                except StopIteration:
                    exhausted = True
                    break
                slot = free.pop()
                self.tasks.put((self._seq, slot, f))
                pending[self._seq] = slot
                self._seq += 1
            if next_out == self._seq:
                return
            while next_out not in done:
                kind, seq, _ = self._get()
                if kind == "done":
                    done.add(seq)
            done.discard(next_out)
            slot = pending.pop(next_out)
            if self.slots is None:
                raise RuntimeError("the draw pool is closed")
            yield self.slots[slot]  # valid until the caller asks for the next frame
            free.append(slot)
            next_out += 1

    def close(self) -> None:
        for _ in self.procs:
            with contextlib.suppress(Exception):
                self.tasks.put(None)
        deadline = time.monotonic() + 2.0
        for p in self.procs:
            p.join(timeout=max(0.05, deadline - time.monotonic()))
        for p in self.procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=1.0)
            if p.is_alive():
                p.kill()
                p.join()
        for q in (self.tasks, self.results):
            with contextlib.suppress(Exception):
                q.close()
                q.cancel_join_thread()
        self.slots = None
        with contextlib.suppress(Exception):
            self.shm.close()
        with contextlib.suppress(Exception):
            self.shm.unlink()
