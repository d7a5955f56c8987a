"""Use cases of column mappings: an agency saves its own under a name and
imports with one of them, a built-in one (``dtks``) or one given with the
upload (``NIK=nik,NAMA=name,…``)."""
import re

from setiakawan_kit.problems import invalid, not_found

from . import storage
from .rules import mappings

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")


def _check_name(name):
    if not NAME.fullmatch(name or ""):
        raise invalid({"name": ["A mapping's name is up to 60 lower-case letters, digits, - and _."]})
    if name in mappings.BUILT_IN:
        raise invalid({"name": [f"{name} is a built-in mapping; save yours under another name."]})


def save(uow, identity, name, document):
    _check_name(name)
    try:
        mapping = mappings.from_document(document)
    except mappings.MappingError as exc:
        raise invalid({"_body": [str(exc)]}) from None
    storage.save_import_mapping(uow, identity.agency, name, mapping.document())
    return {"name": name, "built_in": False, **mapping.document()}


def listed(uow, identity):
    built_in = [{"name": n, "built_in": True, **m.document()} for n, m in sorted(mappings.BUILT_IN.items())]
    return built_in + [{"name": row["name"], "built_in": False, **row["document"]}
                       for row in storage.import_mappings(uow, identity.agency)]


def get(uow, identity, name):
    if name in mappings.BUILT_IN:
        return {"name": name, "built_in": True, **mappings.BUILT_IN[name].document()}
    row = storage.import_mapping(uow, identity.agency, name)
    if row is None:
        raise not_found(f"Your agency has no mapping {name!r} (built in: {', '.join(mappings.BUILT_IN)}).")
    return {"name": name, "built_in": False, **row["document"]}


def for_upload(uow, identity, name=None, columns=None):
    """The mapping an upload names (saved by the caller's agency or built in),
    or the one its ``columns`` spell; None for neither."""
    if name and columns:
        raise invalid({"mapping": ["Name a saved mapping or give columns, not both."]})
    try:
        if columns:
            return mappings.from_spec(columns)
        if name:
            if name in mappings.BUILT_IN:
                return mappings.BUILT_IN[name]
            row = storage.import_mapping(uow, identity.agency, name)
            if row is None:
                raise invalid({"mapping": [f"Your agency has no mapping {name!r} "
                                           f"(built in: {', '.join(mappings.BUILT_IN)})."]})
            return mappings.from_document(row["document"])
    except mappings.MappingError as exc:
        raise invalid({"columns": [str(exc)]}) from None
    return None
