"""Embedder training curves from a run's log.csv to a PNG: losses (left), validation MRR (right)."""

import csv
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(csv_path, png_path, title=None):
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    it = [int(r['iter']) for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=100)
    for key, label in (('train_loss', 'total'), ('pair_loss', 'query-code'), ('code_loss', 'code-code')):
        pts = [(i, float(r[key])) for i, r in zip(it, rows) if r[key] not in ('', 'nan')]
        if pts:
            a.plot(*zip(*pts), label=label)
    a.set_xlabel('iteration')
    a.set_ylabel('InfoNCE (mean since last eval)')
    a.grid(alpha=0.3)
    a.legend()
    for key, label, style in (('val_mrr', 'embedder', 'o-'), ('hybrid_mrr', 'hybrid (RRF)', 's-'),
                              ('bm25_mrr', 'BM25', '--')):
        b.plot(it, [float(r[key]) for r in rows], style, ms=3, label=label)
    b.set_xlabel('iteration')
    b.set_ylabel('valid MRR (1 query vs 999 distractors)')
    b.grid(alpha=0.3)
    b.legend()
    fig.suptitle(title or 'Kestrel embedder training')
    fig.tight_layout()
    fig.savefig(png_path)
    plt.close(fig)


if __name__ == '__main__':
    plot_curves(*sys.argv[1:3], *(sys.argv[3:4] or []))
