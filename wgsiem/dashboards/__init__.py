"""Dashboards as data: dashboards/*.yml, one question per panel, and what is made of them.

- `model.py`: the files, checked (schema, KQL, fields aggregatable in ecs_mappings/).
"""
