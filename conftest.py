# The shared fixtures live in the kit so that partner services can use them too.
pytest_plugins = ["setiakawan_kit.testing"]
