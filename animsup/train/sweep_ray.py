"""The Ray engine of :func:`animsup.train.sweep.run_sweep`: each shard one Ray task (Ray Core, the
``[ray]`` extra). No scheduler, queue or worker protocol of ours: Ray places the tasks (``num_gpus``
per shard, fractional when shards are small), retries a task whose worker died (``max_retries``;
the shard then resumes from its checkpoint), and the driver records each result in the manifest as
it arrives.

``ray.init()`` starts a local Ray when no address is given (and is shut down again at the end);
``address`` joins a running cluster (``ray start --head`` on one machine, ``ray start --address``
on the others, or ``"auto"``). A Ray already initialised by the caller is used as it is. The sweep
folder must be on a file system every worker sees (shared disk or NFS on a cluster).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from animsup.errors import AnimsupError
from animsup.train.config import TrainConfig


def gpus_per_shard(config: dict[str, Any], gpu_bytes: int | None, cluster_gpus: float) -> float:
    """Ray's ``num_gpus`` for a shard: 0 on the CPU (``device="cpu"``, the numpy engine, or ``auto`` on a
    cluster without GPUs); else the share of one GPU its memory needs (1/2, 1/4, ... down to 1/8; small
    shards share a GPU), or 1.

    :param gpu_bytes: one GPU's memory (None: unknown, a whole GPU per shard)
    :param cluster_gpus: the GPUs of the cluster (``ray.cluster_resources()["GPU"]``)
    """
    cfg = TrainConfig.from_dict(config)
    if cfg.device == "cpu" or cfg.resolved_backend() != "torch" or not cluster_gpus:
        return 0.0
    if not gpu_bytes:
        return 1.0
    need = cfg.estimated_bytes() / gpu_bytes
    for share in (0.125, 0.25, 0.5):
        if need <= share * 0.8:
            return share
    return 1.0


def run_on_ray(tasks: list[dict[str, Any]], fn: Callable[..., dict[str, Any]], *, started: Callable[[str], None],
               finished: Callable[[str, dict[str, Any]], None], address: str | None, max_retries: int = 3) -> None:
    """Submit every task to Ray (``started(shard id)`` once submitted), and hand each result to
    ``finished(shard id, result)`` as it arrives (see the module docstring).

    :raises AnimsupError: Ray not installed, or the cluster cannot be reached
    """
    try:
        import ray
    except ImportError:
        raise AnimsupError("--engine ray needs Ray: pip install 'animsup[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise AnimsupError(f"--engine ray: cannot start or reach Ray ({address or 'local'}): "
                               f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None
    try:
        gpu, cluster_gpus = _gpu_bytes(ray), float(ray.cluster_resources().get("GPU", 0))
        remote = ray.remote(_call)
        pending = {}
        for task in tasks:
            opts = {"num_cpus": 1, "num_gpus": gpus_per_shard(task["config"], gpu, cluster_gpus), "max_retries": max_retries,
                    "retry_exceptions": False}
            ref = remote.options(**opts).remote(fn, task)
            pending[ref] = task["id"]
            started(task["id"])
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            sid = pending.pop(done[0])
            try:
                result = ray.get(done[0])
            except Exception as e:  # noqa: BLE001 — a task Ray gave up on: its shard is failed, the rest go on
                first = str(e).strip().splitlines()[0] if str(e).strip() else ""
                result = {"status": "failed", "error": f"{type(e).__name__}: {first}"[:500]}
            finished(sid, result)
    finally:
        if started_here:
            ray.shutdown()


def _call(fn: Callable[..., dict[str, Any]], task: dict[str, Any]) -> dict[str, Any]:
    """What a Ray worker runs: the shard, with the attempt it was (Ray's retries count up)."""
    return fn(task)


def _gpu_bytes(ray: Any) -> int | None:
    """One GPU's memory as Ray sees the cluster (None without GPUs or when unknown)."""
    if not ray.cluster_resources().get("GPU"):
        return None
    import torch

    return int(torch.cuda.get_device_properties(0).total_memory) if torch.cuda.is_available() else None
