"""The weights a training run started from, recorded by content digest.

A run started from another model's weights (``init_from``, or the frozen ``depth_baseline`` of
the Convolutional MM-LIC-TCM) names that file by path in its config; the path alone stops naming
those weights once the file is replaced, e.g. when the source model is trained further and
exported again under the same name. The trainer therefore records, when a run starts (not when
it resumes), each such file's digest (the zoo's weights digest, :func:`mmcodec.zoo.file_digest`)
in ``starts.json`` beside the run's config, and the model cards quote it. The command line that
started the run (``mmcodec train …``) is recorded there too, so a card says how to train it again.
A run trained on the decoded colour of a shipped RGB model (``context_model``) records that model's
weights digest as well: the RGB model may be retrained under the same id later, and a conditional
depth model must then not be used with it unnoticed (``mmcodec.depth_api`` refuses the pair).
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import ModelError
from ..zoo import file_digest, find_entry, retrained_since

STARTS_FILE = "starts.json"
START_KEYS = ("init_from", "depth_baseline")


def record_starts(run_dir: Path, sources: dict[str, str | None], command: str | None = None,
                  context_model: str | None = None) -> None:
    """Write the digest of each source weights file (``init_from`` / ``depth_baseline`` → path, or
    None), the ``command`` that started the run and the shipped ``context_model``'s id and weights
    digest, each if given, to ``run_dir/starts.json``; nothing when there is none."""
    starts: dict = {key: {"path": path, "digest": file_digest(Path(path))}
                    for key, path in sources.items() if key in START_KEYS and path}
    if command:
        starts["command"] = command
    if context_model:
        starts["context_model"] = {"id": context_model, "digest": find_entry(context_model).digest}
    if starts:
        (run_dir / STARTS_FILE).write_text(json.dumps(starts, indent=1) + "\n")


def _record(run_dir: Path) -> dict:
    try:
        record = json.loads((run_dir / STARTS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def start_command(run_dir: Path) -> str | None:
    """The command line that started the run, if recorded."""
    command = _record(run_dir).get("command")
    return command if isinstance(command, str) else None


def start_digest(run_dir: Path, key: str, path: str) -> str | None:
    """The digest recorded for the run's ``key`` source at ``path``, or None (no record, e.g. a run
    from before the record existed, or one whose config names another file since)."""
    recorded = _record(run_dir).get(key)
    if not isinstance(recorded, dict):
        return None
    return recorded.get("digest") if recorded.get("path") == path else None


def context_model_digest(run_dir: Path, model_id: str) -> str | None:
    """The weights digest of the context model ``model_id`` when the run started, or None (no record)."""
    recorded = _record(run_dir).get("context_model")
    if not isinstance(recorded, dict) or recorded.get("id") != model_id:
        return None
    digest = recorded.get("digest")
    return digest if isinstance(digest, str) else None


def check_context_unchanged(run_dir: Path, model_id: str) -> None:
    """Refuse to resume a run whose context model has been retrained since the run started (it
    would go on learning from other colour than it began with); runs without a record pass."""
    recorded = context_model_digest(run_dir, model_id)
    current = retrained_since(model_id, recorded)
    if current is not None:
        raise ModelError(f"{run_dir} started on the colour of {model_id} weights {recorded}, which are now "
                         f"{current}: start a new run")


def described_start(run_dir: Path, key: str, path: str) -> str:
    """``path`` as a card names it: quoted, with its recorded digest when there is one."""
    digest = start_digest(run_dir, key, path)
    return f"`{path}`" + (f" (digest `{digest}`)" if digest else "")
