"""
Writing a component, reading a spec failure, fixing it
======================================================

A new activation is a class with ``forward`` and ``derivative``; the spec suite
(:doc:`/reference/spec`) checks it against what every activation must do, and
its failure messages say what was expected, what was found and what to fix.
Here is softsign, :math:`\\varphi(z) = z / (1 + |z|)`, written once with a
single-character bug in its derivative, checked, read, fixed and checked again
-- then used in a network, and packaged so that ``pip install`` makes it a
plugin like the built-ins (:doc:`/plugins`).
"""

# %%
# A first version, with a bug
# ---------------------------
# The derivative of softsign is :math:`1 / (1 + |z|)^2`; this version forgets
# the square.
import matplotlib.pyplot as plt
import numpy as np

import neuroplug as npl
from neuroplug.spec import check_component


class BuggySoftsign(npl.Activation):
    """softsign, with a wrong derivative."""

    def forward(self, z, out=None):
        return np.divide(z, 1 + np.abs(z), out=out)

    def derivative(self, z, a):
        return 1 / (1 + np.abs(z))  # the bug: (1 + |z|) ** 2


report = check_component(BuggySoftsign())
print("ok:", report.ok, report.counts())
for failure in report.failures():
    print(f"\n{failure.check_id} failed:\n{failure.message}")

# %%
# Reading the failure
# -------------------
# Each failure starts with its check's ID (``ACT-DERIV``: its formula and
# tolerance are in :doc:`/reference/spec`), then the statement that failed --
# here ``backward(z, a, 1) = phi'(z)`` -- with the difference found and the
# tolerance, what to check, and the numbers: the value the component returned
# and the central difference of its own ``forward``, at the input where they
# disagree. The second failure, ``CHAIN-RULE-ACT``, is the same bug seen from a
# network: the gradient backpropagation gives a weight is not the numerical one.
# Everything else -- shapes, dtypes, no mutation of the input, determinism,
# float32 -- passed, so the derivative is the one thing to look at. Plotting it
# against the numerical derivative makes the bug plain:
z = np.linspace(-4, 4, 401).reshape(-1, 1)
act = BuggySoftsign()
a = act.forward(z)
h = 1e-6
numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
fig, ax = plt.subplots(figsize=(6.4, 4))
ax.plot(z, a, label=r"$\varphi(z)$")
ax.plot(z, act.derivative(z, a), "--", label="derivative() as written")
ax.plot(z, numeric, ":", linewidth=2.5, label="central difference of forward()")
ax.set_xlabel("pre-activation z")
ax.set_ylabel("value")
ax.set_title("softsign: the written derivative against the numerical one")
ax.legend(loc="upper left")
fig.tight_layout()

# %%
# The fix, checked again
# ----------------------


class Softsign(npl.Activation):
    r"""softsign, :math:`\varphi(z) = z / (1 + |z|)`, :math:`\varphi'(z) = 1 / (1 + |z|)^2`."""

    def forward(self, z, out=None):
        return np.divide(z, 1 + np.abs(z), out=out)

    def derivative(self, z, a):
        return 1 / np.square(1 + np.abs(z))


report = check_component(Softsign())
print("ok:", report.ok, report.counts())

# %%
# Using it
# --------
# Registered in-process (inside :func:`neuroplug.isolated_registry`, so that
# nothing outlives this example), it is a component like any other, by name:
X, y = npl.datasets.make_moons(300, noise=0.2, seed=0)
with npl.isolated_registry() as registry:
    registry.register(npl.ActivationRegistration(name="my_softsign", factory=Softsign,
                                                 summary="z / (1 + |z|)"))
    net = npl.Sequential([npl.Dense(16, activation="my_softsign"), npl.Dense(2, activation="softmax")],
                         input_dim=2, seed=0)
    history = npl.fit(net, X, y, loss="cross_entropy", lr=0.5, epochs=40, seed=0)
print(f"training accuracy after 40 epochs: {history['accuracy'][-1]:.3f}")

fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.plot(np.arange(1, 41), history["loss"])
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy)")
ax.set_title("a 2-16-2 network with the new activation")
fig.tight_layout()
plt.show()

# %%
# Publishing it
# -------------
# A plugin is a package whose module holds the class and a hook returning its
# registration, declared in the ``neuroplug`` entry-point group of its
# ``pyproject.toml``::
#
#     # my_softsign.py
#     import neuroplug
#
#     class Softsign(neuroplug.Activation): ...      # as above
#
#     @neuroplug.hookimpl
#     def neuroplug_activations():
#         return [neuroplug.ActivationRegistration(name="my_softsign", factory=Softsign,
#                                                  summary="z / (1 + |z|)")]
#
#     # pyproject.toml
#     [project.entry-points.neuroplug]
#     my_softsign = "my_softsign"
#
# After ``pip install .``, ``neuroplug list`` shows it, ``neuroplug spec
# my_softsign`` runs these checks on it (exit status 1 on a failure: one line in
# the plugin's CI), and ``neuroplug docs`` documents it next to the built-ins.
# The plugin guide (:doc:`/plugins`) walks through a complete package.
