"""A plugin whose hook raises (phase ``hook``)."""

import neuroplug
from neuroplug_broken import mark_imported

mark_imported("hook_error")


@neuroplug.hookimpl
def neuroplug_activations():
    raise RuntimeError("neuroplug-broken: hook_error's neuroplug_activations() always fails")
