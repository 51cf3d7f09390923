"""
Is backprop just the chain rule? Check it.
==========================================

Backpropagation computes the gradient of the loss with respect to every weight
in one backward sweep, multiplying local derivatives layer by layer -- the chain
rule (:doc:`/concepts/chain-rule`). If that is all it does, its gradients must
agree with the slopes measured numerically by nudging each weight up and down,
the *central finite difference*

.. math::

   \\frac{\\partial L}{\\partial w} \\approx \\frac{L(w + h) - L(w - h)}{2h}.

This example checks it on a tiny 2-3-1 network in float64, for every one of its
13 parameters, using
:meth:`~neuroplug.model.network.Sequential.loss_and_gradients`.
"""

# %%
# The network and its backpropagated gradients
# --------------------------------------------

import matplotlib.pyplot as plt
import numpy as np

import neuroplug as npl

rng = np.random.default_rng(0)
X = rng.normal(size=(8, 2))
y = rng.normal(size=(8, 1))

net = npl.Sequential([npl.Dense(3, activation="tanh"), npl.Dense(1)],
                     input_dim=2, seed=0, dtype="float64")
loss, grads = net.loss_and_gradients(X, y, "mse")
print(f"loss {loss:.6f}; gradients of {[g.shape for g in grads]} (W1, b1, W2, b2)")

# %%
# Central finite differences
# --------------------------
#
# Each parameter in turn is moved by :math:`\pm h` with
# :meth:`~neuroplug.model.network.Sequential.set_weights`, and the loss
# recomputed; the weights are put back afterwards.

h = 1e-6
weights = net.get_weights()
names = ["W1", "b1", "W2", "b2"]
labels, backprop, numeric = [], [], []
for k, (name, w) in enumerate(zip(names, weights)):
    for index in np.ndindex(w.shape):
        values = []
        for sign in (+1, -1):
            nudged = [v.copy() for v in weights]
            nudged[k][index] += sign * h
            net.set_weights(nudged)
            values.append(net.loss_and_gradients(X, y, "mse")[0])
        labels.append(f"{name}[{','.join(map(str, index))}]")
        backprop.append(grads[k][index])
        numeric.append((values[0] - values[1]) / (2 * h))
net.set_weights(weights)

backprop, numeric = np.array(backprop), np.array(numeric)
rel_error = np.abs(backprop - numeric) / np.maximum(np.abs(backprop) + np.abs(numeric), 1e-12)

print(f"{'parameter':<10} {'backprop':>14} {'finite diff.':>14} {'rel. error':>11}")
for name, b, n, e in zip(labels, backprop, numeric, rel_error):
    print(f"{name:<10} {b:>14.8f} {n:>14.8f} {e:>11.1e}")
print(f"largest relative error: {rel_error.max():.1e}")

# %%
# Relative error per parameter
# ----------------------------

fig, ax = plt.subplots(figsize=(7, 4))
ax.bar(range(len(labels)), rel_error, color="tab:blue")
ax.set_yscale("log")
ax.set_xticks(range(len(labels)))
ax.set_xticklabels(labels, rotation=45, ha="right")
ax.set_xlabel("parameter")
ax.set_ylabel("relative error (log scale)")
ax.set_title(f"backprop vs. central differences, h = {h:g}, float64")
fig.tight_layout()
plt.show()

# %%
# Each bar is the relative error
# :math:`|g_{\text{backprop}} - g_{\text{numeric}}| / (|g_{\text{backprop}}| + |g_{\text{numeric}}|)`
# of one parameter. Every bar is tiny -- the largest relative error is printed above -- far
# below anything a wrong derivative would give (a mistake in one factor of the
# chain typically gives errors of order 1). What remains is the error of the
# finite difference itself: its truncation error, of order :math:`h^2`, and
# the rounding error of subtracting two nearly equal losses, of order
# :math:`\varepsilon / h` with float64's :math:`\varepsilon \approx 2\cdot10^{-16}`.
# So yes: the backward pass is the chain rule, applied exactly.
#
# Use float64 for such checks: in float32 the rounding error alone would be
# around :math:`10^{-7}/h`, and the comparison would say little.
