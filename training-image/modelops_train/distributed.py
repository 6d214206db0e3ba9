"""Multi-process training from torchrun-style environment variables (an Indexed Job runs one process per pod).

RANK is the process's global rank; an Indexed Job without torchrun usually sets only NODE_RANK (from the
completion index), which is then the rank too, with one process per pod.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterator, Mapping

import torch
import torch.distributed as dist

from .errors import JobInputError

# Long enough for a slow pod to pull the image and start; short enough that a lost peer fails the Job.
RENDEZVOUS_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class ProcessGroupEnv:
    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    master_addr: str = ""
    master_port: int = 0


def read_process_group_env(environ: Mapping[str, str]) -> ProcessGroupEnv:
    world_size = _integer_env(environ, "WORLD_SIZE", 1)
    rank_name = "RANK" if "RANK" in environ else "NODE_RANK"
    rank = _integer_env(environ, rank_name, 0)
    local_rank = _integer_env(environ, "LOCAL_RANK", 0)
    if world_size < 1 or not 0 <= rank < world_size or local_rank < 0:
        raise JobInputError(f"WORLD_SIZE={world_size}, {rank_name}={rank}, LOCAL_RANK={local_rank} are inconsistent")
    if world_size == 1:
        return ProcessGroupEnv(local_rank=local_rank)
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if not environ.get(name)]
    if missing:
        raise JobInputError(f"WORLD_SIZE={world_size} needs {' and '.join(missing)} to be set")
    master_port = _integer_env(environ, "MASTER_PORT", 0)
    return ProcessGroupEnv(world_size, rank, local_rank, environ["MASTER_ADDR"], master_port)


def _integer_env(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "")
    if not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise JobInputError(f"environment variable {name} must be an integer, got {value!r}") from None


@contextmanager
def process_group(env: ProcessGroupEnv, device: torch.device) -> Iterator[None]:
    """Joins the process group for the duration of training; a no-op for a single process."""
    if env.world_size == 1:
        yield
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(
        backend,
        init_method=f"tcp://{env.master_addr}:{env.master_port}",
        rank=env.rank,
        world_size=env.world_size,
        timeout=RENDEZVOUS_TIMEOUT,
    )
    try:
        yield
    finally:
        dist.destroy_process_group()
