"""Grid model and simulator: synthetic meters, concentrators and labelled scenarios."""
