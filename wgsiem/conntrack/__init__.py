"""conntrack-tools' event text (`conntrack -E -o timestamp,extended,id`): its records and parser."""

from .model import ACCOUNTING_OFF, ConntrackProblem, ConntrackRecord, ConntrackTuple, ConntrackUserspace
from .parse import ConntrackParser, parse_lines, parse_text

__all__ = [
    "ACCOUNTING_OFF",
    "ConntrackParser",
    "ConntrackProblem",
    "ConntrackRecord",
    "ConntrackTuple",
    "ConntrackUserspace",
    "parse_lines",
    "parse_text",
]
