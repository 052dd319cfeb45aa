"""Fetching files from the network, below every layer that needs it: whether the network may be used (offline mode,
a quick reachability probe) and resumable downloads with errors that say the fix."""
