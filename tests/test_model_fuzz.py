"""Hostile model files: :func:`neuroplug.load` returns a valid network or raises ModelFileError.

Every example below is a corrupted, fuzzed or crafted model file. The only two
accepted outcomes of loading it are

* a :class:`~neuroplug.Sequential` whose weights are finite and are exactly the
  arrays the file declares, for exactly the architecture the file declares; or
* :class:`~neuroplug.errors.ModelFileError` itself (no other exception, no
  warning: pytest runs with ``filterwarnings = error``).

The hypothesis tests are derandomized and use no example database, so every run
tries the same examples. ``OUTCOMES`` counts the outcomes per class of corruption.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import pickle
import struct
import tracemalloc
import warnings
import zipfile
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuroplug as npl
from neuroplug.errors import ModelFileError
from neuroplug.registry import get_registry
from neuroplug.serialization import SafeArchive

#: (class of corruption, "loaded" or "error") -> number of files tried
OUTCOMES: Counter = Counter()
#: class of corruption -> the ModelFileError messages it produced (to see which checks fired)
MESSAGES: dict[str, list[str]] = {}

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------------- building files
def _net() -> npl.Sequential:
    return npl.Sequential(
        [npl.Dense(3, activation=npl.create("activation", "leaky_relu", alpha=0.2), init="he_uniform",
                   bias_init="normal"),
         npl.Dense(2, activation="softmax", init="xavier", use_bias=False)],
        input_dim=2, seed=0)


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _npy_raw(header: str, data: bytes, version: tuple[int, int] = (1, 0), header_len: int | None = None) -> bytes:
    """An .npy member with a hand-written header dict (padded as numpy pads it)."""
    text = header.encode("utf-8")
    prefix = 8 + (2 if version == (1, 0) else 4)
    text += b" " * (-(prefix + len(text) + 1) % 64) + b"\n"
    size = len(text) if header_len is None else header_len
    length = struct.pack("<H", size & 0xFFFF) if version == (1, 0) else struct.pack("<I", size & 0xFFFFFFFF)
    return b"\x93NUMPY" + bytes(version) + length + text + data


def _zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about duplicate names
        with zipfile.ZipFile(buf, "w", compression=method) as zf:
            for name, data in members:
                zf.writestr(name, data)
    return buf.getvalue()


def _arch_bytes(arch: object) -> bytes:
    return _npy(np.frombuffer(json.dumps(arch).encode(), dtype=np.uint8))


def _model_members(net: npl.Sequential) -> tuple[dict, list[np.ndarray]]:
    arch = {"format": "neuroplug.sequential", "version": 1, **net.get_config()}
    return arch, net.get_weights()


def _archive(arch_member: bytes, params: list[bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    return _zip([("architecture.npy", arch_member)] + [(f"param_{i}.npy", p) for i, p in enumerate(params)],
                method)


BASE_NET = _net()
BASE_ARCH, BASE_WEIGHTS = _model_members(BASE_NET)


def _base_file(tmp_dir) -> bytes:
    path = tmp_dir / "base.npz"
    npl.save(BASE_NET, path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def base(workdir) -> bytes:
    return _base_file(workdir)


# ---------------------------------------------------------------------- the oracle
def _check(workdir, data: bytes, cls: str) -> str:
    """Load ``data``: assert it gives a valid network or exactly ModelFileError; count the outcome."""
    path = workdir / "case.npz"
    path.write_bytes(data)
    try:
        net = npl.load(path)
    except ModelFileError as exc:
        assert type(exc) is ModelFileError, type(exc)
        assert str(exc).startswith(f"cannot load model {os.fspath(path)!r}: "), str(exc)
        OUTCOMES[cls, "error"] += 1
        MESSAGES.setdefault(cls, []).append(str(exc).split(": ", 1)[1])
        return "error"
    _assert_matches_file(net, path)
    OUTCOMES[cls, "loaded"] += 1
    return "loaded"


def _assert_matches_file(net: npl.Sequential, path) -> None:
    """The network is exactly what the (successfully validated) file declares."""
    assert type(net) is npl.Sequential
    with zipfile.ZipFile(path) as zf:
        arch = json.loads(bytes(np.load(io.BytesIO(zf.read("architecture.npy")), allow_pickle=False)))
        expected = ["architecture.npy"] + [f"param_{i}.npy" for i in range(2 * len(arch["layers"]))]
        assert sorted(zf.namelist()) == sorted(expected)  # each member exactly once
        stored = [np.load(io.BytesIO(zf.read(f"param_{i}.npy")), allow_pickle=False)
                  for i in range(2 * len(arch["layers"]))]
    assert arch["format"] == "neuroplug.sequential" and type(arch["version"]) is int and arch["version"] == 1
    assert type(arch["input_dim"]) is int and net.input_dim == arch["input_dim"]
    assert net.dtype.name == arch["dtype"]
    assert len(net.layers) == len(arch["layers"])
    registry = get_registry()
    fan_in = arch["input_dim"]
    for layer, cfg in zip(net.layers, arch["layers"]):
        assert type(cfg["units"]) is int and layer.units == cfg["units"] and layer.use_bias is cfg["use_bias"]
        assert layer.W.shape == (fan_in, cfg["units"]) and layer.b.shape == (cfg["units"],)
        for key, kind in (("activation", "activation"), ("init", "initializer"), ("bias_init", "initializer")):
            component, spec = getattr(layer, key), cfg[key]
            assert type(component) is registry.resolve(kind, spec["name"]).registration.factory
            config = component.get_config()
            for name, value in spec["config"].items():
                assert config[name] == value, (key, name, config[name], value)
        fan_in = cfg["units"]
    for p, s in zip(net.parameters(), stored):
        assert p.dtype == net.dtype and p.flags.c_contiguous and p.flags.writeable
        assert np.isfinite(p).all()
        np.testing.assert_array_equal(p, s)


# ---------------------------------------------------------------------- byte-level corruption
def test_every_truncation_fails_cleanly(workdir, base):
    """Every prefix of a valid file (all offsets) is rejected."""
    for cut in range(len(base)):
        assert _check(workdir, base[:cut], "truncated") == "error", cut
    assert _check(workdir, base, "truncated") == "loaded"


def test_every_single_bit_flip(workdir, base):
    """One flipped bit at every offset (bit ``offset % 8``): loaded as declared or ModelFileError."""
    for offset in range(len(base)):
        data = bytearray(base)
        data[offset] ^= 1 << (offset % 8)
        _check(workdir, bytes(data), "bit-flipped (every offset)")


_EDITS = st.lists(st.tuples(st.sampled_from(["flip", "set", "insert", "delete"]),
                            st.integers(min_value=0), st.integers(0, 255), st.integers(1, 16)),
                  min_size=1, max_size=6)


def _apply_edits(data: bytes, edits) -> bytes:
    out = bytearray(data)
    for op, pos, value, count in edits:
        pos %= max(len(out), 1)
        if op == "flip" and out:
            out[pos] ^= value or 1
        elif op == "set" and out:
            out[pos:pos + count] = bytes([value]) * len(out[pos:pos + count])
        elif op == "insert":
            out[pos:pos] = bytes([value]) * count
        elif op == "delete":
            del out[pos:pos + count]
    return bytes(out)


@FUZZ
@given(edits=_EDITS)
def test_random_byte_edits(workdir, base, edits):
    _check(workdir, _apply_edits(base, edits), "byte flips/inserts/deletes")


def _compressed_file() -> bytes:
    buf = io.BytesIO()
    text = json.dumps(BASE_ARCH, sort_keys=True).encode()
    np.savez_compressed(buf, architecture=np.frombuffer(text, dtype=np.uint8),
                        **{f"param_{i}": w for i, w in enumerate(BASE_WEIGHTS)})
    return buf.getvalue()


def test_an_intact_compressed_file_loads(workdir):
    assert _check(workdir, _compressed_file(), "compressed archive") == "loaded"


@FUZZ
@given(edits=_EDITS)
def test_random_byte_edits_of_a_compressed_file(workdir, edits):
    """The same on a savez_compressed archive (deflated members)."""
    _check(workdir, _apply_edits(_compressed_file(), edits), "compressed archive")


# ---------------------------------------------------------------------- the architecture JSON
_SCALARS = (st.none() | st.booleans() | st.integers(-(10 ** 30), 10 ** 30)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
_JSON = st.recursive(_SCALARS, lambda kids: st.lists(kids, max_size=4)
                     | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=20)
_WEIRD = st.sampled_from([
    0, -1, 1, 2, 2 ** 20, 2 ** 20 + 1, 2 ** 31, 10 ** 18, 10 ** 40, True, False, 1.0, 1.5, -0.0, 1e308, -1e308,
    5e-324, "", "3", "dense", "relu", "neuroplug:relu", "no_such_component", "nope:relu", "mse", None, [], {},
    [1], {"a": 1}, {"name": "relu"}, "float16", "float32", "float64", "activation", "initializer", "loss",
    "x" * 300, "\u00e9\u6f22", "\ud800",
]) | _JSON


def _file_with_arch_text(text: bytes, weights=BASE_WEIGHTS) -> bytes:
    arch = _npy(np.frombuffer(text, dtype=np.uint8))
    return _archive(arch, [_npy(w) for w in weights])


@FUZZ
@given(value=_JSON | st.fixed_dictionaries({k: st.just(v) | _WEIRD for k, v in BASE_ARCH.items()}))
def test_architecture_replaced_by_arbitrary_json(workdir, value):
    _check(workdir, _file_with_arch_text(json.dumps(value).encode()), "JSON fuzz (generated values)")


@FUZZ
@given(raw=st.one_of(
    st.binary(max_size=64),
    st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(1, 5000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b'{"format": NaN}', b"1e400", b"-1e400",
                     b"1" * 5000, b"\xef\xbb\xbf{}", b'{"a": 1, "a": 2}', b"\xff\xfe", b"\xc0\x80",
                     b'"\\ud800"', b"", b" ", b"[" * 100000])))
def test_architecture_replaced_by_hostile_text(workdir, raw):
    """Deep nesting, NaN/Infinity literals, overflowing numbers, huge integers, non-UTF-8 bytes."""
    assert _check(workdir, _file_with_arch_text(raw), "JSON fuzz (hostile text)") == "error"


def _paths(value, prefix=()):
    """Every (container path, key) in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield prefix, k
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield prefix, i
            yield from _paths(v, prefix + (i,))


