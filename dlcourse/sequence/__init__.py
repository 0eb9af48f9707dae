"""Part 5 of the notes: sequence modeling (memoryless models, RNN, LSTM, attention, transformers).

Syllabus contracts: :func:`lstm_cell`, :func:`scaled_dot_product_attention`, :func:`causal_mask`,
:func:`sinusoidal_positional_encoding`.
"""
from .attention import (AdditiveScore, additive_scores, causal_mask, dot_scores, merge_heads,
                        scaled_dot_product_attention, split_heads)
from .gating import SECNN, SqueezeExcitation
from .lm import (FULL_STEPS, LM_CONFIG, CharLSTM, bits_per_char, build_char_model, char_lstm, char_transformer,
                 pretrained_char_model, sample, train_char_model)
from .lstm import TORCH_GATE_ORDER, lstm_cell, lstm_weights_from_torch
from .multihead import MultiHeadAttention
from .positional import sinusoidal_positional_encoding
from .rnn import INIT_MODES, RNN, rnn_backward, rnn_forward
from .tasks import adding_problem, copy_task, lag_task, majority_task, reverse_task
from .text import CharVocab, bigram_bits, char_corpus, random_windows, unigram_bits
from .view import attention_heatmap, attention_maps, attention_view
from .transformer import (DecoderBlock, DecoderOnlyLM, EncoderBlock, EncoderClassifier, FeedForward,
                          Seq2SeqTransformer, TokenEmbedding)

__all__ = [
    "lstm_cell", "lstm_weights_from_torch", "TORCH_GATE_ORDER",
    "scaled_dot_product_attention", "causal_mask", "dot_scores", "additive_scores", "AdditiveScore",
    "split_heads", "merge_heads", "MultiHeadAttention",
    "sinusoidal_positional_encoding",
    "RNN", "rnn_forward", "rnn_backward", "INIT_MODES",
    "SqueezeExcitation", "SECNN",
    "FeedForward", "EncoderBlock", "DecoderBlock", "TokenEmbedding", "Seq2SeqTransformer", "DecoderOnlyLM",
    "EncoderClassifier",
    "lag_task", "adding_problem", "copy_task", "reverse_task", "majority_task",
    "CharVocab", "char_corpus", "random_windows", "unigram_bits", "bigram_bits",
    "CharLSTM", "train_char_model", "bits_per_char", "sample", "char_transformer", "char_lstm", "LM_CONFIG",
    "FULL_STEPS", "build_char_model", "pretrained_char_model",
    "attention_maps", "attention_heatmap", "attention_view",
]
