"""Mutation testing of the staking ledger's contracts, killed by the Foundry suite (issue 20).

Run through `bin/mutation` (docs/mutation.md). The runner enumerates line-based mutants of the
Solidity sources deterministically, samples them with a fixed seed (or takes every one with
--full), applies each to a scratch copy of the project (never to contracts/ itself) and runs
`forge build` then `forge test` with a reduced, fixed fuzz/invariant budget:

- stillborn: the mutant does not compile (excluded from the score);
- killed:    a unit test, fuzz test or invariant fails (or the run times out);
- survived:  everything passes;
- equivalent: listed in EQUIVALENT (shown to behave as the original): not run, not scored.

Operators (comments/NatSpec, events, error declarations and imports are never mutated):
  cmp      comparison flips: < <-> <=, > <-> >=, == <-> !=
  if-neg   negate the condition of a one-line `if (...)`
  del      delete one assignment statement (`x = ...;`, `x += ...;`, `x -= ...;`) in a function body
  mod-rm   remove an access modifier (onlyRole(...), whenNotPaused, nonReentrant) from a header
  arith    binary + <-> - (and += <-> -=) on a line with an assignment
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILES = (
    "contracts/registry/ProviderRegistry.sol",
    "contracts/staking/StakingLedger.sol",
    "contracts/libraries/SortitionTree.sol",
)
DEFAULT_SAMPLE = 32
DEFAULT_SEED = 20261126
DEFAULT_MIN_SCORE = 90.0
DEFAULT_TIMEOUT = 180

# The reduced, fixed budget of one mutant's run (on top of foundry.toml's default profile).
FORGE_ENV = {
    "FOUNDRY_PROFILE": "default",
    "FOUNDRY_OPTIMIZER": "false",  # recompiling a mutant takes ~5 s instead of ~14 s
    "FOUNDRY_FUZZ_RUNS": "32",
    "FOUNDRY_INVARIANT_RUNS": "8",
    "FOUNDRY_INVARIANT_DEPTH": "50",
    "FOUNDRY_INVARIANT_SHRINK_RUN_LIMIT": "0",  # a failure is enough: no need to shrink it
    "FOUNDRY_INVARIANT_FAIL_ON_REVERT": "true",
}
# Persisted failures of a previous mutant must not be replayed against the next one.
PERSIST_DIRS = (".build/forge/cache/fuzz", ".build/forge/cache/invariant", ".build/forge/cache/test-failures")
COPY_IGNORE = (".git", ".venv", "node_modules", ".build", "sim-output", "__pycache__", ".mypy_cache")
# The market's invariant suite (test/foundry/JobMarket.invariants.t.sol and its handler) is left
# out of the scratch copy: the mutants are the ledger's, which the ledger's own suite kills, and
# the market suite made each mutant's `forge build` and `forge test` about 30% slower (the
# market, its auction module and the credits recompiled against every mutated ledger, and six
# more campaigns run). Left out of the copy rather than skipped with --no-match-path, which
# would still compile it.
MARKET_SUITE = ("JobMarket.invariants.t.sol", "JobMarketHandler.sol")

# Mutants shown equivalent to the original (docs/mutation.md explains each): not run, not scored.
# Keyed by file and the mutated line's text, so that they stay matched when lines move.
EQUIVALENT: dict[tuple[str, str], str] = {
    (
        "contracts/staking/StakingLedger.sol",
        "uint256 pay = amounts[i] <= burned ? amounts[i] : burned;",
    ): "min(a, b): when amounts[i] == burned both branches give the same value",
    (
        "contracts/staking/StakingLedger.sol",
        "if (address(source) == address(0) || from > t) return (0, r, false);",
    ): "from == t never reaches _releasedSince: both callers first check updatedAt != block.timestamp",
    (
        "contracts/staking/StakingLedger.sol",
        "uint256 fromActive = amount < active ? amount : active;",
    ): "min(a, b): when amount == active both branches give the same value",
    (
        "contracts/staking/StakingLedger.sol",
        "amount = wanted <= staked ? wanted : staked;",
    ): "min(a, b): when wanted == staked both branches give the same value",
    (
        "contracts/staking/StakingLedger.sol",
        "if (amount >= active) v.unbonding -= uint96(amount - active);",
    ): "when amount == active the write takes nothing off the unbonding stake",
    (
        "contracts/staking/StakingLedger.sol",
        "a.rewardPerStake = rps >= type(uint96).max ? type(uint96).max : uint96(rps);",
    ): "min(rps, 2^96 - 1): when rps == 2^96 - 1 both branches give the same value",
    (
        "contracts/staking/StakingLedger.sol",
        "return owed >= 0 ? uint256(owed) : 0;",
    ): "max(owed, 0): when owed == 0 both branches give 0",
    (
        "contracts/staking/StakingLedger.sol",
        "if (rps >= type(uint96).max) rps = type(uint96).max; // as `_moveStakeAtRisk` saturates",
    ): "min(rps, 2^96 - 1): when rps == 2^96 - 1 the write changes nothing",
    (
        "contracts/staking/StakingLedger.sol",
        "if (from <= r.until) (released, from) = (r.perSecond * (r.until - from), r.until);",
    ): "when from == r.until the write releases 0 and leaves from unchanged",
}

ACCESS_MODIFIERS = (r"onlyRole\s*\([^()]*\)", r"whenNotPaused\b", r"nonReentrant\b")
CMP_FLIPS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
OP_TOKEN = re.compile(r"<<=?|>>=?|<=|>=|==|!=|=>|\+\+|--|\+=|-=|\*=|/=|%=|\|=|&=|\^=|&&|\|\||[-+*/%<>=!]")
LVALUE_ASSIGN = re.compile(r"^\s*[A-Za-z_]\w*(?:\s*(?:\.\s*\w+|\[[^;]*?\]))*\s*(?:=|\+=|-=)(?!=)[^;]*;\s*$")
HEADER_START = re.compile(r"^\s*(function\b|constructor\b|modifier\b|receive\b|fallback\b)")
SKIPPED_DECL = re.compile(r"^\s*(event|error|import|pragma|emit)\b")


@dataclass(frozen=True)
class Mutant:
    file: str
    line: int  # 1-based
    col: int  # 0-based column in the original line, for ordering
    operator: str
    before: str
    after: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def describe(self) -> str:
        return f"{self.where} {self.operator}: `{self.before.strip()}` -> `{self.after.strip()}`"


def _mask_code(line: str, in_block: bool) -> tuple[str, bool]:
    """The line with comments and string literals blanked (same length), and the block state after it."""
    out: list[str] = []
    i = 0
    quote = ""
    while i < len(line):
        ch = line[i]
        nxt = line[i : i + 2]
        if in_block:
            if nxt == "*/":
                in_block = False
                out.append("  ")
                i += 2
            else:
                out.append(" ")
                i += 1
        elif quote:
            out.append(" ")
            if ch == "\\":
                out.append(" " if i + 1 < len(line) else "")
                i += 2
                continue
            if ch == quote:
                quote = ""
            i += 1
        elif nxt == "//":
            out.append(" " * (len(line) - i))
            break
        elif nxt == "/*":
            in_block = True
            out.append("  ")
            i += 2
        elif ch in "\"'":
            quote = ch
            out.append(" ")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)[: len(line)], in_block


def _matching_paren(code: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(code)):
        if code[i] == "(":
            depth += 1
        elif code[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _has_assignment(code: str) -> bool:
    return any(m.group(0) in ("=", "+=", "-=", "*=", "/=") for m in OP_TOKEN.finditer(code))


def mutants_of(rel: str, text: str) -> list[Mutant]:
    """Every mutant of one Solidity source, in line and column order."""
    found: list[Mutant] = []
    in_block = False
    in_header = False
    stack: list[str] = []  # "func" for function/modifier/constructor bodies, "blk" otherwise
    pending_func = False
    prev_end = ";"  # last non-blank code character before this line: is a statement starting here?

    def add(lineno: int, col: int, op: str, before: str, after: str) -> None:
        if after != before:
            found.append(Mutant(rel, lineno, col, op, before, after))

    for lineno, line in enumerate(text.splitlines(), start=1):
        code, in_block = _mask_code(line, in_block)
        stripped = code.strip()
        if not stripped:
            continue
        if HEADER_START.match(code):
            in_header = True
            pending_func = True
        in_func = "func" in stack
        skipped = SKIPPED_DECL.match(code) is not None

        if not skipped:
            # mod-rm: an access modifier in a function header.
            if in_header:
                for pattern in ACCESS_MODIFIERS:
                    for m in re.finditer(r"\b" + pattern + r"\s*", code):
                        add(lineno, m.start(), "mod-rm", line, line[: m.start()] + line[m.end() :])
            # cmp: comparison flips, one per operator occurrence.
            for m in OP_TOKEN.finditer(code):
                tok = m.group(0)
                if tok in CMP_FLIPS:
                    add(lineno, m.start(), "cmp", line, line[: m.start()] + CMP_FLIPS[tok] + line[m.end() :])
            # if-neg: negate a condition that opens and closes on this line.
            for m in re.finditer(r"\bif\s*\(", code):
                open_at = m.end() - 1
                close_at = _matching_paren(code, open_at)
                if close_at > 0:
                    cond = line[open_at + 1 : close_at]
                    after = line[: open_at + 1] + "!(" + cond + ")" + line[close_at:]
                    add(lineno, m.start(), "if-neg", line, after)
            # arith: + <-> - on a line with an assignment (statement or initialised declaration).
            if in_func and _has_assignment(code):
                for m in OP_TOKEN.finditer(code):
                    tok = m.group(0)
                    prefix = code[: m.start()].rstrip()
                    binary = bool(prefix) and (prefix[-1].isalnum() or prefix[-1] in ")]_")
                    if tok in ("+", "-") and binary:
                        add(
                            lineno,
                            m.start(),
                            "arith",
                            line,
                            line[: m.start()] + ("-" if tok == "+" else "+") + line[m.end() :],
                        )
                    elif tok in ("+=", "-="):
                        swap = "-=" if tok == "+=" else "+="
                        add(lineno, m.start(), "arith", line, line[: m.start()] + swap + line[m.end() :])
            # del: delete a one-line assignment statement in a function body.
            if in_func and not in_header and prev_end in ";{}" and LVALUE_ASSIGN.match(code):
                indent = line[: len(line) - len(line.lstrip())]
                add(lineno, 0, "del", line, indent + "// [mutant] statement deleted")

        for ch in code:
            if ch == "{":
                stack.append("func" if pending_func else "blk")
                pending_func = False
                in_header = False
            elif ch == "}":
                if stack:
                    stack.pop()
            elif ch == ";" and in_header and stack[-1:] != ["func"]:
                # an interface or abstract declaration: no body follows
                in_header = False
                pending_func = False
        prev_end = stripped[-1]
    return found


def enumerate_mutants(root: Path, files: list[str]) -> list[Mutant]:
    out: list[Mutant] = []
    for rel in files:
        out.extend(mutants_of(rel, (root / rel).read_text()))
    return out


def apply(text: str, mutant: Mutant) -> str:
    lines = text.splitlines(keepends=True)
    old = lines[mutant.line - 1]
    ending = old[len(old.rstrip("\r\n")) :]
    assert old.rstrip("\r\n") == mutant.before, f"stale mutant {mutant.describe()}"
    lines[mutant.line - 1] = mutant.after + ending
    return "".join(lines)


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """Exit status (None on timeout) and combined output; the whole process group dies on timeout."""
    with subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
            return proc.returncode, out
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            return None, out


def _clear_persisted(scratch: Path) -> None:
    for rel in PERSIST_DIRS:
        path = scratch / rel
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | stillborn | equivalent
    seconds: float
    detail: str = ""
    output: str = ""  # forge's output when the mutant was not killed by a test (for the baseline)


class Runner:
    def __init__(self, root: Path, forge: str, seed: int, timeout: float) -> None:
        self.root = root
        self.forge = forge
        self.timeout = timeout
        self.fuzz_seed = str(seed)
        self.env = {**os.environ, **FORGE_ENV}
        self.tmp = Path(tempfile.mkdtemp(prefix="mutation."))
        self.scratch = self.tmp / "project"
        shutil.copytree(root, self.scratch, ignore=shutil.ignore_patterns(*COPY_IGNORE, *MARKET_SUITE), symlinks=True)
        (self.scratch / "node_modules").symlink_to(root / "node_modules")
        if (root / "lib").is_dir() and not (self.scratch / "lib").exists():
            (self.scratch / "lib").symlink_to(root / "lib")

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def forge_args(self) -> list[str]:
        return ["--use", "toolchain/solc.js", "--offline"]

    def check(self) -> Outcome:
        """Build and test the unmutated copy (warms the build cache; the suite must pass)."""
        dummy = Mutant("(none)", 0, 0, "baseline", "", "")
        return self._evaluate(dummy)

    def _evaluate(self, mutant: Mutant) -> Outcome:
        start = time.monotonic()
        _clear_persisted(self.scratch)
        rc, out = _run([self.forge, "build", *self.forge_args()], self.scratch, self.env, self.timeout)
        if rc is None:
            return Outcome(mutant, "killed", time.monotonic() - start, "build timed out")
        if rc != 0:
            return Outcome(mutant, "stillborn", time.monotonic() - start, _first_error(out), out)
        left = max(10.0, self.timeout - (time.monotonic() - start))
        cmd = [self.forge, "test", *self.forge_args(), "--fail-fast", "--fuzz-seed", self.fuzz_seed]
        rc, out = _run(cmd, self.scratch, self.env, left)
        seconds = time.monotonic() - start
        if rc is None:
            return Outcome(mutant, "killed", seconds, "timeout")
        if rc != 0:
            failed = [ln.strip() for ln in out.splitlines() if ln.startswith("[FAIL")]
            return Outcome(mutant, "killed", seconds, (failed[0] if failed else _first_error(out))[:160], out)
        return Outcome(mutant, "survived", seconds)

    def evaluate(self, mutant: Mutant) -> Outcome:
        target = self.scratch / mutant.file
        original = target.read_text()
        try:
            target.write_text(apply(original, mutant))
            return self._evaluate(mutant)
        finally:
            target.write_text(original)


def _first_error(out: str) -> str:
    for ln in out.splitlines():
        if ln.startswith("Error ("):
            return ln.strip()[:160]
    for ln in out.splitlines():
        if "Error" in ln or "error" in ln:
            return ln.strip()[:160]
    return out.strip().splitlines()[-1][:160] if out.strip() else ""


def write_survivors(path: Path, outcomes: list[Outcome], header: str) -> None:
    lines = [
        "# Surviving mutants (last full run)",
        "",
        "Written by `bin/mutation --full` (toolchain/mutate.py); see docs/mutation.md.",
        "",
        header,
        "",
    ]
    survivors = [o for o in outcomes if o.status == "survived"]
    if not survivors:
        lines.append("No mutant survived.")
    for o in survivors:
        m = o.mutant
        lines += [
            f"- `{m.where}` ({m.operator})",
            f"  - before: `{m.before.strip()}`",
            f"  - after:  `{m.after.strip()}`",
        ]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="mutants to sample (CI)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="sampling and fuzz seed")
    parser.add_argument("--full", action="store_true", help="every mutant (writes docs/mutation-survivors.md)")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE, help="minimum score, percent")
    parser.add_argument("--files", nargs="+", default=list(DEFAULT_FILES), help="Solidity sources to mutate")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per mutant")
    parser.add_argument("--list", action="store_true", help="list the selected mutants and exit")
    parser.add_argument("--only", nargs="+", default=[], help="run only these mutants (file:line:operator[:col])")
    args = parser.parse_args(argv)

    root = Path(__file__).resolve().parent.parent
    every = enumerate_mutants(root, args.files)
    if args.only:
        wanted = set(args.only)
        chosen = [
            m for m in every if f"{m.where}:{m.operator}" in wanted or f"{m.where}:{m.operator}:{m.col}" in wanted
        ]
        mode = "selected"
    elif args.full or args.sample >= len(every):
        chosen = list(every)
        mode = "full"
    else:
        picked = set(random.Random(args.seed).sample(range(len(every)), args.sample))
        chosen = [m for i, m in enumerate(every) if i in picked]
        mode = f"sample {args.sample}"
    by_op: dict[str, int] = {}
    for m in every:
        by_op[m.operator] = by_op.get(m.operator, 0) + 1
    ops = ", ".join(f"{k} {v}" for k, v in sorted(by_op.items()))
    print(f"==> mutation: {len(every)} mutants ({ops}); running {len(chosen)} ({mode}, seed {args.seed})", flush=True)
    if args.list:
        for m in chosen:
            print(f"  {m.describe()} [col {m.col}]")
        return 0

    forge = os.environ.get("FORGE", "")
    if not forge:
        print("FORGE is not set (run through bin/mutation)", file=sys.stderr)
        return 2
    start = time.monotonic()
    runner = Runner(root, forge, args.seed, args.timeout)
    outcomes: list[Outcome] = []
    try:
        base = runner.check()
        print(f"  baseline (unmutated): {base.status}, {base.seconds:.1f}s", flush=True)
        if base.status != "survived":
            print(f"the unmutated suite does not pass:\n{base.output}", file=sys.stderr)
            return 2
        for m in chosen:
            reason = EQUIVALENT.get((m.file, m.after.strip()))
            o = Outcome(m, "equivalent", 0.0, reason) if reason else runner.evaluate(m)
            outcomes.append(o)
            detail = f"  ({o.detail})" if o.status != "survived" and o.detail else ""
            print(f"  {m.where:48} {m.operator:7} {o.status:9} {o.seconds:5.1f}s{detail}", flush=True)
    finally:
        runner.close()

    killed = sum(o.status == "killed" for o in outcomes)
    stillborn = sum(o.status == "stillborn" for o in outcomes)
    equivalent = sum(o.status == "equivalent" for o in outcomes)
    scored = len(outcomes) - stillborn - equivalent
    score = 100.0 * killed / scored if scored else 100.0
    elapsed = time.monotonic() - start
    survivors = [o for o in outcomes if o.status == "survived"]
    if survivors:
        print("==> survivors:")
        for o in survivors:
            print(f"  {o.mutant.describe()}")
    summary = (
        f"==> mutation: {killed} killed of {scored} ({stillborn} stillborn, {equivalent} equivalent), "
        f"score {score:.1f}% (min {args.min_score:g}%), {elapsed:.0f} s"
    )
    print(summary)
    if mode == "full" and args.files == list(DEFAULT_FILES):
        write_survivors(
            root / "docs" / "mutation-survivors.md",
            outcomes,
            f"`bin/mutation --full --seed {args.seed}`: {summary[4:]}",
        )
    if score < args.min_score:
        print(f"==> mutation: FAILED, score below {args.min_score:g}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