def _at(value, path):
    for key in path:
        value = value[key]
    return value


def _weights_for(arch) -> list[np.ndarray] | None:
    """Finite weights of the shapes ``arch`` declares, if it declares small sane ones."""
    try:
        dims = [arch["input_dim"]] + [layer["units"] for layer in arch["layers"]]
        dtype = np.dtype(arch["dtype"]) if arch["dtype"] in ("float32", "float64") else np.float32
    except (TypeError, KeyError, IndexError):
        return None
    if not all(type(d) is int and 1 <= d <= 16 for d in dims) or len(dims) > 6:
        return None
    rng = np.random.default_rng(len(dims))
    out = []
    for n, m in zip(dims, dims[1:]):
        out += [rng.normal(size=(n, m)).astype(dtype), rng.normal(size=m).astype(dtype)]
    return out


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_targeted_mutations_of_a_valid_architecture(workdir, data):
    """Drop/add/rename keys and put wrong values anywhere: units, dtype, names, configs, use_bias..."""
    arch = copy.deepcopy(BASE_ARCH)
    ops = data.draw(st.lists(st.sampled_from(["drop", "add", "rename", "replace", "replace"]), min_size=1,
                             max_size=3))
    for op in ops:
        paths = list(_paths(arch))
        if not paths:
            break
        parent_path, key = data.draw(st.sampled_from(paths))
        parent = _at(arch, parent_path)
        if op == "drop":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8) | st.sampled_from(["alpha", "kind", "spec", "self"]))] = \
                data.draw(_WEIRD)
        elif op == "rename" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8))] = parent.pop(key)
        else:
            parent[key] = data.draw(_WEIRD)
    refit = data.draw(st.booleans())
    weights = (_weights_for(arch) if refit else None) or BASE_WEIGHTS
    _check(workdir, _file_with_arch_text(json.dumps(arch).encode(), weights), "targeted architecture mutation")


