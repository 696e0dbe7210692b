"""Train a small neural network on scikit-learn's digits and print its validation accuracy.

A program in the shape `tuneful run` expects: hyperparameters come in as command-line
options, progress goes to stdout as one JSON line per epoch ({"step": ..., "val_acc": ...}),
and the result is the last JSON line. Try it alone:

    python examples/train.py --lr 0.01 --layers 2 --units 64 --optimizer adam --epochs 10

and tune it with `tuneful run examples/mlp-digits.yaml`.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=1e-3, help="initial learning rate")
    parser.add_argument("--layers", type=int, default=1, help="hidden layers")
    parser.add_argument("--units", type=int, default=64, help="units per hidden layer")
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--momentum", type=float, default=0.9, help="sgd only")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    # The validation split is the one tuning looks at; a real study keeps a test set apart.
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    model = MLPClassifier(
        hidden_layer_sizes=(args.units,) * args.layers,
        solver=args.optimizer,
        learning_rate_init=args.lr,
        momentum=args.momentum,
        alpha=args.alpha,
        batch_size=args.batch_size,
        random_state=args.seed,
    )
    classes = np.unique(y)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    best = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(args.epochs):
            order = rng.permutation(len(y_train))
            model.partial_fit(X_train[order], y_train[order], classes=classes)
            val_acc = float(model.score(X_val, y_val))
            best = max(best, val_acc)
            print(json.dumps({"step": epoch, "val_acc": val_acc, "loss": float(model.loss_)}))
    print(json.dumps({"val_acc": best, "seconds": round(time.perf_counter() - started, 3)}))


if __name__ == "__main__":
    main()
