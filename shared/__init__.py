"""What every service shares: settings, Postgres, the bus and its contracts, errors, ids, observability."""
