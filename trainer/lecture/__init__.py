"""The lecture's pictures, each drawn from a run of the real engine, optimizers and trainer."""
