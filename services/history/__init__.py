"""History and drill-down views over the live state and the archive.

- `day_archive`: `DayArchive`, the day's 5-minute buckets per domain in Redis (15 days); `backfill`: simulated past days.
- `asset_detail`: what an asset's page shows; `domain_views`: the water and traffic lists; `lighting_faults`.
"""
