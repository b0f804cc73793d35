"""The workload manifest: what to run, on which inputs, with which resources, and what to return.

A manifest is a JSON document (``docs/workload-manifest.schema.json``, explained in
``docs/workloads.md``). `parse_manifest` validates it strictly: an unknown field, a path that is
absolute or climbs out with ``..``, a missing or malformed digest, a wrong type, each raises a
`ManifestError` whose one-line message names the field. `canonical_bytes` serializes a manifest
with sorted keys, no spaces, UTF-8 and every default filled in, and `workload_id` is the sha256 of
those bytes: the job's ``workload`` on chain and the manifest's address in a content store.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from compute_market.workloads.errors import ManifestError

SCHEMA_VERSION = 1
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]*@sha256:[0-9a-f]{64}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
URI_SCHEMES = ("file", "http", "https", "ipfs", "cas")
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class ProcessSpec:
    """Run ``entrypoint`` (an argv list) as a subprocess of the embedded process runner."""

    entrypoint: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    runner: Literal["process"] = "process"


@dataclass(frozen=True)
class ContainerSpec:
    """Run ``image`` (pinned by digest) with ``command`` under Docker or Podman."""

    image: str
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    runner: Literal["container"] = "container"


RunSpec = ProcessSpec | ContainerSpec


@dataclass(frozen=True)
class InputFile:
    """A file placed at ``path`` (relative to the scratch directory), fetched from ``uri``, checked by ``sha256``."""

    path: str
    sha256: str
    uri: str


@dataclass(frozen=True)
class Resources:
    """What the workload needs: GPUs, VRAM per GPU (GB), CPUs, memory (MB) and a wall-time limit (s)."""

    memory_mb: int
    time_limit_s: int
    gpus: int = 0
    vram_gb: int = 0
    cpus: int = 1


@dataclass(frozen=True)
class Outputs:
    """The files to return: relative paths, directories or globs inside the scratch directory, and a size cap."""

    paths: tuple[str, ...]
    max_output_bytes: int


@dataclass(frozen=True)
class Manifest:
    """A validated workload manifest (schema version 1)."""

    run: RunSpec
    resources: Resources
    outputs: Outputs
    deterministic: bool
    inputs: tuple[InputFile, ...] = ()
    name: str | None = None
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The manifest as plain JSON data, every default filled in (what `canonical_bytes` serializes)."""
        run: dict[str, Any]
        if isinstance(self.run, ProcessSpec):
            run = {"runner": "process", "entrypoint": list(self.run.entrypoint), "env": dict(self.run.env)}
        else:
            run = {
                "runner": "container",
                "image": self.run.image,
                "command": list(self.run.command),
                "env": dict(self.run.env),
            }
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "run": run,
            "inputs": [{"path": i.path, "sha256": i.sha256, "uri": i.uri} for i in self.inputs],
            "resources": {
                "gpus": self.resources.gpus,
                "vram_gb": self.resources.vram_gb,
                "cpus": self.resources.cpus,
                "memory_mb": self.resources.memory_mb,
                "time_limit_s": self.resources.time_limit_s,
            },
            "deterministic": self.deterministic,
            "outputs": {"paths": list(self.outputs.paths), "max_output_bytes": self.outputs.max_output_bytes},
        }
        if self.name is not None:
            out["name"] = self.name
        return out


