"""The detector's batches run in a spaCy memory zone: a worker's vocab does not grow with the words it
has seen, and what it detects is what it detected without the zone."""

import threading

import pytest

# Words no vocab has: each transcript spells new ones, as names, e-mails and serials do in a job.
NEW_WORDS = [f"zq{n:04d}xv" for n in range(64)]


def transcripts(words):
    return [
        f"send a message to {word} at {word} dot example dot com and call {word.upper()} on five five five"
        for word in words
    ]


def metadata(words):
    return [{"PERSON": word} for word in words]


@pytest.fixture(scope="module")
def detector(engines):
    return engines.detector


def test_when_batches_hold_new_words_then_the_vocab_does_not_grow(detector):
    nlp = detector._nlp
    detector.detect_batch(transcripts(["warm"]), metadata(["warm"]))  # lazily built parts of the pipes
    strings = len(nlp.vocab.strings)
    for first in range(0, len(NEW_WORDS), 16):
        words = NEW_WORDS[first : first + 16]
        detector.detect_batch(transcripts(words), metadata(words))
    assert len(nlp.vocab.strings) == strings
    assert all(word not in nlp.vocab.strings for word in NEW_WORDS)


def test_when_detected_in_a_zone_then_same_detections_as_without(detector):
    words = [f"zr{n:04d}yw" for n in range(24)]
    texts, meta = transcripts(words), metadata(words)
    zoned = detector.detect_batch(texts, meta)
    plain = [  # the same steps outside any zone (its words stay in the vocab: new names for this test)
        detector.detect(norm, m, artifacts)
        for norm, m, artifacts in zip(
            detector.normalize_batch(texts), meta, detector.nlp_batch(detector.normalize_batch(texts)), strict=True
        )
    ]
    assert zoned == plain
    assert all(any(d.entity_type == "PERSON" for d in found) for found in zoned)


def test_when_threads_share_the_detector_then_each_gets_what_it_alone_would(detector):
    batches = [[f"zt{t}{n:03d}qk" for n in range(8)] for t in range(4)]
    alone = [detector.detect_batch(transcripts(words), metadata(words)) for words in batches]
    together: list = [None] * len(batches)

    def work(i):
        together[i] = detector.detect_batch(transcripts(batches[i]), metadata(batches[i]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone
