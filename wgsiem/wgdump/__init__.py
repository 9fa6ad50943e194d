"""`wg show all dump`: its data model and its parser (the only code that sees keys)."""

from .model import Endpoint, InterfaceStatus, ParseProblem, PeerStatus, Poll
from .parse import DumpParser, read_stderr
from .psk import PresharedKeyHasher
from .raw import RawPoll

__all__ = [
    "DumpParser",
    "Endpoint",
    "InterfaceStatus",
    "ParseProblem",
    "PeerStatus",
    "Poll",
    "RawPoll",
    "PresharedKeyHasher",
    "read_stderr",
]
