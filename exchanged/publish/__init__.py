"""Publishing validated records to the shop outputs: state files, change feed, manifest."""

from exchanged.publish.batch import publish_batch
from exchanged.publish.manifest import MANIFEST, read_manifest
from exchanged.publish.publisher import publish
from exchanged.publish.update import EntityResult, EntityUpdate, SourceRef

__all__ = ["MANIFEST", "EntityResult", "EntityUpdate", "SourceRef", "publish", "publish_batch", "read_manifest"]
