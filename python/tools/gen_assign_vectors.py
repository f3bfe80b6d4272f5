"""Reference buckets of the router's A/B assignment hash (v1), for test/router/assign.test.ts.

v1: bucket = first 52 bits of sha256("1:<seed>:<user_id>" as UTF-8) / 2**52, computed here with
Python's hashlib and exact integer arithmetic, independently of the TypeScript implementation.

Usage: python3 python/tools/gen_assign_vectors.py > test/router/assign-vectors.json
"""

import hashlib
import json

CASES = [
    ("driftgate", "u1"),
    ("driftgate", "u2"),
    ("driftgate", "alice"),
    ("driftgate", "user-000042"),
    ("driftgate", ""),
    ("driftgate", "ünïcødé 用户"),
    ("driftgate", "x" * 128),
    ("other-seed", "u1"),
    ("other-seed", "alice"),
    ("s:with:colons", "u1"),
]


def bucket(seed: str, user_id: str) -> tuple[int, float]:
    digest = hashlib.sha256(f"1:{seed}:{user_id}".encode("utf-8")).digest()
    top52 = int.from_bytes(digest[:8], "big") >> 12
    return top52, top52 / 2**52


vectors = []
for seed, user_id in CASES:
    top52, value = bucket(seed, user_id)
    vectors.append({"seed": seed, "user_id": user_id, "top52": top52, "bucket": value})

print(json.dumps({"hash_version": 1, "generator": "python/tools/gen_assign_vectors.py", "vectors": vectors}, indent=2, ensure_ascii=False))
