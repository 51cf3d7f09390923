"""fit's prebound fast paths compute exactly what the components' public methods compute.

Built-in activations (identity, tanh, relu, softmax) and the built-in
cross-entropy offer ``fit`` their operations as prebound numpy calls
(``_train_ops``), and plain SGD takes the learning rate folded into the output
gradient (``_train_update``). Each is used only when the class's own methods are
the ones that would run; a subclass that overrides them takes the generic path
(``forward``/``backward``, ``forward``/``fused_gradient``, ``step``). These tests
train the same network both ways: the prebound calls must give the same bits,
the folded rate the same weights up to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.plugins.activations import Identity, ReLU, Softmax, Tanh
from neuroplug.plugins.losses import CrossEntropy
from neuroplug.plugins.optimizers import SGD


def _generic(cls: type) -> type:
    """A subclass whose forward and backward are its parent's, called through an override:
    the fast path must then be refused."""
    return type(f"Generic{cls.__name__}", (cls,), {
        "forward": lambda self, *a, **k: cls.forward(self, *a, **k),
        "backward": lambda self, *a, **k: cls.backward(self, *a, **k),
    })


class _GenericCrossEntropy(CrossEntropy):
    def forward(self, y_pred, y_true):  # noqa: D102 - the parent's, through an override
        return super().forward(y_pred, y_true)


class _GenericSGD(SGD):
    def step(self, params, grads, lr):  # noqa: D102 - the parent's, through an override
        return super().step(params, grads, lr)


def _train(activation: object, *, loss: object = "cross_entropy", optimizer: object = "sgd",
           dtype: str = "float64", epochs: int = 3) -> tuple[list[np.ndarray], list[float]]:
    X, y = npl.datasets.make_moons(90, noise=0.3, seed=1)
    net = npl.Sequential([npl.Dense(7, activation=activation), npl.Dense(5, activation=activation),
                          npl.Dense(2, activation="softmax")], input_dim=2, seed=3, dtype=dtype)
    history = npl.fit(net, X, y, loss=loss, optimizer=optimizer, lr=0.3, epochs=epochs, batch_size=16,
                      seed=5, schedule={"name": "step_decay", "config": {"step_size": 1, "gamma": 0.5}})
    return [p.copy() for p in net.parameters()], list(history["loss"])


def _assert_same_bits(fast: tuple, slow: tuple) -> None:
    """The same losses and weights, bit for bit."""
    assert fast[1] == slow[1]
    for a, b in zip(fast[0], slow[0]):
        np.testing.assert_array_equal(a, b)


def _assert_rounding_only(fast: tuple, slow: tuple) -> None:
    """The same steps rounded differently: 24 float64 steps keep the difference within 1e3 eps."""
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e3 * eps, atol=0)
    for a, b in zip(fast[0], slow[0]):
        np.testing.assert_allclose(a, b, rtol=1e3 * eps, atol=1e3 * eps * float(np.max(np.abs(b))))


@pytest.mark.parametrize("cls", [Identity, Tanh, ReLU, Softmax], ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_an_activations_prebound_calls_give_the_bits_of_its_methods(cls: type, dtype: str) -> None:
    z = np.zeros((4, 3), dtype=dtype)
    args = (z, z.copy(), z.copy(), z.copy(), np.zeros(z.shape, bool))
    assert cls()._train_ops(*args) is not None, "the built-in should offer its fast path"
    assert _generic(cls)()._train_ops(*args) is None, "an override must turn the fast path off"
    for optimizer in ("sgd", {"name": "sgd", "config": {"momentum": 0.9}}):
        fast = _train(cls(), optimizer=optimizer, dtype=dtype)
        _assert_same_bits(fast, _train(_generic(cls)(), optimizer=optimizer, dtype=dtype))
        assert all(p.dtype == np.dtype(dtype) for p in fast[0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cross_entropys_prebound_calls_give_the_bits_of_its_methods(dtype: str) -> None:
    momentum = {"name": "sgd", "config": {"momentum": 0.9}}  # no folded rate: the same operations
    _assert_same_bits(_train("tanh", loss=CrossEntropy(), optimizer=momentum, dtype=dtype),
                      _train("tanh", loss=_GenericCrossEntropy(), optimizer=momentum, dtype=dtype))


def test_cross_entropys_prebound_calls_with_the_rate_folded_in_round_differently_only() -> None:
    # plain SGD: the prebound path scales a - y by lr/N at once, the generic one by 1/N, then lr
    _assert_rounding_only(_train("tanh", loss=CrossEntropy(), epochs=4),
                          _train("tanh", loss=_GenericCrossEntropy(), epochs=4))


def test_sgd_with_the_rate_folded_in_takes_the_steps_of_its_step_method() -> None:
    # the same steps, rounded differently: lr * (dL/dz) before the matrix products, not lr * dW after
    _assert_rounding_only(_train("tanh", optimizer=SGD(), epochs=4), _train("tanh", optimizer=_GenericSGD(), epochs=4))


def test_folded_sgd_counts_its_steps_and_resumes_bit_for_bit(tmp_path) -> None:
    X, y = npl.datasets.make_moons(90, noise=0.3, seed=1)

    def net() -> npl.Sequential:
        return npl.Sequential([npl.Dense(6, activation="tanh"), npl.Dense(2, activation="softmax")],
                              input_dim=2, seed=3, dtype="float64")

    opt = SGD()
    whole = net()
    npl.fit(whole, X, y, loss="cross_entropy", optimizer=opt, lr=0.2, epochs=4, batch_size=16, seed=5)
    assert opt.iterations == 4 * 6  # 90 samples in batches of 16: 6 steps an epoch
    path = tmp_path / "run.ckpt.npz"
    part = net()
    npl.fit(part, X, y, loss="cross_entropy", optimizer="sgd", lr=0.2, epochs=2, batch_size=16, seed=5,
            checkpoint=npl.Checkpointing(path))
    resumed = net()
    npl.fit(resumed, X, y, loss="cross_entropy", optimizer="sgd", lr=0.2, epochs=4, batch_size=16, seed=5,
            checkpoint=npl.Checkpointing(path), resume=True)
    for a, b in zip(whole.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a, b)
