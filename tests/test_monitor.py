import math

from dcgan import monitor


def stream(n, fn, every=10):
    return [{"step": s, **fn(s)} for s in range(every, n + 1, every)]


def healthy(s):
    # the usual noisy tug of war: D around 0.6-1.4, G around 1-4
    return {"loss_d": 1.0 + 0.4 * math.sin(s / 37), "loss_g": 2.5 + 1.5 * math.sin(s / 23),
            "d_real": 0.7 + 0.1 * math.sin(s / 11), "d_fake": 0.3 + 0.1 * math.cos(s / 13)}


def kinds(alarms):
    return {a.kind for a in alarms}


def test_healthy_run_does_not_alarm():
    _, alarms = monitor.check(stream(2000, healthy), diversity_ratio=0.8, best_ratio=0.85)
    assert alarms == []


def test_discriminator_winning():
    s = stream(600, lambda s: {"loss_d": 0.01, "loss_g": 5 + s / 100, "d_real": 0.99, "d_fake": 0.01})
    sig, alarms = monitor.check(s)
    assert {"d_wins", "d_saturated"} <= kinds(alarms)
    assert sig["loss_g_slope"] > 0
    assert all(a.remedy for a in alarms) and "half" in str(alarms[0])


def test_generator_winning():
    s = stream(600, lambda s: {"loss_d": 2 + s / 200, "loss_g": 0.02, "d_real": 0.5, "d_fake": 0.9})
    assert kinds(monitor.check(s)[1]) == {"g_wins"}


def test_short_bad_burst_does_not_alarm():
    s = stream(2000, healthy)
    s += [{"step": 2000 + 10 * i, "loss_d": 0.01, "loss_g": 8.0, "d_real": 0.99, "d_fake": 0.01} for i in range(1, 6)]
    assert monitor.check(s)[1] == []


def test_too_little_history_does_not_alarm():
    s = stream(150, lambda s: {"loss_d": 0.01, "loss_g": 9.0, "d_real": 0.99, "d_fake": 0.01})
    assert monitor.check(s)[1] == []


def test_mode_collapse_by_diversity():
    s = stream(1000, healthy)
    assert kinds(monitor.check(s, diversity_ratio=0.1)[1]) == {"mode_collapse"}
    # fell to less than half of its best
    assert kinds(monitor.check(s, diversity_ratio=0.4, best_ratio=0.9)[1]) == {"mode_collapse"}
    assert monitor.check(s, diversity_ratio=0.7, best_ratio=0.9)[1] == []
    # early in training samples are immature and near-constant: no alarm yet (the demo run's
    # diversity dipped to 0.14 at step 315 on its way up)
    assert monitor.check(stream(100, healthy), diversity_ratio=0.01)[1] == []
    assert monitor.check(stream(400, healthy), diversity_ratio=0.14, best_ratio=0.28)[1] == []


def test_diversity_measure():
    import torch

    same = torch.zeros(8, 3, 4, 4)
    assert monitor.diversity(same) == 0.0
    two = torch.stack([torch.zeros(3, 2, 2), torch.ones(3, 2, 2)])
    assert abs(monitor.diversity(two) - math.sqrt(12)) < 1e-6
