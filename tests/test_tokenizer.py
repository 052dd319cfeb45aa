import pytest
import torch

import ezclip_zoo


def test_layout_sot_eot_padding():
    tokens = ezclip_zoo.tokenize(["hello world"])
    assert tokens.shape == (1, 77) and tokens.dtype == torch.long
    assert tokens[0, 0] == 49406 and tokens[0].argmax() == 3 and tokens[0, 3] == 49407
    assert tokens[0, 4:].eq(0).all()


def test_long_text_is_truncated_with_a_warning():
    text = " ".join(["word"] * 100)
    with pytest.warns(UserWarning, match="truncated"):
        tokens = ezclip_zoo.tokenize([text, "short"])
    assert tokens[0, -1] == 49407 and tokens[0].argmax() == 76


@pytest.mark.parametrize("bad,err", [([], ValueError), ("abc", TypeError), ([1, "a"], TypeError), ([None], TypeError)])
def test_bad_texts(bad, err):
    with pytest.raises(err):
        ezclip_zoo.tokenize(bad)
