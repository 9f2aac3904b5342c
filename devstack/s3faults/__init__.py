"""A fault-injecting reverse proxy in front of moto's S3 (moto has no fault switch)."""
