"""The coverage tool (toolchain/solcover): source maps, code identity, and branches measured end to end."""

from __future__ import annotations

import threading

import ape
import click
import pytest
from solcover import collect, fast
from solcover.analysis import BranchPoint, _Jump, _resolve, analyse
from solcover.build import compile_contracts
from solcover.bytecode import (
    JUMP,
    JUMPDEST,
    Instruction,
    SourceRange,
    _source_map,
    blank_immutables,
    instructions,
    strip_metadata,
)
from solcover.codesize import COMPILER, function_bytes
from solcover.report import Gap, known_gaps, new_gaps, write

FEED_SOURCE = "contracts/oracle/MockPriceFeed.sol"


def test_source_map_entries_repeat_the_previous_fields_when_empty():
    assert _source_map("1:2:0:-;:5;;7::1") == [
        SourceRange(1, 2, 0),
        SourceRange(1, 5, 0),
        SourceRange(1, 5, 0),
        SourceRange(7, 5, 1),
    ]


def test_instructions_skip_push_data_and_read_push_values():
    code = instructions("0x6080604052600a57fe", "0:1:0;;;;;")
    assert [(i.pc, i.op, i.push) for i in code] == [
        (0, 0x60, 0x80),
        (2, 0x60, 0x40),
        (4, 0x52, None),
        (5, 0x60, 0x0A),
        (7, 0x57, None),
        (8, 0xFE, None),
    ]


def test_code_identity_ignores_metadata_hash_and_immutables():
    metadata = "a264697066735822" + "ab" * 34 + "64736f6c6343" + "000825" + "0033"
    other = "a264697066735822" + "cd" * 34 + "64736f6c6343" + "000825" + "0033"
    refs = {"7": [{"start": 1, "length": 2}]}
    deployed = blank_immutables(strip_metadata("0x60beef00" + metadata), refs)
    compiled = blank_immutables(strip_metadata("0x60000000" + other), refs)
    assert deployed == compiled
    assert strip_metadata("0x6001" + metadata) != strip_metadata("0x6002" + other)


def test_a_jump_target_tagged_with_the_body_does_not_count_as_running_it():
    # `if (a && b) { f(); }` as the optimizer may emit it: the jump that skips the body lands on a
    # JUMPDEST the source map gives to `f()`, then runs the function's epilogue (outside the body).
    stmt, cond, body, func = (SourceRange(s, n, 0) for s, n in ((100, 60), (104, 20), (126, 34), (0, 300)))
    fall = [Instruction(10, 0x60, 1, body), Instruction(12, JUMP, None, body)]
    skip = [Instruction(40, JUMPDEST, None, body), Instruction(41, 0x50, None, func), Instruction(42, JUMP, None, func)]
    point = BranchPoint("if", stmt, cond, body, None)
    _resolve(point, {stmt: [_Jump(fall, skip, bits=3)]}, ranges=[])
    assert (point.classified, point.taken, point.not_taken) == (1, True, True)


def test_a_branch_whose_code_has_two_copies_counts_each_copy():
    # `if (point < starts[i]) break;` of a library compiled into two contracts: the `break` has no
    # code of its own, so no jump can be classified and the bodies decide. A copy whose jump went
    # both ways shows the branch not taken (before, only a lone copy could show it).
    stmt, cond, body = (SourceRange(s, n, 0) for s, n in ((100, 40), (104, 16), (122, 6)))
    body_ran = [(body.start, body.start + body.length)]

    def resolved(bits: tuple[int, int], ranges: list[tuple[int, int]]) -> tuple[int, bool, bool]:
        point = BranchPoint("if", stmt, cond, body, None)
        _resolve(point, {stmt: [_Jump([], None, bits=b) for b in bits]}, ranges=ranges)
        return point.classified, point.taken, point.not_taken

    assert resolved((1, 3), body_ran) == (0, True, True)  # one copy went both ways
    assert resolved((1, 0), []) == (0, False, True)  # a copy ran and the body never did
    assert resolved((1, 1), body_ran) == (0, True, False)  # one way only, the body ran: taken only
    assert resolved((0, 0), []) == (0, False, False)  # neither copy ran


@pytest.fixture(scope="module")
def feed_build():
    return compile_contracts([FEED_SOURCE])


def _feed_file(feed_build, raw):
    return next(f for f in analyse(feed_build, raw) if f.path == FEED_SOURCE)


def _branch(cov, build, snippet):
    return next(b for b in cov.branches if snippet in build.snippet(b.src))


def _raw(collector):
    getattr(collector, "flush", lambda: None)()  # the fast collector traces transactions on a worker
    return {
        "codes": collector.codes,
        "runtime": {d: {"pcs": sorted(h.pcs), "jumps": h.jumps} for d, h in collector.runtime.items()},
        "init": {d: {"pcs": sorted(h.pcs), "jumps": h.jumps} for d, h in collector.init.items()},
    }


