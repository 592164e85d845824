"""The journal: every bus message and operator action on disk, for history, export and replay.

- `store`: `Journal`, zstd segments with an index and snapshots; `files`, `upkeep` (retention), `history` under it.
- `recorder`: `Recorder`, the thread that subscribes and writes the journal; `feed`: journal records as bus messages.
- `image`: a core as versioned JSON and back (the journal's snapshots, a replay session's start).
- `export`: JSONL and Parquet extracts.
"""
