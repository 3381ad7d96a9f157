"""Deployment helpers: the wheel record and workspace operations through databricks-sdk."""
