"""The registry's optional C part: the COPY text of bulk-imported households
(src/setiakawan_registry/_bulktext.c). Without a C compiler or OpenSSL's
headers the install goes on and the importer uses the Python definition."""
from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "setiakawan_registry._bulktext", ["src/setiakawan_registry/_bulktext.c"], libraries=["crypto"],
    extra_compile_args=["-O2", "-Wno-deprecated-declarations"], optional=True)])
