"""The engine's hex fast path (`HexLayout`: calldata, return data and logs read and written as
hex, `string`/`bytes` and tuples holding them included) against `eth_abi`: the same hex, the
same decoded values, and what it refuses goes to `eth_abi`."""

from __future__ import annotations

import random

import pytest
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from utils.helpers import random_word_value

from compute_market.fastsim.abi import Codec, HexLayout, normalize

WORDS = ["uint256", "uint128", "uint32", "uint8", "int256", "int24", "address", "bool", "bytes32", "bytes4"]
DYNAMIC = ["string", "bytes"]


def _type(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if roll < 0.15 and depth < 2:
        return "(" + ",".join(_type(rng, depth + 1) for _ in range(rng.randint(1, 4))) + ")"
    if roll < 0.3:
        return rng.choice(DYNAMIC)
    return rng.choice(WORDS)


def _value(kind: str, rng: random.Random) -> object:
    if kind.startswith("("):
        depth, start, members = 0, 1, []
        for i, ch in enumerate(kind):
            depth += ch == "("
            depth -= ch == ")"
            if (ch == "," and depth == 1) or i == len(kind) - 1:
                members.append(kind[start:i])
                start = i + 1
        return tuple(_value(m, rng) for m in members)
    if kind == "string":
        return rng.choice(["", "fastsim://7", "é" * rng.randint(0, 40), "x" * rng.randint(0, 100)])
    if kind == "bytes":
        return rng.randbytes(rng.randint(0, 70))
    return random_word_value(kind, rng)


def test_hex_layouts_match_eth_abi():
    rng = random.Random(2)
    for _ in range(500):
        types = [_type(rng) for _ in range(rng.randint(1, 5))]
        values = [_value(t, rng) for t in types]
        layout = HexLayout.of(types)
        assert layout is not None
        data = encode(types, values)
        assert layout.write(values) == data.hex()
        assert layout.read(data.hex()) == [normalize(v) for v in decode(types, data)]


def test_arrays_are_left_to_eth_abi():
    assert HexLayout.of(["uint256[]"]) is None
    assert HexLayout.of(["(uint256,address[])"]) is None
    assert HexLayout.of(["string", "uint8"]) is not None


def test_refusals():
    layout = HexLayout.of(["uint8", "address", "string"])
    assert layout is not None
    for bad in (
        [256, "0x" + "00" * 20, ""],
        [1, "0x" + "AB" * 20, ""],
        [1, "0x" + "0g" * 20, ""],
        [1, "0x" + "00" * 20, b""],
    ):
        with pytest.raises(ValueError):
            layout.write(bad)
    good = encode(["uint8", "address", "string"], [1, "0x" + "00" * 20, "hi"]).hex()
    with pytest.raises(ValueError):  # non-zero padding after the string's bytes
        layout.read(good[:-1] + "1")
    with pytest.raises(ValueError):  # a uint8 word out of range
        layout.read("1" + good[1:])


JOB_ABI = [
    {
        "type": "function",
        "name": "postJob",
        "stateMutability": "nonpayable",
        "inputs": [
            {
                "name": "spec",
                "type": "tuple",
                "components": [
                    {"name": "gpuModel", "type": "bytes32"},
                    {"name": "gpuCount", "type": "uint32"},
                    {"name": "region", "type": "bytes32"},
                    {"name": "maxPrice", "type": "uint128"},
                    {"name": "kind", "type": "uint8"},
                    {"name": "verification", "type": "bool"},
                    {"name": "workload", "type": "bytes32"},
                    {"name": "manifestURI", "type": "string"},
                ],
            }
        ],
        "outputs": [{"name": "jobId", "type": "uint256"}],
    },
    {
        "type": "event",
        "name": "JobPosted",
        "anonymous": False,
        "inputs": [
            {"name": "jobId", "type": "uint256", "indexed": True},
            {"name": "customer", "type": "address", "indexed": True},
            {"name": "gpuModel", "type": "bytes32", "indexed": True},
            {"name": "gpuCount", "type": "uint32", "indexed": False},
            {"name": "workload", "type": "bytes32", "indexed": False},
            {"name": "manifestURI", "type": "string", "indexed": False},
        ],
    },
]


def test_dynamic_calls_and_logs_match_eth_abi():
    codec = Codec(JOB_ABI)
    spec = (b"H100".ljust(32, b"\0"), 2, b"", 10**18, 1, False, b"\0" * 32, "")
    types = ["(bytes32,uint32,bytes32,uint128,uint8,bool,bytes32,string)"]
    selector = keccak(text=f"postJob({types[0]})")[:4]
    assert codec.fn("postJob").calldata(spec) == "0x" + (selector + encode(types, [spec])).hex()
    assert codec.fn("postJob").hex_in is not None
    customer = "0x" + "ab" * 20
    event = codec.events["0x" + keccak(text="JobPosted(uint256,address,bytes32,uint32,bytes32,string)").hex()]
    topics = [event.topic, "0x" + encode(["uint256"], [9]).hex(), "0x" + encode(["address"], [customer]).hex()]
    topics.append("0x" + spec[0].hex())
    data = "0x" + encode(["uint32", "bytes32", "string"], [2, b"\1" * 32, "ipfs://x"]).hex()
    assert event.decode(topics, data) == {
        "jobId": 9,
        "customer": customer,
        "gpuModel": spec[0],
        "gpuCount": 2,
        "workload": b"\1" * 32,
        "manifestURI": "ipfs://x",
    }
    assert codec.fn("postJob").decode_output("0x" + encode(["uint256"], [5]).hex()) == [5]
    # what the fast path refuses (here a string where bytes32 goes) is eth_abi's to refuse
    with pytest.raises(Exception):  # noqa: B017 (eth_abi's own encoding error)
        codec.fn("postJob").calldata(("H100", *spec[1:]))


def test_checksummed_addresses_go_to_eth_abi():
    abi = [
        {
            "type": "function",
            "name": "note",
            "stateMutability": "nonpayable",
            "inputs": [{"name": "who", "type": "address"}, {"name": "text", "type": "string"}],
            "outputs": [],
        }
    ]
    who = to_checksum_address("0x" + "ab" * 20)
    expected = keccak(text="note(address,string)")[:4] + encode(["address", "string"], [who, "hi"])
    assert Codec(abi).fn("note").calldata(who, "hi") == "0x" + expected.hex()
