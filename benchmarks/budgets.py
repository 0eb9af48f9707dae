"""Time budgets of the pages, in seconds of a full execution on a quiet 2-core CPU (read by the test run's timing
table and by ``benchmarks/run.py``). Budgets live here, never in assertions: a page over budget is flagged."""

DEFAULT_BUDGET_S = 60.0
COURSE_BUDGET_S = 15 * 60.0
# Pages whose budget differs from the default: the §3.9 pages load ImageNet networks and run gradient ascent.
BUDGETS_S = {
    "chapters/03_vision/visualization.ipynb": 90.0,
    "chapters/03_vision/deep_dream.ipynb": 90.0,
    "chapters/03_vision/style_transfer.ipynb": 90.0,
    "chapters/04_generative/diffusion.ipynb": 90.0,            # trains the 16 px denoiser live (Notes §4.4)
    "chapters/04_generative/diffusion_sampling.ipynb": 90.0,   # 8 sampler settings and the live view's presets
    # Notes §3.12.1: the small YOLO trains on the shapes (the course's detector, cached for the pyramid page)
    "chapters/03_vision/yolo.ipynb": 90.0,
    # §5.3: an encoder-decoder, a character language model and an encoder-only classifier trained on one page
    "chapters/05_sequences/transformer.ipynb": 90.0,
}


def budget(path: str) -> float:
    """The budget of a notebook given by its path relative to the repository root."""
    return BUDGETS_S.get(path, DEFAULT_BUDGET_S)