@pytest.mark.parametrize("tool", [collect, fast], ids=["js-tracer", "step-logs"])
def test_traced_branches_are_taken_then_not_taken_as_the_calls_go(project, chain, admin, feed_build, tmp_path, tool):
    """Both collectors (the JS tracer, and anvil's step logs that `bin/coverage` uses) see the same
    branches taken and not taken as the calls go."""
    web3_provider = chain.provider.web3.provider
    collector = tool.install(web3_provider)
    try:
        feed = project.MockPriceFeed.deploy(admin, 250_000_000, sender=admin)
        feed.setAnswer(260_000_000, sender=admin)  # round 2 > 1: `if (roundId > latestRound)` taken
        cov = _feed_file(feed_build, _raw(collector))
        newer = _branch(cov, feed_build, "if (roundId > latestRound)")
        missing = _branch(cov, feed_build, "if (r.updatedAt == 0)")
        assert (newer.taken, newer.not_taken) == (True, False)
        assert (missing.taken, missing.not_taken) == (False, False)
        assert cov.functions["description@35"] is False
        _, report = write(feed_build, [cov], _raw(collector), tmp_path)
        missed = cov.branch_total - cov.branch_hit
        assert missed >= 3  # at least: `if (r.updatedAt == 0)` both ways, `if (roundId > ...)` not taken
        text = report.read_text()
        assert f"## Branches that never ran ({missed}, at " in text
        assert "| taken and not taken | `if (r.updatedAt == 0)" in text

        feed.setRoundData(1, 255_000_000, chain.pending_timestamp, sender=admin)  # older round: not taken
        with ape.reverts(feed.NoDataPresent):
            feed.getRoundData(99)  # an eth_call that reverts: `if (r.updatedAt == 0)` taken
        feed.getRoundData(1)  # and not taken
        feed.description()
        cov = _feed_file(feed_build, _raw(collector))
    finally:
        tool.uninstall(web3_provider, collector)
    newer = _branch(cov, feed_build, "if (roundId > latestRound)")
    missing = _branch(cov, feed_build, "if (r.updatedAt == 0)")
    assert (newer.taken, newer.not_taken) == (True, True)
    assert (missing.taken, missing.not_taken) == (True, True)
    assert cov.functions["description@35"] is True
    assert collector.failures == 0


def test_the_gate_knows_listed_gaps_by_their_code_not_their_line():
    """`--known docs/coverage.md`: a listed gap that moved lines is still known; a second unrun copy
    of a listed line, or a gap in other code, is new and fails the gate."""
    listed = [
        Gap("contracts/a/A.sol", 48, "if", "taken", "if (slot == 0 || slot > CAPACITY) revert SlotOutOfRange(slot)"),
        Gap("contracts/a/A.sol", 90, "?:", "taken and not taken", "x > y ? x : y"),
    ]
    report = "# Solidity coverage\n\n| Where | Kind | Missing | Code |\n|---|---|---|---|\n"
    report += "\n".join(gap.markdown() for gap in listed) + "\n"
    assert known_gaps(report) == listed  # the rows parse back, `||` in the code included

    moved = [Gap(g.path, g.line + 7, g.kind, g.missing, g.code) for g in listed]
    assert new_gaps(moved, known_gaps(report)) == []
    assert new_gaps(moved[:1], known_gaps(report)) == []  # a gap closed is fine

    twice = [*moved, moved[1]]
    assert new_gaps(twice, known_gaps(report)) == [moved[1]]
    other = Gap("contracts/a/A.sol", 48, "if", "not taken", listed[0].code)  # the other outcome
    assert new_gaps([other], known_gaps(report)) == [other]


def test_codesize_counts_each_runtime_byte_once_to_the_innermost_function(feed_build):
    """MockPriceFeed's runtime code, 1,547 bytes up to its last mapped instruction, split by
    function: every byte counted once (the rows add up to the code), `_write` (170 bytes) apart
    from `setAnswer` (49) that calls it, the inherited `Ownable` functions under their own
    contract's name, and an unknown contract refused with the argument named."""
    counts = function_bytes(feed_build, "MockPriceFeed")
    runtime = next(a for a in feed_build.artifacts if a.name == "MockPriceFeed").runtime
    assert runtime[-1].push is None  # a one-byte last instruction: the code ends at its pc + 1
    assert sum(counts.values()) == runtime[-1].pc + 1 == 1_547
    assert (counts["MockPriceFeed._write"], counts["MockPriceFeed.setAnswer"]) == (170, 49)
    assert counts["Ownable.onlyOwner"] > 0 and counts[COMPILER] > 0
    with pytest.raises(click.BadParameter, match="no contract named 'Nope'"):
        function_bytes(feed_build, "Nope")


def test_sessions_that_end_together_merge_their_data_in_turn(tmp_path):
    """`bin/coverage` runs the suite in two concurrent sessions writing one raw.json. A session
    waits while another holds the file's lock (`dump_lock`), then merges into what the other
    wrote: program counters 1 and 2 of one program, 1 trace each, make 2 traces and both pcs.
    Without the lock the second session would start before the first had written."""
    path = tmp_path / "coverage" / "raw.json"

    def session(pc: int) -> collect.Collector:
        c = collect.Collector(request=lambda _method, _params: {})
        c.codes["h"] = "0x00"
        c.runtime["h"] = collect.Hits({pc}, {pc: 1})
        c.traces = 1
        return c

    done = threading.Event()
    with collect.dump_lock(path):
        waiting = threading.Thread(target=lambda: (session(2).dump(path), done.set()))
        waiting.start()
        assert not done.wait(0.5)  # the other session's turn is not over
        session(1)._dump(path)  # the turn's holder writes (as `dump` does inside the lock)
    waiting.join(10)
    assert done.is_set()
    data = collect.load(path)
    assert (data["traces"], data["runtime"]["h"]["pcs"], data["runtime"]["h"]["jumps"]) == (2, [1, 2], {"1": 1, "2": 1})
