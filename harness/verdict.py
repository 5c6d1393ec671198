"""The verdict vocabulary every module speaks (a str enum: JSON, JUnit and the report read plain strings)."""
from enum import StrEnum


class Verdict(StrEnum):
    REPRODUCED = "reproduced"   # the bug's evidence was seen
    HELD = "held"               # the trigger was reached and the evidence was not seen
    UNTESTABLE = "untestable"   # no judgement possible here (no build, trigger not reached, no core...)
    ERROR = "error"             # the harness or the case failed (an exception, a blocked scenario): no verdict


DECIDED = (Verdict.REPRODUCED, Verdict.HELD)
