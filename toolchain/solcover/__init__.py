"""Branch, statement and function coverage of the Solidity contracts, measured from execution traces.

Ape measures no Solidity coverage, so this package does it from the chain's side: while the test
suite runs, every transaction and call it sends is re-run through anvil's tracer (``collect``),
which records the program counters each contract executed and the way each conditional jump went.
The report (``report``) compiles the contracts again with source maps (``build``), identifies the
traced code, and maps it back to the source through the compiler's AST (``analysis``).

The collector is ``fast`` (anvil's native step logs and call trees, transactions traced on a
worker thread); ``collect`` is the original one (a JS tracer, several times slower), kept selectable
(``SOLCOVER_COLLECTOR=js bin/coverage``) to compare the two.

Run it with ``bin/coverage``; ``bin/coverage --fail-under 97`` (``python -m solcover --fail-under
97``) fails when less than 97% of the branches ran.
"""
