"""The job's few command-line flags, as one Beam ``PipelineOptions`` subclass.

Everything else is in the YAML config; any other flag (``--runner``, ``--direct_num_workers``,
``--project``, ``--setup_file``, …) is passed to Beam untouched.
"""

from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.config import DEFAULT_CONFIG_PATH


class AnonymizerOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        add_flags(parser, required=False, launcher=False)


def add_flags(parser, required: bool, launcher: bool = True) -> None:
    """The job's flags; required on the CLI, optional when Beam parses every options class.

    ``launcher``: also the flags only the launcher reads (``--dry-run``: Beam has a ``--dry_run`` of
    its own, so these are not registered with Beam's option classes)."""
    parser.add_argument("--input", required=required, help="manifest of raw clips (.jsonl, .csv or .parquet)")
    parser.add_argument("--output", required=required, help="output directory (local path or Beam filesystem URI)")
    parser.add_argument("--config", default=DEFAULT_CONFIG_PATH, help="YAML job config (default: %(default)s)")
    parser.add_argument(
        "--key-file", "--key_file", dest="key_file", default=None,
        help="file holding the pseudonym secret (hex, >= 32 bytes); or set VOICEANON_PSEUDONYM_KEY",
    )  # fmt: skip
    parser.add_argument(
        "--ephemeral-key", "--ephemeral_key", dest="ephemeral_key", action="store_true",
        help="use a throw-away random key (pseudonyms change every run); for trials and tests",
    )  # fmt: skip
    parser.add_argument("--overwrite", action="store_true", help="replace the outputs of an earlier run in --output")
    parser.add_argument(
        "--as-of", "--as_of", dest="as_of", default=None,
        help="ISO date/time the retention window is measured from (default: now, UTC); fix it for reproducible reruns",
    )  # fmt: skip
    parser.add_argument(
        "--no-verify", "--no_verify", dest="no_verify", action="store_true",
        help="skip the leak verification at the end of the run (it runs by default and fails the run on a leak)",
    )  # fmt: skip
    if not launcher:
        return
    parser.add_argument(
        "--dry-run", dest="launcher_dry_run", action="store_true",
        help="check config, key, opt-out/deletion lists, output and the manifest's first rows; run nothing",
    )  # fmt: skip
    parser.add_argument(
        "--dry-run-rows", dest="dry_run_rows", type=int, default=100,
        help="manifest rows --dry-run validates (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--progress-every", dest="progress_every", type=float, default=10.0, metavar="SECONDS",
        help="local runs: a progress line every SECONDS when the console is not a terminal (a terminal gets one "
        "line updated in place); 0 = no progress display (default: %(default)s)",
    )  # fmt: skip
