"""The registry's optional C part: the COPY text of bulk-imported households
(src/setiakawan_registry/_bulktext.c). Without a C compiler the install goes
on and the importer uses the Python definition."""
from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "setiakawan_registry._bulktext", ["src/setiakawan_registry/_bulktext.c"], extra_compile_args=["-O2"],
    optional=True)])