_COMPONENTS = {
    "activation": ["identity", "relu", "leaky_relu", "elu", "softplus", "gelu", "softmax", "tanh", "no_such",
                   "neuroplug:relu", "other:relu", "mse", "zeros"],
    "initializer": ["zeros", "ones", "constant", "uniform", "normal", "truncated_normal", "variance_scaling",
                    "he_uniform", "orthogonal", "xavier", "no_such", "relu"],
}
_PARAMS = st.sampled_from(["alpha", "beta", "approximate", "value", "low", "high", "mean", "std", "a", "b",
                           "scale", "mode", "distribution", "nonlinearity", "param", "gain", "kind", "spec",
                           "self", "units", ""])


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_component_names_and_configs(workdir, data):
    """Any component name (installed or not) with a config of arbitrary parameter names and values."""
    arch = copy.deepcopy(BASE_ARCH)
    layer = data.draw(st.sampled_from(arch["layers"]))
    key = data.draw(st.sampled_from(["activation", "init", "bias_init"]))
    kind = "activation" if key == "activation" else "initializer"
    layer[key]["name"] = data.draw(st.sampled_from(_COMPONENTS[kind]))
    layer[key]["config"] = data.draw(st.dictionaries(_PARAMS, _WEIRD, max_size=3))
    _check(workdir, _file_with_arch_text(json.dumps(arch).encode()), "component names/configs")


