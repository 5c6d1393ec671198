"""The stuck-streams oracle's sensitivity control against real HAProxy builds from Debian's archive: a
config with no server timeout keeps dead streams, the same with one does not."""
import pytest

from harness.case import find
from harness.runner import check
from tests.support import ARCHIVE_RELEASES

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("spec", ARCHIVE_RELEASES)
def test_stuck_stream_oracle_separates_missing_timeout(spec, images, prepared):
    stuck, clean = (check(v, spec, images=images, prepared=prepared(spec)) for v in find("canary-stuck-streams"))
    assert stuck.verdict == "reproduced", stuck.reason
    assert clean.verdict == "held", clean.reason
    d = stuck.runs[0].findings[0]["details"]
    assert d["no_expiry"] == d["expected"] == 20 and d["curr_conns"] == 20
    assert any(p.endswith("streams.png") for p in stuck.evidence)
