"""The workload library (compute_market.workloads): manifests, content stores, runners, bundles and
re-execution. Pure Python, no chain. Fixtures are prefixed ``wl_`` (one scope per name in the suite)."""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import socket
import stat
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from compute_market.workloads import (
    ContainerRunner,
    FetchConfig,
    Host,
    HttpStore,
    InsufficientResources,
    LocalStore,
    ManifestError,
    ProcessRunner,
    RunStatus,
    StoreError,
    StoreServer,
    UnsupportedRunner,
    bundle,
    canonical_bytes,
    fetch,
    load_manifest,
    load_published,
    matches,
    network_isolation_prefix,
    parse_manifest,
    reexecute,
    runner_for,
    sha256_hex,
    workload_id,
)
from compute_market.workloads.errors import NotVerifiableError
from compute_market.workloads.examples import EXAMPLES_DIR, example_manifest, example_names, publish_example, refresh
from compute_market.workloads.manifest import ENV_NAME_RE, IMAGE_RE, SHA256_RE

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "workload-manifest.schema.json"
H = "ab" * 32  # a well-formed sha256
IMAGE = "example/matmul@sha256:" + "c" * 64


def base_doc():
    return {
        "schema_version": 1,
        "run": {"runner": "process", "entrypoint": ["python3", "main.py"], "env": {"SEED": "7"}},
        "inputs": [{"path": "main.py", "sha256": H, "uri": f"cas://{H}"}],
        "resources": {"memory_mb": 256, "time_limit_s": 10},
        "deterministic": True,
        "outputs": {"paths": ["out/*"], "max_output_bytes": 1000},
    }


def script_manifest(store, script, **changes):
    """A process manifest running ``script`` as main.py (stored in ``store``), with top-level changes."""
    digest = store.put(script.encode())
    doc = base_doc()
    doc["run"]["env"] = {}
    doc["inputs"] = [{"path": "main.py", "sha256": digest, "uri": f"cas://{digest}"}]
    doc["outputs"] = {"paths": ["out.txt"], "max_output_bytes": 1000}
    for key, value in changes.items():
        doc[key] = value
    return parse_manifest(doc)


@pytest.fixture
def wl_store(tmp_path):
    return LocalStore(tmp_path / "store")


@pytest.fixture
def wl_runner(tmp_path):
    return ProcessRunner(work_root=tmp_path / "runs")


@pytest.fixture
def wl_server(tmp_path):
    server = StoreServer(tmp_path / "served", max_bytes=10_000).start()
    yield server
    server.stop()


# --- manifest -----------------------------------------------------------------------------------


def _set(doc, dotted, value):
    *path, last = dotted.split(".")
    node = doc
    for key in path:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


BAD_MANIFESTS = [
    ("unknown top-level field", "colour", "blue", "colour: unknown field"),
    ("unknown nested field", "resources.disk_gb", 5, "resources.disk_gb: unknown field"),
    ("unknown input field", "inputs.0.mode", "0755", "inputs[0].mode: unknown field"),
    ("missing field", "deterministic", KeyError, "deterministic: missing"),
    ("missing resource", "resources.time_limit_s", KeyError, "resources.time_limit_s: missing"),
    ("absolute input path", "inputs.0.path", "/etc/passwd", "inputs[0].path: absolute path"),
    ("input escape", "inputs.0.path", "data/../../x", "inputs[0].path: path 'data/../../x' escapes"),
    ("output escape", "outputs.paths.0", "../*", "outputs.paths[0]: path '../*' escapes"),
    ("absolute output", "outputs.paths.0", "/tmp/x", "outputs.paths[0]: absolute path"),
    ("glob in input path", "inputs.0.path", "*.py", "inputs[0].path: glob characters"),
    ("missing digest", "inputs.0.sha256", KeyError, "inputs[0].sha256: missing"),
    ("short digest", "inputs.0.sha256", "abc", "inputs[0].sha256: must be 64 lowercase hex"),
    ("uppercase digest", "inputs.0.sha256", "AB" * 32, "inputs[0].sha256: must be 64 lowercase hex"),
    ("bad uri scheme", "inputs.0.uri", "ftp://host/x", "inputs[0].uri: 'ftp://host/x' is not a"),
    ("cas names another hash", "inputs.0.uri", "cas://" + "cd" * 32, "inputs[0].uri: cas:// names"),
    ("version", "schema_version", 2, "schema_version: unsupported version 2"),
    ("runner", "run.runner", "vm", "run.runner: must be 'process' or 'container'"),
    ("empty entrypoint", "run.entrypoint", [], "run.entrypoint: must name a program"),
    ("PATH in env", "run.env.PATH", "/bin", "run.env.PATH: set by the runner"),
    ("bad env name", "run.env.1X", "v", "run.env: bad variable name '1X'"),
    ("bool as integer", "resources.memory_mb", True, "resources.memory_mb: must be an integer >= 1"),
    ("float as integer", "resources.cpus", 1.5, "resources.cpus: must be an integer >= 1"),
    ("vram without gpus", "resources.vram_gb", 24, "resources.vram_gb: VRAM asked without GPUs"),
    ("no outputs", "outputs.paths", [], "outputs.paths: must declare at least one output"),
    ("zero output cap", "outputs.max_output_bytes", 0, "outputs.max_output_bytes: must be an integer >= 1"),
    ("deterministic not bool", "deterministic", "yes", "deterministic: must be true or false"),
]


