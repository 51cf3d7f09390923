"""Issue 11, class 4: components that return garbage are caught at the boundary.

A plugin activation or loss that returns the wrong shape, ``None``, a string or an
array where one number belongs, or whose constructor raises, is a ``ComponentError``
naming the component (and its plugin when it is registered) and what was wrong -- in
``fit`` (before any weight changes), in ``predict`` and in the CLI.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.base import Activation
from neuroplug.cli import main
from neuroplug.errors import ComponentError
from neuroplug.plugins.losses import MSE

D, C, N = 4, 3, 24


class Narrow(Activation):  # z[:, :1] broadcast silently into the layer's buffer before
    def forward(self, z, out=None):
        return z[:, :1]

    def derivative(self, z, a):
        return np.ones_like(z)


class ReturnsNone(Narrow):
    def forward(self, z, out=None):
        return None


class ReturnsText(Narrow):
    def forward(self, z, out=None):
        return "tanh"


class ReturnsComplex(Narrow):
    def forward(self, z, out=None):
        return z.astype(np.complex64)


class ShortDerivative(Narrow):  # a derivative of shape (units,) broadcast silently too
    def forward(self, z, out=None):
        return np.tanh(z)

    def derivative(self, z, a):
        return np.ones(z.shape[1], dtype=z.dtype)


class NarrowBackward(Narrow):
    def forward(self, z, out=None):
        return np.tanh(z)

    def backward(self, z, a, grad, out=None):
        return grad[:, :1]


class RaisingBackward(Narrow):
    def forward(self, z, out=None):
        return np.tanh(z)

    def backward(self, z, a, grad, out=None):
        raise RuntimeError("backward is broken")


class Low(MSE):
    def forward(self, y_pred, y_true):
        return "low"


class ArrayLoss(MSE):
    def forward(self, y_pred, y_true):
        return np.ones(3)


class NoneLoss(MSE):
    def forward(self, y_pred, y_true):
        return None


class NarrowGradient(MSE):
    def gradient(self, y_pred, y_true):
        return y_pred[:, :1]


class TextGradient(MSE):
    def gradient(self, y_pred, y_true):
        return "down"


class RaisingConstructor(Narrow):
    def __init__(self):
        raise RuntimeError("cannot build")


class NeedsArgument(Narrow):
    def __init__(self, k):
        self.k = k


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, D)), np.arange(N) % C


def net(hidden: Any = "tanh") -> npl.Sequential:
    return npl.Sequential([npl.Dense(5, activation=hidden), npl.Dense(C, activation="tanh")], input_dim=D, seed=0)


# (id, hidden activation, loss, fragments of the message)
FIT_CASES = [
    ("activation_narrow", Narrow(), "mse", ["activation Narrow", "forward", "(2, 1)", "(2, 5)"]),
    ("activation_none", ReturnsNone(), "mse", ["activation ReturnsNone", "forward", "None"]),
    ("activation_string", ReturnsText(), "mse", ["activation ReturnsText", "forward", "'tanh'", "str"]),
    ("activation_complex", ReturnsComplex(), "mse", ["activation ReturnsComplex", "complex64"]),
    ("derivative_short", ShortDerivative(), "mse", ["activation ShortDerivative", "derivative", "(5,)"]),
    ("backward_narrow", NarrowBackward(), "mse", ["activation NarrowBackward", "backward", "(2, 1)"]),
    ("backward_raises", RaisingBackward(), "mse", ["RaisingBackward", "RuntimeError", "backward is broken"]),
    ("loss_low", "tanh", Low(), ["loss Low", "forward", "'low'", "one real number"]),
    ("loss_array", "tanh", ArrayLoss(), ["loss ArrayLoss", "shape (3,)", "one real number"]),
    ("loss_none", "tanh", NoneLoss(), ["loss NoneLoss", "None"]),
    ("gradient_narrow", "tanh", NarrowGradient(), ["loss NarrowGradient", "gradient", "(2, 1)", "(2, 3)"]),
    ("gradient_string", "tanh", TextGradient(), ["loss TextGradient", "gradient", "'down'"]),
]


@pytest.mark.parametrize("hidden, loss, fragments", [pytest.param(h, l, f, id=i) for i, h, l, f in FIT_CASES])
def test_fit_catches_garbage_before_any_weight_changes(hidden: Any, loss: Any, fragments: list[str]) -> None:
    network = net(hidden)
    before = network.get_weights()
    X, y = data()
    with pytest.raises(ComponentError) as info:
        npl.fit(network, X, y, loss=loss, epochs=1, batch_size=8)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    assert all(np.array_equal(a, b) for a, b in zip(before, network.get_weights()))


PREDICT_CASES = [
    ("narrow", Narrow(), ["activation Narrow", "layer 0", f"({N}, 1)", f"({N}, 5)"]),
    ("none", ReturnsNone(), ["activation ReturnsNone", "None"]),
    ("string", ReturnsText(), ["activation ReturnsText", "'tanh'"]),
    ("complex", ReturnsComplex(), ["activation ReturnsComplex", "complex64"]),
]


@pytest.mark.parametrize("hidden, fragments", [pytest.param(h, f, id=i) for i, h, f in PREDICT_CASES])
def test_predict_catches_garbage(hidden: Any, fragments: list[str]) -> None:
    network = net(hidden)
    before = network.get_weights()
    with pytest.raises(ComponentError) as info:
        network.predict(data()[0])
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    assert all(np.array_equal(a, b) for a, b in zip(before, network.get_weights()))


class RaisesInPredict(Narrow):
    def forward(self, z, out=None):
        raise ZeroDivisionError("no")


def test_predict_names_a_component_that_raises() -> None:
    with pytest.raises(ComponentError, match=r"RaisesInPredict.*layer 0.*ZeroDivisionError: no"):
        net(RaisesInPredict()).predict(data()[0])


@pytest.mark.parametrize("cls, fragments", [
    pytest.param(RaisingConstructor, ["RaisingConstructor", "constructor raised", "RuntimeError", "cannot build"],
                 id="constructor_raises"),
    pytest.param(NeedsArgument, ["NeedsArgument", "'k'"], id="constructor_needs_an_argument"),
])
def test_a_component_that_cannot_be_built_is_named(cls: type, fragments: list[str]) -> None:
    with pytest.raises(npl.errors.NeuroplugError) as info:
        npl.Dense(3, activation=cls)
    assert not isinstance(info.value, TypeError)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.fixture
def registered() -> Any:
    names = []

    def register(cls: type, name: str) -> None:
        npl.register(cls, kind="activation", name=name)
        names.append(name)

    yield register
    for name in names:
        npl.unregister("activation", name)


@pytest.mark.parametrize("cls, fragments", [
    pytest.param(Narrow, ["garbage_act'", "plugin", "forward", "(2, 1)"], id="narrow"),
    pytest.param(ReturnsNone, ["garbage_act'", "plugin", "None"], id="none"),
    pytest.param(RaisingConstructor, ["garbage_act'", "constructor raised", "cannot build"], id="constructor"),
])
def test_the_cli_reports_a_registered_garbage_component_in_one_line(cls: type, fragments: list[str], registered: Any,
                                                                    tmp_path: Any, monkeypatch: Any,
                                                                    capsys: Any) -> None:
    registered(cls, "garbage_act")
    monkeypatch.chdir(tmp_path)
    status = main(["train", "--epochs", "1", "--layers", "4", "--no-progress", "--activation", "garbage_act",
                   "--save", "m.npz"])
    out, err = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in err
    line = err.splitlines()[-1]
    assert line.startswith("neuroplug train: error: ")
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- garbage only after the first batch
def _late(base: type, method: str, garbage: Any, after: int = 3) -> type:
    """A subclass of ``base`` whose ``method`` returns ``garbage(result)`` from its call ``after`` on
    (the check before training sees correct values; a step later does not)."""
    calls = [0]
    original = getattr(base, method)

    def misbehaving(self, *args, **kwargs):
        calls[0] += 1
        result = original(self, *args, **kwargs)
        return result if calls[0] <= after else garbage(result)

    return type(f"Late{base.__name__}", (base,), {method: misbehaving, "__module__": __name__})


def _tanh() -> type:
    return type(npl.create("activation", "tanh"))


def _cross_entropy() -> type:
    return type(npl.create("loss", "cross_entropy"))


@pytest.mark.parametrize("where, make, fragments", [
    pytest.param("loss", lambda: _late(_cross_entropy(), "fused_gradient", lambda r: "grad"),
                 ["fused_gradient returned", "'grad'"], id="fused_gradient-str"),
    pytest.param("loss", lambda: _late(_cross_entropy(), "fused_gradient", lambda r: 0.5),
                 ["fused_gradient returned", "0.5"], id="fused_gradient-scalar"),
    pytest.param("loss", lambda: _late(_cross_entropy(), "fused_gradient", lambda r: r.astype(complex)),
                 ["fused_gradient returned", "complex"], id="fused_gradient-complex"),
    pytest.param("loss", lambda: _late(_cross_entropy(), "fused_gradient", lambda r: r.T),
                 ["fused_gradient returned", "shape"], id="fused_gradient-transposed"),
    pytest.param("loss", lambda: _late(_cross_entropy(), "forward", lambda r: "low"),
                 ["forward returned", "'low'", "one real number"], id="forward-str"),
    pytest.param("loss", lambda: _late(_cross_entropy(), "forward", lambda r: complex(r)),
                 ["forward returned", "complex"], id="forward-complex"),
    pytest.param("loss", lambda: _late(_cross_entropy(), "forward", lambda r: np.zeros(0)),
                 ["forward returned", "one real number"], id="forward-empty"),
    pytest.param("activation", lambda: _late(_tanh(), "forward", lambda r: r.T),
                 ["forward (layer 0) returned", "shape"], id="activation-transposed"),
    pytest.param("activation", lambda: _late(_tanh(), "forward", lambda r: "tanh"),
                 ["forward (layer 0) returned", "'tanh'"], id="activation-str"),
    pytest.param("activation", lambda: _late(_tanh(), "forward", lambda r: None),
                 ["forward (layer 0) returned None"], id="activation-none"),
])
def test_garbage_after_the_first_batch_is_named_and_the_weights_restored(
        where: str, make: Any, fragments: list[str]) -> None:
    """A component may pass the check before training and return garbage later: the failing
    batch is redone, checked, and the error names the component; the weights are put back."""
    cls = make()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    y = np.arange(N) % C
    act = cls() if where == "activation" else "tanh"
    net = npl.Sequential([npl.Dense(4, activation=act), npl.Dense(C, activation="softmax")], input_dim=D, seed=0)
    loss = cls() if where == "loss" else "cross_entropy"
    initial = net.get_weights()
    with pytest.raises(ComponentError) as info:
        npl.fit(net, X, y, loss=loss, epochs=2, batch_size=8, lr=0.1, progress=False)
    message = str(info.value)
    for fragment in fragments + ["Late", "of epoch 0", "the weights were restored to the start of epoch 0"]:
        assert fragment in message, (fragment, message)
    for w, w0 in zip(net.get_weights(), initial):
        np.testing.assert_array_equal(w, w0)


def test_a_validation_loss_that_returns_garbage_is_named() -> None:
    cls = _late(_cross_entropy(), "forward", lambda r: "low", after=4)  # 3 batches, then validation
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(N, D)), np.arange(N) % C
    net = npl.Sequential([npl.Dense(4, activation="tanh"), npl.Dense(C, activation="softmax")], input_dim=D, seed=0)
    with pytest.raises(ComponentError, match="forward returned 'low'.*validation data"):
        npl.fit(net, X, y, loss=cls(), epochs=1, batch_size=8, validation_data=(X, y), progress=False)


def test_a_component_that_raises_again_when_its_batch_is_redone_still_gets_the_weights_back():
    """The re-check of a failing batch calls the component again: if it raises again, the weights are
    still put back and the first error is the one reported."""
    def broken(result):
        raise RuntimeError("component broke")

    cls = _late(_tanh(), "forward", broken)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(N, D)), np.arange(N) % C
    net = npl.Sequential([npl.Dense(4, activation=cls()), npl.Dense(C, activation="softmax")], input_dim=D, seed=0)
    initial = net.get_weights()
    with pytest.raises(ComponentError, match="component broke; the weights were restored to the start of epoch 0"):
        npl.fit(net, X, y, loss="cross_entropy", epochs=2, batch_size=8, lr=0.1, progress=False)
    for w, w0 in zip(net.get_weights(), initial):
        np.testing.assert_array_equal(w, w0)
