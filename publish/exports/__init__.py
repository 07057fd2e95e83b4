"""Exports of a dataset version: CSV, GeoJSON (and more as they land). All streamed with flat memory."""
