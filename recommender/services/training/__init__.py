"""Training runs, by job: runs (lifecycle), tables (product-level top-N), scoring (member shards),
bulk (writing rows), lease (the run lock's heartbeat). The names callers use are importable from here."""

from recommender.services.training.lease import RunStopped, lease_heartbeat, lease_renew
from recommender.services.training.runs import (
    TrainingAlreadyRunning,
    code_version,
    run_is_stale,
    stage_total,
    training_run_activate,
    training_run_cancel,
    training_run_complete,
    training_run_execute,
    training_run_fail,
    training_run_prepare,
    training_run_start,
    training_runs_prune,
)
from recommender.services.training.scoring import member_shard_score

__all__ = [
    "RunStopped",
    "TrainingAlreadyRunning",
    "code_version",
    "lease_heartbeat",
    "lease_renew",
    "member_shard_score",
    "run_is_stale",
    "stage_total",
    "training_run_activate",
    "training_run_cancel",
    "training_run_complete",
    "training_run_execute",
    "training_run_fail",
    "training_run_prepare",
    "training_run_start",
    "training_runs_prune",
]
