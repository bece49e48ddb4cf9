"""Pulumi components for a GitHub -> AWS delivery chain (one service, one stage per instance)."""