# ---------------------------------------------------------------------- .npy headers
_DESCRS = st.sampled_from(["<f4", "<f8", ">f4", ">f8", "<f2", "<f16", "<c8", "<c16", "|O", "O", "<i8", "|b1",
                           "|u1", "|V8", "<U3", "|S4", "<M8[ns]", "T", "<f4,<f4", "(2,)<f4", "f4", "float32",
                           "", "'"]) | st.text(max_size=6)
_SHAPES = st.one_of(
    st.lists(st.integers(0, 10 ** 13), max_size=4).map(lambda d: "(" + "".join(f"{x}, " for x in d) + ")"),
    st.sampled_from(["(2, 3)", "(3,)", "()", "(3)", "[2, 3]", "(2, 3", "(-1,)", "(1, " + "9" * 30 + ")",
                     "(10**12,)", "(2,3,)", "(True,)", "(1L,)"]))


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + "".join(f"{x}, " for x in shape) + ")"


def _with_member(index: int, raw: bytes) -> bytes:
    """The base model with member ``index`` (0: architecture, 1...: param_0 ...) replaced by ``raw``."""
    members = [_arch_bytes(BASE_ARCH)] + [_npy(w) for w in BASE_WEIGHTS]
    members[index] = raw
    return _archive(members[0], members[1:])


@settings(FUZZ, max_examples=150)
@given(data=st.data(), index=st.integers(0, 4), fortran=st.sampled_from(["False", "True", "1", "None", "'False'"]),
       extra=st.sampled_from(["", "", "'x': 1, ", "'descr': '<f4', "]),
       payload=st.sampled_from(["exact", "exact", "short", "long", "empty"]), order=st.permutations([0, 1, 2]))
