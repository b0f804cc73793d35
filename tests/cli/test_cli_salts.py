"""Sealed-bid salts kept on disk by `ape run market commit`, so that `reveal JOB PRICE` needs no
salt: the file's place (``--salts-file``, ``COMPUTE_MARKET_SALTS``, ``~/.compute-market``), its
keys and mode, a wrong price refused before anything is sent, an explicit salt winning, and a
refused commitment leaving the file as it was."""

from __future__ import annotations

import json
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from utils.helpers import advance, load_script

from compute_market.commitments import commitment_for
from compute_market.models import JobRequest
from compute_market.salts import SALTS_ENV, SaltFileError, SaltKey, SaltStore, SavedSalt, salts_path
from compute_market.units import HOUR, to_wei

MARKET = load_script("market").cli
SEALED = JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR, sealed=True)


@pytest.fixture(autouse=True)
def default_salts(tmp_path, monkeypatch) -> Path:
    """``COMPUTE_MARKET_SALTS`` for every test here: nothing is written to the home folder."""
    path = tmp_path / "env" / "salts.json"
    monkeypatch.setenv(SALTS_ENV, str(path))
    return path


@pytest.fixture
def sealed_job(customer, fresh_price) -> int:
    fresh_price()
    return customer.post_job(SEALED)


def saved(path: Path, protocol, chain, job_id: int, bidder: str) -> dict[str, str] | None:
    """The entry of the salts file at `path` for `bidder` on `job_id`, or None."""
    data = json.loads(path.read_text()) if path.exists() else {}
    return data.get(str(chain.chain_id), {}).get(protocol.market.address, {}).get(str(job_id), {}).get(bidder)


def test_commit_saves_the_salt_and_reveal_reads_it(chain, protocol, provider, sealed_job, invoke, tmp_path):
    path = tmp_path / "salts" / "bids.json"
    committed = invoke(MARKET, "TEST::41", "commit", str(sealed_job), "2", "--salts-file", str(path), "--json")
    assert committed.exit_code == 0, committed.stderr
    out = json.loads(committed.stdout)
    assert out["salts_file"] == str(path)
    assert saved(path, protocol, chain, sealed_job, provider.address) == {"price": "2", "salt": out["salt"]}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    salt = bytes.fromhex(out["salt"][2:])
    digest = commitment_for(sealed_job, provider.address, to_wei(2), salt)
    assert protocol.market.commitmentOf(sealed_job, provider.address).hash == bytes(digest)[:24]

    advance(chain, HOUR)  # bidding over: reveals are open
    revealed = invoke(MARKET, "TEST::41", "reveal", str(sealed_job), "2", "--salts-file", str(path), "--json")
    assert revealed.exit_code == 0, revealed.stderr
    job = json.loads(revealed.stdout)
    # alone, the bid of 2 would be paid the job's max price, 3; its own price is the best bid
    assert (job["provider"], job["price_per_gpu_hour"], job["best_bid_per_gpu_hour"], job["bids"]) == (
        provider.address,
        "3",
        "2",
        1,
    )
    assert json.loads(path.read_text()) == {}  # revealed: nothing left to keep


def test_the_salts_file_comes_from_the_environment_variable(chain, protocol, provider, sealed_job, invoke):
    path = Path(salts_path())
    assert path.name == "salts.json" and path.parent.name == "env"  # COMPUTE_MARKET_SALTS
    committed = invoke(MARKET, "TEST::41", "commit", str(sealed_job), "2", "--json")
    assert committed.exit_code == 0, committed.stderr
    assert saved(path, protocol, chain, sealed_job, provider.address)["salt"] == json.loads(committed.stdout)["salt"]
    advance(chain, HOUR)
    revealed = invoke(MARKET, "TEST::41", "reveal", str(sealed_job), "2")
    assert revealed.exit_code == 0, revealed.stderr


def test_a_price_other_than_the_one_committed_is_refused_before_sending(
    chain, protocol, accounts, provider, sealed_job, invoke, default_salts
):
    committed = invoke(MARKET, "TEST::41", "commit", str(sealed_job), "2")
    assert committed.exit_code == 0, committed.stderr
    advance(chain, HOUR)
    nonce = accounts[41].nonce

    refused = invoke(MARKET, "TEST::41", "reveal", str(sealed_job), "2.5")
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        f"refused: PriceNotCommitted(jobId={sealed_job}, price=2.5, committed=2)"
    ]
    as_json = invoke(MARKET, "TEST::41", "reveal", str(sealed_job), "2.5", "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {
        "error": "PriceNotCommitted",
        "args": {"jobId": str(sealed_job), "price": "2.5", "committed": "2"},
    }
    assert accounts[41].nonce == nonce  # nothing sent
    assert saved(default_salts, protocol, chain, sealed_job, provider.address)["price"] == "2"  # still there

    assert invoke(MARKET, "TEST::41", "reveal", str(sealed_job), "2").exit_code == 0  # the committed price