def canonical_bytes(manifest: Manifest) -> bytes:
    """Sorted keys, no spaces, UTF-8 (non-ASCII kept as is): the bytes that are hashed and stored."""
    return json.dumps(manifest.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def workload_id(manifest: Manifest) -> bytes:
    """The job's ``workload`` (bytes32): sha256 of the manifest's canonical bytes."""
    return hashlib.sha256(canonical_bytes(manifest)).digest()


def load_manifest(data: bytes | str) -> Manifest:
    """Parses and validates a manifest document (any key order or spacing)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"manifest: not valid JSON ({exc})") from None
    return parse_manifest(doc)


def load_published(data: bytes, workload: bytes | str) -> Manifest:
    """Loads manifest bytes fetched for a job: their sha256 must be ``workload`` and they must be canonical.

    A canonical document is required so that anyone who parses the manifest and recomputes
    `workload_id` gets the job's ``workload`` back.
    """
    expected = workload.hex() if isinstance(workload, bytes) else workload.removeprefix("0x").lower()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ManifestError(f"manifest: sha256 {actual} does not match the job's workload {expected}")
    manifest = load_manifest(data)
    if canonical_bytes(manifest) != data:
        raise ManifestError("manifest: not in canonical form (sorted keys, no spaces, defaults filled in)")
    return manifest


def parse_manifest(doc: Any) -> Manifest:
    """Validates decoded JSON data and builds a `Manifest`."""
    top = _object(
        doc,
        "manifest",
        required={"schema_version", "run", "resources", "deterministic", "outputs"},
        optional={"inputs", "name"},
    )
    version = top["schema_version"]
    if not _is_int(version) or version != SCHEMA_VERSION:
        raise ManifestError(f"schema_version: unsupported version {version!r} (this library reads {SCHEMA_VERSION})")
    name = top.get("name")
    if name is not None:
        name = _string(name, "name")
    deterministic = top["deterministic"]
    if not isinstance(deterministic, bool):
        raise ManifestError("deterministic: must be true or false")
    inputs = _inputs(top.get("inputs", []))
    outputs = _outputs(top["outputs"])
    return Manifest(
        run=_run(top["run"]),
        resources=_resources(top["resources"]),
        outputs=outputs,
        deterministic=deterministic,
        inputs=inputs,
        name=name,
    )


def check_relative_path(path: str, where: str, *, glob: bool = False) -> str:
    """Refuses an absolute path, a ``..``, ``.`` or empty component, a backslash or (unless ``glob``) a glob."""
    if not path:
        raise ManifestError(f"{where}: empty path")
    if path.startswith("/"):
        raise ManifestError(f"{where}: absolute path {path!r} (paths are relative to the scratch directory)")
    if "\\" in path or "\x00" in path:
        raise ManifestError(f"{where}: backslash or NUL in path {path!r}")
    parts = path.split("/")
    if ".." in parts:
        raise ManifestError(f"{where}: path {path!r} escapes the scratch directory with '..'")
    if any(p in ("", ".") for p in parts):
        raise ManifestError(f"{where}: path {path!r} has an empty or '.' component")
    if not glob and GLOB_CHARS & set(path):
        raise ManifestError(f"{where}: glob characters in input path {path!r}")
    return path


def _run(doc: Any) -> RunSpec:
    kind = doc.get("runner") if isinstance(doc, dict) else None
    if kind == "process":
        obj = _object(doc, "run", required={"runner", "entrypoint"}, optional={"env"})
        argv = _string_list(obj["entrypoint"], "run.entrypoint")
        if not argv:
            raise ManifestError("run.entrypoint: must name a program (a non-empty argv list)")
        return ProcessSpec(entrypoint=argv, env=_env(obj.get("env", {})))
    if kind == "container":
        obj = _object(doc, "run", required={"runner", "image"}, optional={"command", "env"})
        image = _string(obj["image"], "run.image")
        if not IMAGE_RE.match(image):
            raise ManifestError(f"run.image: {image!r} is not pinned by digest (name@sha256:<64 hex digits>)")
        return ContainerSpec(
            image=image, command=_string_list(obj.get("command", []), "run.command"), env=_env(obj.get("env", {}))
        )
    if not isinstance(doc, dict):
        raise ManifestError("run: must be an object")
    raise ManifestError(f"run.runner: must be 'process' or 'container', not {kind!r}")


def _env(doc: Any) -> dict[str, str]:
    if not isinstance(doc, dict):
        raise ManifestError("run.env: must be an object of strings")
    for key, value in doc.items():
        if not ENV_NAME_RE.match(key):
            raise ManifestError(f"run.env: bad variable name {key!r}")
        if key == "PATH":
            raise ManifestError("run.env.PATH: set by the runner, not the manifest")
        _string(value, f"run.env.{key}", allow_empty=True)
    return dict(doc)


def _inputs(doc: Any) -> tuple[InputFile, ...]:
    if not isinstance(doc, list):
        raise ManifestError("inputs: must be a list")
    out: list[InputFile] = []
    for n, item in enumerate(doc):
        where = f"inputs[{n}]"
        obj = _object(item, where, required={"path", "sha256", "uri"})
        path = check_relative_path(_string(obj["path"], f"{where}.path"), f"{where}.path")
        digest = obj["sha256"]
        if not isinstance(digest, str) or not SHA256_RE.match(digest):
            raise ManifestError(f"{where}.sha256: must be 64 lowercase hex digits, not {digest!r}")
        uri = _string(obj["uri"], f"{where}.uri")
        scheme, sep, rest = uri.partition("://")
        if not sep or scheme not in URI_SCHEMES or not rest:
            raise ManifestError(f"{where}.uri: {uri!r} is not a {', '.join(s + '://' for s in URI_SCHEMES)} URI")
        if scheme == "cas" and rest != digest:
            raise ManifestError(f"{where}.uri: cas:// names {rest!r}, not the input's sha256")
        out.append(InputFile(path=path, sha256=digest, uri=uri))
    paths = sorted(i.path for i in out)
    for a, b in itertools.pairwise(paths):
        if a == b or b.startswith(a + "/"):
            raise ManifestError(f"inputs: paths {a!r} and {b!r} collide")
    return tuple(out)


def _resources(doc: Any) -> Resources:
    obj = _object(doc, "resources", required={"memory_mb", "time_limit_s"}, optional={"gpus", "vram_gb", "cpus"})
    values = {"gpus": 0, "vram_gb": 0, "cpus": 1, **obj}
    minimum = {"gpus": 0, "vram_gb": 0, "cpus": 1, "memory_mb": 1, "time_limit_s": 1}
    for key, low in minimum.items():
        value = values[key]
        if not _is_int(value) or value < low:
            raise ManifestError(f"resources.{key}: must be an integer >= {low}, not {value!r}")
    if values["vram_gb"] and not values["gpus"]:
        raise ManifestError("resources.vram_gb: VRAM asked without GPUs")
    return Resources(**values)


def _outputs(doc: Any) -> Outputs:
    obj = _object(doc, "outputs", required={"paths", "max_output_bytes"})
    paths = _string_list(obj["paths"], "outputs.paths")
    if not paths:
        raise ManifestError("outputs.paths: must declare at least one output")
    for n, path in enumerate(paths):
        check_relative_path(path, f"outputs.paths[{n}]", glob=True)
    cap = obj["max_output_bytes"]
    if not _is_int(cap) or cap < 1:
        raise ManifestError(f"outputs.max_output_bytes: must be an integer >= 1, not {cap!r}")
    return Outputs(paths=paths, max_output_bytes=cap)


def _object(
    doc: Any, where: str, *, required: set[str], optional: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ManifestError(f"{where}: must be an object")
    unknown = sorted(set(doc) - required - set(optional))
    if unknown:
        raise ManifestError(f"{_join(where, unknown[0])}: unknown field")
    missing = sorted(required - set(doc))
    if missing:
        raise ManifestError(f"{_join(where, missing[0])}: missing")
    return doc


def _join(where: str, key: str) -> str:
    return key if where == "manifest" else f"{where}.{key}"


def _string(value: Any, where: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not allow_empty):
        raise ManifestError(f"{where}: must be a non-empty string")
    return value


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ManifestError(f"{where}: must be a list of non-empty strings")
    return tuple(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
