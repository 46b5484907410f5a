"""``python -m pipeline run``: run the anonymization job."""

from pipeline.options import add_flags

NAME = "run"
HELP = "run the anonymization job"
DESCRIPTION = (
    "Run the anonymization job. Any Beam pipeline option (--runner, --direct_num_workers, "
    "--direct_running_mode, --project, --region, --temp_location, --setup_file, ...) is passed to Beam."
)
ACCEPTS_EXTRA = True  # Beam pipeline options pass through


def add_arguments(parser) -> None:
    add_flags(parser, required=True)


def run(args, beam_args) -> int:
    from pipeline.run import run_job

    return run_job(args, beam_args)
