"""Sending the queued submissions to the centre, and enrolling with it.

- ``engine``: one sync pass (outcomes, batches, backoff, Retry-After, clock skew); ``worker``: the one background
  thread that runs passes (lock file, wake-ups); ``transport``: HTTP on httpx; ``fake``: a fake centre for tests;
  ``enroll``: the one-time code for a device token; ``config``: server URL rules, CA bundle, the enrollment
  record; ``retention``: purging patient details after acknowledgement; ``messages``: the French texts.
"""