def test_crafted_npy_header_dicts(workdir, data, index, fortran, extra, payload, order):
    """Any descr/fortran_order/shape (huge, negative, object, big-endian ...) in a well-framed .npy member."""
    arch_text = json.dumps(BASE_ARCH).encode()
    right_descr, right_shape = ("|u1", (len(arch_text),)) if index == 0 else ("<f4", BASE_WEIGHTS[index - 1].shape)
    descr = data.draw(st.just(right_descr) | _DESCRS)
    shape = data.draw(st.just(_shape_text(right_shape)) | _SHAPES)
    items = [f"'descr': '{descr}'", f"'fortran_order': {fortran}", f"'shape': {shape}"]
    header = "{" + extra + ", ".join(items[i] for i in order) + ", }"
    try:
        count = max(math.prod(int(x) for x in shape.strip("()").split(",") if x.strip()), 0)
    except ValueError:
        count = 6
    size = min(count, 1 << 16) * (1 if descr == "|u1" else 4)
    size = {"exact": size, "short": size // 2, "long": size + 8, "empty": 0}[payload]
    body = (arch_text + b" " * size)[:size] if index == 0 else np.full(size, 0x3F, dtype=np.uint8).tobytes()
    _check(workdir, _with_member(index, _npy_raw(header, body)), "crafted .npy headers")


@FUZZ
@given(index=st.integers(0, 4), spoil=st.sampled_from(["magic", "version", "length", "version and length"]),
       magic=st.binary(min_size=6, max_size=6), version=st.tuples(st.integers(0, 255), st.integers(0, 255)),
       header_len=st.integers(0, 2 ** 32 - 1))
def test_crafted_npy_framing(workdir, index, spoil, magic, version, header_len):
    """Any magic string, format version or declared header length around a valid header."""
    member = BASE_WEIGHTS[index - 1] if index else np.frombuffer(json.dumps(BASE_ARCH).encode(), dtype=np.uint8)
    header = f"{{'descr': '{member.dtype.str}', 'fortran_order': False, 'shape': {_shape_text(member.shape)}, }}"
    length = header_len if "length" in spoil else None
    raw = bytearray(_npy_raw(header, member.tobytes(), (1, 0), length))
    if spoil == "magic":
        raw[:6] = magic
    elif "version" in spoil:
        raw[6:8] = bytes(version)
    _check(workdir, _with_member(index, bytes(raw)), "crafted .npy framing")


@FUZZ
@given(index=st.integers(0, 3), data=st.data())
def test_weights_of_wrong_shapes_dtypes_and_values(workdir, index, data):
    """A weight array of another shape, dtype (float16, complex, int, bool ...), order or with inf/NaN."""
    right = BASE_WEIGHTS[index]
    shape = data.draw(st.just(right.shape) | st.lists(st.integers(0, 4), max_size=3).map(tuple))
    dtype = data.draw(st.sampled_from(["<f4"] * 4 + ["<f8", ">f4", "<f2", "<c8", "<i4", "|b1", "|u1", "<u8"]))
    values = data.draw(st.lists(st.floats(width=32) | st.integers(-3, 3), min_size=1, max_size=4))
    arr = np.resize(np.array(values, dtype=np.float64), shape)
    if arr.size:
        arr.flat[data.draw(st.integers(0, arr.size - 1))] = data.draw(st.sampled_from([0.5, np.nan, np.inf, -np.inf]))
    with np.errstate(invalid="ignore", over="ignore"):
        arr = arr.astype(dtype)
    if data.draw(st.booleans()):
        arr = np.asfortranarray(arr)
    weights = [_npy(w) for w in BASE_WEIGHTS]
    weights[index] = _npy(arr)
    _check(workdir, _archive(_arch_bytes(BASE_ARCH), weights), "wrong weight shapes/dtypes/values")


def test_crafted_headers_that_are_valid_load(workdir):
    """Control for the above: hand-written headers in numpy's own forms, Fortran order included, load."""
    W = BASE_WEIGHTS[0]
    forms = [("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", W.tobytes(), (1, 0)),
             ('{"shape": (2, 3), "descr": "<f4", "fortran_order": True}', W.tobytes(order="F"), (2, 0))]
    for header, data, version in forms:
        members = [_npy_raw(header, data, version)] + [_npy(w) for w in BASE_WEIGHTS[1:]]
        assert _check(workdir, _archive(_arch_bytes(BASE_ARCH), members), "crafted .npy headers") == "loaded"
        np.testing.assert_array_equal(npl.load(workdir / "case.npz").layers[0].W, W)


# ---------------------------------------------------------------------- members of the archive
@FUZZ
@given(data=st.data())
def test_extra_missing_duplicate_and_odd_members(workdir, data):
    members = [("architecture.npy", _arch_bytes(BASE_ARCH))] + [
        (f"param_{i}.npy", _npy(w)) for i, w in enumerate(BASE_WEIGHTS)]
    ops = data.draw(st.lists(st.sampled_from(["drop", "extra", "duplicate", "rename", "shuffle"]),
                             min_size=1, max_size=3))
    for op in ops:
        if op == "drop" and members:
            members.pop(data.draw(st.integers(0, len(members) - 1)))
        elif op == "extra":
            name = data.draw(st.sampled_from(["param_4.npy", "extra.npy", "architecture", "param_0", "x/y.npy",
                                              "param_-1.npy", "dir/"]) | st.text(min_size=1, max_size=10))
            members.append((name, _npy(np.zeros(data.draw(st.integers(0, 4)), dtype=np.float32))))
        elif op == "duplicate" and members:
            name, blob = members[data.draw(st.integers(0, len(members) - 1))]
            other = data.draw(st.sampled_from([blob, _npy(np.full(3, 7.0, dtype=np.float32))]))
            members.insert(data.draw(st.integers(0, len(members))), (name, other))
        elif op == "rename" and members:
            i = data.draw(st.integers(0, len(members) - 1))
            members[i] = (data.draw(st.text(min_size=1, max_size=12)), members[i][1])  # zipfile needs a name
        elif op == "shuffle":
            members = data.draw(st.permutations(members))
    method = data.draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    _check(workdir, _zip(members, method), "extra/missing/duplicate members")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_other_compression_methods_are_refused(workdir, method):
    data = _archive(_arch_bytes(BASE_ARCH), [_npy(w) for w in BASE_WEIGHTS], method)
    with pytest.raises(ModelFileError, match=f"compression method {method}"):
        npl.load(_write(workdir, data))
    OUTCOMES["extra/missing/duplicate members", "error"] += 1


def _write(workdir, data: bytes):
    path = workdir / "case.npz"
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------- huge declared sizes
def _peak_of(fn) -> int:
    """Peak traced allocation (bytes) while ``fn`` runs (plugins loaded beforehand)."""
    get_registry().plugins()
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


HUGE_ARCH = {"format": "neuroplug.sequential", "version": 1, "input_dim": 2047, "dtype": "float64",
             "layers": [{**BASE_ARCH["layers"][1], "units": 2 ** 20}]}  # exactly 2**31 parameters: allowed


@pytest.mark.parametrize("case", ["header shape", "zip directory size", "architecture member", "any-shape array"])
def test_tiny_file_declaring_a_huge_array_allocates_nothing(workdir, case):
    """A file of under 2 KB declaring 2**31 float64 (16 GiB) or 10**12 elements: rejected, peak < 4 MB."""
    W = _npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (2047, 1048576), }", b"\0" * 16)
    b = _npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (1048576,), }", b"\0" * 16)
    huge = _npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }", b"\0" * 16)
    if case == "header shape":
        data, match = _archive(_arch_bytes(HUGE_ARCH), [W, b]), r"declares shape \(2047, 1048576\)"
    elif case == "zip directory size":
        data = bytearray(_archive(_arch_bytes(HUGE_ARCH), [W, b]))
        cd = data.rindex(b"param_0.npy") - 46  # its central directory record
        assert data[cd:cd + 4] == b"PK\x01\x02"
        data[cd + 20:cd + 28] = struct.pack("<II", 2 ** 32 - 2, 2 ** 32 - 2)  # compressed, uncompressed size
        data, match = bytes(data), "past the end of the"
    elif case == "architecture member":
        arch = _npy_raw("{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000000,), }", b"{}")
        data, match = _archive(arch, [W, b]), r"\(1000000000000,\).*more than the 1048576 bytes allowed"
    else:
        data, match = _zip([("x.npy", huge)]), "more than the 2147483648 bytes allowed"
    path = _write(workdir, data)
    assert len(data) < 2000

    def attempt():
        with pytest.raises(ModelFileError, match=match):
            if case == "any-shape array":
                with SafeArchive(path) as archive:
                    archive.array("x")
            else:
                npl.load(path)

    assert _peak_of(attempt) < 4 * 2 ** 20
    OUTCOMES["huge declared sizes", "error"] += 1


