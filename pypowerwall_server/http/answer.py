"""Where Answer was: it lives in encoded_answer.py now, below the read model and http/.
Kept only for imports not yet rewritten; the relayout script removes this module."""

from pypowerwall_server.encoded_answer import JSON as JSON
from pypowerwall_server.encoded_answer import TEXT as TEXT
from pypowerwall_server.encoded_answer import Answer as Answer
from pypowerwall_server.encoded_answer import AnswerFn as AnswerFn
from pypowerwall_server.encoded_answer import error_answer as error_answer
from pypowerwall_server.encoded_answer import json_answer as json_answer
