"""A plugin whose import fails (phase ``import``)."""

from neuroplug_broken import mark_imported

mark_imported("import_error")

raise ImportError("neuroplug-broken: this plugin needs the package 'does_not_exist'")
