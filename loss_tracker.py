"""The per-epoch loss history of a run: its plot, its file (to continue a run) and a verdict on the fit."""
import json
import os

import numpy as np

from checkpoints import atomic_path
from utils import log

# matplotlib's tab10 first (its default cycle), then the lighter tab20 shades: 20 curves before a colour repeats
CURVE_COLOURS = ('#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22',
                 '#17becf', '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94', '#f7b6d2', '#c7c7c7',
                 '#dbdb8d', '#9edae5')


class LossTracker:
    """Per-epoch means of every loss, their plot, and a verdict on how the fit is going.

    The verdict compares the last FIT_WINDOW epochs of the training reconstruction loss (`eg`) and
    the validation loss (`valid`). A trend is 'down' or 'up' when the least-squares slope, divided by
    the mean of the window, is beyond -FIT_TOLERANCE or +FIT_TOLERANCE per epoch, else 'flat'.
    - unknown fitting: fewer than FIT_WINDOW epochs, a non-finite loss, or training flat while
      validation falls (no rule explains it).
    - good fit: training and validation both down.
    - overfitting: training down while validation is flat or up, or training flat while validation is up.
    - drift: training up (the adversarial terms are pulling the autoencoder away).
    - saturation: both flat after training fell below half of its first epoch's value (learned what it can).
    - underfitting: both flat while training is still above half of its first epoch's value.
    """
    FIT_WINDOW = 3
    FIT_TOLERANCE = 0.01

    def __init__(self, plot=False, history=None):
        history = dict(history or {})
        self.verdicts = list(history.pop('verdicts', []))
        epochs = history.pop('epochs', None)
        self.losses = {name: list(values) for name, values in history.items()}
        self.epochs = list(epochs or range(1, len(self.losses.get('eg', [])) + 1))
        self.live_plot = plot
        self._figure = None

    @classmethod
    def load(cls, folder):
        """The history saved in an epoch folder (losses.json), or an empty one."""
        path = os.path.join(folder, 'losses.json')
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def append_many(self, epoch=None, **losses):
        """One epoch's means; a loss first seen now gets NaN for the earlier epochs, one not given NaN for this."""
        for name in losses:
            self.losses.setdefault(name, [float('nan')] * len(self.epochs))
        for name, values in self.losses.items():
            values.append(float(losses.get(name, float('nan'))))
        self.epochs.append(epoch if epoch is not None else (self.epochs[-1] + 1 if self.epochs else 1))
        self.verdicts.append(self.fit_verdict())
        log.info('epoch %d losses %s: %s', self.epochs[-1], self.latest(), self.verdicts[-1])
        if self.live_plot:
            self.plot()

    def latest(self):
        return {name: values[-1] for name, values in self.losses.items() if values}

    def summary(self):
        return ' '.join(f'{k}={v:.4g}' for k, v in self.latest().items()) + f' | {self.verdicts[-1]}'

    @classmethod
    def _trend(cls, values):
        values = np.asarray(values[-cls.FIT_WINDOW:], dtype=float)
        slope = np.polyfit(np.arange(len(values)), values, 1)[0] / max(abs(values.mean()), 1e-12)
        return 'down' if slope < -cls.FIT_TOLERANCE else 'up' if slope > cls.FIT_TOLERANCE else 'flat'

    def fit_verdict(self):
        train, valid = self.losses.get('eg', []), self.losses.get('valid', [])
        recent = train[-self.FIT_WINDOW:] + valid[-self.FIT_WINDOW:]
        if len(train) < self.FIT_WINDOW or not np.all(np.isfinite(recent)):
            return 'unknown fitting'
        t, v = self._trend(train), self._trend(valid)
        if t == 'up':
            return 'drift'
        if t == 'down':
            return 'good fit' if v == 'down' else 'overfitting'
        if v == 'up':
            return 'overfitting'
        if v == 'down':
            return 'unknown fitting'
        return 'saturation' if train[-1] < 0.5 * train[0] else 'underfitting'

    def _draw(self, figure):
        from matplotlib.ticker import MaxNLocator
        axes = figure.gca()
        axes.clear()
        for (name, values), colour in zip(self.losses.items(), CURVE_COLOURS * 2):
            axes.plot(self.epochs, values, marker='o', markersize=3, label=name, color=colour)
        axes.set_xlabel('epoch')
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel('averaged loss')
        axes.set_title(f'CAAE losses ({self.verdicts[-1]})' if self.verdicts else 'CAAE losses')
        axes.grid(True, alpha=0.4)
        axes.legend(loc='upper right')
        figure.tight_layout()

    def plot(self):
        """Redraw the live window (only with --shouldplot)."""
        import matplotlib.pyplot as plt
        if self._figure is None:
            plt.ion()
            self._figure = plt.figure(figsize=(8, 5))
        self._draw(self._figure)
        plt.pause(0.001)

    def save(self, folder):
        """Write losses.png and losses.json (the history, used to resume) into `folder`."""
        from matplotlib.figure import Figure
        figure = Figure(figsize=(8, 5), dpi=100)
        self._draw(figure)
        with atomic_path(os.path.join(folder, 'losses.png')) as tmp:
            figure.savefig(tmp, format='png')
        with atomic_path(os.path.join(folder, 'losses.json')) as tmp:
            with open(tmp, 'w') as f:
                json.dump({**self.losses, 'epochs': self.epochs, 'verdicts': self.verdicts}, f)
