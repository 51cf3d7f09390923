"""Saving and loading models: no pickle, atomic writes, clear errors."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.errors import ModelFileError


@pytest.fixture
def net():
    return npl.Sequential(
        [npl.Dense(5, activation=npl.create("activation", "leaky_relu", alpha=0.2), init="he_uniform"),
         npl.Dense(3, activation="softmax", init="xavier", bias_init="normal")],
        input_dim=4, seed=0)


def test_roundtrip_restores_architecture_and_outputs(tmp_path, net):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    loaded = npl.load(path)
    X = np.random.default_rng(0).normal(size=(6, 4))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
    assert loaded.get_config() == net.get_config()
    assert loaded.layers[0].activation.alpha == 0.2
    assert [p.dtype for p in loaded.parameters()] == [np.float32] * 4
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


def test_file_holds_no_pickle(tmp_path, net):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            header = zf.read(name)[:128]
            assert b"'descr': '|O'" not in header and b"'descr': 'O'" not in header
        arch = json.loads(bytes(np.load(path, allow_pickle=False)["architecture"]).decode())
    assert arch["layers"][0]["activation"] == {"kind": "activation", "name": "leaky_relu",
                                               "config": {"alpha": 0.2}}


def _rewrite(path, mutate):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arch = json.loads(bytes(arrays["architecture"]).decode())
    mutate(arch, arrays)
    arrays["architecture"] = np.frombuffer(json.dumps(arch).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("mutate, message", [
    (lambda a, w: a["layers"][0]["activation"].update(name="not_installed"), "not installed"),
    (lambda a, w: a.update(extra=1), "architecture keys"),
    (lambda a, w: a.update(version=99), "version"),
    (lambda a, w: a["layers"][0].update(units=6), "shape"),
    (lambda a, w: a["layers"][1].update(units=10**9), "units"),
    (lambda a, w: a.update(input_dim=-1), "input_dim"),
    (lambda a, w: a["layers"][0]["activation"]["config"].update(alpha="x"), "alpha"),
    (lambda a, w: w.update(param_9=np.zeros(2)), "unexpected entries"),
    (lambda a, w: w.update(param_0=np.full_like(w["param_0"], np.nan)), "non-finite"),
    (lambda a, w: w.update(param_1=w["param_1"].astype(np.int64)), "dtype"),
])
def test_invalid_files_fail_with_a_clear_error(tmp_path, net, mutate, message):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    _rewrite(path, mutate)
    with pytest.raises(ModelFileError, match=message):
        npl.load(path)


def test_truncated_and_foreign_files(tmp_path, net):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 5):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError):
            npl.load(bad)
    np.save(tmp_path / "plain.npy", np.arange(3))
    with pytest.raises(ModelFileError):
        npl.load(tmp_path / "plain.npy")
    with pytest.raises(ModelFileError, match="no such file"):
        npl.load(tmp_path / "missing.npz")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, architecture=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError):
        npl.load(pickled)


def test_unregistered_component_cannot_be_saved(tmp_path):
    class Cube(npl.Activation):
        def forward(self, z, out=None):
            return z ** 3

        def derivative(self, z, a):
            return 3 * z ** 2

    net = npl.Sequential([npl.Dense(2, activation=Cube())], input_dim=2, seed=0)
    with pytest.raises(npl.ConfigError, match="not a registered activation"):
        npl.save(net, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_in_process_component_saves_and_loads_by_name(tmp_path):
    with npl.isolated_registry():
        @npl.register_activation("cube", summary="z cubed")
        class Cube(npl.Activation):
            def forward(self, z, out=None):
                return z ** 3

            def derivative(self, z, a):
                return 3 * z ** 2

        net = npl.Sequential([npl.Dense(2, activation="cube")], input_dim=2, seed=0)
        npl.save(net, tmp_path / "m.npz")
        assert isinstance(npl.load(tmp_path / "m.npz").layers[0].activation, Cube)
    with pytest.raises(ModelFileError, match="not installed.*cube"):
        npl.load(tmp_path / "m.npz")


def test_save_is_atomic_when_writing_fails(tmp_path, net, monkeypatch):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    original = path.read_bytes()

    def broken_savez(fh, **arrays):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        npl.save(net, path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saved_files_get_normal_permissions_not_the_temporary_files(tmp_path, net):
    """mkstemp makes 0600 files: a model must instead get what a new file gets (0666 less the
    umask), and a replaced file keeps its own permissions."""
    umask = os.umask(0o022)
    try:
        path = tmp_path / "model.npz"
        npl.save(net, path)
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o640)
        npl.save(net, path)
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


# ---------------------------------------------------------------------- format compatibility
# Written by neuroplug 0.1.0's save() (before the SafeArchive reader) for
# Sequential([Dense(3, leaky_relu(alpha=0.2), init="he_uniform"), Dense(2, "softmax", use_bias=False)],
# input_dim=2, seed=7); zlib-compressed, base64-encoded.
_V010_MODEL = (
    "eNq1Vc+L00AUTu3Wg4tQxcMeY0Cr0i1tsiy4iD0pyKL0oiAiYUwm22HTSZxMytZa8CIULXjwsiBeBA9C1Z7Ey24R/wkPynrz4smD7El9kx+StGUt"
    "bndKm3lv3jcz3/fea2qr2blFKRwnpf4N89TvaOSlExJiRp1wbHCf4RJ1WxkpL6nZMDp+Pr12/WrtZkZqSu2CiT2DFVbkwn2/UijKBcthnCGqO8zE"
    "wn8Z2R4Gv1dHLgb7zPL5cvFsUe7I/z2OtBWTt1ysrMiKZTuIa6pShKnDGogLJ8U+c1zbXyt5+K6PKSfIFhGEuj7XTdKAIBVsG7Uw88C41VaQwUkT"
    "ceJQsNuK4VCLrAVTZLt1BLNySe0AaJ1QUxySAICXokZwHxuj9ZbOsO0rIvgOQZ5OKOEjmyY3EstwQXIPs+ROYDpesMkEvNJwzJA/SE3CGzjUJhQj"
    "RnhLrAR3AL+LGBKEqW/bUxxbx7pPidAyODvW2cTUwyIOFrmQTBNzD+uCIZic+Rji99Dx39p5jsUbaONAhZsCT0UdCa+pb6AmgcU9hVDTQlii3ju3"
    "wdmE2gplqHRqqZ57e/TXx7jn5qHnghTp5bjdNqPA+Dmx3S5YS1O1G1xP22e7lXe+XKzLg+pCm1eNgTf8vlwZvnnxspom9erns4VxUpWYVC8K7M2C"
    "lLbPfxAgJSVGmsh7/dPuOBH1QLIDXaTuMzuPtx4NX59bqn59frr6YefJ1rEfn7cv9Xa306QeDt71x0lpMaluFNidTcnNLDu11cyhxWz6bSXeQuKb"
    "T2TwQUb8jr67RtGi7zaj1M2n0Bz2S3ThKFDUdi8q3jTwypyUrPRRoKilyScez0nJyhoFinx1o4Skgd/+ArUQmDssFnLwUUCFfmD9AQkICRo=")


def test_files_written_by_version_0_1_0_still_load(tmp_path):
    import base64
    import zlib

    path = tmp_path / "v010.npz"
    path.write_bytes(zlib.decompress(base64.b64decode(_V010_MODEL)))
    net = npl.load(path)
    assert net.get_config() == {
        "input_dim": 2, "dtype": "float32",
        "layers": [{"type": "dense", "units": 3, "use_bias": True,
                    "activation": {"kind": "activation", "name": "leaky_relu", "config": {"alpha": 0.2}},
                    "init": {"kind": "initializer", "name": "he_uniform",
                             "config": {"mode": "fan_in", "nonlinearity": "relu", "param": None}},
                    "bias_init": {"kind": "initializer", "name": "zeros", "config": {}}},
                   {"type": "dense", "units": 2, "use_bias": False,
                    "activation": {"kind": "activation", "name": "softmax", "config": {}},
                    "init": {"kind": "initializer", "name": "normalized_xavier", "config": {}},
                    "bias_init": {"kind": "initializer", "name": "zeros", "config": {}}}]}
    expected = [[[0.43334341049194336, 1.3759889602661133, 0.9550032615661621],
                 [-0.9519101977348328, -0.692244291305542, 1.2940270900726318]], [0.0, 0.0, 0.0],
                [[-1.0839093923568726, 0.7037761807441711], [0.6508464813232422, -0.0702509954571724],
                 [-0.4315343201160431, -0.48544517159461975]], [0.0, 0.0]]
    for p, e in zip(net.parameters(), expected):
        np.testing.assert_array_equal(p, np.array(e, dtype=np.float32))


def test_save_writes_the_same_layout(tmp_path, net):
    """Uncompressed .npy members, architecture first, sorted-key JSON: what 0.1.0 wrote and reads."""
    path = tmp_path / "model.npz"
    npl.save(net, path)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["architecture.npy"] + [f"param_{i}.npy" for i in range(4)]
        assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
        text = bytes(np.load(path, allow_pickle=False)["architecture"]).decode()
    arch = {"format": "neuroplug.sequential", "version": 1, **net.get_config()}
    assert text == json.dumps(arch, sort_keys=True, allow_nan=False)


# ---------------------------------------------------------------------- SafeArchive / write_archive
from neuroplug.serialization import SafeArchive, write_archive  # noqa: E402


def test_write_archive_and_safe_archive_round_trip(tmp_path):
    path = tmp_path / "state.npz"
    arrays = {"w": np.asfortranarray(np.arange(6.0).reshape(2, 3)), "big": np.arange(3, dtype=">i4"),
              "flags": np.array([True, False]), "count": np.uint64(7), "empty": np.zeros((0, 4), np.float32)}
    write_archive(path, "meta", {"step": 3, "name": "x", "nested": [1.5, {"a": None}]}, arrays)
    with SafeArchive(path, "checkpoint") as archive:
        assert archive.names == {"meta", "w", "big", "flags", "count", "empty"}
        assert archive.json("meta") == {"step": 3, "name": "x", "nested": [1.5, {"a": None}]}
        w = archive.array("w", shape=(2, 3))
        big = archive.array("big", kinds="i")
        flags = archive.array("flags", kinds="b")
        count = archive.array("count", shape=(), kinds="u")
        empty = archive.array("empty", shape=(0, 4), dtypes=(np.float32,))
    np.testing.assert_array_equal(w, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(big, [0, 1, 2])
    assert big.dtype == np.int32 and big.dtype.isnative
    assert flags.tolist() == [True, False] and count == 7 and empty.shape == (0, 4)
    for arr in (w, big, flags, count, empty):
        assert arr.flags.c_contiguous and arr.flags.writeable
    with pytest.raises(ValueError, match="closed"):
        archive.array("w")


@pytest.mark.parametrize("call, message", [
    (lambda a: a.array("i"), r"cannot load checkpoint '.*state.npz': its entry 'i' has dtype '<i8'; "
                             r"allowed: '<f4', '<f8'"),
    (lambda a: a.array("f", kinds="fi", dtypes=(np.float32,)), r"'f' has dtype '<f8'; allowed: '<f4'"),
    (lambda a: a.array("f", shape=(3, 2)), r"its entry 'f' has shape \(2, 3\), expected \(3, 2\)"),
    (lambda a: a.array("f", max_bytes=47), r"declares shape \(2, 3\) of float64 \(48 bytes\), more than the "
                                           r"47 bytes allowed"),
    (lambda a: a.array("nope"), "it has no 'nope' entry"),
    (lambda a: a.json("f"), r"'f' has dtype '<f8'; allowed: '\|u1'"),
    (lambda a: a.json("meta", max_bytes=5), r"'meta' declares shape \(10,\) of uint8 \(10 bytes\), more than the 5"),
    (lambda a: a.json("u2d"), r"'u2d' has shape \(2, 2\), expected a 1-D array"),
])
def test_safe_archive_names_the_member_and_the_mismatch(tmp_path, call, message):
    path = tmp_path / "state.npz"
    write_archive(path, "meta", {"a": [1]}, {"i": np.arange(3), "f": np.zeros((2, 3)),
                                              "u2d": np.zeros((2, 2), np.uint8)})
    with SafeArchive(path, "checkpoint") as archive:
        with pytest.raises(ModelFileError, match=message):
            call(archive)


def test_safe_archive_rejects_bool_bytes_other_than_0_and_1(tmp_path):
    path = tmp_path / "b.npz"
    write_archive(path, "meta", {}, {"flags": np.array([0, 1, 2], np.uint8).view(np.bool_)})
    with SafeArchive(path) as archive, pytest.raises(ModelFileError, match="bool bytes other than 0 and 1"):
        archive.array("flags", kinds="b")


@pytest.mark.parametrize("meta_name, meta, arrays, message", [
    ("meta", {"x": float("nan")}, {}, "'meta' metadata is not plain JSON"),
    ("meta", {"x": object()}, {}, "'meta' metadata is not plain JSON"),
    ("meta", {}, {"o": np.array([{}], dtype=object)}, "'o' has dtype object"),
    ("meta", {}, {"c": np.zeros(2, complex)}, "'c' has dtype complex128"),
    ("meta", {}, {"meta": np.zeros(2)}, "used for both"),
    ("meta", {}, {"file": np.zeros(2)}, "invalid archive member name 'file'"),
    ("meta", {}, {"a/b": np.zeros(2)}, "invalid archive member name 'a/b'"),
    ("", {}, {}, "invalid archive member name ''"),
])
def test_write_archive_refuses_what_cannot_be_read_back(tmp_path, meta_name, meta, arrays, message):
    with pytest.raises(npl.ConfigError, match=message):
        write_archive(tmp_path / "x.npz", meta_name, meta, arrays)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------- hostile model files
def _npz_members(path, members, compression=zipfile.ZIP_STORED):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names
        with zipfile.ZipFile(path, "w", compression=compression) as zf:
            for name, data in members:
                zf.writestr(name, data)


def _members_of(path):
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _set_flag_bits(path, bits):
    data = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = data.find(sig)
        while pos >= 0:
            data[pos + offset] |= bits
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("case, message", [
    ("duplicate", "it holds the member 'param_1.npy' twice"),
    ("not npy", "its member 'README' is not an .npy array"),
    ("encrypted", "its member 'architecture.npy' is encrypted"),
    ("bzip2", "uses zip compression method 12; only stored and deflated members are read"),
    ("directory", "it is not a regular file"),
    ("fifo", "it is not a regular file"),
])
def test_zip_level_problems_are_named(tmp_path, net, case, message):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    members = _members_of(path)
    if case == "duplicate":
        _npz_members(path, members + [members[2]])
    elif case == "not npy":
        _npz_members(path, members + [("README", b"hello")])
    elif case == "encrypted":
        _set_flag_bits(path, 0x1)
    elif case == "bzip2":
        _npz_members(path, members, zipfile.ZIP_BZIP2)
    elif case == "directory":
        path = tmp_path / "folder.npz"
        path.mkdir()
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        path = tmp_path / "fifo.npz"
        os.mkfifo(path)
    with pytest.raises(ModelFileError, match=message):
        npl.load(path)


def _replace_architecture(path, text: bytes, dtype=np.uint8, shape=None):
    arrays = {k: v for k, v in np.load(path, allow_pickle=False).items()}
    arch = np.frombuffer(text, dtype=np.uint8).astype(dtype)
    arrays["architecture"] = arch.reshape(shape) if shape else arch
    np.savez(path, **arrays)


@pytest.mark.parametrize("text, message", [
    (b'{"format": NaN}', "NaN is not allowed"),
    (b'{"format": -Infinity}', "-Infinity is not allowed"),
    (b'{"format": 1e400}', r"the number '1e400' overflows to inf"),
    (b'{"format": ' + b"7" * 101 + b"}", "an integer has 101 digits, more than 100"),
    (b'{"a": 1, "a": 1}', "the key 'a' appears twice in an object"),
    (b"[" * 65 + b"]" * 65, "nests JSON arrays/objects 65 levels deep, more than the 64 allowed"),
    (b'["[[[[' + b"[" * 100 + b'"]', "the architecture must be a JSON object, got list"),  # brackets in a string
    (b"[" * 100000, "100000 levels deep"),
    (b'{"format": "\xff"}', "is not UTF-8 text \\(invalid start byte at byte 12\\)"),
    (b'{"format": ', "is not valid JSON"),
])
def test_hostile_architecture_json(tmp_path, net, text, message):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    _replace_architecture(path, text)
    with pytest.raises(ModelFileError, match=message):
        npl.load(path)


def test_json_checks_take_linear_time(tmp_path, net):
    """80 KB of unterminated strings (quote, backslash, ...): rejected, and the nesting scan consumes
    an unterminated string in one match (retrying from every later quote took 30 s: quadratic)."""
    from neuroplug.serialization.archive import _JSON_STRING

    text = '"\\' * 40_000
    assert _JSON_STRING.match(text).end() >= len(text) - 1  # all but the dangling backslash
    path = tmp_path / "model.npz"
    npl.save(net, path)
    _replace_architecture(path, text.encode())
    with pytest.raises(ModelFileError, match="is not valid JSON"):
        npl.load(path)


def test_architecture_member_must_be_1d_uint8(tmp_path, net):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    text = json.dumps({"format": "neuroplug.sequential", "version": 1, **net.get_config()}).encode()
    _replace_architecture(path, text, dtype=np.int64)
    with pytest.raises(ModelFileError, match=r"'architecture' has dtype '<i8'; allowed: '\|u1'"):
        npl.load(path)
    _replace_architecture(path, text + b" " * (-len(text) % 2), shape=(2, -1))
    with pytest.raises(ModelFileError, match=r"'architecture' has shape \(2, \d+\), expected a 1-D array"):
        npl.load(path)


@pytest.mark.parametrize("mutate, message", [
    (lambda a, w: a.update(version=True), "format version True is not supported"),
    (lambda a, w: a.update(version=1.0), "format version 1.0 is not supported"),
    (lambda a, w: a.update(dtype="float16"), "dtype must be 'float32' or 'float64', got 'float16'"),
    (lambda a, w: a.update(dtype=["float32"]), r"dtype must be 'float32' or 'float64', got \['float32'\]"),
    (lambda a, w: a["layers"][0].update(units=True), "layer 0 units must be an integer in .*, got True"),
    (lambda a, w: a["layers"][0].update(units=5.0), "layer 0 units must be an integer in .*, got 5.0"),
    (lambda a, w: a["layers"][0].update(use_bias=1), "layer 0 use_bias must be true or false, got 1"),
    (lambda a, w: a["layers"][1].update(type="conv"), "layer 1 type must be 'dense', got 'conv'"),
    (lambda a, w: a["layers"][1]["init"].update(kind="loss"), "layer 1 init kind must be 'initializer', got 'loss'"),
    (lambda a, w: a["layers"][1]["init"].update(name=""), "layer 1 init name must be a string of 1 to 256"),
    (lambda a, w: a["layers"][0]["activation"].update(config=[]), "layer 0 activation config must be a JSON object"),
    (lambda a, w: a["layers"][0]["activation"]["config"].update(alpha=[0.1]), "alpha must be a real number"),
    (lambda a, w: a["layers"][0]["activation"]["config"].update(kind=1),  # create(kind, spec, /, ...): no clash
     r"layer 0 activation 'leaky_relu' has an invalid configuration: unknown parameter 'kind'"),
    (lambda a, w: a["layers"][0]["activation"].update(name="mse"), "not installed: unknown activation 'mse'"),
    (lambda a, w: a.update(input_dim=2047, layers=[{**a["layers"][1], "units": 2 ** 20 + 1}]),
     r"units must be an integer in \[1, 1048576\], got 1048577"),
    (lambda a, w: a.update(input_dim=2048, layers=[{**a["layers"][1], "units": 2 ** 20}]),
     "declares 2148532224 parameters, more than 2147483648"),
    (lambda a, w: w.update(param_0=w["param_0"].astype(np.float64)), r"'param_0' has dtype '<f8'; allowed: '<f4'"),
    (lambda a, w: w.update(param_0=w["param_0"].astype(">f4")), r"'param_0' has dtype '>f4' \(big-endian\)"),
    (lambda a, w: w.update(param_0=w["param_0"].astype(np.float16)), r"'param_0' has dtype '<f2'"),
    (lambda a, w: w.update(param_2=np.full_like(w["param_2"], np.inf)), "'param_2' holds non-finite values"),
])
def test_schema_and_weights_are_checked_exactly(tmp_path, net, mutate, message):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    _rewrite(path, mutate)
    with pytest.raises(ModelFileError, match=message):
        npl.load(path)


def test_fortran_order_and_compressed_files_load(tmp_path, net):
    path = tmp_path / "model.npz"
    npl.save(net, path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["param_0"] = np.asfortranarray(arrays["param_0"])
    np.savez_compressed(path, **arrays)
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("param_0.npy").compress_type == zipfile.ZIP_DEFLATED
        assert b"'fortran_order': True" in zf.read("param_0.npy")[:128]
    loaded = npl.load(path)
    for p, q in zip(loaded.parameters(), net.parameters()):
        np.testing.assert_array_equal(p, q)


def test_a_component_that_fails_its_own_way_gives_a_model_file_error(tmp_path):
    """Whatever a plugin's constructor raises on a config read from a file becomes a ModelFileError."""
    with npl.isolated_registry():
        @npl.register_activation("table")
        class Table(npl.Activation):
            def __init__(self, size: int = 1):
                self.size = size
                self.table = [0.0] * size  # no validation: a file can make this blow up

            def forward(self, z, out=None):
                return z

            def derivative(self, z, a):
                return np.ones_like(z)

        net = npl.Sequential([npl.Dense(2, activation="table")], input_dim=2, seed=0)
        path = tmp_path / "m.npz"
        npl.save(net, path)
        _rewrite(path, lambda a, w: a["layers"][0]["activation"]["config"].update(size=10 ** 30))
        with pytest.raises(ModelFileError, match=r"activation 'table' cannot be built from the config "
                                                 r"\{'size': 1000000000000000000000000000000\}: OverflowError") as info:
            npl.load(path)
        assert type(info.value.__cause__) is OverflowError


def test_loading_never_runs_an_initializer(tmp_path):
    """The stored weights are used as they are: no initializer runs on shapes or configs from the file."""
    calls = []
    with npl.isolated_registry():
        @npl.register_initializer("counting")
        class Counting(npl.Initializer):
            def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
                calls.append((fan_in, fan_out))
                return rng.normal(size=(fan_in, fan_out)).astype(dtype)

        net = npl.Sequential([npl.Dense(3, init="counting", bias_init="counting")], input_dim=2, seed=0)
        assert len(calls) == 2
        path = tmp_path / "m.npz"
        npl.save(net, path)
        loaded = npl.load(path)
        assert len(calls) == 2
        assert isinstance(loaded.layers[0].init, Counting) and isinstance(loaded.layers[0].bias_init, Counting)
        for p, q in zip(loaded.parameters(), net.parameters()):
            np.testing.assert_array_equal(p, q)
