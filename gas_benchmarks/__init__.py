"""The gas benchmark's scenarios (`ape run gas`, `scripts/gas.py`): fixed plays of every
contract on a local chain, measured from receipts. Kept out of the `compute_market` package, so
the SDK ships no benchmark code. `ape run` puts the project's root on the import path while a
script runs, and the tests add it (`pythonpath` in pyproject.toml). The name is one no installed
package takes (a dependency installs a top-level `benchmarks`)."""
