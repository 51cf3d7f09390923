"""
What does the initialization scale do to activations through depth?
===================================================================

Each layer multiplies its input by a weight matrix and applies the activation.
If the weights are a little too small, the signal shrinks a little in every
layer, and after ten layers it has all but vanished; a little too large, and it
grows (or, with tanh, saturates). The same holds for the gradients on their way
back (:doc:`/concepts/initialization`, :doc:`/concepts/chain-rule`). This
example pushes one batch of random inputs through 10-layer networks of width
256 initialized by three of neuroplug's initializers, and measures the spread
(standard deviation) of the activations and of the weight gradients in every
layer:

* ``xavier``: :math:`U[-1/\\sqrt{n}, 1/\\sqrt{n}]`, variance :math:`1/(3n)`,
* ``normalized_xavier``: :math:`U[-\\sqrt{6}/\\sqrt{n+m}, \\sqrt{6}/\\sqrt{n+m}]`,
  variance :math:`2/(n+m)`, i.e. :math:`1/n` here since :math:`n = m`,
* ``he_uniform``: :math:`U[-\\sqrt{6/n}, \\sqrt{6/n}]`, variance :math:`2/n`,

with :math:`n` the inputs and :math:`m` the outputs of the layer.
"""

# %%
# Measuring the spread
# --------------------
#
# The network is an ordinary :class:`~neuroplug.model.network.Sequential` of
# :class:`~neuroplug.model.layers.Dense` layers with ``init=name`` (biases start at zero).
# The activations are obtained by applying the layers one after the other
# (:meth:`Dense.forward <neuroplug.model.layers.Dense.forward>`), the weight
# gradients of all layers at once by
# :meth:`~neuroplug.model.network.Sequential.loss_and_gradients`, here of the
# ``mse`` loss against random targets.

import matplotlib.pyplot as plt
import numpy as np

import neuroplug as npl

DEPTH, WIDTH, BATCH = 10, 256, 512
INITS = ("xavier", "normalized_xavier", "he_uniform")
rng = np.random.default_rng(0)
X = rng.standard_normal((BATCH, WIDTH))
targets = rng.standard_normal((BATCH, WIDTH))


def spreads(activation, init):
    """Std of the activations, of dL/db and of dL/dW, per layer (1..DEPTH)."""
    net = npl.Sequential([npl.Dense(WIDTH, activation=activation, init=init) for _ in range(DEPTH)],
                         input_dim=WIDTH, seed=0, dtype="float64")
    a, act_std = X, []
    for layer in net.layers:
        a = layer.forward(a)
        act_std.append(a.std())
    _, grads = net.loss_and_gradients(X, targets, "mse")
    # grads is [dW1, db1, dW2, db2, ...]; db = dL/db is the backpropagated dL/dz summed over the batch
    return np.array(act_std), np.array([db.std() for db in grads[1::2]]), np.array([dW.std() for dW in grads[0::2]])


results = {(act, init): spreads(act, init) for act in ("tanh", "relu") for init in INITS}
print("std in layer 1 -> layer 10 of the activations, dL/db and dL/dW")
for (act, init), stds in results.items():
    print(f"{act:<4} {init:<17} " + "   ".join(f"{s[0]:.2g} -> {s[-1]:.2g}" for s in stds))

# %%
# Activations per layer
# ---------------------

layers = np.arange(1, DEPTH + 1)
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, act in zip(axes, ("tanh", "relu")):
    for init in INITS:
        ax.semilogy(layers, results[act, init][0], marker="o", label=init)
    ax.set_title(f"{act} network: spread of the activations")
    ax.set_xlabel("layer")
    ax.set_xticks(layers)
axes[0].set_ylabel("std of the activations (log scale)")
axes[1].legend(loc="lower left")
fig.tight_layout()

# %%
# With **tanh**, ``xavier`` (variance :math:`1/(3n)`) shrinks the activations in
# every layer -- each layer's sum has a third of the variance of its input, and
# tanh is nearly linear for small inputs, so the spread keeps falling layer after
# layer. ``normalized_xavier`` (variance :math:`1/n` here) and ``he_uniform``
# stay much flatter; the printed numbers show how much each still drifts
# between layer 1 and layer 10: ``normalized_xavier`` loses a little in every
# layer (tanh's slope is below 1 away from 0), ``he_uniform``, whose weights are
# larger, less.
#
# With **ReLU**, which zeroes half of its inputs, only ``he_uniform`` -- whose
# variance :math:`2/n` makes up for that half -- keeps the spread level; both
# Xavier variants lose a constant factor per layer, a straight line on the log
# scale.
#
# Gradients per layer
# -------------------

fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
for col, act in enumerate(("tanh", "relu")):
    for row, (what, ylabel) in enumerate((("bias gradients", "std of dL/db (log scale)"),
                                           ("weight gradients", "std of dL/dW (log scale)"))):
        ax = axes[row, col]
        for init in INITS:
            ax.semilogy(layers, results[act, init][1 + row], marker="o", label=init)
        ax.set_title(f"{act} network: spread of the {what}")
        ax.set_ylabel(ylabel)
        ax.set_xticks(layers)
    axes[1, col].set_xlabel("layer (the loss is computed after layer 10)")
axes[0, 1].legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
# Read from right to left, the direction the gradient travels. The top row
# shows :math:`\partial L/\partial b`, which is the backpropagated
# :math:`\partial L/\partial z` of the layer summed over the batch: with both
# Xavier variants under ReLU and with ``xavier`` under tanh it shrinks layer
# after layer on the way back to the input, by orders of magnitude in the worst
# cases (the printed numbers give layer 1 and layer 10). With ``he_uniform``
# it stays within a narrow band in both networks, and so does
# ``normalized_xavier`` under tanh, more loosely.
#
# The bottom row holds a surprise: with the Xavier variants the *weight*
# gradients :math:`\partial L/\partial W = a_{\text{in}}^\top \delta` change
# much less from layer to layer than either factor, because going back the
# shrinking :math:`\delta` meets the larger activations of the earlier layers
# and the two effects largely cancel. What the initialization sets here is
# mostly their overall size: with ``xavier`` every layer's weight gradient is
# orders of magnitude smaller than with the scale matched to the activation
# (``normalized_xavier`` for tanh, ``he_uniform`` for ReLU), and the
# activations it feeds into the loss have all but vanished.
