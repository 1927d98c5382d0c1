"""Structured fuzzing of the decoder: corrupt .mmc files must give one clean line, never a crash.

DESIGN.md's reliability target: "every corrupt or truncated file gives a clear error; fuzzed,
never a crash or hang". The container's CRCs catch blind bit flips, so most of the cases here
keep the container valid and corrupt what it carries: every header field (sizes, dtypes, units,
latent shapes, stream dependencies, codec parameters) is set to values of the wrong size or type,
and stream payloads are flipped, cut, extended, emptied or swapped with their CRCs recomputed
(a corrupt file that a buggy or hostile writer made), besides raw flips and cuts of the bytes.

Each case runs ``mmcodec decompress`` in this process, as a user would run it, and is sorted
into: ``refused`` (exit 2, one line on stderr, no output left), ``decoded`` (exit 0: the change
left a valid file, e.g. an empty hole-mask stream, which means "no holes", or an optional field
dropped; the CRCs guard against accidental corruption, the latent digest against a decoder that
computes other probabilities, neither against a writer that means it), or a failure: ``internal error`` (exit
1), ``exception`` (anything escaping the CLI), ``hang`` (over the time limit), ``multi-line``
(more than one line on stderr), ``left output`` (a failed case that wrote files), ``memory``
(resident memory grew by more than ``--memory-mb`` in the case, or out of memory).

    python benchmarks/fuzz_files.py [--cases-per-file N] [--seed S]
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import random
import resource
import signal
import struct
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402

from mmcodec import api  # noqa: E402
from mmcodec.cli import main as cli_main  # noqa: E402
from mmcodec.container import MmcFile, ModalityInfo, StreamInfo, read_mmc, write_mmc  # noqa: E402
from mmcodec.depth_api import compress_depth, compress_rgbd  # noqa: E402
from mmcodec.errors import ContainerError  # noqa: E402
from mmcodec.modalities.depth import read_depth  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402

FAILURES = ("internal error", "exception", "hang", "multi-line", "left output", "memory")
ODD_VALUES: tuple[Any, ...] = (0, -1, 1, 3, 7, 2**31, 2**63, 65535, 65537, 1.5, float("inf"), "", "x" * 300,
                               "mm", "uint32", None, True, [], [1], {"a": 1})


class Timeout(Exception):
    """The case ran past its time limit."""


@dataclass
class Outcome:
    source: str
    mutation: str
    kind: str          # refused | decoded | one of FAILURES
    message: str
    seconds: float


# ---------------------------------------------------------------- valid files to start from

def source_files(datasets: Path) -> dict[str, bytes]:
    """Small valid files of every kind the CLI decodes (kept small so that a case takes ~0.1 s)."""
    astronaut = read_image(Path(api.__file__).parent / "assets" / "astronaut.png", channels=3)
    crop = astronaut.pixels[:96, :128]
    grey16 = (crop[..., 0].astype(np.uint16) * 257)
    files = {"image": api.compress(crop), "grey-16bit": api.compress(grey16),
             # a channel-wise model: its four slices in one stream, decoded slice by slice
             "image-channel-slices": api.compress(crop, model="mean-scale-channel-n64-mse-0.0067")}
    pair = datasets / "rgbd" / "icl-nuim-livingroom"
    if pair.is_dir():
        colour = read_image(pair / "color" / "00000.jpg", channels=3).pixels[:128, :160]
        depth = read_depth(pair / "depth" / "00000.png", "mm").pixels[:128, :160].copy()
        depth[:8, :8] = 0   # a few holes, so the hole-mask stream is there
        files["depth"] = compress_depth(depth, "mm")
        files["rgbd"] = compress_rgbd(colour, depth, "mm")
    return files


# ---------------------------------------------------------------- mutations

def _header(mmc: MmcFile) -> dict:
    return {"model_id": mmc.model_id, "model_version": mmc.model_version, "weights_digest": mmc.weights_digest,
            "latent_digest": mmc.latent_digest, "codec_params": copy.deepcopy(mmc.codec_params),
            "modalities": [dict(vars(m)) for m in mmc.modalities],
            "streams": [{**vars(s), "depends_on": list(s.depends_on), "shape": list(s.shape)} for s, _ in mmc.streams]}


def _rebuild(header: dict, payloads: list[bytes]) -> bytes:
    """A container with valid CRCs around ``header`` (refused by the writer: ContainerError)."""
    try:
        modalities = [ModalityInfo(**m) for m in header["modalities"]]
        streams = [(StreamInfo(s["name"], s["modality"], tuple(s["depends_on"]), tuple(s["shape"])), p)
                   for s, p in zip(header["streams"], payloads, strict=False)]
        return write_mmc(MmcFile(header["model_id"], header["model_version"], header["weights_digest"], modalities,
                                 streams, header["latent_digest"], header["codec_params"]))
    except (TypeError, ValueError, KeyError) as exc:   # a field the dataclasses or JSON cannot hold
        raise ContainerError(str(exc)) from None


def _leaves(obj: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every scalar of a header (list items and dict values)."""
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, path + (k,))] + ([path] if path else [])
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, path + (i,))] + [path]
    return [path]


