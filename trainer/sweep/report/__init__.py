"""Report a sweep: its table, figures, parent files and the dashboard link."""
