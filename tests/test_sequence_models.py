"""Data, blocks and models of dlcourse.sequence (tasks, text, SE block, Transformer blocks, character models)."""
import math

import pytest
import torch

from dlcourse.sequence import (SECNN, CharLSTM, CharVocab, DecoderBlock, DecoderOnlyLM, EncoderBlock,
                               EncoderClassifier, Seq2SeqTransformer, SqueezeExcitation, adding_problem,
                               bigram_bits, bits_per_char, char_corpus, lag_task, majority_task, random_windows,
                               reverse_task, sample, unigram_bits)


def test_tasks_are_deterministic_and_correct():
    X, y = lag_task(100, 10, 3, vocab=5, seed=1)
    X2, y2 = lag_task(100, 10, 3, vocab=5, seed=1)
    assert torch.equal(X, X2) and torch.equal(y, X[:, 7]) and X.max() < 5
    with pytest.raises(ValueError, match="at most the sequence length"):
        lag_task(10, 4, 5)
    X, y = adding_problem(64, 20, seed=0)
    assert X.shape == (64, 20, 2) and torch.all(X[..., 1].sum(1) == 2)
    torch.testing.assert_close(y, (X[..., 0] * X[..., 1]).sum(1))
    assert torch.all(X[:, :10, 1].sum(1) == 1)
    src, tgt = reverse_task(5, 6, seed=0)
    assert torch.equal(tgt, src.flip(1))
    X, y = majority_task(50, 9)
    assert torch.equal(y, (X.sum(1) >= 5).long())
    with pytest.raises(ValueError, match="odd"):
        majority_task(5, 8)
    with pytest.raises(ValueError, match="positive"):
        adding_problem(-1, 10)


def test_sequence_data_is_also_in_dlcourse_data():
    import dlcourse.data
    import dlcourse.sequence

    for name in ("lag_task", "adding_problem", "copy_task", "reverse_task", "majority_task", "char_corpus"):
        assert getattr(dlcourse.data, name) is getattr(dlcourse.sequence, name) and name in dlcourse.data.__all__
    with pytest.raises(AttributeError, match="no attribute"):
        _ = dlcourse.data.no_such_dataset


def test_char_corpus_and_baselines():
    vocab, train, val = char_corpus(0.1, max_chars=20000)
    assert len(train) == 18000 and len(val) == 2000
    assert vocab.decode(vocab.encode("def x")) == "def x"
    u, b = unigram_bits(train, val, len(vocab)), bigram_bits(train, val, len(vocab))
    assert b < u < math.log2(len(vocab))
    X, Y = random_windows(train, 4, 16, torch.Generator().manual_seed(0))
    assert X.shape == (4, 16) and torch.equal(X[:, 1:], Y[:, :-1])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CharVocab("ab").encode("abc")


