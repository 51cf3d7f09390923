"""neuroplug networks as scikit-learn estimators: :class:`NeuroplugClassifier`, :class:`NeuroplugRegressor`.

An application on top of the public API (``fit``, ``Sequential``, ``Dense``): any
installed plugin component -- by name, ``dist:name``, ``{"name", "config"}`` dict
or instance -- drops into pipelines, ``GridSearchCV`` and ``cross_val_score``::

    from neuroplug.sklearn import NeuroplugClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), NeuroplugClassifier(hidden_layer_sizes=(64,), activation="swish"))

scikit-learn is an optional extra (``pip install "neuroplug[sklearn]"``); ``import
neuroplug`` never imports it, and importing this module without it says what to install.
"""

from __future__ import annotations

try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a fresh interpreter by the tests
    raise ImportError("neuroplug.sklearn needs scikit-learn: pip install \"neuroplug[sklearn]\" "
                      "(or pip install scikit-learn)") from exc

from .estimators import NeuroplugClassifier, NeuroplugRegressor

__all__ = ["NeuroplugClassifier", "NeuroplugRegressor"]
