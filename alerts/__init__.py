"""Alert model, delivery and (later) routing, grouping and work orders."""
