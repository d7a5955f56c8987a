"""Who may do what in the notifications service."""

#: the routing rules are the platform's: the provincial social office's admins edit them
RULE_EDITORS = ("province",)
MANAGE_ROLES = ("admin",)
#: recording that a person asked for no more messages
OPT_OUT_ROLES = ("admin", "operator", "field_officer")
ANY = ("admin", "operator", "field_officer", "viewer")


def edits_rules(identity):
    """An admin of a provincial office whose token covers a whole province."""
    return identity.role == "admin" and identity.kind in RULE_EDITORS and any(len(r) == 2 for r in identity.regions)


def sees_message(identity, row):
    return row["agency"] == identity.agency or (row["village_code"] is not None
                                                and identity.covers(row["village_code"]))
