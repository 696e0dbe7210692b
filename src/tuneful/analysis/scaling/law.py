"""Published hyperparameter scaling laws: Step Law, and DeepSeek LLM's for comparison.

Step Law (Li et al. 2025, arXiv 2503.04715), fitted on 3,700 dense and MoE LLM pretraining
runs: the loss-optimal peak learning rate and batch size follow

    η*(N, D) = 1.79 · N^−0.713 · D^0.307        B*(D) = 0.58 · D^0.571  (tokens)

with N the model's non-embedding parameters and D the training tokens. The batch size is in
tokens; divided by the sequence length it is in sequences.

DeepSeek LLM (Bi et al. 2024, arXiv 2401.02954) fitted the same two quantities against the
compute budget C = M · D (M: non-embedding FLOPs per token):

    η_opt = 0.3118 · C^−0.1250                 B_opt = 0.2920 · C^0.3271  (tokens)

Its formulas are reliable as published (the paper gives them with these constants and
defines C). Here C is taken as 6 · N · D, the usual approximation of M · D that leaves out
the attention term (M = 72 · layers · hidden² + 6 · layers · hidden · seq_len): given the
model's shape and sequence length, :func:`deepseek_llm` can use the exact M instead. Laws
whose published form depends on quantities we cannot compute from (N, D) alone (Kaplan et
al.'s critical batch size depends on the loss reached) are not included.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tuneful._validation import check_int, check_number
from tuneful.errors import TunefulError

__all__ = [
    "ScalingError",
    "Prediction",
    "STEPLAW",
    "steplaw",
    "deepseek_llm",
    "dense_params",
    "check_positive",
]


class ScalingError(TunefulError, ValueError):
    """Bad input to a scaling law or a fit: the message names the value and what was expected."""


#: Step Law's published coefficients: η = a · N^alpha · D^beta, B (tokens) = b · D^gamma.
STEPLAW = {"a": 1.79, "alpha": -0.713, "beta": 0.307, "b": 0.58, "gamma": 0.571}

_DEEPSEEK = {"a": 0.3118, "exponent_lr": -0.1250, "b": 0.2920, "exponent_bs": 0.3271}


@dataclass(frozen=True)
class Prediction:
    """Optimal hyperparameters at one scale.

    Attributes:
        n_params / n_tokens: the scale (N non-embedding parameters, D training tokens).
        learning_rate: η*.
        batch_tokens: B* in tokens.
        batch_sequences: B* / seq_len (None without a sequence length).
        seq_len: the sequence length used for ``batch_sequences``.
        law: which law made the prediction.
        learning_rate_interval / batch_tokens_interval: (low, high) bootstrap intervals, for
            fitted laws (None for published ones).
    """

    n_params: float
    n_tokens: float
    learning_rate: float
    batch_tokens: float
    batch_sequences: float | None = None
    seq_len: int | None = None
    law: str = "steplaw"
    learning_rate_interval: tuple[float, float] | None = None
    batch_tokens_interval: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_positive(name: str, value: Any) -> float:
    """``value`` as a positive finite float, else a ScalingError naming ``name``."""
    return float(
        check_number(None, name, value, low=0, expected="a positive number", error=ScalingError)
    )


def _seq_len(seq_len: Any) -> int | None:
    if seq_len is None:
        return None
    length = check_positive("seq_len", seq_len)
    if length != int(length):
        raise ScalingError(f"seq_len={seq_len!r}: expected a whole number of tokens")
    return int(length)


def steplaw(n_params: float, n_tokens: float, seq_len: int | None = None) -> Prediction:
    """Step Law's published optimum for N non-embedding parameters trained on D tokens.

    Example (the authors' example; their tool prints η ≈ 9.3e-4 and B ≈ 5.0M tokens: the
    constants as published, rounded to three digits, give 9.17e-4, 1.5 % lower; half a unit
    in the last digit of an exponent moves η by 1.1–1.4 % at this scale):
        >>> p = steplaw(7e9, 1.4e12, seq_len=2048)
        >>> f"{p.learning_rate:.3e}", f"{p.batch_tokens / 1e6:.2f}M", round(p.batch_sequences)
        ('9.166e-04', '5.00M', 2441)
    """
    n = check_positive("n_params", n_params)
    d = check_positive("n_tokens", n_tokens)
    length = _seq_len(seq_len)
    lr = STEPLAW["a"] * n ** STEPLAW["alpha"] * d ** STEPLAW["beta"]
    tokens = STEPLAW["b"] * d ** STEPLAW["gamma"]
    return Prediction(
        n, d, lr, tokens, None if length is None else tokens / length, length, "steplaw"
    )


def deepseek_llm(
    n_params: float,
    n_tokens: float,
    seq_len: int | None = None,
    *,
    flops_per_token: float | None = None,
) -> Prediction:
    """DeepSeek LLM's optimum at compute C = M · D (M = ``flops_per_token``, default 6 · N)."""
    n = check_positive("n_params", n_params)
    d = check_positive("n_tokens", n_tokens)
    length = _seq_len(seq_len)
    m = 6.0 * n if flops_per_token is None else check_positive("flops_per_token", flops_per_token)
    compute = m * d
    lr = _DEEPSEEK["a"] * compute ** _DEEPSEEK["exponent_lr"]
    tokens = _DEEPSEEK["b"] * compute ** _DEEPSEEK["exponent_bs"]
    return Prediction(
        n, d, lr, tokens, None if length is None else tokens / length, length, "deepseek-llm"
    )


def dense_params(layers: int, hidden: int, ffn_hidden: int) -> int:
    """Non-embedding parameters of a dense transformer: layers · (4·h² + 3·h·ffn_hidden)
    (attention's four h×h projections; a gated feed-forward's three h×ffn matrices).

    Example (the smallest model of Step Law's released runs):
        >>> dense_params(layers=7, hidden=960, ffn_hidden=9368)
        214663680
    """
    values = {"layers": layers, "hidden": hidden, "ffn_hidden": ffn_hidden}
    for name, value in values.items():
        check_int(None, name, value, minimum=1, error=ScalingError)
    return layers * (4 * hidden * hidden + 3 * hidden * ffn_hidden)
