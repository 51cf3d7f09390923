"""A plugin implementing a hook that does not exist (phase ``validate``)."""

import numpy as np

import neuroplug
from neuroplug_broken import mark_imported

mark_imported("misspelled_hook")


class Cube(neuroplug.Activation):
    """z cubed; never registered, since the hook below is misspelled."""

    def forward(self, z, out=None):
        return np.power(z, 3, out=out)

    def derivative(self, z, a):
        return 3 * z * z


@neuroplug.hookimpl
def neuroplug_activation():  # misspelled: the hook is neuroplug_activations
    return [neuroplug.ActivationRegistration(name="cube", factory=Cube)]
