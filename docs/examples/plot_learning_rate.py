"""
How large should the learning rate be, and what does a decaying schedule buy?
=============================================================================

Gradient descent moves every weight by the learning rate times its gradient
(:doc:`/concepts/learning-rate`). Too small a rate and training crawls; too large
and each step overshoots the valley it should descend into, so the loss
oscillates -- or the weights blow up, which neuroplug reports by raising
:class:`~neuroplug.errors.DivergenceError` (after restoring the last good
weights). This example trains the same small network on the same data with
several constant rates, then with a rate that decays over training.
"""

# %%
# The data, the network and the runs
# ----------------------------------
#
# A smooth nonlinear regression problem of 5 standard-normal inputs
# (:func:`~neuroplug.datasets.synthetic.make_regression`, target variance 1), a 5-16-1
# network with a tanh hidden layer, the ``mse`` loss, plain SGD, batches of 32,
# 40 epochs. Every run starts from the same weights (network seed 0) and sees
# the batches in the same order (``fit`` seed 0). A small callback records the
# loss after each epoch, so that a run that diverges still has its curve.

import matplotlib.pyplot as plt
import numpy as np

import neuroplug as npl

X, y = npl.datasets.make_regression(n_samples=400, n_features=5, noise=0.1, seed=0)
EPOCHS = 40


class RecordLoss(npl.Callback):
    """Keep the training loss of every finished epoch."""

    def __init__(self):
        self.loss = []

    def on_epoch_end(self, state):
        self.loss.append(state.logs["loss"])


def train(lr, schedule="constant"):
    """Train a fresh network; return (losses per epoch, learning rates, error or None)."""
    net = npl.Sequential([npl.Dense(16, activation="tanh"), npl.Dense(1)], input_dim=5, seed=0)
    record = RecordLoss()
    try:
        history = npl.fit(net, X, y, loss="mse", optimizer="sgd", lr=lr, schedule=schedule,
                          epochs=EPOCHS, batch_size=32, seed=0, callbacks=[record])
    except npl.errors.DivergenceError as error:
        return record.loss, None, error
    return history["loss"], history["lr"], None


runs = {}
for lr in (0.002, 0.2, 0.5, 1.0):
    runs[lr] = train(lr)
    losses, _, error = runs[lr]
    if error is None:
        print(f"lr {lr:<5}: loss {losses[0]:.3f} after epoch 1, {losses[-1]:.3f} after epoch {EPOCHS}, "
              f"lowest {min(losses):.3f}")
    else:
        print(f"lr {lr:<5}: DivergenceError after {len(losses)} finished epochs, "
              f"at step {error.step} (batch {error.batch}):\n    {error}")

# %%
# Constant learning rates
# -----------------------

fig, ax = plt.subplots(figsize=(7, 4.2))
epochs = np.arange(1, EPOCHS + 1)
for lr, (losses, _, error) in runs.items():
    if error is None:
        ax.semilogy(epochs[:len(losses)], losses, label=f"lr = {lr}")
    else:
        ax.text(0.98, 0.97, f"lr = {lr}: DivergenceError at step {error.step},\n"
                f"before its first epoch ended (no curve)", transform=ax.transAxes,
                ha="right", va="top", color="tab:red", fontsize=9)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (MSE, log scale)")
ax.set_title("same network, same data, four constant learning rates")
ax.legend(loc="lower left", fontsize=9)
fig.tight_layout()

# %%
# Read the printed numbers with the figure. The smallest rate lowers the loss
# smoothly but slowly: after 40 epochs it is still more than ten times the loss
# of the 0.2 run. A rate of 0.2 descends fast and fairly smoothly. At 0.5 the loss
# jumps up and down from epoch to epoch: the steps are so large that they keep
# overshooting. At 1.0 the weights grew by a factor of more than 10,000 within
# a few steps; ``fit`` stopped, restored the weights from before the bad step and
# raised ``DivergenceError``, whose message (printed above) names the step, the
# learning rate and the layer.
#
# A decaying schedule
# -------------------
#
# A schedule maps the initial rate to the rate of each epoch. With
# ``exponential_decay`` the rate is multiplied by ``decay_rate`` every
# ``decay_steps`` epochs, smoothly in between; here it falls tenfold over the 40
# epochs. Starting from the bold rate 0.5 (which oscillated above) and from 0.2:

decay = npl.create("schedule", "exponential_decay", decay_rate=0.1, decay_steps=EPOCHS)
decayed = {lr: train(lr, decay) for lr in (0.5, 0.2)}
for lr, (losses, rates, error) in decayed.items():
    constant = runs[lr][0]
    print(f"lr {lr} decaying to {rates[-1]:.3f}: final loss {losses[-1]:.4f} "
          f"(constant {lr}: {constant[-1]:.4f}); "
          f"largest epoch-to-epoch rise {max(np.diff(losses).max(), 0):.4f} "
          f"(constant: {max(np.diff(constant).max(), 0):.4f})")

fig, (ax, ax_lr) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [2, 1]})
for lr, color in ((0.5, "tab:green"), (0.2, "tab:orange")):
    ax.semilogy(epochs, runs[lr][0], color=color, alpha=0.45, linestyle="--",
                label=f"lr = {lr}, constant")
    ax.semilogy(epochs, decayed[lr][0], color=color, label=f"lr = {lr}, exponential_decay")
    ax_lr.plot(epochs, decayed[lr][1], color=color, label=f"from {lr}")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (MSE, log scale)")
ax.set_title("constant vs. decaying learning rate")
ax.legend(loc="lower left", fontsize=9)
ax_lr.set_xlabel("epoch")
ax_lr.set_ylabel("learning rate")
ax_lr.set_title("rate of the decaying runs")
ax_lr.legend(loc="upper right", fontsize=9)
fig.tight_layout()
plt.show()

# %%
# The dashed curves are the constant-rate runs from the first figure, the solid
# ones the same starting rates with the decay; the printed lines give their
# final losses and their largest rise from one epoch to the next (the size of
# the oscillation).
#
# * Started at the bold rate 0.5, the decay keeps the fast start and then, as
#   the steps shrink, stops the bouncing: the loss settles far below where the
#   constant 0.5 ends, and below the decaying run started at 0.2 -- though not
#   below the constant 0.2, the best of the four here.
# * Started at 0.2, the decay smooths the curve, but here it ends *above* the
#   constant 0.2: the rate became small while the loss was still falling.
#
# So a decaying schedule is no free gain: it lets training start with a rate
# that would be too large to finish with, and pays off most when the initial
# rate is on the bold side.
