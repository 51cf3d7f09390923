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
