"""Online detectors: each judges one class of grid problem and explains its verdict."""
