"""Learning from inspections: theft findings re-weigh the theft features online.

Why: the unsupervised risk weighs every sign alike, but which signs matter
depends on the utility (how its thieves steal, how its honest customers
live). Each closed inspection (theft confirmed, or a false alarm) is one
labelled example; a small regularised logistic regression (River,
`StandardScaler | LogisticRegression`, one `learn_one` per finding) learns
the weights from them. Its L2 penalty is small (0.001 per update): River
applies it at every update, so over a file of findings replayed many times
the 0.05 first used acted as a strong prior that kept the weights near zero
and left most of what the findings say unlearned (cross-validated AUC on
real SGCC customers 0.80 with it, 0.83-0.84 for 0 to 0.003). Its
probability is blended with the unsupervised risk in log-odds, trusting
the model more as findings accumulate, so a handful of findings cannot
overturn the ranking and a few hundred can.

Inputs are the features' peer z-scores (`gridwatch.detectors.theft_risk`:
scale free, bounded) plus the unsupervised log-odds, so the model starts
from what the unsupervised ranking knows. A person sees why a meter ranks high:
`contributions` gives each feature's share of the model's log-odds.
Pure logic: the worker feeds it the features a meter had when its work
order closed.
"""

from __future__ import annotations

import math

import numpy as np
from river import linear_model, optim, preprocessing

from .theft_risk import logit

PRIOR_FINDINGS = 20.0     # findings at which model and unsupervised risk weigh the same
UNSUPERVISED = "unsupervised"


def inspection_inputs(scores: dict[str, np.ndarray], unsupervised: np.ndarray,
                      meter: int) -> dict[str, float]:
    """The model's input for one meter: peer z-scores and the unsupervised log-odds."""
    x = {name: float(values[meter]) for name, values in scores.items()}
    x[UNSUPERVISED] = logit(float(unsupervised[meter]))
    return x


class InspectionLearner:
    """Online logistic model of "theft confirmed" from a meter's theft features.

    >>> learner = InspectionLearner(seed=1)
    >>> for i in range(40):
    ...     thief = i % 2 == 0
    ...     learner.learn_one({"drop": 2.0 if thief else -0.5, "zero_runs": 0.5,
    ...                        "unsupervised": 0.1}, thief)
    >>> p_thief = learner.predict_one({"drop": 2.0, "zero_runs": 0.5, "unsupervised": 0.1})
    >>> p_honest = learner.predict_one({"drop": -0.5, "zero_runs": 0.5, "unsupervised": 0.1})
    >>> p_thief > 0.5 > p_honest
    True
    >>> max(learner.contributions({"drop": 2.0, "zero_runs": 0.5, "unsupervised": 0.1}).items(),
    ...     key=lambda kv: kv[1])[0]
    'drop'
    """

    def __init__(self, l2: float = 0.001, learning_rate: float = 0.05, seed: int = 0) -> None:
        self.scaler = preprocessing.StandardScaler()
        self.model = linear_model.LogisticRegression(optimizer=optim.SGD(learning_rate), l2=l2,
                                                     intercept_lr=learning_rate)
        self.findings = 0
        self.seed = seed

    def learn_one(self, x: dict[str, float], confirmed: bool) -> None:
        """One closed inspection: the meter's inputs and whether theft was confirmed."""
        self.scaler.learn_one(x)
        self.model.learn_one(self.scaler.transform_one(x), bool(confirmed))
        self.findings += 1

    def learn_many(self, examples: list[tuple[dict[str, float], bool]], passes: int) -> None:
        """`passes` shuffled passes over a batch of findings (a file of past inspections)."""
        rng = np.random.default_rng(self.seed)
        for _ in range(passes):
            for i in rng.permutation(len(examples)):
                x, confirmed = examples[i]
                self.scaler.learn_one(x)
                self.model.learn_one(self.scaler.transform_one(x), confirmed)
        self.findings += len(examples)

    def predict_one(self, x: dict[str, float]) -> float:
        """Probability that an inspection of this meter confirms theft."""
        return float(self.model.predict_proba_one(self.scaler.transform_one(x)).get(True, 0.5))

    def contributions(self, x: dict[str, float]) -> dict[str, float]:
        """Each input's term in the model's log-odds: the evidence that names the features."""
        scaled = self.scaler.transform_one(x)
        return {name: float(self.model.weights.get(name, 0.0) * value)
                for name, value in scaled.items()}

    def reasons(self, x: dict[str, float], top: int = 3) -> list[tuple[str, float]]:
        """The `top` inputs pushing this meter's risk up most, for the alert's evidence.

        >>> InspectionLearner().reasons({"drop": 1.0})
        [('drop', 0.0)]
        """
        ranked = sorted(self.contributions(x).items(), key=lambda kv: -kv[1])
        return [(name, round(value, 3)) for name, value in ranked[:top]]

    def trust(self) -> float:
        """Weight of the model against the unsupervised risk, growing with findings.

        >>> InspectionLearner().trust()
        0.0
        """
        return self.findings / (self.findings + PRIOR_FINDINGS)

    def blend(self, probability: float, unsupervised: float) -> float:
        """Risk from the model's probability and the unsupervised risk: their log-odds
        weighed by `trust`.

        >>> round(InspectionLearner().blend(0.9, 0.6), 3)
        0.6
        """
        if not 0.0 < unsupervised < 1.0:
            raise ValueError(f"blend: unsupervised risk {unsupervised} outside (0, 1)")
        p = min(max(probability, 1e-6), 1.0 - 1e-6)
        t = self.trust()
        return 1.0 / (1.0 + math.exp(-(t * logit(p) + (1.0 - t) * logit(unsupervised))))
