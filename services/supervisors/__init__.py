"""The registry of supervisors around the core: the site's configuration file, the Redis store, the engineers' actions.

The registry itself (who may publish, quarantine, ownership, two publishers) is pure: services/core/registry.py.
"""
