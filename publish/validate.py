"""Validate: everything the publish needs exists, before the first file is copied or entity created.

The job folder was checked by collect; here the tracker answers, the project and folder exist (or are created on
request, with the shot's attributes from the cut), the task is resolved, and the plate to link is the one the job
was submitted with (``shot.metadata["plateVersionId"]``, recorded by ``submit --from-tracker``), else the shot's
latest plate.
"""

from __future__ import annotations

from publish.collect import PublishPlan
from publish.config import TrackerSettings
from publish.integrate import PublishContext
from publish.layout import VersionExtras
from publish.templates import check_publish_templates
from publish.tracker import Tracker

_FOLDER_ATTRIBUTES = (
    "frameStart",
    "frameEnd",
    "handleStart",
    "handleEnd",
    "fps",
    "resolutionWidth",
    "resolutionHeight",
    "pixelAspect",
)


def _extras(tracker: Tracker, plan: PublishPlan, settings: TrackerSettings) -> VersionExtras:
    """Status and comment from the QA verdict, and the thumbnail, decided once for every product."""
    verdict = plan.verdict
    status = settings.status
    comment = plan.manifest.tracker.comment
    if verdict is not None:
        status = settings.verdict_status.get(verdict["status"], status)
        qa = f"QA {verdict['status']}: {verdict['line']}"
        comment = f"{comment} | {qa}" if comment else qa
    thumbnail_id = tracker.upload_thumbnail(plan.project, plan.thumbnail.path) if plan.thumbnail else None
    return VersionExtras(status=status, comment=comment, thumbnail_id=thumbnail_id)


def validate(tracker: Tracker, plan: PublishPlan, settings: TrackerSettings, *, create_folders: bool) -> PublishContext:
    anatomy = tracker.open_project(plan.project)
    check_publish_templates(anatomy.templates, settings.shapes.template, settings.matte.template)
    attrib = {k: plan.attrib[k] for k in _FOLDER_ATTRIBUTES if k in plan.attrib}
    folder = tracker.resolve_folder(plan.project, plan.folder_path, create=create_folders, attrib=attrib)
    target = plan.manifest.tracker
    task_id = tracker.resolve_task(plan.project, folder, target.task, target.task_type, create=create_folders)
    plate = tracker.latest_plate(plan.project, folder, settings.plate_product_type)
    recorded = plan.manifest.shot.metadata.get("plateVersionId")
    plate_id = str(recorded) if recorded else (plate.version.id if plate is not None else None)
    extras = _extras(tracker, plan, settings)
    return PublishContext(anatomy, folder, task_id, plate, plate_id, extras)
