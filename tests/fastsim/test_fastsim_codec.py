"""The engine's fast ABI path (static types packed and unpacked word by word) against
`eth_abi`: the same calldata, the same decoded values and logs, the same refusals."""

from __future__ import annotations

import random

import pytest
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from utils.helpers import random_word_value

from compute_market.fastsim.abi import Codec, StaticLayout, decode_words, encode_words, normalize

TYPES = ["uint256", "uint64", "uint8", "int256", "int24", "address", "bool", "bytes32", "bytes4"]


def test_static_layouts_match_eth_abi():
    rng = random.Random(1)
    for _ in range(300):
        types = [rng.choice(TYPES) for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.3:  # a static tuple among them
            types.append("(" + ",".join(rng.choice(TYPES) for _ in range(3)) + ")")
        values = [
            [random_word_value(k, rng) for k in t[1:-1].split(",")] if t.startswith("(") else random_word_value(t, rng)
            for t in types
        ]
        layout = StaticLayout.of(types)
        assert layout is not None
        eth_values = [tuple(v) if isinstance(v, list) else v for v in values]
        data = encode(types, eth_values)
        assert encode_words(types, values, layout) == data
        assert decode_words(types, data, layout) == [normalize(v) for v in decode(types, data)]


def test_dynamic_types_use_eth_abi():
    assert StaticLayout.of(["uint256", "string"]) is None
    assert StaticLayout.of(["(uint256,bytes)"]) is None
    assert StaticLayout.of(["uint256[]"]) is None
    types = ["uint256", "bytes32", "string"]
    values = [7, b"\x01" * 32, "fastsim://7"]
    assert encode_words(types, values, None) == encode(types, values)


def test_what_the_fast_path_refuses_goes_to_eth_abi():
    layout = StaticLayout.of(["uint8", "address"])
    checksummed = to_checksum_address("0x" + "ab" * 20)
    # a checksummed address: eth_abi encodes it as it always did
    assert encode_words(["uint8", "address"], [3, checksummed], layout) == encode(
        ["uint8", "address"], [3, checksummed]
    )
    for bad in ([256, "0x" + "00" * 20], [-1, "0x" + "00" * 20], [1, "0xABC"], [True, "0x" + "00" * 20]):
        with pytest.raises(Exception):  # noqa: B017 (eth_abi's own encoding errors)
            encode_words(["uint8", "address"], bad, layout)
    with pytest.raises(ValueError):  # a word out of its type's range does not decode
        decode_words(["uint8"], (256).to_bytes(32, "big"), StaticLayout.of(["uint8"]))
    with pytest.raises(ValueError):
        decode_words(["bool"], (2).to_bytes(32, "big"), StaticLayout.of(["bool"]))


def test_event_and_call_decoding_match_eth_abi():
    abi = [
        {
            "type": "event",
            "name": "BidRevealed",
            "anonymous": False,
            "inputs": [
                {"name": "jobId", "type": "uint256", "indexed": True},
                {"name": "provider", "type": "address", "indexed": True},
                {"name": "pricePerGpuHour", "type": "uint256", "indexed": False},
                {"name": "isBest", "type": "bool", "indexed": False},
            ],
        },
        {
            "type": "event",
            "name": "Note",
            "anonymous": False,
            "inputs": [
                {"name": "tag", "type": "string", "indexed": True},
                {"name": "text", "type": "string", "indexed": False},
                {"name": "n", "type": "uint8", "indexed": False},
            ],
        },
        {
            "type": "function",
            "name": "placeBid",
            "stateMutability": "nonpayable",
            "inputs": [{"name": "jobId", "type": "uint256"}, {"name": "price", "type": "uint256"}],
            "outputs": [],
        },
        {
            "type": "function",
            "name": "getThing",
            "stateMutability": "view",
            "inputs": [],
            "outputs": [{"name": "", "type": "(address,uint64,bool)"}],
        },
    ]
    codec = Codec(abi)
    provider = "0x" + "12" * 20
    bid = codec.events["0x" + keccak(text="BidRevealed(uint256,address,uint256,bool)").hex()]
    topics = ["0x00", "0x" + encode(["uint256"], [42]).hex(), "0x" + encode(["address"], [provider]).hex()]
    assert bid.decode(topics, "0x" + encode(["uint256", "bool"], [10**18, True]).hex()) == {
        "jobId": 42,
        "provider": provider,
        "pricePerGpuHour": 10**18,
        "isBest": True,
    }
    note = codec.events["0x" + keccak(text="Note(string,string,uint8)").hex()]
    tag = keccak(text="t")
    decoded = note.decode(["0x00", "0x" + tag.hex()], "0x" + encode(["string", "uint8"], ["hello", 3]).hex())
    assert decoded == {"tag": tag, "text": "hello", "n": 3}
    assert (
        codec.fn("placeBid").calldata(5, 7)
        == "0x" + (keccak(text="placeBid(uint256,uint256)")[:4] + encode(["uint256", "uint256"], [5, 7])).hex()
    )
    out = "0x" + encode(["(address,uint64,bool)"], [(provider, 9, False)]).hex()
    assert codec.fn("getThing").decode_output(out) == [[provider, 9, False]]


def test_commitment_for_is_abi_encode():
    from compute_market.commitments import commitment_for

    rng = random.Random(3)
    for _ in range(50):
        job, bidder, price, salt = (
            rng.getrandbits(64),
            "0x" + rng.randbytes(20).hex(),
            rng.getrandbits(100),
            rng.randbytes(32),
        )
        expected = keccak(encode(["uint256", "address", "uint256", "bytes32"], [job, bidder, price, salt]))
        assert commitment_for(job, bidder, price, salt) == expected
