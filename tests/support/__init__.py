"""Test support: real services the tests start themselves (PulseAudio, Xvfb)."""