@pytest.mark.parametrize(
    ("field", "value", "message"), [b[1:] for b in BAD_MANIFESTS], ids=[b[0] for b in BAD_MANIFESTS]
)
def test_manifest_rules(field, value, message):
    with pytest.raises(ManifestError) as err:
        parse_manifest(_set(base_doc(), field, value))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_manifest_rules_container_and_collisions():
    doc = base_doc()
    doc["run"] = {"runner": "container", "image": "python:3.11"}
    with pytest.raises(ManifestError, match=r"^run\.image: 'python:3.11' is not pinned by digest"):
        parse_manifest(doc)
    doc = base_doc()
    doc["inputs"].append({"path": "main.py/x", "sha256": H, "uri": "https://example.org/x"})
    with pytest.raises(ManifestError, match=r"^inputs: paths 'main.py' and 'main.py/x' collide"):
        parse_manifest(doc)
    with pytest.raises(ManifestError, match=r"^manifest: not valid JSON"):
        load_manifest(b"{not json")
    with pytest.raises(ManifestError, match=r"^manifest: must be an object"):
        load_manifest(b"[]")


def test_workload_id_is_stable_and_canonical():
    doc = base_doc()
    shuffled = json.dumps(dict(reversed(list(doc.items()))), indent=4).encode()
    a, b = parse_manifest(doc), load_manifest(shuffled)
    assert workload_id(a) == workload_id(b)
    assert len(workload_id(a)) == 32
    data = canonical_bytes(a)
    assert b" " not in data and load_manifest(data) == a and canonical_bytes(load_manifest(data)) == data
    assert json.loads(data)["resources"] == {"gpus": 0, "vram_gb": 0, "cpus": 1, "memory_mb": 256, "time_limit_s": 10}
    # A golden value: a change of the canonical form changes every job's workload; do it on purpose.
    assert workload_id(a).hex() == sha256_hex(data) == GOLDEN_ID
    changed = copy.deepcopy(doc)
    changed["run"]["env"]["SEED"] = "8"
    assert workload_id(parse_manifest(changed)) != workload_id(a)


GOLDEN_ID = "a7fc8db32dd66f336f26569326c0cbfeaf894acb5cce534278667e9bfd4246d8"


def test_load_published_checks_hash_and_form():
    manifest = parse_manifest(base_doc())
    data = canonical_bytes(manifest)
    assert load_published(data, workload_id(manifest)) == manifest
    assert load_published(data, "0x" + workload_id(manifest).hex()) == manifest
    with pytest.raises(ManifestError, match="does not match the job's workload"):
        load_published(data, b"\x00" * 32)
    pretty = json.dumps(base_doc()).encode()
    with pytest.raises(ManifestError, match="not in canonical form"):
        load_published(pretty, sha256_hex(pretty))


