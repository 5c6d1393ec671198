"""Traffic that runs inside HAProxy's network namespace (see harness.netns): HTTP, raw TCP, QUIC, peers."""
