"""Error types. Every failure a user can cause maps to one of these, and the CLI
prints its message as a single line (no traceback) and exits non-zero."""


class MmcodecError(Exception):
    """Base class of every error mmcodec raises on purpose."""


class ContainerError(MmcodecError):
    """A .mmc file is corrupt, truncated, foreign or of an unsupported version."""


class ModelError(MmcodecError):
    """A model is unknown, its weights are missing, or they do not match a file."""


class InputError(MmcodecError):
    """An input sample (image, depth map, ...) cannot be coded: bad size, dtype or file."""


class DecodeMismatchError(MmcodecError):
    """The decoder reconstructed latents that differ from the encoder's (digest mismatch)."""
