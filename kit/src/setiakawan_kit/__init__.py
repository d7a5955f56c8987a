"""Setiakawan kit: the event contract, outbox, inbox, HTTP and identity
conventions shared by every Setiakawan service and by partner services."""
import warnings

__version__ = "0.1.0"

# nameko 2.14 runs on eventlet, which announces its deprecation on import;
# the notice says nothing an operator can act on.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
# eventlet imports dnspython, whose DSA module makes recent cryptography releases warn on
# import; a service refusing to start must still say so in one line.
warnings.filterwarnings("ignore", message=r"DSA is deprecated")
