"""Python side of the compute market: deployment records, units, and the client."""

__version__ = "0.1.0"
