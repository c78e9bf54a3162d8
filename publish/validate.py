"""Validate: everything the publish needs exists, before the first entity or file is created.

The job folder was checked by collect; here the tracker answers, the project and folder exist (or are created on
request) and the task and the plate are resolved once for every product.
"""

from __future__ import annotations

from publish.collect import PublishPlan
from publish.config import TrackerSettings
from publish.integrate import PublishContext
from publish.tracker import Tracker


def validate(tracker: Tracker, plan: PublishPlan, settings: TrackerSettings, *, create_folders: bool) -> PublishContext:
    anatomy = tracker.open_project(plan.project)
    folder = tracker.resolve_folder(plan.project, plan.folder_path, create=create_folders)
    target = plan.manifest.tracker
    task_id = tracker.resolve_task(plan.project, folder, target.task, target.task_type, create=create_folders)
    plate = tracker.latest_plate(plan.project, folder, settings.plate_product_type)
    return PublishContext(anatomy, folder, task_id, plate)
