"""A lazy provider's matmul: the honest example's program, but it computes only the first half of
the rows and leaves the rest zero, so its checksum is wrong. Re-execution of the honest manifest
catches it (tests/test_workloads.py)."""

import hashlib
import json
import os
from collections.abc import Iterator

P = 2_147_483_647


def xorshift(seed: int) -> Iterator[int]:
    state = seed or 1
    while True:
        state ^= (state << 13) & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 7
        state ^= (state << 17) & 0xFFFFFFFFFFFFFFFF
        yield state % P


def matrix(gen: Iterator[int], n: int) -> list[list[int]]:
    return [[next(gen) for _ in range(n)] for _ in range(n)]


def multiply_half(a: list[list[int]], b: list[list[int]]) -> list[list[int]]:
    n = len(a)
    cols = list(zip(*b, strict=True))
    done = [[sum(x * y for x, y in zip(row, col, strict=True)) % P for col in cols] for row in a[: n // 2]]
    return done + [[0] * n for _ in range(n - n // 2)]


def main() -> None:
    seed, n = int(os.environ["SEED"]), int(os.environ["N"])
    gen = xorshift(seed)
    a, b = matrix(gen, n), matrix(gen, n)
    c = multiply_half(a, b)
    digest = hashlib.sha256(b"".join(v.to_bytes(4, "big") for row in c for v in row)).hexdigest()
    os.makedirs("out", exist_ok=True)
    with open("out/checksum.json", "w") as f:
        json.dump({"n": n, "seed": seed, "trace": sum(c[i][i] for i in range(n)) % P, "sha256": digest}, f, indent=1)
        f.write("\n")


main()
