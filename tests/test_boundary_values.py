"""The permissions boundary's document, as IAM reads it."""

from __future__ import annotations

from components.boundary import boundary_document


def test_the_boundary_document_names_the_policy_language_version_iam_requires() -> None:
    # Without "Version": "2012-10-17", IAM reads the document with the 2008 language, where
    # policy variables are not substituted (IAM User Guide, "IAM JSON policy elements: Version").
    document = boundary_document("arn:aws:iam::123456789012:policy/boundary")
    assert document["Version"] == "2012-10-17"
    assert set(document) == {"Version", "Statement"}
