"""A/B arms: stable assignment by hashing member id with the experiment name, and Wilson intervals."""

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Arm:
    experiment: str
    name: str
    model: str


def arm_for(experiment, user_id) -> Arm | None:
    """The member's arm: the same member always lands in the same arm of the same experiment."""
    arms = [a for a in (experiment.arms or []) if a.get("name") and a.get("model")]
    if not arms or not user_id:
        return None
    bucket = int(hashlib.sha256(f"{experiment.name}:{user_id}".encode()).hexdigest()[:8], 16) % 100
    total = sum(max(int(a.get("share", 1)), 0) for a in arms) or 1
    edge = 0.0
    for arm in arms:
        edge += 100.0 * max(int(arm.get("share", 1)), 0) / total
        if bucket < edge:
            return Arm(experiment.name, arm["name"], arm["model"])
    return Arm(experiment.name, arms[-1]["name"], arms[-1]["model"])
