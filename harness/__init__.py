"""hrt: the HAProxy regression harness."""