def _set(obj: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _get(obj: Any, path: tuple) -> Any:
    for key in path:
        obj = obj[key]
    return obj


def mutations(data: bytes, rng: random.Random, count: int) -> list[tuple[str, bytes]]:
    """``count`` corrupt variants of the valid file ``data``, with a description of each."""
    mmc = read_mmc(data)
    header, payloads = _header(mmc), [bytes(p) for _, p in mmc.streams]
    leaves = [p for p in _leaves(header) if p and p[0] not in ("model_id", "weights_digest", "latent_digest")]
    cases: list[tuple[str, bytes]] = []

    def header_value() -> tuple[str, dict, list[bytes]]:
        path = rng.choice(leaves)
        h = copy.deepcopy(header)
        old = _get(h, path)
        candidates = list(ODD_VALUES)
        if type(old) is int:
            candidates += [old + 1, old - 1, old * 2, old // 2, -old]
        value = rng.choice(candidates)
        _set(h, path, value)
        return f"header {'.'.join(map(str, path))} = {value!r}"[:90], h, payloads

    def dropped_key() -> tuple[str, dict, list[bytes]]:
        h = copy.deepcopy(header)
        dicts = [p for p in _leaves(h) if p and isinstance(_get(h, p), dict) and _get(h, p)] + [()]
        where = rng.choice(dicts)
        target = _get(h, where) if where else h
        key = rng.choice(sorted(target))
        del target[key]
        return f"header drops {'.'.join(map(str, where + (key,)))}", h, payloads

    def payload_change() -> tuple[str, dict, list[bytes]]:
        p = list(payloads)
        i = rng.randrange(len(p))
        how = rng.choice(["flip", "cut", "extend", "empty", "swap", "zeros"])
        if how == "flip" and p[i]:
            b = bytearray(p[i])
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            p[i] = bytes(b)
        elif how == "cut":
            p[i] = p[i][:rng.randrange(max(1, len(p[i])))]
        elif how == "extend":
            p[i] = p[i] + bytes(rng.randrange(256) for _ in range(rng.choice([1, 4, 64, 4096])))
        elif how == "empty":
            p[i] = b""
        elif how == "swap" and len(p) > 1:
            j = rng.choice([k for k in range(len(p)) if k != i])
            p[i], p[j] = p[j], p[i]
        else:
            p[i] = bytes(len(p[i]))
        return f"stream {header['streams'][i]['name']} payload {how} (CRC recomputed)", header, p

    def raw_change() -> bytes:
        b = bytearray(data)
        if rng.random() < 0.5:
            for _ in range(rng.choice([1, 2, 8])):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            return bytes(b)
        return bytes(b[:rng.randrange(len(b))])

    makers: list[Callable[[], tuple[str, dict, list[bytes]]]] = [header_value, header_value, dropped_key,
                                                                  payload_change, payload_change]
    while len(cases) < count:
        if rng.random() < 0.15:
            cases.append(("raw bytes flipped or cut (CRC not fixed)", raw_change()))
            continue
        description, h, p = rng.choice(makers)()
        try:
            cases.append((description, _rebuild(h, p)))
        except ContainerError:
            cases.append((description + " (unwritable: raw JSON)", _raw_container(h, p)))
    return cases


def _raw_container(header: dict, payloads: list[bytes]) -> bytes:
    """A container whose CRCs are right around a header the writer refuses (what a hostile
    writer could produce): the JSON, deflated, without the writer's checks."""
    from mmcodec.container import MAGIC, _deflate_header
    raw = json.dumps(header, sort_keys=True, separators=(",", ":"), default=str).encode()
    packed = _deflate_header(raw)
    parts = [MAGIC, struct.pack("<HI", 1, len(packed)), packed, struct.pack("<IH", zlib.crc32(packed), len(payloads))]
    for p in payloads:
        parts += [struct.pack("<II", len(p), zlib.crc32(p)), p]
    return b"".join(parts)


# ---------------------------------------------------------------- running one case

def _on_alarm(signum: int, frame: object) -> None:
    raise Timeout()


def run_case(source: str, description: str, data: bytes, work: Path, seconds: float, memory_mb: float) -> Outcome:
    case = work / "case"
    case.mkdir(exist_ok=True)
    for leftover in case.iterdir():
        leftover.unlink()
    path = case / "in.mmc"
    path.write_bytes(data)
    out = case / "out.png"
    stderr = io.StringIO()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = cli_main(["decompress", str(path), "-o", str(out)])
        kind = {0: "decoded", 2: "refused"}.get(code, "internal error")
    except Timeout:
        kind = "hang"
    except BaseException as exc:   # noqa: BLE001 - anything escaping the CLI is what we look for
        kind, stderr = "exception", io.StringIO(f"{exc.__class__.__name__}: {exc}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    elapsed = time.perf_counter() - start
    message = stderr.getvalue().strip()
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    if kind == "refused":
        if len(message.splitlines()) != 1:
            kind = "multi-line"
        elif any(p.name != "in.mmc" for p in case.iterdir()):
            kind = "left output"
        elif "out of memory" in message:
            kind = "memory"
    if grown > memory_mb:
        kind = "memory"
    return Outcome(source, description, kind, message.splitlines()[0][:160] if message else "", elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases-per-file", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a case may take")
    parser.add_argument("--memory-mb", type=float, default=1024.0, help="resident growth that counts as a failure")
    parser.add_argument("--name", default="fuzz_files")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as tmp:
        for source, data in source_files(datasets_dir()).items():
            for description, mutated in mutations(data, rng, args.cases_per_file):
                outcome = run_case(source, description, mutated, Path(tmp), args.timeout, args.memory_mb)
                outcomes.append(outcome)
                if outcome.kind in FAILURES:
                    print(f"{source}: {description}: {outcome.kind}: {outcome.message}", flush=True)

    sources = sorted({o.source for o in outcomes}, key=[o.source for o in outcomes].index)
    kinds = ["refused", "decoded", *FAILURES]
    table = ["| file | cases | " + " | ".join(kinds) + " | slowest case s |", "|---" * (len(kinds) + 3) + "|"]
    for source in sources:
        mine = [o for o in outcomes if o.source == source]
        counts = [sum(o.kind == k for o in mine) for k in kinds]
        table.append(f"| {source} | {len(mine)} | " + " | ".join(map(str, counts))
                     + f" | {max(o.seconds for o in mine):.2f} |")
    failures = [o for o in outcomes if o.kind in FAILURES]
    table += ["", f"{len(failures)} failures in {len(outcomes)} cases."]
    if failures:
        table += ["", "| file | mutation | outcome | message |", "|---|---|---|---|"]
        table += [f"| {o.source} | {o.mutation} | {o.kind} | {o.message} |" for o in failures]
    messages: dict[str, int] = {}
    for o in outcomes:
        if o.kind == "refused":
            key = o.message.split(":")[2].strip()[:60] if o.message.count(":") >= 2 else o.message[:60]
            messages[key] = messages.get(key, 0) + 1
    table += ["", "Most frequent refusals (first words of the message):", "",
              "| message | cases |", "|---|---|"]
    table += [f"| {m} | {n} |" for m, n in sorted(messages.items(), key=lambda kv: -kv[1])[:15]]
    decoded: dict[tuple[str, str], int] = {}
    for o in outcomes:
        if o.kind == "decoded":
            key = (o.source, o.mutation.split(" = ")[0].split(" (")[0])
            decoded[key] = decoded.get(key, 0) + 1
    table += ["", "What decoded: changes that leave a valid file (the CRCs were recomputed), e.g. an empty hole-mask "
              "stream (no holes), no median window (no post-filter), an optional field dropped, or bits the "
              "decoder never reads:", "",
              "| file | mutation | cases |", "|---|---|---|"]
    table += [f"| {source} | {what} | {n} |" for (source, what), n in sorted(decoded.items())]
    command = "python benchmarks/fuzz_files.py" + (f" --cases-per-file {args.cases_per_file}"
                                                   if args.cases_per_file != 400 else "")
    counts = {source: {k: sum(o.kind == k and o.source == source for o in outcomes) for k in kinds}
              for source in sources}
    write_results(args.name, {"seed": args.seed, "cases": len(outcomes), "failures": len(failures),
                              "counts": counts, "refusal_messages": messages,
                              "not_refused": [vars(o) for o in outcomes if o.kind != "refused"]}, table, command)
    print("\n".join(table))


if __name__ == "__main__":
    main()
