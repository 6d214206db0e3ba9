"""Entry point: `python -m modelops_train`, configured by the environment (see README.md).

Exit codes: 0 success, 2 bad input (hyperparameters, dataset, environment: retrying cannot help),
1 anything else. Every failure writes {"error": "..."} to the termination message path and to stderr.
"""
import os
import sys
import traceback
from pathlib import Path
from typing import Mapping

from .errors import JobInputError
from .job import JobConfig, run_job
from .log import JsonLogger
from .termination import DEFAULT_PATH, encode, error_message, write_message

EXIT_FAILURE = 1
EXIT_INPUT_ERROR = 2


def main(environ: Mapping[str, str] = os.environ) -> int:
    termination_path = Path(environ.get("MODELOPS_TERMINATION_MESSAGE_PATH") or DEFAULT_PATH)
    try:
        config = JobConfig.from_env(environ)
        message = run_job(config, JsonLogger(rank=config.processes.rank))
        if message is not None:
            write_message(termination_path, message)
        return 0
    except JobInputError as error:
        return fail(termination_path, str(error), EXIT_INPUT_ERROR)
    except Exception as error:  # noqa: BLE001 - every failure must reach the termination message
        traceback.print_exc()
        return fail(termination_path, f"training failed: {type(error).__name__}: {error}", EXIT_FAILURE)


def fail(termination_path: Path, text: str, exit_code: int) -> int:
    message = error_message(text)
    print(encode(message), file=sys.stderr)
    try:
        write_message(termination_path, message)
    except OSError as error:
        print(f"cannot write the termination message to {termination_path}: {error}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
