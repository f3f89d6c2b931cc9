"""Loss curves from a run's log.csv to a PNG (used by train.py after every evaluation)."""

import csv
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def plot_log(csv_path, png_path, title=None):
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    tok = [int(r['tokens']) / 1e6 for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    tr = [(t, float(r['train_loss'])) for t, r in zip(tok, rows) if r['train_loss'] not in ('', 'nan')]
    if tr:
        ax.plot(*zip(*tr), label='train (mean since last eval)')
    ax.plot(tok, [float(r['val_loss']) for r in rows], marker='o', ms=3, label='valid')
    ax.set_xlabel('training tokens (millions)')
    ax.set_ylabel('cross-entropy (nats/token)')
    ax.set_title(title or 'Kestrel training loss')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png_path)
    plt.close(fig)


if __name__ == '__main__':
    plot_log(*sys.argv[1:3], *(sys.argv[3:4] or []))
