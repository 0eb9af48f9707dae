"""Part 5 of the notes: sequence modeling (RNN, LSTM, attention, transformers)."""
