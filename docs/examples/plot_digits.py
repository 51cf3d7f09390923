"""
Handwritten digits, start to finish
===================================

This example rebuilds, with the Python API, exactly the network that
``neuroplug train`` trains by default -- 64 pixel inputs, a hidden layer of 64
ReLU neurons initialized with He's rule, a softmax over the 10 digits (the
command line gives the output layer the same initializer as the hidden ones),
cross-entropy, SGD with a learning rate of 0.5 that ``step_decay`` halves every
10 epochs, batches of 16, 30 epochs, seed 0 -- on 75 % of the 1,797 embedded
8x8 digits, and checks that both give the same held-out accuracy to the last
digit. Then it plots the training curves and the digits the network gets wrong.
"""

# %%
# Training with the Python API
# ----------------------------
#
# ``load_digits_split(seed=0)`` makes the same stratified 75/25 split as the
# command line (``--test-size 0.25 --seed 0``); the network seed and the
# shuffling seed are 0 as well.

import os
import subprocess
import sys
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import neuroplug as npl

X_train, X_val, y_train, y_val = npl.datasets.load_digits_split(seed=0, test_size=0.25)
net = npl.Sequential([npl.Dense(64, activation="relu", init="he_uniform"),
                      npl.Dense(10, activation="softmax", init="he_uniform")],
                     input_dim=64, seed=0)
history = npl.fit(net, X_train, y_train, loss="cross_entropy", optimizer="sgd",
                  lr=0.5, schedule="step_decay", epochs=30, batch_size=16, seed=0,
                  validation_data=(X_val, y_val))

predicted = net.predict_classes(X_val)
accuracy = float(np.mean(predicted == y_val))
print(f"{len(y_train)} train / {len(y_val)} test samples, {net.count_params()} parameters")
print(f"final training loss {history['loss'][-1]:.4f}, held-out loss {history['val_loss'][-1]:.4f}")
print(f"held-out accuracy: {100 * accuracy:.2f} % ({int(np.sum(predicted == y_val))}/{len(y_val)})")

# %%
# The same run from the command line
# ----------------------------------
#
# ``neuroplug train`` with no options runs the default network. It is run here
# in a temporary folder (so that nothing it might write stays behind), and its
# last line is compared with the Python result above.

with tempfile.TemporaryDirectory() as tmp:
    cli = subprocess.run([sys.executable, "-m", "neuroplug", "train", "--no-progress"],
                         cwd=tmp, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
print(cli.stdout)
cli_line = next(line for line in cli.stdout.splitlines() if line.startswith("held-out accuracy"))
python_line = f"held-out accuracy: {100 * accuracy:.2f} % ({int(np.sum(predicted == y_val))}/{len(y_val)})"
print("Python API:", python_line)
print("same accuracy as the command line:", cli_line.startswith(python_line))

# %%
# Training curves
# ---------------

epochs = np.arange(1, len(history["loss"]) + 1)
fig, (ax_loss, ax_acc, ax_lr) = plt.subplots(1, 3, figsize=(10, 3.6))
ax_loss.semilogy(epochs, history["loss"], label="training")
ax_loss.semilogy(epochs, history["val_loss"], label="validation")
ax_loss.set_title("cross-entropy loss")
ax_loss.set_ylabel("loss (log scale)")
ax_loss.legend(loc="upper right")
ax_acc.plot(epochs, history["accuracy"], label="training")
ax_acc.plot(epochs, history["val_accuracy"], label="validation")
ax_acc.set_title("accuracy")
ax_acc.set_ylabel("fraction correct")
ax_acc.legend(loc="lower right")
ax_lr.step(epochs, history["lr"], where="post")
ax_lr.set_title("learning rate (step_decay)")
ax_lr.set_ylabel("learning rate")
for ax in (ax_loss, ax_acc, ax_lr):
    ax.set_xlabel("epoch")
fig.tight_layout()

best = int(np.argmin(history["val_loss"])) + 1
print(f"lowest validation loss {min(history['val_loss']):.4f} at epoch {best}; "
      f"training loss {history['loss'][0]:.4f} after epoch 1, {history['loss'][-1]:.4f} after epoch 30")
print("learning rate per epoch:", sorted(set(history["lr"]), reverse=True))

# %%
# The training loss keeps falling over the 30 epochs, while the validation
# loss stops improving much earlier (the epoch of its minimum is printed
# above): the network has learned what generalizes, and later epochs mostly fit
# the training images more tightly. The spike in the validation loss (and the
# dip in validation accuracy) in the first ten epochs is a step that was too
# large for where the weights were -- a learning rate of 0.5 is at the bold end
# for this network -- and training recovers from it. The learning rate is 0.5 for the first 10
# epochs, then halved twice (the printed rates and the right panel), so that
# the steps become finer as training settles (:doc:`/concepts/learning-rate`).
#
# What it gets wrong
# ------------------

probabilities = net.predict(X_val)
wrong = np.flatnonzero(predicted != y_val)
fig = plt.figure(figsize=(10, 4.2))
fig.suptitle(f"{len(wrong)} of {len(y_val)} validation digits misclassified")
grid = fig.add_gridspec(2, 9, width_ratios=[1] * 6 + [0.2, 3.2, 0.1])
for k, i in enumerate(wrong[:12]):
    ax = fig.add_subplot(grid[k // 6, k % 6])
    ax.imshow(X_val[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{y_val[i]}→{predicted[i]} {probabilities[i, predicted[i]]:.0%}", fontsize=8)
    ax.set_axis_off()
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_val, predicted), 1)
ax = fig.add_subplot(grid[:, 7])
ax.imshow(np.log1p(confusion), cmap="Blues")
for t, p in zip(*np.nonzero(confusion)):
    ax.text(p, t, confusion[t, p], ha="center", va="center", fontsize=7,
            color="white" if t == p else "black")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_xlabel("predicted digit")
ax.set_ylabel("true digit")
ax.set_title("confusion matrix", fontsize=9)
fig.tight_layout()
print("confidence of the wrong answers:",
      ", ".join(f"{probabilities[i, predicted[i]]:.0%}" for i in wrong))
plt.show()

# %%
# Each small image is a validation digit the network got wrong, titled
# *true → predicted* with the probability it gave its (wrong) answer; the
# matrix counts every validation digit by true and predicted class. The
# printed confidences show how sure the network was of each mistake --
# confident mistakes are exactly what cross-entropy penalizes most
# (:doc:`/concepts/losses`) -- and some of the images are hard to read for a
# human too.
#
# To keep the trained network, ``npl.save(net, "digits.npz")`` and
# ``npl.load("digits.npz")`` (:doc:`/guide/saving`).
