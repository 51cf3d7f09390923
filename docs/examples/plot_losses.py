"""
MSE, Smooth L1 or cross-entropy?
================================

The loss decides what the network is pushed towards, and how hard
(:doc:`/concepts/losses`). Its gradient with respect to the output is what
backpropagation starts from: for the squared error it grows in proportion to
the error, for Smooth L1 it is capped at 1 (per element, before the mean) once
the error exceeds ``beta``, and for cross-entropy on a softmax output it is the
difference between the predicted probabilities and the one-hot target. This
example compares them on a classification problem and on a regression with
outliers.
"""

# %%
# Classification: the same network, three losses
# ----------------------------------------------
#
# A 64-32-10 network with a tanh hidden layer and a softmax output, trained on
# the embedded digits with each loss in turn -- same initial weights, same
# batches, same learning rate 0.5, 20 epochs. The targets are the integer class
# labels for all three: ``cross_entropy`` takes them as they are, while ``mse``
# and ``smooth_l1`` one-hot encode them (the default
# :meth:`~neuroplug.base.Loss.prepare_targets`), so that the 10 softmax
# probabilities are pulled towards 0 and 1.

import matplotlib.pyplot as plt
import numpy as np

import neuroplug as npl

X_train, X_val, y_train, y_val = npl.datasets.load_digits_split(seed=0)
LOSSES = ("mse", "smooth_l1", "cross_entropy")
histories = {}
for loss in LOSSES:
    net = npl.Sequential([npl.Dense(32, activation="tanh"), npl.Dense(10, activation="softmax")],
                         input_dim=64, seed=0)
    histories[loss] = npl.fit(net, X_train, y_train, loss=loss, lr=0.5, epochs=20, batch_size=32,
                              seed=0, validation_data=(X_val, y_val))
    acc = histories[loss]["val_accuracy"]
    print(f"{loss:<13} validation accuracy after epoch 1: {acc[0]:.1%}, epoch 5: {acc[4]:.1%}, "
          f"epoch 20: {acc[-1]:.1%}")

epochs = np.arange(1, 21)
fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
for loss in LOSSES:
    ax_acc.plot(epochs, histories[loss]["val_accuracy"], marker=".", label=loss)
    ax_loss.semilogy(epochs, histories[loss]["loss"], marker=".", label=loss)
ax_acc.set_title("digits: validation accuracy")
ax_acc.set_xlabel("epoch")
ax_acc.set_ylabel("fraction of validation digits correct")
ax_acc.legend(loc="lower right")
ax_loss.set_title("training loss (each in its own units)")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training loss (log scale)")
ax_loss.legend(loc="upper right")
for ax in (ax_acc, ax_loss):
    ax.set_xticks([1, 5, 10, 15, 20])
fig.tight_layout()

# %%
# With the same learning rate, cross-entropy is far ahead from the first epoch
# (the printed accuracies), and the two regression losses catch up only
# slowly. (Cross-entropy's curves also show that 0.5 is a bold rate for it:
# an occasional step overshoots, and accuracy and loss briefly get worse before
# recovering.) The reason for the gap is the size of the gradient: with a softmax output,
# cross-entropy's gradient is :math:`(p - y)/N`, large exactly when a
# probability is wrong, while the squared error of a probability is small
# (at most 1 per class), its mean is taken over the 10 outputs too, and it is
# further multiplied by the softmax's derivative, which is small when the
# softmax is confident -- even confidently wrong. Smooth L1 with ``beta = 1``
# is ``d**2 / 2`` on these errors, all below 1: half the squared error, so it
# learns more slowly still. The loss curves cannot be compared by height --
# each loss measures in its own units -- only by shape.
#
# Regression with outliers: MSE or Smooth L1?
# -------------------------------------------
#
# Sixty noisy samples of :math:`\sin x`, six of which are corrupted by adding
# 4 to 6: outliers. The same 1-16-1 tanh network is fitted with ``mse`` and with
# ``smooth_l1`` (``beta = 1``).

rng = np.random.default_rng(0)
x = np.sort(rng.uniform(-3, 3, 60))
y = np.sin(x) + 0.1 * rng.standard_normal(60)
outliers = rng.choice(60, 6, replace=False)
y[outliers] += rng.uniform(4, 6, 6)

grid = np.linspace(-3, 3, 200)
fits = {}
for loss in ("mse", "smooth_l1"):
    net = npl.Sequential([npl.Dense(16, activation="tanh"), npl.Dense(1)], input_dim=1, seed=0)
    npl.fit(net, x[:, None], y, loss=loss, lr=0.1, epochs=300, batch_size=10, seed=0)
    fits[loss] = net.predict(grid[:, None]).ravel()
    print(f"{loss:<9}: mean |fit - sin x| over [-3, 3] = {np.mean(np.abs(fits[loss] - np.sin(grid))):.3f}")

fig, ax = plt.subplots(figsize=(8, 4.5))
clean = np.setdiff1d(np.arange(60), outliers)
ax.plot(x[clean], y[clean], "o", color="0.55", markersize=4, label="data")
ax.plot(x[outliers], y[outliers], "o", color="tab:red", markersize=6, label="outliers")
ax.plot(grid, np.sin(grid), ":", color="black", label="sin x (no noise)")
ax.plot(grid, fits["mse"], color="tab:blue", linewidth=2, label="fitted with mse")
ax.plot(grid, fits["smooth_l1"], color="tab:green", linewidth=2, label="fitted with smooth_l1")
ax.set_title("1-D regression with 6 outliers")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
fig.tight_layout()
plt.show()

# %%
# The squared error's gradient grows with the residual, so each outlier, 4 to 6
# units off, pulls on the fit with a force several times that of an ordinary
# point and drags the curve up towards it. Smooth L1's gradient is capped at 1
# for residuals beyond ``beta``: an outlier pulls no harder than a point one
# unit off, and the fit stays closer to the clean data, as the printed mean
# distances from :math:`\sin x` confirm.
#
# In short: for classes, a softmax output with ``cross_entropy``; for
# regression, ``mse`` when the errors are well behaved, ``smooth_l1`` (or
# ``huber``) when a few of them are not.
