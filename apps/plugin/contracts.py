"""The hooks the plugin registry declares: what it needs from the apps above it (design/layers.md).

gpu provides the miners' side and ai the job history, each in its `AppConfig.ready()`.
"""

from aitbc_site.hooks import Hook

# (principal_id) -> the id of the miner this principal runs, or None
miner_of_principal = Hook("plugin.miner_of_principal")
# (miner_ids) -> how many miners were rechecked: the registry's verdicts changed for installs they reported
verdicts_changed = Hook("plugin.verdicts_changed")
# (types) -> {type: {"completed", "failed", "by_version": {version: completed}}} from the job history
job_type_counts = Hook("plugin.job_type_counts")
