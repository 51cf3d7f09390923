"""
neuroplug in a scikit-learn pipeline
====================================

:class:`~neuroplug.sklearn.NeuroplugClassifier` is a scikit-learn estimator:
it goes into a :class:`~sklearn.pipeline.Pipeline` after a scaler, and a
:class:`~sklearn.model_selection.GridSearchCV` can tune its components and
their parameters (``activation__alpha`` reaches the ``alpha`` of a
``leaky_relu``) like any other hyperparameter. Needs ``neuroplug[sklearn]``.
"""

# %%
# A pipeline and a small grid
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import neuroplug as npl
from neuroplug.sklearn import NeuroplugClassifier

X, y = npl.datasets.make_moons(300, noise=0.25, seed=0)
pipe = make_pipeline(StandardScaler(),
                     NeuroplugClassifier(hidden_layer_sizes=(16,), optimizer="sgd", lr=0.3, epochs=40,
                                         batch_size=32, random_state=0))
grid = {"neuroplugclassifier__activation": ["tanh", "relu", "leaky_relu"],
        "neuroplugclassifier__lr": [0.03, 0.3]}
search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
print("best:", search.best_params_, f"cross-validated accuracy {search.best_score_:.3f}")

# %%
# The mean cross-validated accuracy of each setting:
scores = search.cv_results_["mean_test_score"].reshape(3, 2)
fig, ax = plt.subplots(figsize=(6.4, 4))
image = ax.imshow(scores, cmap="viridis", vmin=scores.min() - 0.02, vmax=1.0)
ax.set_xticks([0, 1], [f"lr = {lr}" for lr in grid["neuroplugclassifier__lr"]])
ax.set_yticks([0, 1, 2], grid["neuroplugclassifier__activation"])
ax.set_xlabel("learning rate")
ax.set_ylabel("hidden activation")
for (i, j), s in np.ndenumerate(scores):
    ax.text(j, i, f"{s:.3f}", ha="center", va="center", color="white" if s < scores.max() else "black")
ax.set_title("GridSearchCV: mean accuracy over 3 folds")
fig.colorbar(image, ax=ax, label="accuracy")
fig.tight_layout()

# %%
# A component's own parameter, by its nested name
# -----------------------------------------------
# ``set_params(neuroplugclassifier__activation__alpha=...)`` turns the
# activation into ``{"name": "leaky_relu", "config": {"alpha": ...}}``; the grid
# search clones and refits the pipeline for each value.
alphas = {"neuroplugclassifier__activation": ["leaky_relu"],
          "neuroplugclassifier__activation__alpha": [0.01, 0.1, 0.3]}
nested = GridSearchCV(pipe, alphas, cv=3).fit(X, y)
for alpha, s in zip(alphas["neuroplugclassifier__activation__alpha"], nested.cv_results_["mean_test_score"]):
    print(f"leaky_relu alpha={alpha}: cross-validated accuracy {s:.3f}")

# %%
# The decision boundary of the best pipeline, refitted on all the data:
xx, yy = np.meshgrid(np.linspace(-2, 3, 200), np.linspace(-1.5, 2, 160))
proba = search.predict_proba(np.c_[xx.ravel(), yy.ravel()])[:, 1].reshape(xx.shape)
fig, ax = plt.subplots(figsize=(6.4, 4.4))
ax.contourf(xx, yy, proba, levels=20, cmap="RdBu_r", alpha=0.6)
ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=18)
ax.set_xlabel("feature 1")
ax.set_ylabel("feature 2")
ax.set_title("P(class 1) of the best pipeline")
fig.tight_layout()
plt.show()
