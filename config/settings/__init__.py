"""Settings package: ``base`` (everything from the environment) and ``test``."""