def test_squeeze_excitation_weights_channels():
    se = SqueezeExcitation(8, 2)
    x = torch.randn(3, 8, 5, 5)
    y = se(x)
    assert se.weights.shape == (3, 8) and torch.all((se.weights > 0) & (se.weights < 1))
    torch.testing.assert_close(y, x * se.weights[:, :, None, None])
    assert SECNN(8)(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(ValueError, match="8 channels"):
        se(torch.randn(1, 4, 5, 5))


def test_decoder_block_is_causal_and_uses_memory():
    torch.manual_seed(0)
    block = DecoderBlock(16, 4, 32).eval()
    x, mem = torch.randn(2, 6, 16), torch.randn(2, 4, 16)
    from dlcourse.sequence import causal_mask

    out = block(x, mem, self_mask=causal_mask(6))
    x2 = x.clone()
    x2[:, 4:] += 1.0                                   # change the future: earlier outputs do not move
    out2 = block(x2, mem, self_mask=causal_mask(6))
    torch.testing.assert_close(out[:, :4], out2[:, :4])
    assert not torch.allclose(out, block(x, mem + 1.0, self_mask=causal_mask(6)))
    assert block.cross_attn.weights.shape == (2, 4, 6, 4)
    enc = EncoderBlock(16, 4, 32)
    assert enc(x).shape == x.shape


def test_models_shapes_and_causality():
    torch.manual_seed(0)
    lm = DecoderOnlyLM(11, 16, 2, 2, 32, context=8).eval()
    ids = torch.randint(0, 11, (3, 8))
    logits = lm(ids)
    ids2 = ids.clone()
    ids2[:, 5:] = (ids2[:, 5:] + 1) % 11
    torch.testing.assert_close(logits[:, :5], lm(ids2)[:, :5])
    assert lm.attention_maps().shape == (2, 3, 2, 8, 8)
    unmasked = DecoderOnlyLM(11, 16, 2, 2, 32, context=8, causal=False).eval()
    unmasked.load_state_dict(lm.state_dict())
    assert not torch.allclose(unmasked(ids)[:, :5], unmasked(ids2)[:, :5])   # the ablation sees later characters
    assert not torch.all(unmasked.attention_maps().triu(1) == 0)
    with pytest.raises(ValueError, match="max_len"):
        lm(torch.randint(0, 11, (1, 9)))
    s2s = Seq2SeqTransformer(10, 11, 16, 2, 1, 32, max_len=12)
    assert s2s(torch.randint(0, 10, (2, 7)), torch.randint(0, 11, (2, 5))).shape == (2, 5, 11)
    assert s2s.generate(torch.randint(0, 10, (2, 7)), 7, start_token=10).shape == (2, 7)
    assert EncoderClassifier(2, 2, 16, 2, 1, 32)(torch.randint(0, 2, (4, 9))).shape == (4, 2)
    vocab = CharVocab("ab c")
    lstm = CharLSTM(4, 8, 4)
    text = sample(lstm, vocab, "ab", 10, temperature=0.5, context=8)
    assert len(text) == 12 and text.startswith("ab")
    assert bits_per_char(lstm, torch.randint(0, 4, (100,)), 16) > 0
    with pytest.raises(ValueError, match="temperature"):
        sample(lstm, vocab, "ab", 3, temperature=0)


def test_attention_view_frames_and_static_html():
    from dlcourse.sequence import attention_heatmap, attention_maps, attention_view

    torch.manual_seed(0)
    vocab = CharVocab("abc d")
    lm = DecoderOnlyLM(len(vocab), 16, 2, 2, 32, context=12).eval()
    maps = attention_maps(lm, vocab, "ab cd")
    assert maps.shape == (2, 2, 5, 5) and torch.allclose(maps.sum(-1), torch.ones(2, 2, 5))
    assert torch.all(maps.triu(1) == 0)                        # causal: no weight on later characters
    img = attention_heatmap(maps[0, 0], "ab cd", "layer 1")
    assert img.dtype.name == "uint8" and img.ndim == 3 and img.shape[2] == 3
    with pytest.raises(ValueError, match="shape"):
        attention_heatmap(maps[0, 0], "abc")
    with pytest.raises(ValueError, match="1 to 12 characters"):
        attention_maps(lm, vocab, "a" * 13)
    plain = attention_heatmap(maps[0, 0], "ab cd", "layer 1")
    marked = attention_heatmap(maps[0, 0], "ab cd", "layer 1", query=2)
    assert marked.shape[0] > plain.shape[0] and marked.shape[1] == plain.shape[1]   # the highlighted text below
    assert (marked[: plain.shape[0]] != plain).any()                                 # the query row is outlined
    with pytest.raises(ValueError, match="query"):
        attention_heatmap(maps[0, 0], "ab cd", query=5)
    view = attention_view(lm, vocab, ["ab cd", "dcba"])
    html = view.default_html()
    assert html.count("data:image/png") >= 8 and "<select" in html
    captions = [f.caption for f in view.default_run()[0]]
    assert captions[0].startswith("layer 1, head 1: 'd' at position 5") and captions[-1].startswith("layer 2, head 2")
    frames, _ = view.collect(back=2)                             # the query moves back to the space of "ab cd"
    assert frames[0].caption.startswith("layer 1, head 1: '␣' at position 3")


def test_bits_per_char_windows_and_sliding():
    torch.manual_seed(0)
    ids = torch.randint(0, 5, (200,))
    lstm = CharLSTM(5, 8, 4)
    plain = bits_per_char(lstm, ids, 16)
    assert abs(bits_per_char(lstm, ids, 16, stride=16) - plain) < 1e-9    # stride = context: the cut windows
    assert bits_per_char(lstm, ids, 16, stride=4) > 0
    # by hand: every window of 16, mean negative log2-likelihood of its 16 next characters
    n = (len(ids) - 1 - 16) // 16 + 1
    with torch.no_grad():
        X = torch.stack([ids[16 * k:16 * k + 16] for k in range(n)])
        Y = torch.stack([ids[16 * k + 1:16 * k + 17] for k in range(n)])
        ref = torch.nn.functional.cross_entropy(lstm(X).flatten(0, 1), Y.flatten()).item() / math.log(2)
    assert abs(plain - ref) < 1e-6
    with pytest.raises(ValueError, match="stride"):
        bits_per_char(lstm, ids, 16, stride=17)


@pytest.mark.parametrize("kind", ["transformer", "lstm"])
def test_shipped_character_models_load_and_predict(kind):
    from dlcourse.sequence import pretrained_char_model

    vocab, _, val = char_corpus(0.1)
    model = pretrained_char_model(kind, device="cpu")
    info = model.checkpoint_info
    assert info["steps"] == 3000 and info["vocab_size"] == len(vocab) and info["val_bpc"] < 1.9
    assert bits_per_char(model, val[:20000], 64, max_windows=50) < 2.3
