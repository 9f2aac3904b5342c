"""Which replica follows which instance: rendezvous (highest random weight) hashing.

Every replica computes the same owner for an instance without talking to the others, and going
from N to N+1 replicas moves only the instances the new replica wins (about 1/(N+1) of them).
The replica's number is `SHARD_ID`, or the StatefulSet ordinal at the end of the pod's host name
(`aurora-discovery-2` -> 2) when the host name has one.
"""

from __future__ import annotations

import hashlib
import re
import socket

_ORDINAL = re.compile(r"-(\d+)$")


def _weight(instance_id: str, shard: int) -> int:
    digest = hashlib.blake2b(f"{shard}:{instance_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(instance_id: str, total_shards: int) -> int:
    """The shard that follows `instance_id`."""
    return max(range(total_shards), key=lambda s: _weight(instance_id, s))


def shard_from_hostname(hostname: str | None = None) -> int | None:
    """The StatefulSet ordinal at the end of the host name, or None."""
    m = _ORDINAL.search(hostname if hostname is not None else socket.gethostname())
    return int(m.group(1)) if m else None


def this_shard(shard_id: int, total_shards: int, shard_id_set: bool) -> int:
    """`SHARD_ID` when set explicitly, else the pod's ordinal when it fits, else `shard_id`."""
    if not shard_id_set:
        ordinal = shard_from_hostname()
        if ordinal is not None and ordinal < total_shards:
            return ordinal
    return shard_id
