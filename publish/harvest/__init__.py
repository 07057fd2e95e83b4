"""Harvest (publish/harvest/run.py): keep a dataset in sync with the system or catalogue that already holds it.

A dataset's `harvest:` block in catalog.yaml names its source (kinds: http, folder, ckan, dcat; one module
each here). `harvest()` fetches the source into a temporary file and hands it to the normal pipeline (ingest,
validation, quality suite, versioned load), so a harvest is a load like any other; what was fetched (URL,
remote modified time, ETag, sha256) is kept in hub_harvests and on the load's note.

Nothing is lost when a source fails: every failure (down, timeout, HTTP error, cut body, wrong content type,
a schema field gone, far fewer rows than the current version) is raised before the load commits, so the
current version stays served, and the attempt is recorded with its reason in Vietnamese and English.
Unchanged data costs little: the first request is conditional (If-None-Match / If-Modified-Since) and a
fetched file with the last harvest's sha256 is not loaded again.

Scheduled harvests (`schedule:` a cron expression) run in the worker's due tick through publish/schedule.py;
one harvest per dataset at a time, across processes, by a claim on `harvest-run:<dataset>`.
"""
