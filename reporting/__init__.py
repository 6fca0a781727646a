"""Reports for the management and decision layers, read from the metrics and alert stores."""
