"""Which ids are repeated, from 8-byte hashes: the plain functions and the CombineFn."""

import numpy as np
import pytest

from transforms.core.dedupe import RepeatedIdHashes, id_hash, repeated_hashes


@pytest.mark.parametrize(
    "hashes, repeated",
    [
        ([], set()),
        ([5], set()),
        ([3, 1, 2], set()),
        ([7, 7], {7}),
        ([2**64 - 1, 1, 2**64 - 1, 1, 1, 4], {2**64 - 1, 1}),
    ],
)
def test_when_hashes_occur_more_than_once_then_exactly_those_are_repeated(hashes, repeated):
    assert repeated_hashes(np.array(hashes, dtype=np.uint64)) == repeated


def test_when_ids_are_combined_over_several_bundles_then_an_id_split_across_them_is_found():
    fn = RepeatedIdHashes()
    bundles = [["a", "b", "c"], ["d", "a"], [], ["e", "d", "d"]]
    partials = []
    for ids in bundles:
        accumulator = fn.create_accumulator()
        for clip_id in ids:
            accumulator = fn.add_input(accumulator, clip_id)
        partials.append(accumulator)
    assert fn.extract_output(fn.merge_accumulators(partials)) == {id_hash("a"), id_hash("d")}
    assert fn.extract_output(fn.create_accumulator()) == frozenset()


@pytest.mark.parametrize("clip_id", ["c1", "", "ünïcode", "lone \ud800 surrogate"])
def test_when_an_id_is_hashed_twice_then_the_hash_is_the_same_64_bit_value(clip_id):
    assert id_hash(clip_id) == id_hash(str(clip_id)) < 2**64
