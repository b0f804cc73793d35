"""The SDK as a package (issue 19, "Packaging"): the contract ABIs bundled in it
(`compute_market/manifest/contracts.json`) match the build, a deployment loads through them from
outside the repository, and the built package carries them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from decimal import Decimal
from pathlib import Path

import pytest

from compute_market import manifest
from compute_market.deployment import Protocol
from compute_market.models import JobRequest
from compute_market.units import HOUR

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_IN_PACKAGE = "compute_market/manifest/contracts.json"
REGENERATE = "run `python -m compute_market.manifest` and commit compute_market/manifest/contracts.json"


def _source_copy(dest: Path) -> Path:
    """What a build of the package reads (pyproject, README, the package), copied to `dest`, so
    building writes nothing into the repository (no build/, no egg-info)."""
    src = dest / "src"
    src.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copy(ROOT / "README.md", src)
    for package in ("compute_market", "gas_benchmarks"):  # the benchmark beside it, to show it stays out
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    return src


def _setuptools(src: Path, *command: str) -> None:
    """Runs a setuptools command on the copy's pyproject.toml (the venv's setuptools, offline)."""
    run = subprocess.run(
        [sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", *command],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def built_package(tmp_path_factory) -> Path:
    """The package as a wheel installs it (setuptools' ``build_py``: the files ``bdist_wheel``
    zips), in a folder outside the repository."""
    base = tmp_path_factory.mktemp("package")
    _setuptools(_source_copy(base), "build_py", "--build-lib", str(base / "lib"))
    return base / "lib"


# ---------------------------------------------------------------------- the drift gate


def test_bundled_abis_equal_the_builds(project):
    """Fails when a contract changed and nobody regenerated the bundled manifest."""
    assert set(manifest.contract_types()) == set(manifest.BUNDLED)
    drifted = [
        name
        for name in manifest.BUNDLED
        if manifest.contract_type(name).abi != getattr(project, name).contract_type.abi
    ]
    assert drifted == [], f"the bundled ABIs of {drifted} differ from the build: {REGENERATE}"
    # The file is exactly what the generator writes from the build on disk.
    assert manifest.MANIFEST_PATH.read_text() == manifest.render(manifest.from_build()), REGENERATE


def test_the_generator_writes_and_checks(tmp_path):
    out = tmp_path / "contracts.json"
    command = [sys.executable, "-m", "compute_market.manifest", "--out", str(out)]
    assert subprocess.run(command, capture_output=True, timeout=120).returncode == 0
    assert out.read_text() == manifest.MANIFEST_PATH.read_text()
    assert subprocess.run([*command, "--check"], capture_output=True, timeout=120).returncode == 0
    raw = json.loads(out.read_text())
    del raw["contractTypes"]["JobMarket"]["abi"][0]
    out.write_text(json.dumps(raw))
    stale = subprocess.run([*command, "--check"], capture_output=True, text=True, timeout=120)
    assert stale.returncode == 1 and "python -m compute_market.manifest" in stale.stderr


# ---------------------------------------------------------------------- loading without the project


def test_load_packaged_types_the_recorded_contracts_like_the_project(protocol, record_path):
    packaged = Protocol.load_packaged(record_path)
    assert packaged.addresses == protocol.addresses
    for field in ("token", "price_feed", "credits", "registry", "market", "resolver", "rewards"):
        ours, theirs = getattr(packaged, field), getattr(protocol, field)
        assert ours.address == theirs.address
        assert ours.contract_type.abi == theirs.contract_type.abi, field
    assert packaged.credits.token() == protocol.token.address  # a real call through the bundled ABI


OUTSIDE = r"""
import json, os, sys
from decimal import Decimal

from ape import accounts, networks

uri, record, job_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
with networks.parse_network_choice(uri):
    import compute_market
    from compute_market.client import MarketClient
    from compute_market.deployment import Protocol
    from compute_market.errors import MarketError

    client = MarketClient(Protocol.load_packaged(record), accounts.test_accounts[5])
    job = client.job(job_id)
    minted = client.mint_credits(Decimal(10))  # approve, send, decode the CreditsMinted event
    try:
        client.finalize(job_id)  # the bidding is still open: a revert, decoded by name
        error = None
    except MarketError as err:
        error = err.name
    client.register("ipfs://outside", "eu-west")  # registered, no stake
    try:
        # The ledger refuses the provision (no free stake), inside the market's `setOffer`.
        client.set_offer("H100-80GB", 8, 80, Decimal(100))
        nested = None
    except MarketError as err:
        nested = err.name
    print(json.dumps({
        "package": compute_market.__file__,
        "cwd": os.getcwd(),
        "job": {"customer": job.customer, "status": job.status.name, "gpus": job.gpu_count},
        "minted": str(minted),
        "error": error,
        "nested": nested,
        "fee_bps": int(client.p.market.protocolFeeBps()),
    }))
"""


def test_the_built_package_loads_a_deployment_from_another_directory(
    built_package, protocol, record_path, customer, accounts, admin, fresh_price, chain, tmp_path
):
    """A fresh interpreter in a folder that is no Ape project, importing the *built* package (not
    the repository's editable install), loads this session's deployment from its record alone and
    reads, sends and decodes through `MarketClient`."""
    job_id = customer.post_job(JobRequest("H100-80GB", 2, Decimal(4), Decimal(3), bidding_seconds=HOUR))
    buyer = accounts[5]
    protocol.token.transfer(buyer, 10 * 10**18, sender=admin)
    fresh_price()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(record_path, outside / "deployment.json")
    env = {**os.environ, "PYTHONPATH": str(built_package)}
    run = subprocess.run(
        [sys.executable, "-c", OUTSIDE, chain.provider.uri, "deployment.json", str(job_id)],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(seen["package"]).is_relative_to(built_package)  # not /work/…/compute_market
    assert Path(seen["cwd"]) == outside.resolve()
    assert seen["job"] == {"customer": customer.address, "status": "BIDDING", "gpus": 2}
    assert Decimal(seen["minted"]) > 0
    assert Decimal(seen["minted"]) * 10**18 == protocol.credits.balanceOf(buyer)
    assert seen["error"] == "BiddingNotOver"  # the contract's custom error, by name
    assert seen["nested"] == "NotEnoughFreeStake"  # another contract's, from the bundled ABIs
    assert seen["fee_bps"] == protocol.market.protocolFeeBps()


# ---------------------------------------------------------------------- the manifest is package data


def test_the_package_ships_no_benchmark_code(built_package):
    """The gas benchmark's scenarios live in `gas_benchmarks/`, beside the package, not in it: a
    wheel holds `compute_market` alone (it held `compute_market/benchmarks.py` before)."""
    assert sorted(p.name for p in built_package.iterdir()) == ["compute_market"]
    assert not list(built_package.rglob("*bench*"))


def test_the_package_build_carries_the_manifest(built_package, tmp_path):
    """``build_py`` (what a wheel holds) and the sdist both carry the manifest, byte for byte."""
    assert (built_package / MANIFEST_IN_PACKAGE).read_bytes() == manifest.MANIFEST_PATH.read_bytes()
    src = _source_copy(tmp_path)
    _setuptools(src, "sdist", "--dist-dir", str(tmp_path / "dist"))
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        assert any(n.endswith("/" + MANIFEST_IN_PACKAGE) for n in tar.getnames())
