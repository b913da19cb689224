"""Run a sweep: Ray started or attached, trials handed to workers, results gathered."""
