"""``python -m pipeline run``: run the anonymization job."""

from pipeline.options import add_flags


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the anonymization job",
        description="Run the anonymization job. Any Beam pipeline option (--runner, --direct_num_workers, "
        "--direct_running_mode, --project, --region, --temp_location, --setup_file, ...) is passed to Beam.",
    )
    add_flags(parser, required=True)
    parser.set_defaults(func=_run, accepts_extra=True)


def _run(args, beam_args) -> int:
    from pipeline.run import run_job

    return run_job(args, beam_args)
