"""Report a sweep: what its parent run ends with, and where the user looks at it.

table.py            counts, the best trials, results.csv and the printed table
heatmap.py          the ranking metric over lr x momentum; loss_curves.py: every loss curve
searches/           the boundary search's table and figure, the range test's report
parent_files.py     a search's results as the parent's ParentSummary (metrics, tags, files)
dashboard.py        the link to the parent run, and `mlflow ui` for `sweep.ui=true`
"""
