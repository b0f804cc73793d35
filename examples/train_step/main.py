"""A seeded training run in miniature: full-batch gradient descent of a linear model on data.csv.

Writes the learned weights and the loss after each epoch. Deterministic on any machine: only
IEEE-754 additions, multiplications and divisions in a fixed order (no library maths), and floats
written with repr (shortest round-trip form). Environment: EPOCHS, LR (learning rate).
"""

import json
import os


def load(path: str) -> tuple[list[str], list[list[float]]]:
    rows = []
    with open(path) as f:
        header = f.readline().strip().split(",")
        for line in f:
            rows.append([float(v) for v in line.strip().split(",")])
    return header, rows


def main() -> None:
    epochs, lr = int(os.environ["EPOCHS"]), float(os.environ["LR"])
    header, rows = load("data/data.csv")
    k = len(header) - 1
    w = [0.0] * k
    bias = 0.0
    losses = []
    m = float(len(rows))
    for _ in range(epochs):
        grad = [0.0] * k
        grad_b = 0.0
        loss = 0.0
        for row in rows:
            x, y = row[:k], row[k]
            pred = bias
            for j in range(k):
                pred += w[j] * x[j]
            err = pred - y
            loss += err * err
            grad_b += err
            for j in range(k):
                grad[j] += err * x[j]
        for j in range(k):
            w[j] -= lr * 2.0 * grad[j] / m
        bias -= lr * 2.0 * grad_b / m
        losses.append(loss / m)
    os.makedirs("out", exist_ok=True)
    with open("out/weights.json", "w") as f:
        json.dump({"features": header[:k], "weights": [repr(v) for v in w], "bias": repr(bias)}, f, indent=1)
        f.write("\n")
    with open("out/loss.csv", "w") as f:
        f.write("epoch,loss\n")
        for n, value in enumerate(losses, 1):
            f.write(f"{n},{value!r}\n")


main()
