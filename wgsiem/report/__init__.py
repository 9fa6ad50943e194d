"""`wgsiem report`: one self-contained HTML page that answers an admin's questions.

- `build.py`: the data, from a file of events (the dashboards' panels evaluated here) or
  from a cluster (each panel's own search); `activity.py` folds each peer's sessions,
  places and timeline; `alerts.py` reads the alerts.
- `charts.py`: panels drawn as SVG (matplotlib), the endpoint map (cartopy's bundled image).
- `page.py`: the HTML; `guide.py` the rules' investigation guides; `units.py` numbers.
"""
