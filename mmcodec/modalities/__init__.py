"""Typed samples of each modality and their file IO."""
