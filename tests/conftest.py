pytest_plugins = ["adapters.testing.postgres"]
