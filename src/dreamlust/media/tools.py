"""Running ffmpeg and ffprobe: found on the PATH (or at the configured path), each run
bounded by a timeout, its error output kept for the log."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path

# How much of a tool's error output is kept: its last lines say what went wrong.
_STDERR_TAIL = 2000


class ToolError(Exception):
    """A tool could not run, failed or took too long."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class ToolMissing(ToolError):
    """The program is not installed."""


class ToolFailed(ToolError):
    """The program exited with an error: usually the input's fault."""


class ToolTimedOut(ToolError):
    """The program ran past its timeout and was killed."""


def find_tool(name_or_path: str) -> str:
    """The executable for `ffmpeg`, `ffprobe` or an explicit path; Debian's place
    (`/usr/bin`) is tried when the PATH of the process does not have it."""
    found = shutil.which(name_or_path) or shutil.which(Path(name_or_path).name, path="/usr/bin")
    if found is None:
        raise ToolMissing(f"{name_or_path} is not installed")
    return found


async def run_tool(program: str, arguments: Sequence[str], *, time_limit: float) -> bytes:
    """Runs `program` with `arguments` (never through a shell) and returns its standard
    output; raises `ToolFailed` on a non-zero exit and `ToolTimedOut` past `time_limit`."""
    executable = find_tool(program)
    process = await asyncio.create_subprocess_exec(
        executable,
        *arguments,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), time_limit)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ToolTimedOut(f"{Path(executable).name} ran longer than {time_limit:g} s") from None
    except BaseException:
        # Cancelled (the lease was lost, the worker stops): never leave the tool running.
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    if process.returncode != 0:
        tail = stderr.decode(errors="replace")[-_STDERR_TAIL:]
        raise ToolFailed(f"{Path(executable).name} exited with {process.returncode}", tail)
    return stdout
