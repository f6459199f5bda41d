"""Partitioned evaluation: an export read and judged in parts by workers — forked processes
(``--jobs N``) or a Dask cluster (``--dask``) — merged into exactly one process's result
(docs/scale-out.md).

A layer above ``io/`` and ``engine/``, as ``api.py`` is: ``partition.py`` is the pipeline's
steps, ``pipeline.py`` runs them on an executor, ``processes.py`` and ``on_dask.py`` are the
executors.
"""
