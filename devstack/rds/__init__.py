"""A local emulator of the RDS log APIs for a fleet of Aurora instances (see README.md)."""
