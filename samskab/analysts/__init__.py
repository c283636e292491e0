"""The analysts' side of the published file: read-only SQL, exports, the study report."""
