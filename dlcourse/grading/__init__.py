"""Self-checking exercises and the grader of a class's submissions.

Students write ``from dlcourse.grading import check`` and, under each exercise, ``check("<part>.<function>", fn)``:
the verdict says pass, or which case failed, what was expected, what came back, and a hint for the known mistakes.
Instructors grade notebooks with ``python -m dlcourse.grading SUBMISSION.ipynb… --out grades.csv`` (each one in a
sandbox of its own where the system has one; ``--feedback DIR`` writes a file per student; see
``python -m dlcourse.grading --help``) and make the student notebooks from the solutions with
``python -m dlcourse.grading.make_student exercises/solutions/*.md``.

How to add a question
=====================
A question is written in ONE place: a module of :mod:`dlcourse.grading.questions` (one module per part, e.g.
``questions/expressivity.py`` for :mod:`dlcourse.expressivity`); every module there is imported automatically. Give
it the reference, the cases, the plausible wrong answers with their hints, and what the answer may not call. For
example, the perceptron's step function ``dlcourse.expressivity.heaviside`` (1 where ``z >= 0``, else 0)::

    import torch
    from dlcourse.expressivity import heaviside            # the reference (or define it right here)
    from dlcourse.grading.registry import Case, Mistake, Question, register

    def _random_case(gen: torch.Generator) -> Case:          # hidden cases: the grader draws them with its seed
        shape = tuple(torch.randint(1, 6, (2,), generator=gen).tolist())
        return Case(torch.randint(-2, 3, shape, generator=gen).float())  # small integers: exact zeros occur

    register(Question(
        qid="expressivity.heaviside",                        # "<subpackage>.<function>": the student's function name
        reference=heaviside,                                 # the candidate has the same signature
        cases=[Case(torch.tensor([-1.0, 0.0, 2.0]), label="a negative, a zero and a positive entry"),
               Case(torch.zeros(0), label="edge: an empty tensor")],
        random_case=_random_case, n_random=10,
        mistakes=[                                           # same signature as the reference
            Mistake("strict", lambda z: (z > 0).float(), "The unit fires at exactly 0 too: z >= 0 gives 1."),
            Mistake("sign", lambda z: torch.sign(z), "The step outputs 0 or 1, never -1: it is not the sign."),
            Mistake("flipped", lambda z: (z < 0).float(), "1 on the side where z >= 0, 0 on the other side."),
        ],
        forbid=("dlcourse.expressivity.heaviside", "torch.heaviside"),
        rtol=1e-5, atol=1e-6,                                # tolerances that fit the quantity (ints compare exactly)
    ))

Rules of thumb:

* Cases hold plain data only (tensors, numbers, tuples, lists): they travel to the submission's process. When the
  function takes a callable (a ``grad_fn``, a loss), store its data in the case and build it in ``prepare=``.
* When many answers are right (hand-set weights), compare what they compute: ``postprocess=`` maps an output (of
  the reference and of the candidate) to, e.g., a truth table.
* Give at least three mistakes, each a plausible slip (off-by-one size, missing bias, sign, transposed operand, wrong
  axis, missing scale). ``tests/test_grading_questions.py`` runs every question automatically: the reference must
  pass, and every mistake must fail with its hint in the message.
* ``forbid`` names the package's own reference and the PyTorch operator it re-implements, each by ONE dotted name:
  the other names it can be imported under (``dlcourse.expressivity.perceptron.heaviside``) are found
  automatically (:func:`dlcourse.grading.forbid.aliases`). Calling either fails the question with a message that
  says why; the grader enforces it where the submission cannot switch it off.
* In the exercise notebook: a statement, a stub whose body is a ``### BEGIN SOLUTION`` / ``### END SOLUTION``
  block (in ``exercises/solutions/``), the cell ``check("expressivity.heaviside", heaviside)``, and ``score()`` in the
  last cell.

Try a question at once: ``check("expressivity.heaviside", my_heaviside)``; strict mode (``DLCOURSE_STRICT=1``) makes a
failure raise.
"""
from .student import STRICT_ENV, check, score
from .registry import Case, Mistake, Question, all_questions, get_question, register
from .verdict import Result

__all__ = ["check", "score", "STRICT_ENV", "Case", "Mistake", "Question", "register", "get_question",
           "all_questions", "Result"]
