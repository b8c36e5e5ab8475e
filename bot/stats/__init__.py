"""Anonymous demand statistics: what newcomers look for, and which needs no offer meets."""
