"""End-to-end: the whole kiosk (real window, real speaker, real listener) as a blind visitor uses it."""
