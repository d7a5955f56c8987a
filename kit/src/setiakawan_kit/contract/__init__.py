"""The published event contract: every event type Setiakawan's services put
on the wire, each with a versioned marshmallow schema for its data. Partners
import this package (or read ``setiakawan contract``) to plug in."""
from ..envelope import event_types  # noqa: F401
from . import diagnostic, registry  # noqa: F401