def test_zip_bomb_is_refused_before_inflating(workdir):
    """A deflated member declaring 64 MiB of zeros (about 64 KB compressed): refused from the directory."""
    arch = copy.deepcopy(BASE_ARCH)
    arch["input_dim"] = 2 ** 11
    arch["layers"][0]["units"] = 2 ** 12  # W1: 2**23 float32 = 32 MiB ... of zeros
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("architecture.npy", _arch_bytes(arch))
        with zf.open("param_0.npy", "w") as member:
            member.write(_npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2048, 4096), }", b""))
            for _ in range(32):
                member.write(bytes(2 ** 20))
        for i, shape in enumerate([(4096,), (4096, 2), (2,)], start=1):
            zf.writestr(f"param_{i}.npy", _npy(np.zeros(shape, dtype=np.float32)))
    path = _write(workdir, buf.getvalue())
    assert path.stat().st_size < 100_000

    def attempt():
        with pytest.raises(ModelFileError, match=r"'param_0.npy' would expand from \d+ to 33554560 bytes"):
            npl.load(path)

    assert _peak_of(attempt) < 4 * 2 ** 20
    OUTCOMES["huge declared sizes", "error"] += 1


# ---------------------------------------------------------------------- pickle
class _Payload:
    """Unpickling this runs ``open(marker, 'w')``: the proof that code from the file ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def _pickled_member(marker) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array([_Payload(os.fspath(marker))], dtype=object), allow_pickle=True)
    return buf.getvalue()


def test_the_pickle_payload_is_live(workdir):
    """Control: numpy with allow_pickle=True does run the payload (so the tests below can fail)."""
    marker = workdir / "control-marker"
    path = _write(workdir, _zip([("architecture.npy", _pickled_member(marker))]))
    with np.load(path, allow_pickle=True) as data:
        data["architecture"]
    assert marker.exists()


@pytest.mark.parametrize("where", ["architecture", "param_0", "param_3", "whole file", "float header"])
def test_pickle_bearing_files_are_refused_without_unpickling(workdir, where):
    marker = workdir / f"marker-{where.replace(' ', '-')}"
    members = [_arch_bytes(BASE_ARCH)] + [_npy(w) for w in BASE_WEIGHTS]
    if where == "whole file":
        data = pickle.dumps(_Payload(os.fspath(marker)))
    elif where == "float header":  # a pickle stream behind a float header is data, never unpickled
        payload = pickle.dumps(_Payload(os.fspath(marker)))
        members[1] = _npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", payload)
        data = _archive(members[0], members[1:])
    else:
        index = 0 if where == "architecture" else 1 + int(where[-1])
        members[index] = _pickled_member(marker)
        data = _archive(members[0], members[1:])
    with pytest.raises(ModelFileError) as info:
        npl.load(_write(workdir, data))
    assert type(info.value) is ModelFileError
    if where in ("architecture", "param_0", "param_3"):
        assert "'|O' (Python objects, which only pickle could read; never done here)" in str(info.value)
    assert not marker.exists()
    OUTCOMES["pickle", "error"] += 1