def test_an_explicit_salt_wins_over_the_saved_one(chain, protocol, provider, sealed_job, invoke, default_salts):
    committed = invoke(MARKET, "TEST::41", "commit", str(sealed_job), "2", "--json")
    salt = json.loads(committed.stdout)["salt"]
    SaltStore(default_salts).put(
        SaltKey(chain.chain_id, protocol.market.address, sealed_job, provider.address),
        SavedSalt(Decimal(2), b"\x07" * 32),  # a wrong salt on disk
    )
    advance(chain, HOUR)
    revealed = invoke(MARKET, "TEST::41", "reveal", str(sealed_job), "2", "--salt", salt)
    assert revealed.exit_code == 0, revealed.stderr
    assert protocol.market.getJob(sealed_job).provider == provider.address


def test_a_reveal_without_a_saved_salt_is_refused_before_sending(accounts, provider, sealed_job, invoke, default_salts):
    nonce = accounts[41].nonce
    refused = invoke(MARKET, "TEST::41", "reveal", str(sealed_job), "2")
    assert refused.exit_code == 1
    line = f"refused: NoSavedSalt(jobId={sealed_job}, bidder={provider.address}, file={default_salts})"
    assert refused.stderr.strip().splitlines() == [line]
    assert accounts[41].nonce == nonce


def test_a_refused_commitment_leaves_the_saved_salt_as_it_was(
    chain, protocol, provider, customer, sealed_job, invoke, default_salts
):
    first = json.loads(invoke(MARKET, "TEST::41", "commit", str(sealed_job), "2", "--json").stdout)
    again = invoke(MARKET, "TEST::41", "commit", str(sealed_job), "1.5")
    assert again.exit_code == 1
    assert again.stderr.strip().splitlines()[-1].startswith("refused: AlreadyCommitted(")
    assert saved(default_salts, protocol, chain, sealed_job, provider.address) == {"price": "2", "salt": first["salt"]}

    open_job = customer.post_job(JobRequest("H100-80GB", 1, Decimal(1), Decimal(3)))
    wrong_kind = invoke(MARKET, "TEST::41", "commit", str(open_job), "2")
    assert wrong_kind.exit_code == 1
    assert saved(default_salts, protocol, chain, open_job, provider.address) is None


def test_an_unreadable_salts_file_is_one_line_and_never_overwritten(accounts, sealed_job, invoke, default_salts):
    default_salts.parent.mkdir(parents=True)
    default_salts.write_text("{ not json")
    nonce = accounts[41].nonce
    refused = invoke(MARKET, "TEST::41", "commit", str(sealed_job), "2")
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith(f"Error: {default_salts} is not a salts file")
    assert default_salts.read_text() == "{ not json" and accounts[41].nonce == nonce


# ---------------------------------------------------------------------- the store alone


def test_the_store_keys_salts_by_chain_market_job_and_bidder(tmp_path):
    store = SaltStore(tmp_path / "s.json")
    one = SaltKey(1, "0xMarket", 7, "0xAlice")
    other = SaltKey(1, "0xMarket", 7, "0xBob")
    store.put(one, SavedSalt(Decimal("2.5"), b"\x01" * 32))
    store.put(other, SavedSalt(Decimal(3), b"\x02" * 32))
    assert store.get(one) == SavedSalt(Decimal("2.5"), b"\x01" * 32)
    assert store.get(SaltKey(5, "0xMarket", 7, "0xAlice")) is None  # another chain
    assert json.loads(store.path.read_text())["1"]["0xMarket"]["7"]["0xBob"] == {"price": "3", "salt": "0x" + "02" * 32}
    store.put(one, None)
    store.put(other, None)
    assert json.loads(store.path.read_text()) == {}  # empty levels go too
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # no temporary left behind


def test_the_default_salts_file_is_in_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(SALTS_ENV)
    assert salts_path() == Path.home() / ".compute-market" / "salts.json"
    assert salts_path(tmp_path / "x.json") == tmp_path / "x.json"
    bad = SaltStore(tmp_path / "bad.json")
    bad.path.write_text("[1, 2]")
    with pytest.raises(SaltFileError, match="not a JSON object"):
        bad.get(SaltKey(1, "0xM", 1, "0xA"))
