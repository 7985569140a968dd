"""LossTracker: per-epoch means, the plot, resuming its history, and one fit verdict per rule."""
import json

import pytest
from PIL import Image

import loss_tracker


def tracker_with(train, valid):
    tracker = loss_tracker.LossTracker()
    for t, v in zip(train, valid):
        tracker.append_many(eg=t, reg=0.1, dz=1.4, ez=1e-4, di=0.5, dg=1e-4, valid=v)
    return tracker


@pytest.mark.parametrize('train, valid, verdict', [
    ([0.5, 0.4], [0.5, 0.4], 'unknown fitting'),
    ([0.5, 0.45, 0.4], [0.5, 0.45, 0.4], 'good fit'),
    ([0.5, 0.45, 0.4], [0.4, 0.42, 0.45], 'overfitting'),
    ([0.5, 0.45, 0.4], [0.4, 0.4, 0.4], 'overfitting'),
    ([0.3, 0.3, 0.3], [0.3, 0.33, 0.36], 'overfitting'),
    ([0.3, 0.35, 0.4], [0.3, 0.3, 0.3], 'drift'),
    ([0.6, 0.2, 0.2, 0.2], [0.3, 0.25, 0.25, 0.25], 'saturation'),
    ([0.5, 0.4, 0.4, 0.4], [0.4, 0.4, 0.4, 0.4], 'underfitting'),
    ([0.3, 0.3, 0.3], [0.5, 0.45, 0.4], 'unknown fitting'),
    ([0.5, float('nan'), 0.4], [0.5, 0.45, 0.4], 'unknown fitting'),
])
def test_fit_verdicts(train, valid, verdict):
    assert tracker_with(train, valid).verdicts[-1] == verdict


def test_plot_and_history_round_trip(tmp_path):
    tracker = tracker_with([0.5, 0.45, 0.4], [0.5, 0.45, 0.4])
    tracker.save(tmp_path)
    assert Image.open(tmp_path / 'losses.png').size == (800, 500)
    history = json.loads((tmp_path / 'losses.json').read_text())
    resumed = loss_tracker.LossTracker(history=loss_tracker.LossTracker.load(tmp_path))
    resumed.append_many(eg=0.35, reg=0.1, dz=1.4, ez=1e-4, di=0.5, dg=1e-4, valid=0.35)
    assert resumed.epochs == [1, 2, 3, 4] and history['verdicts'] == tracker.verdicts
    assert resumed.verdicts[-1] == 'good fit' and 'valid=0.35' in resumed.summary()


def test_each_curve_of_the_plus_recipe_has_its_own_colour():
    from matplotlib.figure import Figure
    tracker = loss_tracker.LossTracker()
    names = ('eg', 'reg', 'dz', 'ez', 'di', 'dg', 'age', 'latent', 'back', 'colour', 'valid')
    tracker.append_many(**{name: 0.1 for name in names})
    figure = Figure()
    tracker._draw(figure)
    colours = [line.get_color() for line in figure.gca().get_lines()]
    assert len(colours) == len(names) == len(set(colours))