def test_schema_document_agrees_with_the_loader():
    schema = json.loads(SCHEMA.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == {"schema_version", "run", "resources", "deterministic", "outputs"}
    assert set(schema["properties"]) == {
        "schema_version",
        "name",
        "run",
        "inputs",
        "resources",
        "deterministic",
        "outputs",
    }
    defs = schema["$defs"]
    assert defs["sha256"]["pattern"] == SHA256_RE.pattern
    assert defs["containerRun"]["properties"]["image"]["pattern"] == IMAGE_RE.pattern
    assert defs["env"]["propertyNames"]["pattern"] == ENV_NAME_RE.pattern
    assert set(schema["properties"]["resources"]["properties"]) == {
        "gpus",
        "vram_gb",
        "cpus",
        "memory_mb",
        "time_limit_s",
    }
    assert set(defs["input"]["required"]) == {"path", "sha256", "uri"}
    bad_path = re.compile(defs["relativePath"]["not"]["pattern"])
    for path in ["/abs", "a/../b", "..", "./a", "a//b", "a/", "a\\b"]:
        assert bad_path.search(path), path
        with pytest.raises(ManifestError):
            parse_manifest(_set(base_doc(), "outputs.paths.0", path))
    for path in ["a", "out/*.npy", "a/b.c", "..a/b", "**/x"]:
        assert not bad_path.search(path), path
        parse_manifest(_set(base_doc(), "outputs.paths.0", path))
    for name in example_names():  # the examples validate (jsonschema is not installed: field sets checked above)
        assert set(json.loads((EXAMPLES_DIR / name / "manifest.json").read_text())) <= set(schema["properties"])


# --- stores and fetch ---------------------------------------------------------------------------


def test_local_store_put_get(wl_store):
    digest = wl_store.put(b"hello")
    assert digest == sha256_hex(b"hello") and wl_store.put(b"hello") == digest
    assert wl_store.get(digest) == b"hello" and wl_store.get("0x" + digest.upper()) == b"hello"
    assert sorted(p.name for p in wl_store.root.iterdir()) == [digest]  # named by hash, no temporary left
    with pytest.raises(StoreError, match="not in the store"):
        wl_store.get("00" * 32)
    wl_store.path(digest).write_bytes(b"tampered")
    with pytest.raises(StoreError, match="sha256 mismatch"):
        wl_store.get(digest)
    with pytest.raises(StoreError, match="not a sha256"):
        wl_store.get("../etc/passwd")
    small = LocalStore(wl_store.root, max_bytes=3)
    with pytest.raises(StoreError, match="above the store's limit"):
        small.put(b"four")


def test_fetch_checks_every_source(tmp_path, wl_store, wl_server):
    data = b"input bytes"
    digest = sha256_hex(data)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    wl_store.put(data)
    HttpStore(wl_server.url).put(data)
    cfg = FetchConfig(cas=wl_store, ipfs_gateway=wl_server.url, timeout_s=5)
    assert fetch(path.as_uri(), digest, cfg) == data
    assert fetch(f"cas://{digest}", digest, cfg) == data
    assert fetch(wl_server.url + digest, digest, cfg) == data
    assert fetch(f"ipfs://{digest}", digest, cfg) == data  # through the configured gateway
    wrong = "0" * 64
    for uri in (path.as_uri(), wl_server.url + digest, f"ipfs://{digest}"):
        with pytest.raises(StoreError, match="sha256 mismatch"):
            fetch(uri, wrong, cfg)
    with pytest.raises(StoreError, match="names another object"):
        fetch(f"cas://{digest}", wrong, cfg)
    with pytest.raises(StoreError, match="no content store"):
        fetch(f"cas://{digest}", digest, FetchConfig())
    with pytest.raises(StoreError, match="unsupported scheme"):
        fetch("gopher://x", digest, cfg)


def test_fetch_refuses_unreachable_and_oversize(tmp_path, wl_store, wl_server):
    with pytest.raises(StoreError, match="unreachable"):
        fetch((tmp_path / "missing").as_uri(), "0" * 64)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(StoreError, match="unreachable"):
        fetch(f"http://127.0.0.1:{closed}/{'0' * 64}", "0" * 64, FetchConfig(timeout_s=5))
    with pytest.raises(StoreError, match="HTTP 404"):
        fetch(wl_server.url + "1" * 64, "1" * 64, FetchConfig(timeout_s=5))
    big = b"x" * 5000
    digest = sha256_hex(big)
    (tmp_path / "big").write_bytes(big)
    wl_store.put(big)
    HttpStore(wl_server.url).put(big)
    cfg = FetchConfig(cas=wl_store, max_bytes=4096, timeout_s=5)
    for uri in ((tmp_path / "big").as_uri(), wl_server.url + digest, f"cas://{digest}"):
        with pytest.raises(StoreError, match="above the limit"):
            fetch(uri, digest, cfg)


def test_http_store_round_trip(wl_server):
    client = HttpStore(wl_server.url, timeout_s=5)
    digest = client.put(b"result bundle")
    assert client.get(digest) == b"result bundle"
    assert wl_server.store.get(digest) == b"result bundle"  # the server's folder, named by hash
    assert client.put(b"result bundle") == digest  # idempotent
    head = urllib.request.Request(client.url(digest), method="HEAD")
    with urllib.request.urlopen(head, timeout=5) as response:
        assert response.status == 200 and response.headers["Content-Length"] == "13"
    lie = urllib.request.Request(wl_server.url + "0" * 64, data=b"not that", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(lie, timeout=5)
    assert err.value.code == 400
    with pytest.raises(StoreError, match="HTTP 413"):
        client.put(b"y" * 20_000)  # the server's limit is 10,000 bytes
    with pytest.raises(StoreError, match="HTTP 404"):
        client.get("2" * 64)


# --- bundles ------------------------------------------------------------------------------------


def test_bundle_is_deterministic_and_read_safely(tmp_path):
    files = {"b/two.txt": b"2", "a.txt": b"1", "é.txt": "ü".encode()}
    packed = bundle.pack(files)
    assert packed == bundle.pack(dict(reversed(list(files.items()))))
    assert bundle.read(packed) == files
    written = bundle.unpack(packed, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == sorted(files)
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        info = tarfile.TarInfo("../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(StoreError, match="escapes"):
        bundle.read(evil.getvalue())
    with pytest.raises(StoreError, match="not a tar"):
        bundle.read(b"garbage" * 100)


# --- examples and re-execution ------------------------------------------------------------------

HONEST = ["matmul", "train_step", "render_tile"]


def test_example_manifests_are_fresh(tmp_path):
    shutil.copytree(EXAMPLES_DIR, tmp_path / "examples")
    assert {*HONEST, "faulty_matmul", "too_slow"} <= set(example_names())
    for name in example_names():
        example_manifest(name)
        assert refresh(name, tmp_path / "examples") is False, f"{name}: run python -m compute_market.workloads.examples"


@pytest.mark.parametrize("name", HONEST)
def test_example_runs_deterministically(name, wl_store, wl_runner):
    manifest, workload = publish_example(name, wl_store)
    assert workload == workload_id(manifest).hex()
    assert load_published(wl_store.get(workload), workload) == manifest  # what a provider fetches
    cfg = FetchConfig(cas=wl_store)
    first, second = wl_runner.run(manifest, cfg), wl_runner.run(manifest, cfg)
    assert first.status is RunStatus.OK, first.stderr_tail
    assert first.bundle_sha256 == second.bundle_sha256 == sha256_hex(first.bundle)
    assert first.exit_code == 0 and first.cpu_seconds is not None and first.wall_seconds > 0
    files = bundle.read(first.bundle)
    assert list(files) == list(first.files)
    if name == "matmul":
        assert json.loads(files["out/checksum.json"])["n"] == 60
    if name == "render_tile":
        assert files["tile.ppm"].startswith(b"P6\n64 48\n255\n") and len(files["tile.ppm"]) == 13 + 64 * 48 * 3
    if name == "train_step":
        assert set(files) == {"out/weights.json", "out/loss.csv"}  # the glob out/*


def test_reexecution_catches_the_faulty_example(wl_store, wl_runner):
    honest, _ = publish_example("matmul", wl_store)
    faulty, _ = publish_example("faulty_matmul", wl_store)
    cfg = FetchConfig(cas=wl_store)
    submitted_by_cheat = wl_runner.run(faulty, cfg)
    assert submitted_by_cheat.ok
    host = Host(runners={"process": wl_runner})
    verdict = reexecute(honest, wl_store, host)
    assert verdict.ok and submitted_by_cheat.bundle_sha256 != verdict.bundle_sha256
    assert not matches(verdict, submitted_by_cheat.bundle_sha256)
    assert matches(verdict, bytes.fromhex(verdict.bundle_sha256))
    assert matches(verdict, "0x" + verdict.bundle_sha256)
    assert not matches(verdict, "not a hash")
    nondeterministic = parse_manifest({**json.loads(canonical_bytes(honest)), "deterministic": False})
    with pytest.raises(NotVerifiableError, match=r"^deterministic: "):
        reexecute(nondeterministic, wl_store, host)


def test_slow_example_times_out(wl_store, wl_runner):
    manifest, _ = publish_example("too_slow", wl_store)
    result = wl_runner.run(manifest, FetchConfig(cas=wl_store))
    assert result.status is RunStatus.TIMEOUT and result.bundle is None and result.bundle_sha256 is None
    assert result.exit_code is None and "time limit of 1 s" in result.detail
    assert not matches(result, "0" * 64)
    assert json.loads(json.dumps(result.to_dict()))["status"] == "timeout"


# --- runner limits and refusals -----------------------------------------------------------------


def _run(store, runner, script, **changes):
    result = runner.run(script_manifest(store, script, **changes), FetchConfig(cas=store))
    if result.status is not RunStatus.OK:
        assert result.bundle is None and result.bundle_sha256 is None and result.files == ()
    return result


def test_nonzero_exit_fails(wl_store, wl_runner):
    result = _run(wl_store, wl_runner, "open('out.txt', 'w').write('partial')\nraise SystemExit(3)")
    assert result.status is RunStatus.FAILED and result.exit_code == 3 and result.detail == "exited with 3"
    missing = _run(wl_store, wl_runner, "print('hi')", run={"runner": "process", "entrypoint": ["no-such-program"]})
    assert missing.status is RunStatus.FAILED and missing.exit_code == 127


def test_memory_limit(wl_store, wl_runner):
    result = _run(wl_store, wl_runner, "block = bytearray(2 * 10**9)\nopen('out.txt', 'w').write('x')")
    assert result.status is RunStatus.OUT_OF_MEMORY and "memory limit of 256 MB" in result.detail
    assert "MemoryError" in result.stderr_tail


OUTPUT_FAULTS = [
    ("symlink out", "import os\nos.symlink('/etc/hostname', 'out.txt')", "points outside the scratch directory"),
    ("symlinked dir", "import os\nos.symlink('/etc', 'out')", "points outside the scratch directory"),
    ("oversize", "open('out.txt', 'w').write('x' * 1001)", "exceed max_output_bytes (1000)"),
    ("missing", "open('other.txt', 'w').write('x')", "declared output 'out.txt' is missing"),
    ("fifo", "import os\nos.mkfifo('out.txt')", "is not a regular file"),
]


@pytest.mark.parametrize(("script", "message"), [f[1:] for f in OUTPUT_FAULTS], ids=[f[0] for f in OUTPUT_FAULTS])
def test_bad_outputs(wl_store, wl_runner, script, message):
    outputs = {"paths": ["out.txt", "out"] if "'out'" in script else ["out.txt"], "max_output_bytes": 1000}
    if "'out'" in script:
        script += "\nopen('out.txt', 'w').write('x')"
    result = _run(wl_store, wl_runner, script, outputs=outputs)
    assert result.status is RunStatus.BAD_OUTPUT and result.exit_code == 0
    assert message in result.detail


def test_outputs_directories_globs_and_inner_links(wl_store, wl_runner):
    script = (
        "import os\nos.makedirs('res/deep')\nopen('res/a.txt', 'w').write('a')\n"
        "open('res/deep/b.txt', 'w').write('b')\nos.symlink('res/a.txt', 'link.txt')\nopen('x.log', 'w').write('l')"
    )
    result = _run(wl_store, wl_runner, script, outputs={"paths": ["res", "*.txt", "**/b.txt"], "max_output_bytes": 100})
    assert result.ok, result.detail
    assert bundle.read(result.bundle) == {"link.txt": b"a", "res/a.txt": b"a", "res/deep/b.txt": b"b"}


def test_bad_input_raises_before_running(tmp_path, wl_store, wl_runner):
    manifest = script_manifest(wl_store, "open('/tmp/should-not-run', 'w')")
    wl_store.path(manifest.inputs[0].sha256).write_bytes(b"swapped")
    with pytest.raises(StoreError, match="sha256 mismatch"):
        wl_runner.run(manifest, FetchConfig(cas=wl_store))
    assert not list((tmp_path / "runs").iterdir())  # scratch removed


def test_environment_is_reduced(monkeypatch, wl_store, wl_runner):
    monkeypatch.setenv("WL_SECRET", "do-not-leak")
    script = "import json, os\nopen('out.txt', 'w').write(json.dumps(sorted(os.environ)))"
    result = _run(
        wl_store,
        wl_runner,
        script,
        run={"runner": "process", "entrypoint": ["python3", "main.py"], "env": {"SEED": "7"}},
    )
    names = set(json.loads(bundle.read(result.bundle)["out.txt"]))
    assert {"PATH", "SEED"} <= names and "WL_SECRET" not in names and "HOME" not in names
    assert names <= {"PATH", "SEED", "LC_CTYPE"}  # Python itself sets LC_CTYPE under the C locale


def test_network_isolation(wl_store, wl_runner, wl_server):
    """Where `unshare` can make a network namespace (it can on these machines) a run reaches no
    server; where it cannot, the runner says so in every result rather than claiming isolation."""
    port = int(wl_server.url.rsplit(":", 1)[1].strip("/"))
    script = (
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    r = 'reached'\n"
        "except OSError as e:\n    r = 'blocked'\nopen('out.txt', 'w').write(r)"
    )
    result = _run(wl_store, wl_runner, script)
    isolated = network_isolation_prefix() is not None
    assert result.ok and result.network_isolated == isolated
    assert bundle.read(result.bundle)["out.txt"] == (b"blocked" if isolated else b"reached")
    open_runner = ProcessRunner(work_root=wl_runner.work_root, isolate_network=False)
    reached = _run(wl_store, open_runner, script)
    assert not reached.network_isolated and bundle.read(reached.bundle)["out.txt"] == b"reached"


def test_runner_for_refuses_what_the_host_lacks(wl_runner):
    host = Host(runners={"process": wl_runner}, cpus=2, memory_mb=4096)
    process = parse_manifest(base_doc())
    assert runner_for(process, host) is wl_runner
    container = parse_manifest({**base_doc(), "run": {"runner": "container", "image": IMAGE}})
    with pytest.raises(UnsupportedRunner, match=r"^run\.runner: this host has no container runner \(it has: process\)"):
        runner_for(container, host)
    with pytest.raises(UnsupportedRunner, match="container' manifest given to the process runner"):
        wl_runner.run(container)
    gpu = parse_manifest(_set(_set(base_doc(), "resources.gpus", 1), "resources.vram_gb", 24))
    with pytest.raises(InsufficientResources, match=r"^resources\.gpus: asks 1, this host has 0"):
        runner_for(gpu, host)
    with pytest.raises(InsufficientResources, match=r"^resources\.memory_mb"):
        runner_for(parse_manifest(_set(base_doc(), "resources.memory_mb", 10**6)), host)
    detected = Host.detect(probe_containers=False)
    assert "process" in detected.runners and detected.cpus >= 1 and "process" in detected.describe()


# --- container runner ---------------------------------------------------------------------------


def _container_manifest(gpus=0):
    doc = base_doc()
    doc["run"] = {"runner": "container", "image": IMAGE, "command": ["python3", "main.py"], "env": {"SEED": "7"}}
    doc["resources"] = {"gpus": gpus, "vram_gb": 24 if gpus else 0, "cpus": 2, "memory_mb": 512, "time_limit_s": 10}
    return parse_manifest(doc)


def test_container_command_construction(tmp_path):
    docker = ContainerRunner("docker", gpus_present=True).command(_container_manifest(gpus=1), tmp_path, "cm-x")
    text = " ".join(docker)
    for part in [
        "docker run --rm --name cm-x",
        "--network none",
        "--read-only",
        "--memory 512m",
        "--memory-swap 512m",
        "--cpus 2",
        "--cap-drop ALL",
        "--security-opt no-new-privileges",
        f"--volume {tmp_path}:/work:rw",
        "--workdir /work",
        "--env SEED=7",
        "--gpus all",
        f"--user {os.getuid()}:{os.getgid()}",
    ]:
        assert part in text, part
    assert docker[-3:] == [IMAGE, "python3", "main.py"]
    no_gpu_host = ContainerRunner("docker", gpus_present=False, pull=False).command(
        _container_manifest(1), tmp_path, "n"
    )
    assert "--gpus" not in no_gpu_host and "--pull never" in " ".join(no_gpu_host)
    cpu_only = ContainerRunner("docker", gpus_present=True).command(_container_manifest(0), tmp_path, "n")
    assert "--gpus" not in cpu_only
    podman = " ".join(
        ContainerRunner("/usr/bin/podman", gpus_present=True).command(_container_manifest(1), tmp_path, "n")
    )
    assert "--device nvidia.com/gpu=all" in podman and "--userns keep-id" in podman and "--gpus" not in podman


FAKE_ENGINE = """#!{python}
# A stand-in for `docker` in tests: no engine runs containers on this machine (docs/workloads.md).
# `run`: runs the command on the host in the --volume source directory, with the --env variables.
# `kill NAME`: records the name.
import os, sys
args = sys.argv[1:]
if args[0] == "kill":
    with open(os.environ["WL_FAKE_ENGINE_LOG"], "a") as f:
        f.write("kill " + args[1] + "\\n")
    sys.exit(0)
valued = {{"--name", "--network", "--tmpfs", "--memory", "--memory-swap", "--cpus", "--pids-limit", "--cap-drop",
          "--security-opt", "--user", "--userns", "--volume", "--workdir", "--env", "--gpus", "--device", "--pull"}}
env, i, volume = {{"PATH": os.environ["PATH"]}}, 1, None
while args[i].startswith("--"):
    if args[i] in valued:
        if args[i] == "--volume":
            volume = args[i + 1].split(":")[0]
        if args[i] == "--env":
            key, value = args[i + 1].split("=", 1)
            env[key] = value
        i += 2
    else:
        i += 1
os.chdir(volume)
os.execvpe(args[i + 1], args[i + 1 :], env)
"""


def test_container_runner_flow_with_a_stand_in_engine(tmp_path, monkeypatch, wl_store, wl_runner):
    engine = tmp_path / "bin" / "docker"
    engine.parent.mkdir()
    engine.write_text(FAKE_ENGINE.format(python=sys.executable))
    engine.chmod(engine.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "engine.log"
    monkeypatch.setenv("WL_FAKE_ENGINE_LOG", str(log))
    runner = ContainerRunner(str(engine), work_root=tmp_path / "cruns")
    honest, _ = publish_example("matmul", wl_store)
    doc = json.loads(canonical_bytes(honest))
    doc["run"] = {"runner": "container", "image": IMAGE, "command": doc["run"]["entrypoint"], "env": doc["run"]["env"]}
    as_container = parse_manifest(doc)
    cfg = FetchConfig(cas=wl_store)
    in_container, on_host = runner.run(as_container, cfg), wl_runner.run(honest, cfg)
    assert in_container.ok and in_container.runner == "container" and in_container.cpu_seconds is None
    assert in_container.bundle_sha256 == on_host.bundle_sha256  # the bundle does not depend on the runner
    slow, _ = publish_example("too_slow", wl_store)
    doc = json.loads(canonical_bytes(slow))
    doc["run"] = {"runner": "container", "image": IMAGE, "command": doc["run"]["entrypoint"]}
    timed_out = runner.run(parse_manifest(doc), cfg)
    assert timed_out.status is RunStatus.TIMEOUT and timed_out.bundle is None
    assert log.read_text().startswith("kill cm-")  # the container is killed by name, not only the client
